"""Scan cost of a model with three labels (three heads on one backbone) against one label,
and of two checkpoints (each its own box and size) scored from one decode.

    .venv/bin/python bench/label_scan_cost.py              # a 3-minute 720p30 VOD, 3 rounds
    .venv/bin/python bench/label_scan_cost.py --minutes 1 --rounds 2

Both models are untrained ResNet-18s at the default size and fps (speed does not depend
on the weights); the three-label one differs only in its head. Each scan runs in this
process with an empty cache, the two alternating so machine noise hits both; the figure
is the ratio of the medians, and the number of VOD decodes each scan started (one for
every label at once). The two-checkpoint rows pair the one-label model with a second
one at 96 px, on a box next to the first (a small union to decode) or in the opposite
corner (the union is nearly the whole frame: what decoding full frames would cost):
two backbones run, so inference doubles while the decode is shared. VODs are cached
in AUTOTOSIS_CACHE/bench.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from autotosis import media
from autotosis.core.paths import cache_dir
from autotosis.learn.model import ModelMeta, build_model, save_checkpoint
from autotosis.signals import scan as scan_lib


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
        second = Path(tmp) / "second.pt"
        save_checkpoint(second, build_model(), ModelMeta(label="laugh", size=96))
        box = (0.72, 0.04, 0.98, 0.46)
        near = scan_lib.ScanModel(second, (0.50, 0.04, 0.72, 0.46))
        far = scan_lib.ScanModel(second, (0.02, 0.52, 0.30, 0.98))
        runs = {"one label": (models[1], ()), "three labels": (models[3], ()),
                "two checkpoints, near boxes": (models[1], (near,)),
                "two checkpoints, far boxes": (models[1], (far,))}
        times: dict[str, list[float]] = {name: [] for name in runs}
        starts: dict[str, list[int]] = {name: [] for name in runs}
        for k in range(args.rounds):
            for n, (name, (path, more)) in enumerate(runs.items()):
                before = len(decodes)
                started = time.perf_counter()
                result = scan_lib.scan(vod, path, box, cache=Path(tmp) / f"cache{n}-{k}", fps=4.0, more=more)
                times[name].append(time.perf_counter() - started)
                starts[name].append(len(decodes) - before)
                assert len(result.by_label) == (3 if name == "three labels" else 1 + len(more))
        media.frames = real  # type: ignore[assignment]
    one = statistics.median(times["one label"])
    print(f"VOD: {vod.name} ({args.minutes:g} min), fps 4, {args.rounds} rounds, "
          f"{scan_lib.ScanConfig().threads} torch thread(s)")
    for name in runs:
        median = statistics.median(times[name])
        print(f"{name + ':':<29} median {median:.1f}s  {[round(t, 1) for t in times[name]]}  "
              f"decodes per scan {starts[name]}  ({median / one:.2f}x one label)")
    print(f"ratio three/one: {statistics.median(times['three labels']) / one:.2f}x")


if __name__ == "__main__":
    main()
