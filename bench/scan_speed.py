"""Scan speed and memory per scan mode on generated VODs, against bare ffmpeg decoding of the same files.

    .venv/bin/python bench/scan_speed.py                          # the default set (see --vods)
    .venv/bin/python bench/scan_speed.py --vods 720:30:2:2 --vods 1080:60:2:10   # a quick look

Each VOD is HEIGHT:FPS:MINUTES:GOP_SECONDS, encoded as OBS does by default (x264 veryfast:
High profile, CABAC, B-frames, a fixed keyframe interval), which costs what real uploads
cost to decode. They are made once into --folder (outside the repository: an hour of
1080p60 takes long to encode on two cores). Per VOD the table gives the bare decode
(`ffmpeg -i vod -f null -`), then per mode (dense, coarse, keyframes) the scan's wall time,
its ratio to the bare decode, x real time, the share of the VOD decoded at the model's
fps and the scanning process's peak RSS. Each scan runs in a fresh subprocess with an
empty cache, so RSS and time are its own.

The model is an untrained ResNet-18 at the default size, fps and precision: speed does
not depend on the weights. What a coarse scan decodes densely does, so the untrained
model proposes nothing itself (its proposal level is set above 1) and a scripted hint
proposes `--events-per-hour` moments of 3 s, standing for the shouts and chat bursts
of a real stream; bench/accuracy.py measures the share on streams with real moments.

The `compile` row is a whole `autotosis compile --scan coarse` of the same picture with a
voice that shouts `--events-per-hour` times: probe, loudness, the coarse scan led by the
loudness hints, selection, and a captioned reel of the `--compile` loudest moments.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.fsutil import atomic_path
from autotosis.core.paths import cache_dir

MODES = ("dense", "coarse", "keyframes")
DEFAULT_VODS = ("720:30:10:2", "1080:60:10:2", "1080:60:10:10", "720:30:60:2", "1080:60:60:2",
                "1080:60:60:10")
BASE_MINUTES = 10.0
WIDTHS = {360: 640, 480: 854, 720: 1280, 1080: 1920}


def bench_vod(folder: Path, spec: str) -> Path:
    """The VOD for HEIGHT:FPS:MINUTES:GOP, made if missing.

    A VOD over BASE_MINUTES long is that many-minute VOD stream-copied end to end: the
    decoder does the same work per frame, and an hour of 1080p60 veryfast is not encoded
    (about two hours on two cores) to be measured.
    """
    height, fps, minutes, gop = spec.split(":")
    path = folder / f"vod_{height}p{fps}_{float(minutes):g}min_g{float(gop):g}.mp4"
    if path.exists():
        return path
    started = time.perf_counter()
    copies = float(minutes) / BASE_MINUTES
    if copies > 1:
        if copies != int(copies):
            raise SystemExit(f"scan_speed: {spec}: over {BASE_MINUTES:g} minutes must be a multiple of it")
        copies = int(copies)
        base = bench_vod(folder, f"{height}:{fps}:{BASE_MINUTES:g}:{gop}")
        media.concat([base] * copies, path)
    else:
        with atomic_path(path) as part:
            media.run(media.lavfi_vod_args(part, float(minutes) * 60, WIDTHS[int(height)], int(height),
                                           int(fps), float(gop), preset="veryfast"), part)
    print(f"  made {path.name} in {time.perf_counter() - started:.0f}s", flush=True)
    return path


def bench_model(folder: Path) -> Path:
    path = folder / "untrained.pt"
    if not path.exists():
        from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

        save_checkpoint(path, build_model(), ModelMeta())
    return path


def quiet_model(folder: Path) -> Path:
    """An untrained ResNet-18 whose head says "nothing here" at every frame: the model proposes
    no window, so what a compile decodes densely and cuts is what the loudness hints found."""
    path = folder / "quiet.pt"
    if not path.exists():
        import torch

        from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

        model = build_model()
        with torch.no_grad():
            model.fc.weight.zero_()
            model.fc.bias.fill_(-20.0)
        save_checkpoint(path, model, ModelMeta())
    return path


def shouts_vod(vod: Path, per_hour: float) -> Path:
    """The VOD's picture (stream-copied) with a voice that shouts for 3 s `per_hour` times an hour."""
    path = vod.with_name(f"{vod.stem}_shouts.mp4")
    if not path.exists():
        duration = media.probe(vod).duration
        with atomic_path(path) as part:
            voice = media.shouts_graph(duration, 3600 / per_hour)
            media.run(media.replace_audio_args(vod, voice, part), part)
    return path


def whole_compile(vod: Path, model: Path, top: int) -> float:
    """Wall seconds of one `autotosis compile --scan coarse` (fresh cache): probe, loudness, the
    coarse scan led by the loudness hints, selection of the `top` loudest moments, a reel of them."""
    with tempfile.TemporaryDirectory() as work:
        cmd = [sys.executable, "-m", "autotosis", "compile", str(vod), "--model", str(model),
               "--scan", "coarse", "--scorer", "model+loudness", "--threshold", "0.3", "--top", str(top),
               "--facecam", "0.75,0,1,0.33", "--out", str(Path(work) / "out")]
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, text=True,
                       env={**os.environ, "AUTOTOSIS_CACHE": str(Path(work) / "cache")})
        return time.perf_counter() - started


def bare_decode(vod: Path) -> float:
    started = time.perf_counter()
    media.run(media.decode_args(vod), source=vod)
    return time.perf_counter() - started


def scripted_hint(duration: float, per_hour: float):
    """A 0..1 timeline at 2 Hz that is 1 for 3 s at `per_hour` evenly spread moments."""
    from autotosis.core.timeline import Timeline
    from autotosis.signals.scan import Hint

    times = np.arange(0.25, duration, 0.5)
    values = np.zeros(len(times))
    count = max(1, round(duration / 3600 * per_hour))
    for k in range(count):
        at = (k + 0.5) * duration / count
        values[(times >= at) & (times < at + 3.0)] = 1.0
    return Hint("scripted", Timeline(times, values), 0.5)


def worker(vod: str, model: str, mode: str, per_hour: float) -> None:
    """One scan in this process; prints wall time, what was decoded and the peak RSS as JSON.

    (ffmpeg's own RSS is left out: a child's high-water mark includes the parent's pages
    from before exec, so getrusage cannot tell it; it streams, so it is flat anyway.)
    """
    from autotosis.learn.model import ModelMeta
    from autotosis.signals import scan

    meta = ModelMeta()
    duration = media.probe(vod).duration
    with tempfile.TemporaryDirectory() as cache:
        result = scan.scan(vod, model, (0.75, 0.0, 1.0, 0.33), scan.ScanConfig(mode=mode, propose=2.0),
                           cache=Path(cache), fps=meta.fps, hints=[scripted_hint(duration, per_hour)])
    print(json.dumps({"wall": result.wall_seconds, "samples": result.samples, "plan": result.plan,
                      "dense": result.dense_seconds, "windows": result.windows,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def scan_in_subprocess(vod: Path, model: Path, mode: str, per_hour: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", str(vod), str(model), mode, str(per_hour)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def loudness_seconds(vod: Path) -> float:
    from autotosis.signals import loudness

    started = time.perf_counter()
    loudness.measure(vod)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vods", action="append", help="HEIGHT:FPS:MINUTES:GOP (repeat); "
                        f"default {' '.join(DEFAULT_VODS)}")
    parser.add_argument("--folder", type=Path, default=cache_dir() / "bench",
                        help="where the generated VODs are kept (put it outside the repository)")
    parser.add_argument("--events-per-hour", type=float, default=30.0,
                        help="moments the scripted hint proposes to the coarse scan")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--compile", type=int, default=10, metavar="N",
                        help="also time a whole coarse compile with a reel of N highlights (0: no)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.worker[2], float(args.worker[3]))
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    model = bench_model(args.folder)
    header = (f"{'vod':<26}{'decode':>8}{'loud':>7}  {'mode':<10}{'scan':>8}{'ratio':>7}{'x real':>8}"
              f"{'dense':>7}{'rss MB':>8}  first pass")
    print(header + "\n" + "-" * len(header), flush=True)
    for spec in args.vods or DEFAULT_VODS:
        vod = bench_vod(args.folder, spec)
        duration = media.probe(vod).duration
        decode, loud = bare_decode(vod), loudness_seconds(vod)
        for k, mode in enumerate(args.modes.split(",")):
            got = scan_in_subprocess(vod, model, mode, args.events_per_hour)
            lead = f"{vod.name:<26}{decode:>7.1f}s{loud:>6.1f}s" if k == 0 else " " * 41
            print(f"{lead}  {mode:<10}{got['wall']:>7.1f}s{got['wall'] / decode:>7.2f}"
                  f"{duration / got['wall']:>7.0f}x{got['dense'] / duration:>7.0%}{got['rss_mb']:>8.0f}"
                  f"  {got['plan']}", flush=True)
        if args.compile:
            shouting = shouts_vod(vod, args.events_per_hour)
            took = whole_compile(shouting, quiet_model(args.folder), args.compile)
            print(f"{'':41}  {'compile':<10}{took:>7.1f}s{took / decode:>7.2f}{duration / took:>7.0f}x"
                  f"  (coarse scan, loudness and a reel of {args.compile} highlights)", flush=True)


if __name__ == "__main__":
    main()
