"""The training loop proper: transforms, one epoch, evaluation and per-label metrics.

Reads top to bottom: `augment` (train transform, whole batch at once with torch ops
so two CPU cores spend their time in the network, not in image code), `train_one_epoch`,
`evaluate`. Apart from `train`'s driver so the per-batch work can be read, benchmarked
(bench/train_throughput.py) and changed without the files, checkpoints and reports around it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autotosis.core import metrics as metrics_lib
from autotosis.learn.trainconfig import TrainConfig, TrainEvents

# ---------------------------------------------------------------- transforms


def normalise(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 NHWC -> normalised float NCHW in channels_last (the eval transform)."""
    x = images.permute(0, 3, 1, 2).float().div_(255.0)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def augment(
    images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, gen: torch.Generator,
) -> torch.Tensor:
    """Face-cam augmentation for a whole uint8 NHWC batch at once.

    Random resized crop (60-100% of the area, so the face stays in) and horizontal flip
    as one affine resample; brightness/contrast/saturation jitter for webcam lighting
    (no hue shift: colour can be part of the reaction); random erasing for hands and
    overlays in front of the face.
    """
    n, device = images.shape[0], images.device

    def uniform(lo: float, hi: float, shape: tuple = (n,)) -> torch.Tensor:
        return torch.rand(shape, generator=gen).mul_(hi - lo).add_(lo).to(device)

    x = images.permute(0, 3, 1, 2).float().div_(255.0)
    area, ratio = uniform(0.6, 1.0), torch.exp(uniform(math.log(3 / 4), math.log(4 / 3)))
    sw, sh = (area * ratio).sqrt().clamp(max=1.0), (area / ratio).sqrt().clamp(max=1.0)
    flip = torch.where(uniform(0, 1) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0], theta[:, 1, 1] = sw * flip, sh
    theta[:, 0, 2], theta[:, 1, 2] = (1 - sw) * uniform(-1, 1), (1 - sh) * uniform(-1, 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    shape4 = (n, 1, 1, 1)
    x = x * uniform(0.75, 1.25, shape4)
    gray = (x * torch.tensor([0.299, 0.587, 0.114], device=device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    x = gray + (x - gray) * uniform(0.75, 1.25, shape4)
    level = gray.mean((2, 3), keepdim=True)
    x = (level + (x - level) * uniform(0.75, 1.25, shape4)).clamp_(0.0, 1.0)
    x = (x - mean) / std

    h, w = x.shape[2], x.shape[3]
    erase_area, erase_ratio = uniform(0.02, 0.2), torch.exp(uniform(math.log(0.3), math.log(3.3)))
    eh = (erase_area * erase_ratio).sqrt().clamp(max=1.0) * h
    ew = (erase_area / erase_ratio).sqrt().clamp(max=1.0) * w
    y0, x0 = uniform(0, 1) * (h - eh), uniform(0, 1) * (w - ew)
    ys = torch.arange(h, device=device).view(1, h, 1)
    xs = torch.arange(w, device=device).view(1, 1, w)
    box = ((ys >= y0.view(n, 1, 1)) & (ys < (y0 + eh).view(n, 1, 1))
           & (xs >= x0.view(n, 1, 1)) & (xs < (x0 + ew).view(n, 1, 1)))
    box &= (uniform(0, 1) < 0.25).view(n, 1, 1)
    x = x.masked_fill(box.unsqueeze(1), 0.0)
    return x.contiguous(memory_format=torch.channels_last)


# ---------------------------------------------------------------- loop


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    """Linear warm-up then cosine decay: stable start from scratch, small steps at the end."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * 0.5 * (1.0 + math.cos(math.pi * progress))


def balanced_indices(targets: np.ndarray, count: int, gen: torch.Generator,
                     known: np.ndarray | None = None) -> np.ndarray:
    """`count` frame indices drawn so each batch is about half positives, shared equally
    between the labels (reactions are rare, and some rarer than others); the other
    half are frames positive for no label. `targets` is (N,) or (N, L)."""
    t = targets.reshape(len(targets), -1).astype(bool)
    if known is not None:
        t &= known.reshape(t.shape)
    per_label = t.sum(axis=0)
    present = per_label > 0
    weights = np.zeros(len(t), dtype=np.float64)
    for i in np.flatnonzero(present):
        weights += np.where(t[:, i], 0.5 / present.sum() / per_label[i], 0.0)
    calm = ~t.any(axis=1)
    weights += np.where(calm, (0.5 if present.any() else 1.0) / max(int(calm.sum()), 1), 0.0)
    if not weights.any():
        weights[:] = 1.0
    return torch.multinomial(torch.from_numpy(weights), count, replacement=True, generator=gen).numpy()


def masked_bce(logits: torch.Tensor, target: torch.Tensor, known: torch.Tensor,
               reduction: str = "mean") -> torch.Tensor:
    """Binary cross-entropy over the known targets only (an unlabeled label teaches nothing)."""
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none") * known
    total = loss.sum()
    return total / known.sum().clamp(min=1.0) if reduction == "mean" else total


@dataclass
class _Loop:
    """Everything one step needs, built once."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    device: torch.device
    mean: torch.Tensor
    std: torch.Tensor
    scaler: torch.amp.GradScaler | None
    amp_dtype: torch.dtype | None


def train_one_epoch(
    loop: _Loop, images: np.ndarray, targets: np.ndarray, known: np.ndarray, cfg: TrainConfig, epoch: int,
    step0: int, total_steps: int, events: TrainEvents,
) -> tuple[float, float, int]:
    """(mean loss, images/s, steps) for one pass of balanced batches."""
    gen = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
    steps = max(1, math.ceil(len(targets) / cfg.batch_size))
    order = balanced_indices(targets, steps * cfg.batch_size, gen, known)
    loop.model.train()
    loss_sum, seen, started = 0.0, 0, time.perf_counter()
    events.epoch_start(epoch, cfg.epochs, steps)
    for k in range(steps):
        idx = np.sort(order[k * cfg.batch_size:(k + 1) * cfg.batch_size])
        batch = torch.from_numpy(images[idx]).to(loop.device, non_blocking=True)
        target = torch.from_numpy(targets[idx].astype(np.float32)).to(loop.device)
        mask = torch.from_numpy(known[idx].astype(np.float32)).to(loop.device)
        x = augment(batch, loop.mean, loop.std, gen)
        for group in loop.optimizer.param_groups:
            group["lr"] = lr_at(step0 + k, total_steps, cfg.lr, cfg.warmup_steps)
        with torch.autocast(loop.device.type, dtype=loop.amp_dtype or torch.float32,
                            enabled=loop.amp_dtype is not None):
            loss = masked_bce(loop.model(x).float().view(len(idx), -1), target, mask)
        loop.optimizer.zero_grad(set_to_none=True)
        if loop.scaler is not None:
            loop.scaler.scale(loss).backward()
            loop.scaler.step(loop.optimizer)
            loop.scaler.update()
        else:
            loss.backward()
            loop.optimizer.step()
        value = float(loss.detach())
        loss_sum += value * len(idx)
        seen += len(idx)
        events.step(value, seen / (time.perf_counter() - started))
    return loss_sum / seen, seen / (time.perf_counter() - started), steps


def evaluate(
    loop: _Loop, images: np.ndarray, targets: np.ndarray, known: np.ndarray, batch_size: int = 128,
) -> tuple[np.ndarray, float]:
    """(P(label) per frame and label (N, L), mean loss over known targets) without augmentation."""
    loop.model.eval()
    scores, loss_sum = [], 0.0
    with torch.inference_mode():
        for start in range(0, len(targets), batch_size):
            part = slice(start, start + batch_size)
            batch = torch.from_numpy(images[part]).to(loop.device)
            target = torch.from_numpy(targets[part].astype(np.float32)).to(loop.device)
            mask = torch.from_numpy(known[part].astype(np.float32)).to(loop.device)
            with torch.autocast(loop.device.type, dtype=loop.amp_dtype or torch.float32,
                                enabled=loop.amp_dtype is not None):
                logits = loop.model(normalise(batch, loop.mean, loop.std)).float().view(len(target), -1)
            loss_sum += float(masked_bce(logits, target, mask, reduction="sum"))
            scores.append(torch.sigmoid(logits).cpu().numpy())
    width = targets.shape[1] if targets.ndim == 2 else 1
    return (np.concatenate(scores) if scores else np.zeros((0, width), np.float32),
            loss_sum / max(1, int(known.sum())))


def label_metrics(targets: np.ndarray, known: np.ndarray, scores: np.ndarray,
                  names: tuple[str, ...]) -> dict[str, dict]:
    """metrics.summary per label, over the frames whose target for it is known."""
    return {name: metrics_lib.summary(targets[known[:, i], i], scores[known[:, i], i])
            for i, name in enumerate(names)}


def combined(per_label: dict[str, dict]) -> dict:
    """The epoch's headline figures: a one-label run's own, else the mean over labels
    (AP, AUC, F1, accuracy) with the first label's threshold kept for compatibility."""
    if len(per_label) == 1:
        return dict(next(iter(per_label.values())))
    out = dict(next(iter(per_label.values())))
    for key in ("ap", "auc", "accuracy", "f1", "accuracy_at_threshold"):
        values = [m[key] for m in per_label.values() if m[key] is not None and math.isfinite(m[key])]
        out[key] = float(np.mean(values)) if values else float("nan")
    out["frames"] = sum(m["frames"] for m in per_label.values())
    out["positives"] = sum(m["positives"] for m in per_label.values())
    return out
