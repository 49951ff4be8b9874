"""Batch throughput: 1, 2 and 4 VODs with --parallel 1/2/4 and through Ray, side by side.

    nice -n 10 .venv/bin/python bench/batch_throughput.py                  # 4 VODs of 1 min, 640x360
    nice -n 10 .venv/bin/python bench/batch_throughput.py --minutes 2 --rounds 2 --no-ray
    nice -n 10 .venv/bin/python bench/batch_throughput.py --counts 4 --parallel 1 2 --rounds 3 --no-ray

Every VOD is scored by a ResNet-18 (untrained weights: the arithmetic is the same as a
trained one's) at 4 samples a second, then 3 highlights are rendered, so a VOD costs
what a real compile costs: decode + inference, loudness, render. Each configuration
starts from an empty cache and output folder; the configurations run in turns, round
after round, so a machine shared with others slows them alike, and the best round of
each counts. Throughput is VOD-hours compiled per hour of wall time. First, one VOD alone
gives what a VOD costs: CPU-seconds (workers and their ffmpeg) and the peak memory of
its largest process.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from autotosis import media
from autotosis.core.hardware import cores
from autotosis.run import batch
from autotosis.run.compile import CompileOptions

# Ray alone on this machine: bound to 127.0.0.1, no usage report.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def make_inputs(folder: Path, count: int, minutes: float) -> tuple[list[Path], Path]:
    from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

    vods = []
    for i in range(count):
        vod = folder / f"vod{i}.mp4"
        if not vod.exists():
            media.make_lavfi_vod(vod, minutes * 60, 640, 360, 30, preset="veryfast")
        vods.append(vod)
    model = folder / "bench.pt"
    if not model.exists():
        save_checkpoint(model, build_model(), ModelMeta(fps=4.0, threshold=0.0))
    return vods, model


def options(model: Path, cache: Path) -> CompileOptions:
    return CompileOptions(vod=Path("unused"), model=model, scorer="model", facecam=(0.7, 0.0, 1.0, 0.4),
                          select={"top": 3, "min_event": 0.0}, cache=cache)


def run(config: str, vods: list[Path], model: Path, work: Path) -> float:
    """Wall seconds of one batch of `vods` as `config` ("local N" or "ray"), from an empty cache."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    jobs = batch.expand_inputs([str(v) for v in vods])
    base = options(model, work / "cache")
    started = time.perf_counter()
    if config == "ray":
        from autotosis.run.raybatch import run_on_ray

        report = run_on_ray(jobs, base, work / "out", "auto")
    else:
        report = batch.run_local(jobs, base, work / "out", int(config.split()[1]))
    wall = time.perf_counter() - started
    failed = [r.error for r in report.results if r.status != batch.DONE]
    assert not failed, failed
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=1.0, help="length of each generated VOD")
    parser.add_argument("--rounds", type=int, default=1, help="turns through all configurations")
    parser.add_argument("--no-ray", action="store_true", help="leave Ray out")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4], help="batch sizes (at most 4)")
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2, 4], help="--parallel values")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        vods, model = make_inputs(Path(tempfile.gettempdir()) / "autotosis-batch-bench", 4, args.minutes)
        hours = args.minutes / 60
        print(f"{cores()} cores; VODs of {args.minutes:g} min at 640x360 30 fps; "
              f"default --parallel {batch.default_parallel()}", flush=True)

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        one = run("local 1", vods[:1], model, tmp / "cost")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"one VOD: {cpu:.1f} CPU-seconds ({cpu / (args.minutes * 60):.2f} per VOD-second), "
              f"wall {one:.1f}s, peak memory of its largest process {after.ru_maxrss / 1024:.0f} MB",
              flush=True)

        ray_up = 0.0
        configs = [(n, f"local {p}") for n in args.counts for p in args.parallel if p <= n]
        if not args.no_ray:
            import ray

            started = time.perf_counter()
            ray.init(address="local", include_dashboard=False, num_cpus=cores(), log_to_driver=False)
            ray_up = time.perf_counter() - started
            configs += [(n, "ray") for n in args.counts]
        best: dict[tuple[int, str], float] = {}
        for _ in range(args.rounds):
            for n, config in configs:
                wall = run(config, vods[:n], model, tmp / "run")
                best[(n, config)] = min(wall, best.get((n, config), wall))
                print(f"  {n} VOD(s) {config:<8} {wall:6.1f}s", flush=True)
        if not args.no_ray:
            import ray

            ray.shutdown()
            print(f"(Ray's local start-up: {ray_up:.1f}s, not counted above)")

        print("\nVODs  configuration  wall     VOD-hours/hour  vs --parallel 1")
        for n, config in configs:
            wall = best[(n, config)]
            base = best.get((n, "local 1"), wall)
            label = config.replace("local ", "--parallel ") if config != "ray" else "--ray (local)"
            rate = n * hours / (wall / 3600)
            print(f"{n:>4}  {label:<13}  {wall:6.1f}s  {rate:14.2f}  {base / wall:15.2f}")
        most = max(args.counts)
        widest = {c: w for (n, c), w in best.items() if n == most}
        top = min(widest, key=lambda c: widest[c])
        default = f"local {min(most, batch.default_parallel())}"
        if default in widest:
            print(f"\n{most} VODs: best is {top}; the default ({default}) reaches "
                  f"{widest[top] / widest[default]:.2f}x its throughput")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
