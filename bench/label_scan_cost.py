"""Scan cost of a model with three labels (three heads on one backbone) against one label.

    .venv/bin/python bench/label_scan_cost.py              # a 3-minute 720p30 VOD, 3 rounds
    .venv/bin/python bench/label_scan_cost.py --minutes 1 --rounds 2

Both models are untrained ResNet-18s at the default size and fps (speed does not depend
on the weights); the three-label one differs only in its head. Each scan runs in this
process with an empty cache, the two alternating so machine noise hits both; the figure
is the ratio of the medians, and the number of VOD decodes each scan started (one for
every label at once). VODs are cached in AUTOTOSIS_CACHE/bench.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from autotosis import media
from autotosis import scan as scan_lib
from autotosis.model import ModelMeta, build_model, save_checkpoint
from autotosis.paths import cache_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = cache_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    vod = folder / f"labels_vod_720p30_{args.minutes:g}min.mp4"
    if not vod.exists():
        media.make_lavfi_vod(vod, args.minutes * 60, 1280, 720, 30, preset="veryfast")
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        for labels in (("rage",), ("calm", "laugh", "rage")):
            path = Path(tmp) / f"{len(labels)}.pt"
            save_checkpoint(path, build_model(heads=len(labels)),
                            ModelMeta(label=labels[0], labels=labels if len(labels) > 1 else ()))
            models[len(labels)] = path
        decodes: list[int] = []
        real = media.frames

        def counted(*a: object, **k: object):  # type: ignore[no-untyped-def]
            decodes.append(1)
            return real(*a, **k)

        media.frames = counted  # type: ignore[assignment]
        times: dict[int, list[float]] = {1: [], 3: []}
        starts: dict[int, list[int]] = {1: [], 3: []}
        box = (0.72, 0.04, 0.98, 0.46)
        for k in range(args.rounds):
            for heads, path in models.items():
                before = len(decodes)
                started = time.perf_counter()
                result = scan_lib.scan(vod, path, box, cache=Path(tmp) / f"cache{heads}-{k}", fps=4.0)
                times[heads].append(time.perf_counter() - started)
                starts[heads].append(len(decodes) - before)
                assert len(result.by_label) == heads
        media.frames = real  # type: ignore[assignment]
    one, three = statistics.median(times[1]), statistics.median(times[3])
    print(f"VOD: {vod.name} ({args.minutes:g} min), fps 4, {args.rounds} rounds, "
          f"{scan_lib.ScanConfig().threads} torch thread(s)")
    for heads, name in ((1, "one label:   "), (3, "three labels:")):
        median = statistics.median(times[heads])
        print(f"{name} median {median:.1f}s  {[round(t, 1) for t in times[heads]]}  "
              f"decodes per scan {starts[heads]}")
    print(f"ratio three/one: {three / one:.2f}x")


if __name__ == "__main__":
    main()
