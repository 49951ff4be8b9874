"""How good are the reels? Train on the demo clips, evaluate on streams that look different.

    .venv/bin/python bench/accuracy.py                  # train + 4 held-out streams (~10 min on 2 cores)
    .venv/bin/python bench/accuracy.py --minutes 1.5    # shorter streams, a quicker look

The training data is `autotosis demo`'s (24 clips of one streamer, 640x360 at 30 fps,
face-cam top right). The evaluation streams show the same streamer with everything
else changed: resolution, frame rate, face-cam position and size, game backdrop, and
their own rages, laughs, bangs and coloured game light. The face-cam box is found on
each stream by `--facecam auto`'s detector, as a user would. Each stream is scored
three ways (model, loudness, fused) with compile's default selection, and the table
gives frame AP/AUC and event precision/recall/F1 (min overlap 0.5), mean IoU and the
reel's seconds outside any rage. Work files go to --folder (kept, so a re-run only
re-evaluates).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

from autotosis import demo, synth
from autotosis.compile import CompileOptions
from autotosis.evaluate import evaluate_vod
from autotosis.facecam import detect_facecam
from autotosis.train import train
from autotosis.trainconfig import TrainConfig

# (name, width, height, fps, face-cam box, backdrop): each differs from the training clips.
STREAMS = [
    ("720p60-bottom-left", 1280, 720, 60.0, (0.02, 0.52, 0.30, 0.98), "cellauto"),
    ("480p25-top-left", 854, 480, 25.0, (0.03, 0.04, 0.33, 0.50), "mandelbrot"),
    ("1080p30-small-bottom-right", 1920, 1080, 30.0, (0.80, 0.68, 0.98, 0.98), "testsrc2"),
    ("360p30-top-right-long", 640, 360, 30.0, (0.70, 0.03, 0.99, 0.48), "life"),
]
SCORERS = ("model", "loudness", "fused")


def make_streams(folder: Path, minutes: float, seed: int) -> list[tuple[str, Path, Path]]:
    """The evaluation streams and their truth files (made once)."""
    streamer = synth.Streamer.from_seed(seed)  # the same person as in the training clips
    made = []
    for k, (name, width, height, fps, box, backdrop) in enumerate(STREAMS):
        seconds = minutes * 60 * (2 if name.endswith("long") else 1)
        rages = max(2, round(seconds / 40))
        spec = synth.scripted(seconds, seed=seed * 1000 + 500 + k, rages=rages, hypes=rages, bangs=rages,
                              flashes=rages, rage_length=(4.0, 9.0), gap=12.0, width=width, height=height,
                              fps=fps, facecam=box, backdrop=backdrop, streamer=streamer)
        vod, truth = folder / "streams" / f"{name}.mp4", folder / "streams" / f"{name}.toml"
        if not (vod.exists() and truth.exists()):
            started = time.perf_counter()
            synth.make_stream(vod, spec, preset="ultrafast")
            synth.write_label(spec, vod, truth)
            took = time.perf_counter() - started
            print(f"  made {name} ({seconds / 60:.1f} min) in {took:.0f}s", flush=True)
        made.append((name, vod, truth))
    return made


def _f(value: float) -> str:
    return "  n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=Path("bench-work/accuracy"))
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each evaluation stream")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    config = dataclasses.replace(demo.DemoConfig(), folder=args.folder / "train", seed=args.seed)
    started = time.perf_counter()
    data = demo.make_data(config)
    print(f"training data: {config.clips} clips ({'made' if data.made else 'reused'}) "
          f"in {time.perf_counter() - started:.0f}s", flush=True)
    model = args.folder / "rage.pt"
    cache = args.folder / "cache"
    if not model.exists():
        started = time.perf_counter()
        result = train(TrainConfig(labels_dir=data.labels_dir, out=model, size=config.size,
                                   epochs=config.epochs, seed=args.seed, cpu=True, cache=cache))
        took = time.perf_counter() - started
        print(f"trained in {took:.0f}s: validation AP {result.best['ap']:.3f}", flush=True)
    streams = make_streams(args.folder, args.minutes, args.seed)

    header = (f"{'stream':<28}{'scorer':<10}{'AP':>6}{'AUC':>6}{'P':>6}{'R':>6}{'F1':>6}{'IoU':>6}"
              f"{'found':>7}{'reel s':>8}{'other s':>8}")
    print("\n" + header + "\n" + "-" * len(header))
    pooled = {s: [0, 0, 0, 0] for s in SCORERS}  # hits, selected, found, truth
    for name, vod, truth in streams:
        box = detect_facecam(vod).box
        for scorer in SCORERS:
            options = CompileOptions(vod=vod, model=model, scorer=scorer, facecam=box, cache=cache,
                                     out_dir=args.folder / "eval" / name / scorer)
            result = evaluate_vod(options, truth)
            e, f = result.events, result.frames
            pooled[scorer] = [a + b for a, b in zip(pooled[scorer], (e.hits, e.selected, e.found, e.truth),
                                                    strict=True)]
            print(f"{name:<28}{scorer:<10}{_f(f.ap):>6}{_f(f.auc):>6}{_f(e.precision):>6}{_f(e.recall):>6}"
                  f"{_f(e.f1):>6}{_f(e.mean_iou):>6}{f'{e.found}/{e.truth}':>7}{e.reel_seconds:8.1f}"
                  f"{e.non_highlight_seconds:8.1f}", flush=True)
    print("\npooled over all streams (events):")
    for scorer, (hits, selected, found, total) in pooled.items():
        precision = hits / selected if selected else float("nan")
        recall = found / total if total else float("nan")
        print(f"  {scorer:<9} precision {precision:.2f} ({hits}/{selected})  "
              f"recall {recall:.2f} ({found}/{total})")


if __name__ == "__main__":
    main()
