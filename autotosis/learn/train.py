"""Train the face-cam classifier: clip-level split, batched augmentation, best-by-AP checkpoint.

`train` wires data, model, optimiser, checkpoints and reports, and can resume an
interrupted run; the per-batch work (`augment`, `train_one_epoch`, `evaluate`, the
metrics) is in `loop`.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch
from torch import nn

from autotosis.core import metrics as metrics_lib
from autotosis.core.errors import DataError, ModelError
from autotosis.core.fsutil import atomic_path, atomic_write_bytes, atomic_write_text
from autotosis.learn import dataset as dataset_lib
from autotosis.learn import record as record_lib
from autotosis.learn import warm
from autotosis.learn.loop import _Loop, combined, evaluate, label_metrics, train_one_epoch
from autotosis.learn.model import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ModelMeta,
    build_model,
    inference_dtype,
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
    start: str = ""  # where training started from and why, as `train` said it (warm.training_rows)


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
    """The device and autocast dtype: "auto" is what compile's inference picks
    (model.inference_dtype): bf16 or fp16 on a GPU; bf16 on a CPU that does it natively,
    where a training step runs about twice as fast as in fp32 (hardware.cpu_has_bf16), else fp32."""
    device = torch.device("cpu" if cfg.cpu or not torch.cuda.is_available() else "cuda")
    if cfg.precision == "fp16" and device.type == "cpu":
        raise ModelError("fp16 training needs a GPU; use bf16 or fp32 on the CPU")
    return device, inference_dtype(cfg.precision, device)


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
    if cfg.start not in ("auto", "scratch"):
        raise DataError(f"unknown start {cfg.start!r} (auto or scratch)")
    if cfg.init_from is not None and (cfg.start == "scratch" or cfg.resume):
        raise DataError("--from starts from a checkpoint: not with --scratch or --resume")
    files, names = dataset_lib.select_labels(cfg.labels_dir, cfg.label, cfg.negatives)
    model = build_model("resnet18", cfg.weights, len(names))  # before decoding: a bad --weights fails fast
    out = cfg.resolved_out("+".join(names))
    forced = warm.open_from(cfg, names)  # before decoding: a --from that does not fit fails fast
    data = dataset_lib.build_dataset(files, cfg.fps, cfg.size, cfg.edge_guard, cfg.cache, events.extract,
                                     names, cfg.negatives)
    empty = [n for n, count in data.label_positives().items() if count == 0]
    if empty:
        raise DataError(f"every positive frame of {', '.join(empty)} fell inside --edge-guard: "
                        "lower it or label longer segments")
    settings = record_lib.record_settings("resnet18", cfg.fps, cfg.size, cfg.negatives, cfg.edge_guard)
    decision = warm.decide(cfg, out, files, names, data, settings, forced)
    train_ids, val_ids = dataset_lib.split_by_clip(data, cfg.val_fraction, cfg.seed, events.warn,
                                                   warm.fixed_sides(data, decision.record))
    rows, start_line = warm.training_rows(decision, data, train_ids, cfg, out)
    if start_line:
        events.start(start_line)
    train_set = data.subset(train_ids) if rows is None else warm.frames(data, rows)
    val_set = data.subset(val_ids) if val_ids else train_set
    record = record_lib.training_record(files, names, data, val_ids, settings)
    extra = {"clips": list(data.names), "val_clips": [data.names[i] for i in val_ids],
             record_lib.RECORD_KEY: record}
    if decision.warm:
        assert decision.state is not None
        model.load_state_dict(decision.state)
        # A warm start is a short fine-tune, not a run of its own: fewer epochs at a lower,
        # briefly ramped rate (TrainConfig says why), and no resume state (it is under a minute).
        cfg = dataclasses.replace(cfg, epochs=cfg.warm_epochs, lr=cfg.warm_lr,
                                  warmup_steps=cfg.warm_warmup_steps)

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
    pending: tuple | None = None  # a warm start's best epoch, written once it has finished
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
            if decision.warm:  # Ctrl-C in a warm start leaves the checkpoint it started from intact
                pending = ({k: v.detach().clone() for k, v in model.state_dict().items()}, meta, epoch)
            else:
                save_checkpoint(out, model, meta, {"epoch": epoch, **extra})
        else:
            stale += 1
        if not decision.warm:
            _save_state(_state_path(out), model, optimizer, cfg, epoch, step, history, best)
        events.epoch_end({**history[-1], "best": better})
    if pending is not None:
        weights, meta, epoch = pending
        model.load_state_dict(weights)
        save_checkpoint(out, model, meta, {"epoch": epoch, **extra})
    if not best:
        raise ModelError(f"{_state_path(out)}: the resumed run had already stopped early; nothing to train")
    if len(best_scores) == 0:  # resumed after the best epoch: score it again for the PR curve
        model.load_state_dict(load_checkpoint(out)[0])
        best_scores, _ = evaluate(loop, val_set.images, val_set.targets, val_set.known)

    metrics_path, plot_path = out.with_suffix(".metrics.json"), out.with_suffix(".png")
    wall = time.perf_counter() - started
    report = {"model": str(out), "best": best, "history": history, "config": cfg.to_dict(),
              "device": str(device), "wall_seconds": wall,
              "start": {"warm": decision.warm, "from": str(decision.source) if decision.warm else None,
                        "line": start_line, "train_frames": len(train_set.times)},
              "data": {**dataset_lib.describe(data), "train_clips": [data.names[i] for i in train_ids],
                       "val_clips": [data.names[i] for i in val_ids],
                       "train_frames": len(train_set.times),
                       "val_frames": len(val_set.times) if val_ids else 0}}
    atomic_write_text(metrics_path, json.dumps(_plain(report), indent=2) + "\n")
    write_plot(plot_path, history, val_set.targets, val_set.known, best_scores, names)
    _state_path(out).unlink(missing_ok=True)  # finished: resume state is no longer needed
    return TrainResult(out, metrics_path, plot_path, best, history, wall, start_line)


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
