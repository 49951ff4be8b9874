"""Reel render time for the same reel cut from a short and a long VOD.

    .venv/bin/python bench/render_cost.py                 # 720p30 10 min vs 60 min (from scan_speed)
    .venv/bin/python bench/render_cost.py --short 2 --long 6

The reel is the same every time: 6 pieces of 8 s with live captions, spread evenly
over each VOD (so the long VOD's cuts seek up to an hour in). Input seeking should
make both take the same time: what a reel costs is its own seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from autotosis import media, render
from autotosis.paths import cache_dir
from autotosis.timeline import Segment, Timeline

PIECES, PIECE_SECONDS = 6, 8.0


def reel_seconds(vod: Path, jobs: int) -> float:
    duration = media.probe(vod).duration
    starts = np.linspace(0.1, 0.9, PIECES) * duration
    segments = [Segment(float(s), float(s) + PIECE_SECONDS) for s in starts]
    scores = Timeline(np.arange(0, duration, 0.25), np.linspace(0, 1, len(np.arange(0, duration, 0.25))))
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        render.render_reel(
            vod, segments, Path(tmp) / "reel.mp4", render.RenderConfig(jobs=jobs), scores=scores
        )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", type=float, default=10, help="minutes of the short 720p30 VOD")
    parser.add_argument("--long", type=float, default=60, help="minutes of the long 720p30 VOD")
    parser.add_argument("--repeat", type=int, default=2, help="renders per VOD; the best one counts")
    args = parser.parse_args()
    folder = cache_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = render.RenderConfig().jobs
    results = {}
    for minutes in (args.short, args.long):
        vod = folder / f"vod_720p30_{minutes:g}min.mp4"
        if not vod.exists():
            media.make_lavfi_vod(vod, minutes * 60, 1280, 720, 30)
        results[minutes] = min(reel_seconds(vod, jobs) for _ in range(args.repeat))
        print(
            f"{vod.name:<26} reel of {PIECES} x {PIECE_SECONDS:g}s: {results[minutes]:.1f}s "
            f"({PIECES * PIECE_SECONDS / results[minutes]:.1f}x real time, jobs={jobs})",
            flush=True,
        )
    print(f"long / short: {results[args.long] / results[args.short]:.2f}")


if __name__ == "__main__":
    main()
