"""Quick retraining after a round of answers: a warm start beside a full retrain.

    .venv/bin/python bench/retrain.py             # the product's sizes (~30 min on 2 busy cores)
    .venv/bin/python bench/retrain.py --quick     # small and 64 px: a first look in a few minutes

Round 0 is a model trained from scratch on the old clips: 24 clips of one streamer (16 s,
like the demo's) with rages, laughs and loud bangs, but none of the coloured game light
that washes over the face-cam. Then a round of answers: 20 new 10 s clips of the same
streamer standing in for 20 answered suggestions (half hold a rage, half are calm), and
the game light is in most of them, as the moments a model is unsure about would be. Both
ways to learn them start from the same round-0 checkpoint, each with its own copy of the
round-0 crop cache (so each decodes the new clips itself), each as a user runs it:

    full:  autotosis train --scratch      (every clip, old and new, the default epochs)
    warm:  autotosis train                (the labels grew: new frames + a replay of old ones)

Both validate on the same units (round 0's held-out clips stay held out; the new clips
split the same way in both), and each model (and round 0's) compiles held-out streams of
the same streamer, game light included, scored against their truth: event precision and
recall (min overlap 0.5) and frame AP. Time is the command's wall clock, start to finish
(imports, probing, decoding, training, plots), and its CPU seconds (the command and its
ffmpeg children); on a machine others share, CPU seconds / threads is the better guess at
what the wall clock would be on idle cores. Work files go to --folder and are reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autotosis.core.hardware import cores
from autotosis.demo import synth
from autotosis.demo.demo import FACECAM
from autotosis.run.compile import CompileOptions
from autotosis.run.evaluate import evaluate_vod

ROOT = Path(__file__).resolve().parent.parent
BACKDROPS = ("life", "cellauto", "testsrc2", "mandelbrot")


@dataclass(frozen=True)
class Sizes:
    old: int = 24  # clips of round 0
    old_seconds: float = 16.0
    answers: int = 20  # the round of answers
    answer_seconds: float = 10.0
    streams: int = 2  # held-out streams
    stream_minutes: float = 3.0
    size: int = 128  # the product's input size
    width: int = 320  # small frames: generation and decoding stay cheap, the face-cam crop is ~80 px
    height: int = 180
    video_fps: float = 15.0


QUICK = Sizes(old=8, old_seconds=12.0, answers=6, streams=1, stream_minutes=1.5, size=64)


def _old_spec(i: int, sizes: Sizes, streamer: synth.Streamer, seed: int) -> synth.StreamSpec:
    """Round 0's clips: most with a rage or two, a quarter calm; laughs and bangs, no game light."""
    rages = 0 if i % 4 == 3 else 1 + (i % 3 == 0 and sizes.old_seconds >= 16)
    return synth.scripted(sizes.old_seconds, seed=seed * 1000 + i, rages=rages, hypes=int(i % 2 == 0),
                          bangs=int(i % 3 != 1), rage_length=(2.0, 3.2), hype_length=(1.5, 3.0), gap=1.0,
                          width=sizes.width, height=sizes.height, fps=sizes.video_fps, facecam=FACECAM,
                          backdrop=BACKDROPS[i % 3], streamer=streamer)


def _answer_spec(i: int, sizes: Sizes, streamer: synth.Streamer, seed: int) -> synth.StreamSpec:
    """An answered suggestion: a rage (even i) or a calm moment, game light in most of them."""
    return synth.scripted(sizes.answer_seconds, seed=seed * 1000 + 300 + i, rages=int(i % 2 == 0),
                          hypes=int(i % 4 == 1), flashes=int(i % 4 != 3), rage_length=(3.0, 5.0),
                          gap=1.0, width=sizes.width, height=sizes.height, fps=sizes.video_fps,
                          facecam=FACECAM, backdrop=BACKDROPS[i % 4], streamer=streamer)


def make_data(folder: Path, sizes: Sizes, seed: int) -> list[tuple[Path, Path]]:
    """clips/, labels0/ (round 0), labels/ (round 0 + the answers) and the held-out streams
    with their truth, made once per (sizes, seed)."""
    key = json.dumps({"sizes": sizes.__dict__, "seed": seed, "version": 1}, sort_keys=True)
    manifest = folder / "data.json"
    streams = [(folder / "streams" / f"s{k}.mp4", folder / "streams" / f"s{k}.toml")
               for k in range(sizes.streams)]
    if manifest.exists() and manifest.read_text() == key:
        return streams
    shutil.rmtree(folder, ignore_errors=True)
    streamer = synth.Streamer.from_seed(seed)
    started = time.perf_counter()
    for name, spec, dirs in [*((f"o{i:02d}", _old_spec(i, sizes, streamer, seed), ("labels0", "labels"))
                               for i in range(sizes.old)),
                             *((f"n{i:02d}", _answer_spec(i, sizes, streamer, seed), ("labels",))
                               for i in range(sizes.answers))]:
        clip = synth.make_stream(folder / "clips" / f"{name}.mp4", spec, preset="ultrafast")
        for d in dirs:
            synth.write_label(spec, clip, folder / d / f"{name}.toml")
    for k, (vod, truth) in enumerate(streams):
        seconds = sizes.stream_minutes * 60
        n = max(2, round(seconds / 30))
        spec = synth.scripted(seconds, seed=seed * 1000 + 900 + k, rages=n, hypes=n // 2, bangs=n // 2,
                              flashes=n, rage_length=(3.0, 7.0), gap=8.0, width=sizes.width,
                              height=sizes.height, fps=sizes.video_fps, facecam=FACECAM,
                              backdrop=BACKDROPS[(k + 1) % 4], streamer=streamer)
        synth.make_stream(vod, spec, preset="ultrafast")
        synth.write_label(spec, vod, truth)
    manifest.write_text(key)
    print(f"made {sizes.old} old clips, {sizes.answers} answers and {sizes.streams} held-out streams "
          f"in {time.perf_counter() - started:.0f}s", flush=True)
    return streams


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    start_line: str
    report: dict


def train(folder: Path, labels: str, out: Path, cache: Path, sizes: Sizes, args: argparse.Namespace,
          *extra: str) -> Run:
    """`autotosis train` as a user runs it, timed: wall clock and CPU (itself and its ffmpeg)."""
    command = [sys.executable, "-m", "autotosis", "train", "--cpu", "--labels-dir", str(folder / labels),
               "--out", str(out), "--size", str(sizes.size), "--threads", str(args.threads),
               "--seed", str(args.seed), *extra]
    env = {**os.environ, "AUTOTOSIS_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    lines = [line for line in done.stderr.splitlines() if "warm start" in line or "from scratch" in line]
    report = json.loads(out.with_suffix(".metrics.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, lines[0].strip() if lines else "", report)


def held_out(model: Path, streams: list[tuple[Path, Path]], folder: Path) -> tuple[float, float, float]:
    """(mean frame AP, event precision, event recall) pooled over the held-out streams."""
    hits = selected = found = total = 0
    aps = []
    for vod, truth in streams:
        options = CompileOptions(vod=vod, model=model, scorer="model", facecam=FACECAM,
                                 cache=folder / "cache-eval", out_dir=folder / "eval" / model.stem / vod.stem)
        evaluation = evaluate_vod(options, truth)
        e = evaluation.events
        hits, selected, found, total = hits + e.hits, selected + e.selected, found + e.found, total + e.truth
        aps.append(evaluation.frames.ap)
    return sum(aps) / len(aps), hits / max(selected, 1), found / max(total, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=Path("bench-work/retrain"))
    parser.add_argument("--quick", action="store_true", help="fewer, shorter clips and a 64 px model")
    parser.add_argument("--threads", type=int, default=cores(), help="torch threads (default: every core)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = QUICK if args.quick else Sizes()
    folder = args.folder / ("quick" if args.quick else "full")
    streams = make_data(folder, sizes, args.seed)
    models = folder / "models"
    models.mkdir(exist_ok=True)
    base = models / "round0.pt"
    if not base.exists():
        shutil.rmtree(folder / "cache0", ignore_errors=True)
        round0 = train(folder, "labels0", base, folder / "cache0", sizes, args)
        data = round0.report["data"]
        print(f"round 0: {len(data['train_clips'])} + {len(data['val_clips'])} clips, {round0.wall:.0f}s",
              flush=True)
    rows = {}
    for name, extra in (("full", ("--scratch",)), ("warm", ())):
        out, cache = models / f"{name}.pt", folder / f"cache-{name}"
        for suffix in (".pt", ".metrics.json", ".png"):
            out.with_suffix(suffix).unlink(missing_ok=True)
        shutil.copy2(base, out)  # the checkpoint round 0 left at models/rage.pt
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(folder / "cache0", cache)
        load = os.getloadavg()[0]
        rows[name] = (train(folder, "labels", out, cache, sizes, args, *extra), load)
        print(f"{name}: {rows[name][0].wall:.0f}s  {rows[name][0].start_line}", flush=True)
    full, warm = rows["full"][0], rows["warm"][0]
    assert full.report["data"]["val_clips"] == warm.report["data"]["val_clips"], "validation units differ"
    round0_report = json.loads(base.with_suffix(".metrics.json").read_text())
    print(f"\nvalidation: the same {len(warm.report['data']['val_clips'])} clips for both "
          f"({', '.join(warm.report['data']['val_clips'])}); threads {args.threads}, size {sizes.size} px")
    print(f"warm start said: {warm.start_line}\n")
    header = (f"{'':<22}{'wall s':>8}{'CPU s':>8}{'load':>6}{'epochs':>8}{'frames':>8}{'val AP':>8}"
              f"{'held-out AP':>13}{'P':>6}{'R':>6}")
    print(header + "\n" + "-" * len(header))
    first = held_out(base, streams, folder)
    print(f"{'round 0 (old clips)':<22}{'':>8}{'':>8}{'':>6}{len(round0_report['history']):>8}"
          f"{round0_report['start']['train_frames']:>8}{'':>8}{first[0]:13.3f}{first[1]:6.2f}{first[2]:6.2f}")
    for name, title in (("full", "full retrain"), ("warm", "warm start")):
        run, load = rows[name]
        ap, p, r = held_out(models / f"{name}.pt", streams, folder)
        best = run.report["best"]
        print(f"{title:<22}{run.wall:8.1f}{run.cpu:8.1f}{load:6.1f}{len(run.report['history']):>8}"
              f"{run.report['start']['train_frames']:>8}{best['ap']:8.3f}{ap:13.3f}{p:6.2f}{r:6.2f}",
              flush=True)
    print(f"\nwarm start: {full.wall / warm.wall:.1f}x faster by the wall clock, {full.cpu / warm.cpu:.1f}x "
          f"by CPU seconds; {warm.cpu / args.threads:.0f}s of CPU per thread ({args.threads} threads)")


if __name__ == "__main__":
    main()
