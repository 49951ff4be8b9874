"""Training throughput: our loop (sampling + augmentation + step) vs a bare torch step.

    .venv/bin/python bench/train_throughput.py                # throughput only
    .venv/bin/python bench/train_throughput.py --demo DIR     # also time `train` on the demo set

The bare loop feeds one fixed, already-normalised batch to forward + backward + AdamW:
the floor for this model on this machine. The ratio says how much our data path
(indexing cached crops, batched augmentation, balanced sampling) costs on top.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from autotosis.learn import train as train_lib
from autotosis.learn.model import build_model


def bare_images_per_s(size: int, batch: int, steps: int, channels_last: bool) -> float:
    model = build_model()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, size, size).contiguous(memory_format=fmt)
    y = (torch.arange(batch) % 2).float()
    for k in range(steps + 2):
        if k == 2:  # two warm-up steps: allocator and kernel choice
            started = time.perf_counter()
        loss = F.binary_cross_entropy_with_logits(model(x).view(-1), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - started)


def ours_images_per_s(size: int, batch: int, steps: int) -> float:
    """One epoch of `steps` batches through train_one_epoch on random cached crops."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (steps * batch, size, size, 3), dtype=np.uint8)
    labels = (rng.random((len(images), 1)) < 0.2).astype(np.uint8)
    known = np.ones(labels.shape, dtype=bool)
    cfg = train_lib.TrainConfig(size=size, batch_size=batch, epochs=1, cpu=True)
    model = build_model().to(memory_format=torch.channels_last)
    shape = (1, 3, 1, 1)
    loop = train_lib._Loop(model, torch.optim.AdamW(model.parameters(), lr=1e-3), torch.device("cpu"),
                           torch.tensor(train_lib.IMAGENET_MEAN).view(shape),
                           torch.tensor(train_lib.IMAGENET_STD).view(shape), None, None)
    events = train_lib.TrainEvents()
    warm = slice(0, 2 * batch)
    train_lib.train_one_epoch(loop, images[warm], labels[warm], known[warm], cfg, 0, 0, 10, events)
    _, ips, _ = train_lib.train_one_epoch(loop, images, labels, known, cfg, 1, 0, steps, events)
    return ips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="alternate runs; best of each is kept")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--demo", type=Path, help="project folder with the demo set (made if missing)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch} at {args.size}px")
    # Alternating rounds, best of each: a shared machine's load hits all three alike.
    best = {"bare_cl": 0.0, "bare_nchw": 0.0, "ours": 0.0}
    shape = (args.size, args.batch, args.steps)
    for _ in range(args.rounds):
        best["bare_cl"] = max(best["bare_cl"], bare_images_per_s(*shape, True))
        best["bare_nchw"] = max(best["bare_nchw"], bare_images_per_s(*shape, False))
        best["ours"] = max(best["ours"], ours_images_per_s(*shape))
    bare = max(best["bare_cl"], best["bare_nchw"])
    print(f"bare torch (channels_last)  {best['bare_cl']:7.1f} img/s")
    print(f"bare torch (NCHW)           {best['bare_nchw']:7.1f} img/s")
    print(f"our training loop           {best['ours']:7.1f} img/s   ratio {best['ours'] / bare:.2f} "
          "of the faster bare loop")
    if args.demo:
        demo_wall(args.demo, args.threads)


def demo_wall(root: Path, threads: int) -> None:
    """`autotosis train --cpu` with its defaults on the demo clips, crops decoded afresh."""
    import dataclasses
    import tempfile

    from autotosis.demo import demo

    started = time.perf_counter()
    data = demo.make_data(dataclasses.replace(demo.DemoConfig(), folder=root))
    if data.made:
        print(f"made the demo set in {time.perf_counter() - started:.0f}s")
    with tempfile.TemporaryDirectory() as cache:
        cfg = train_lib.TrainConfig(labels_dir=data.labels_dir, out=root / "models" / "rage.pt", cpu=True,
                                    threads=threads, cache=Path(cache))
        result = train_lib.train(cfg)
    best = result.best
    report = json.loads(result.metrics_path.read_text())["data"]
    per_min = report["decode_seconds"] / max(report["decoded_clip_seconds"] / 60, 1e-9)
    print(f"demo set: {report['clips']} clips, {report['frames']} frames; extraction {per_min:.2f}s "
          f"per minute of clip")
    print(f"train wall {result.wall_seconds:.0f}s, {len(result.history)} epochs; best epoch {best['epoch']}: "
          f"val AP {best['ap']:.3f}, accuracy {best['accuracy']:.3f} "
          f"(at threshold {best['threshold']:.2f}: {best['accuracy_at_threshold']:.3f})")


if __name__ == "__main__":
    main()
