"""Scan speed and memory on generated VODs, against bare ffmpeg decoding of the same files.

    .venv/bin/python bench/scan_speed.py                       # 720p30 10 + 60 min, 1080p60 20 min
    .venv/bin/python bench/scan_speed.py --short 2 --long 6 --hd 2   # a quick look

Prints per VOD: bare decode (`ffmpeg -i vod -f null -`) wall time, full and keyframe
scan wall time, their ratio and x-real-time, and peak RSS of the scanning Python process
(ffmpeg streams at constant memory). Each scan runs in a fresh subprocess with an empty cache, so
RSS and time are its own. The model is an untrained ResNet-18 at the default size, fps and
precision: speed does not depend on the weights. VODs are encoded as OBS does by default
(x264 veryfast: High profile, CABAC, B-frames), which costs what real uploads cost to
decode; they are cached in AUTOTOSIS_CACHE/bench.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autotosis import media
from autotosis.paths import cache_dir


def bench_vod(folder: Path, minutes: float, width: int, height: int, fps: int) -> Path:
    path = folder / f"vod_{height}p{fps}_{minutes:g}min_high.mp4"
    if not path.exists():
        started = time.perf_counter()
        media.make_lavfi_vod(path, minutes * 60, width, height, fps, preset="veryfast")
        print(f"  made {path.name} in {time.perf_counter() - started:.0f}s", flush=True)
    return path


def bench_model(folder: Path) -> Path:
    path = folder / "untrained.pt"
    if not path.exists():
        from autotosis.model import ModelMeta, build_model, save_checkpoint

        save_checkpoint(path, build_model(), ModelMeta())
    return path


def bare_decode(vod: Path, keyframes: bool) -> float:
    started = time.perf_counter()
    media.run(media.decode_args(vod, keyframes), source=vod)
    return time.perf_counter() - started


def worker(vod: str, model: str, keyframes: bool) -> None:
    """One scan in this process; prints wall time and the process's peak RSS as JSON.

    (ffmpeg's own RSS is left out: a child's high-water mark includes the parent's pages
    from before exec, so getrusage cannot tell it; it streams, so it is flat anyway.)
    """
    from autotosis import scan
    from autotosis.model import ModelMeta

    meta = ModelMeta()
    with tempfile.TemporaryDirectory() as cache:
        result = scan.scan(
            vod,
            model,
            (0.75, 0.0, 1.0, 0.33),
            scan.ScanConfig(keyframes=keyframes),
            cache=Path(cache),
            fps=meta.fps,
        )
    print(
        json.dumps(
            {
                "wall": result.wall_seconds,
                "samples": result.samples,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def scan_in_subprocess(vod: Path, model: Path, keyframes: bool) -> dict:
    cmd = [sys.executable, __file__, "--worker", str(vod), str(model)] + (
        ["--keyframes"] if keyframes else []
    )
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def model_images_per_s(model: Path, threads: int) -> float:
    """Inference alone on random crops: the ceiling a scan can reach is this / sampling fps."""
    import numpy as np
    import torch

    from autotosis.model import load_classifier

    torch.set_num_threads(threads)
    classifier = load_classifier(model)
    size = classifier.meta.size
    crops = np.random.default_rng(0).integers(0, 256, (128, size, size, 3), dtype=np.uint8)
    classifier.predict(crops[:32])
    started = time.perf_counter()
    classifier.predict(crops)
    return len(crops) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", type=float, default=10, help="minutes of the short 720p30 VOD")
    parser.add_argument("--long", type=float, default=60, help="minutes of the long 720p30 VOD")
    parser.add_argument("--hd", type=float, default=20, help="minutes of the 1080p60 VOD")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--keyframes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.keyframes)
        return
    folder = cache_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    print("generating VODs (cached between runs)", flush=True)
    vods = [
        bench_vod(folder, args.short, 1280, 720, 30),
        bench_vod(folder, args.long, 1280, 720, 30),
        bench_vod(folder, args.hd, 1920, 1080, 60),
    ]
    model = bench_model(folder)
    from autotosis.model import ModelMeta
    from autotosis.scan import ScanConfig

    rate, fps = model_images_per_s(model, ScanConfig().threads), ModelMeta().fps
    print(f"model alone: {rate:.0f} images/s -> at most {rate / fps:.1f}x real time at {fps:g} fps sampling")
    print(
        f"{'vod':<26}{'decode':>8}{'scan':>8}{'ratio':>7}{'scan x':>8}{'dec x':>7}{'key':>7}{'key x':>7}"
        f"{'rss MB':>8}"
    )
    for vod in vods:
        duration = media.probe(vod).duration
        decode = bare_decode(vod, False)
        full = scan_in_subprocess(vod, model, False)
        key = scan_in_subprocess(vod, model, True)
        print(
            f"{vod.name:<26}{decode:>7.1f}s{full['wall']:>7.1f}s{full['wall'] / decode:>7.2f}"
            f"{duration / full['wall']:>7.1f}x{duration / decode:>6.1f}x{key['wall']:>6.1f}s"
            f"{duration / key['wall']:>6.0f}x{full['rss_mb']:>8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
