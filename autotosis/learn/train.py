"""Train the face-cam classifier: clip-level split, batched augmentation, best-by-AP checkpoint.

Reads top to bottom: `augment` (train transform, whole batch at once with torch ops
so two CPU cores spend their time in the network, not in image code), `train_one_epoch`,
`evaluate`, then `train`, which wires data, model, optimiser, checkpoints and reports.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autotosis.core import metrics as metrics_lib
from autotosis.core.errors import DataError, ModelError
from autotosis.core.fsutil import atomic_path, atomic_write_bytes, atomic_write_text
from autotosis.learn import dataset as dataset_lib
from autotosis.learn.model import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ModelMeta,
    build_model,
    load_checkpoint,
    save_checkpoint,
)
from autotosis.learn.trainconfig import TrainConfig, TrainEvents


@dataclass(frozen=True)
class TrainResult:
    model_path: Path
    metrics_path: Path
    plot_path: Path
    best: dict
    history: list
    wall_seconds: float


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


# ---------------------------------------------------------------- outputs


def _plain(value: object) -> object:
    """JSON has no NaN: undefined metrics become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_plot(path: Path, history: list[dict], targets: np.ndarray, known: np.ndarray,
               scores: np.ndarray, names: tuple[str, ...]) -> None:
    """Loss and AP per epoch (a line per label), and the best epoch's validation PR curve
    per label, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_ap, ax_pr) = plt.subplots(1, 3, figsize=(13, 4))
    ax_loss.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    ax_loss.plot(epochs, [r["val_loss"] for r in history], "o-", label="validation")
    ax_loss.set(title="loss", xlabel="epoch")
    ax_loss.legend()
    for name in names:
        aps = [(r.get("labels") or {}).get(name, r).get("ap") for r in history]
        ax_ap.plot(epochs, [a if a is not None else float("nan") for a in aps], "o-", label=name)
    ax_ap.set(title="validation AP", xlabel="epoch", ylim=(0, 1.02))
    for i, name in enumerate(names):
        labels, column = targets[known[:, i], i].astype(bool), scores[known[:, i], i]
        if labels.any():
            precision, recall, _ = metrics_lib.pr_curve(labels, column)
            ax_pr.step(np.r_[0.0, recall], np.r_[1.0, precision], where="post", label=name)
    if len(names) > 1:
        ax_ap.legend()
        ax_pr.legend()
    ax_pr.set(title="validation PR curve (best epoch)", xlabel="recall", ylabel="precision",
              xlim=(0, 1), ylim=(0, 1.02))
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


# ---------------------------------------------------------------- driver


def _device(cfg: TrainConfig) -> tuple[torch.device, torch.dtype | None]:
    if cfg.cpu or not torch.cuda.is_available():
        return torch.device("cpu"), None
    return torch.device("cuda"), torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _state_path(out: Path) -> Path:
    return out.with_suffix(".state.pt")


def train(cfg: TrainConfig, events: TrainEvents | None = None) -> TrainResult:
    """Extract (cached) crops, split by clip, train, keep the best-AP checkpoint and reports."""
    events = events or TrainEvents()
    started = time.perf_counter()
    if cfg.optimizer not in ("adamw", "sgd"):
        raise DataError(f"unknown optimizer {cfg.optimizer!r} (adamw or sgd)")
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(max(1, cfg.threads))
    device, amp_dtype = _device(cfg)
    files, names = dataset_lib.select_labels(cfg.labels_dir, cfg.label, cfg.negatives)
    model = build_model("resnet18", cfg.weights, len(names))  # before decoding: a bad --weights fails fast
    data = dataset_lib.build_dataset(files, cfg.fps, cfg.size, cfg.edge_guard, cfg.cache, events.extract,
                                     names, cfg.negatives)
    empty = [n for n, count in data.label_positives().items() if count == 0]
    if empty:
        raise DataError(f"every positive frame of {', '.join(empty)} fell inside --edge-guard: "
                        "lower it or label longer segments")
    train_ids, val_ids = dataset_lib.split_by_clip(data, cfg.val_fraction, cfg.seed, events.warn)
    train_set = data.subset(train_ids)
    val_set = data.subset(val_ids) if val_ids else train_set
    out = cfg.resolved_out("+".join(names))

    model = model.to(device).to(memory_format=torch.channels_last)
    # No decay on BatchNorm and bias terms: decaying them only fights the normalisation.
    params = [{"params": [p for p in model.parameters() if p.ndim > 1], "weight_decay": cfg.weight_decay},
              {"params": [p for p in model.parameters() if p.ndim <= 1], "weight_decay": 0.0}]
    optimizer: torch.optim.Optimizer = (
        torch.optim.AdamW(params, lr=cfg.lr) if cfg.optimizer == "adamw"
        else torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True))
    shape = (1, 3, 1, 1)
    loop = _Loop(model, optimizer, device,
                 torch.tensor(IMAGENET_MEAN, device=device).view(shape),
                 torch.tensor(IMAGENET_STD, device=device).view(shape),
                 torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None, amp_dtype)

    history: list[dict] = []
    best: dict = {}
    start_epoch, step = 1, 0
    if cfg.resume:
        start_epoch, step, history, best = _load_state(_state_path(out), model, optimizer, cfg)
    steps_per_epoch = max(1, math.ceil(len(train_set.times) / cfg.batch_size))
    total_steps = steps_per_epoch * cfg.epochs
    best_scores = np.zeros(0, np.float32)
    stale = history[-1]["epoch"] - best["epoch"] if history else 0
    for epoch in range(start_epoch, cfg.epochs + 1):
        if stop_early(stale, epoch, cfg):
            break
        train_loss, ips, steps = train_one_epoch(loop, train_set.images, train_set.targets, train_set.known,
                                                 cfg, epoch, step, total_steps, events)
        step += steps
        scores, val_loss = evaluate(loop, val_set.images, val_set.targets, val_set.known)
        per_label = label_metrics(val_set.targets, val_set.known, scores, names)
        record = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "images_per_s": ips,
                  "seconds": time.perf_counter() - started, **combined(per_label), "labels": per_label}
        history.append(cast(dict, _plain(record)))
        better = not best or _rank(record) > _rank(best)
        if better:
            best, best_scores, stale = dict(history[-1]), scores, 0
            meta = ModelMeta(size=cfg.size, label=names[0], facecam=data.facecam, fps=cfg.fps,
                             threshold=float(per_label[names[0]]["threshold"]), metrics=best,
                             config=cfg.to_dict(), labels=names,
                             thresholds={n: float(m["threshold"]) for n, m in per_label.items()})
            save_checkpoint(out, model, meta, {"epoch": epoch, "clips": list(data.names),
                                               "val_clips": [data.names[i] for i in val_ids]})
        else:
            stale += 1
        _save_state(_state_path(out), model, optimizer, cfg, epoch, step, history, best)
        events.epoch_end({**history[-1], "best": better})
    if not best:
        raise ModelError(f"{_state_path(out)}: the resumed run had already stopped early; nothing to train")
    if len(best_scores) == 0:  # resumed after the best epoch: score it again for the PR curve
        model.load_state_dict(load_checkpoint(out)[0])
        best_scores, _ = evaluate(loop, val_set.images, val_set.targets, val_set.known)

    metrics_path, plot_path = out.with_suffix(".metrics.json"), out.with_suffix(".png")
    wall = time.perf_counter() - started
    report = {"model": str(out), "best": best, "history": history, "config": cfg.to_dict(),
              "device": str(device), "wall_seconds": wall,
              "data": {**dataset_lib.describe(data), "train_clips": [data.names[i] for i in train_ids],
                       "val_clips": [data.names[i] for i in val_ids],
                       "train_frames": len(train_set.times),
                       "val_frames": len(val_set.times) if val_ids else 0}}
    atomic_write_text(metrics_path, json.dumps(_plain(report), indent=2) + "\n")
    write_plot(plot_path, history, val_set.targets, val_set.known, best_scores, names)
    _state_path(out).unlink(missing_ok=True)  # finished: resume state is no longer needed
    return TrainResult(out, metrics_path, plot_path, best, history, wall)


def stop_early(stale: int, epoch: int, cfg: TrainConfig) -> bool:
    """Before `epoch`: have `cfg.patience` epochs passed without a better one, late enough to stop?

    Epochs at a high learning rate are noisy, not a plateau: stop only once the cosine
    schedule is past its middle (seen: val loss 0.03, 0.15, 1.41, 0.04 in epochs 1-4 of
    10, then a better model than epoch 1's by epoch 6).
    """
    return stale >= cfg.patience and epoch - 1 >= cfg.epochs / 2


# AP differences below this are noise on a few hundred validation frames: once AP
# saturates near 1, the epoch whose scores separate the classes more widely (lower
# validation loss) should win, not the one that happens to rank one frame better.
AP_RESOLUTION = 0.002


def _rank(record: dict) -> tuple[float, float]:
    """Higher is better: validation AP (to AP_RESOLUTION), then lower validation loss."""
    ap = record.get("ap")
    ap = ap if ap is not None and math.isfinite(ap) else -1.0
    return (math.floor(ap / AP_RESOLUTION + 1e-9) * AP_RESOLUTION, -record["val_loss"])


def _heads(model: nn.Module) -> int:
    head = model.fc
    assert isinstance(head, nn.Linear)
    return head.out_features


def _save_state(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, cfg: TrainConfig,
                epoch: int, step: int, history: list, best: dict) -> None:
    """Weights + optimiser after each epoch so Ctrl-C costs at most one epoch (--resume)."""
    buffer = io.BytesIO()
    torch.save({"state_dict": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                "step": step, "history": history, "best": best, "size": cfg.size,
                "heads": _heads(model)}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _load_state(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                cfg: TrainConfig) -> tuple[int, int, list, dict]:
    if not path.exists():
        raise ModelError(f"{path}: nothing to resume (no interrupted run for this --out)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state["size"] != cfg.size:
            raise ModelError(f"{path}: was trained at --size {state['size']}, not {cfg.size}")
        if state.get("heads", 1) != _heads(model):
            raise ModelError(f"{path}: was trained for {state.get('heads', 1)} label(s), not "
                             f"{_heads(model)}; label files changed since")
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{path}: cannot resume from it ({type(exc).__name__})") from None
    return state["epoch"] + 1, state["step"], state["history"], state["best"]
