"""What a reel and its vertical shorts cost, for the same highlights cut from a short and a long VOD.

    .venv/bin/python bench/render_cost.py                 # 720p30 10 min vs 60 min (from scan_speed)
    .venv/bin/python bench/render_cost.py --short 2 --long 6 --shorts-size 1080x1920

The highlights are the same every time: 6 pieces of 8 s with live captions, spread
evenly over each VOD (so the long VOD's cuts seek up to an hour in). Each is rendered
as the horizontal reel and as 6 vertical shorts (stack layout, a caption, loudness in
two passes), side by side in one run. Input seeking should make both VODs cost the
same: what a reel or a short costs is its own seconds. The figure to compare is the
render time per second of output.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.paths import cache_dir
from autotosis.core.timeline import Segment, Timeline
from autotosis.pick.highlights import highlights
from autotosis.publish import framing, shorts
from autotosis.publish import reel as render

PIECES, PIECE_SECONDS = 6, 8.0
FACECAM = (0.70, 0.05, 0.95, 0.45)  # a corner of the test pattern standing in for the face-cam


def _segments(vod: Path) -> tuple[list[Segment], Timeline]:
    duration = media.probe(vod).duration
    starts = np.linspace(0.1, 0.9, PIECES) * duration
    times = np.arange(0, duration, 0.25)
    return ([Segment(float(s), float(s) + PIECE_SECONDS) for s in starts],
            Timeline(times, np.linspace(0, 1, len(times))))


def reel_seconds(vod: Path, jobs: int) -> float:
    segments, scores = _segments(vod)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        config = render.RenderConfig(jobs=jobs)
        render.render_reel(vod, segments, Path(tmp) / "reel.mp4", config, scores=scores)
        return time.perf_counter() - started


def shorts_seconds(vod: Path, jobs: int, size: tuple[int, int], layout: str) -> float:
    segments, scores = _segments(vod)
    items = highlights(segments, "bench", scores)
    config = shorts.ShortsConfig(size=size, layout=layout, jobs=jobs)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        shorts.make_shorts(vod, items, Path(tmp) / "shorts", config, FACECAM)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", type=float, default=10, help="minutes of the short 720p30 VOD")
    parser.add_argument("--long", type=float, default=60, help="minutes of the long 720p30 VOD")
    parser.add_argument("--repeat", type=int, default=2, help="renders per VOD; the best one counts")
    parser.add_argument("--shorts-size", default="1080x1920", help="size of the shorts")
    parser.add_argument("--layout", default="stack", choices=framing.LAYOUTS)
    args = parser.parse_args()
    size = shorts.parse_size(args.shorts_size)
    folder = cache_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = render.RenderConfig().jobs
    output = PIECES * PIECE_SECONDS
    results: dict[float, tuple[float, float]] = {}
    for minutes in (args.short, args.long):
        vod = folder / f"vod_720p30_{minutes:g}min.mp4"
        if not vod.exists():
            media.make_lavfi_vod(vod, minutes * 60, 1280, 720, 30)
        reel = min(reel_seconds(vod, jobs) for _ in range(args.repeat))
        made = min(shorts_seconds(vod, jobs, size, args.layout) for _ in range(args.repeat))
        results[minutes] = (reel, made)
        print(f"{vod.name:<26} reel of {PIECES} x {PIECE_SECONDS:g}s: {reel:5.1f}s "
              f"({reel / output:.2f}s per output second)   "
              f"{PIECES} shorts {size[0]}x{size[1]} {args.layout}: {made:5.1f}s "
              f"({made / output:.2f}s per output second)   shorts / reel: {made / reel:.2f}   jobs={jobs}",
              flush=True)
    (reel_s, shorts_s), (reel_l, shorts_l) = results[args.short], results[args.long]
    print(f"long / short VOD: reel {reel_l / reel_s:.2f}, shorts {shorts_l / shorts_s:.2f}")


if __name__ == "__main__":
    main()
