"""Quick retraining: where `train` starts (a warm start from a checkpoint, or scratch and
why), and the frames a warm start learns from (the new ones plus a replay of old ones).

When the labels only grew since the checkpoint at `--out` was trained (`record.compare`:
a round of answers), `train` loads its weights and trains on the new frames and a
balanced random replay of old training frames, for a few epochs at a lower rate; the
split units the checkpoint held out stay held out, so validation AP compares with the
last round's. `--from` forces a start from a checkpoint; `--scratch` starts over; any
other change trains from scratch and the start line says why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autotosis.core.errors import ModelError
from autotosis.learn import dataset as dataset_lib
from autotosis.learn.labels import LabelFile
from autotosis.learn.model import ModelMeta, load_checkpoint
from autotosis.learn.record import RECORD_KEY, Growth, compare, file_of_unit, frame_masks
from autotosis.learn.trainconfig import TrainConfig

# ---------------------------------------------------------------- split and replay


def fixed_sides(data: dataset_lib.Dataset, record: dict | None) -> dict[str, bool]:
    """Units the record already placed, by name -> held out: old validation units stay
    validation so AP is measured on the same frames as before. A unit that regrouped (a
    VOD's new answer joined an old group) takes the side of the old units it overlaps,
    validation if any of them was held out (never train on frames that were validation)."""
    if not record:
        return {}
    units: dict = record.get("units", {})
    out: dict[str, bool] = {}
    for i, name in enumerate(data.names):
        if name in units:
            out[name] = bool(units[name][3])
            continue
        times = data.times[data.clip == i]
        if not len(times):
            continue
        stem, first, last = file_of_unit(name), float(times.min()), float(times.max())
        sides = [bool(u[3]) for u in units.values() if u[0] == stem and u[1] <= last and first <= u[2]]
        if sides:
            out[name] = any(sides)
    return out


def replay(data: dataset_lib.Dataset, candidates: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Up to `count` of the `candidates` (old training frames), half positive for some label
    and half positive for none where both kinds are there, at random: a sample of what the
    model knew, replayed beside the new frames so learning them does not wash it out."""
    if count <= 0 or not len(candidates):
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng([seed, 7])
    positive = (data.targets[candidates] & data.known[candidates]).any(axis=1)
    pos, neg = candidates[positive], candidates[~positive]
    take_pos = min(len(pos), max(count // 2, count - len(neg)))
    take_neg = min(len(neg), count - take_pos)
    chosen = np.concatenate([rng.choice(pos, take_pos, replace=False),
                             rng.choice(neg, take_neg, replace=False)])
    return np.sort(chosen)


def frames(data: dataset_lib.Dataset, rows: np.ndarray) -> dataset_lib.Dataset:
    """The data set cut down to some frames (a warm start's new frames and replay)."""
    return dataclasses.replace(data, images=data.images[rows], targets=data.targets[rows],
                               known=data.known[rows], times=data.times[rows], clip=data.clip[rows])


# ---------------------------------------------------------------- where training starts


@dataclass(frozen=True)
class Decision:
    """Where `train` starts: `state` (weights to load, None: a fresh model), the record of the
    checkpoint it replaces or starts from (to keep the split), and for a warm start after
    growth the per-frame `new` mask; `why` is the reason given in the start line."""

    warm: bool
    source: Path | None = None
    state: dict | None = None
    record: dict | None = None
    new: np.ndarray | None = None
    growth: Growth | None = None
    why: str | None = None


def _misfit(meta: ModelMeta, size: int, names: Sequence[str]) -> str | None:
    if int(meta.size) != int(size):
        return f"it was trained with --size {meta.size}, not {size}"
    if tuple(meta.heads) != tuple(names):
        return f"it scores {', '.join(meta.heads)}, the labels now are {', '.join(names)}"
    return None


def _record_of(path: Path) -> dict | None:
    """The record of the checkpoint at `path`, or None (absent, unreadable, old): for the split only."""
    try:
        return load_checkpoint(path)[2].get(RECORD_KEY) if path.is_file() else None
    except ModelError:
        return None


def open_from(cfg: TrainConfig, names: Sequence[str]) -> tuple[dict, dict] | None:
    """(weights, extra) of the `--from` checkpoint, checked before anything is decoded:
    ModelError in one line when it is unreadable or does not fit these labels and size."""
    if cfg.init_from is None:
        return None
    state, meta, extra = load_checkpoint(cfg.init_from)
    if misfit := _misfit(meta, cfg.size, names):
        raise ModelError(f"{cfg.init_from}: cannot start from it: {misfit}")
    return state, extra


def decide(cfg: TrainConfig, out: Path, files: Sequence[LabelFile], names: Sequence[str],
           data: dataset_lib.Dataset, settings: dict, forced: tuple[dict, dict] | None = None) -> Decision:
    """Warm start or scratch, for `train` (module docstring): `--from` (`forced`, from
    `open_from`) starts from that checkpoint; `--scratch`, `--resume` and `--weights` start
    fresh; otherwise a start from `out` when the labels only grew since it was trained,
    else scratch with the reason."""
    if forced is not None:
        source = Path(cfg.init_from or "")
        state, extra = forced
        record = extra.get(RECORD_KEY)
        grown = compare(record, files, names, settings)
        if isinstance(grown, Growth) and not grown.unchanged:
            new, flip = frame_masks(data, files, record or {}, cfg.edge_guard, cfg.negatives)
            if flip is None:
                return Decision(True, source, state, record, new, grown)
            grown = flip
        why = "the labels have not changed since it was trained" if isinstance(grown, Growth) else grown
        return Decision(True, source, state, record, why=why)
    record = _record_of(out)
    if cfg.resume:
        return Decision(False, record=record)
    if cfg.start == "scratch":
        return Decision(False, record=record, why="--scratch")
    if cfg.weights is not None:
        return Decision(False, record=record, why=f"--weights {cfg.weights}" if out.is_file() else None)
    if not out.is_file():
        return Decision(False)  # a first training: nothing to say
    try:
        state, meta, extra = load_checkpoint(out)
    except ModelError as exc:
        return Decision(False, why=str(exc).removeprefix(f"{out}: "))
    record = extra.get(RECORD_KEY)
    if misfit := _misfit(meta, cfg.size, names):
        return Decision(False, record=record, why=misfit)
    grown = compare(record, files, names, settings)
    if isinstance(grown, str):
        return Decision(False, record=record, why=grown)
    if grown.unchanged:
        return Decision(False, record=record,
                        why="the labels have not changed since it was trained (a full retrain)")
    new, flip = frame_masks(data, files, record or {}, cfg.edge_guard, cfg.negatives)
    if flip is not None:
        return Decision(False, record=record, why=flip)
    return Decision(True, out, state, record, new, grown)


def _what(growth: Growth) -> str:
    parts = [f"{n} new {kind}{'s' if n != 1 else ''}"
             for n, kind in ((growth.clips, "clip"), (growth.spans, "span")) if n]
    return " and ".join(parts)


def training_rows(decision: Decision, data: dataset_lib.Dataset, train_ids: Sequence[int],
                  cfg: TrainConfig, out: Path) -> tuple[np.ndarray | None, str]:
    """(the frames to train on, None for every training frame; the start line `train` shows)."""
    in_train = np.isin(data.clip, np.asarray(train_ids, dtype=data.clip.dtype))
    if not decision.warm:
        if decision.why == "--scratch":
            return None, "training from scratch (--scratch)"
        if decision.why and decision.why.startswith("--weights"):
            return None, f"training from scratch, not from {out}: {decision.why} asks for a fresh start"
        return None, f"training from scratch, not from {out}: {decision.why}" if decision.why else ""
    if decision.new is None:
        rows = np.flatnonzero(in_train)
        return rows, (f"start from {decision.source} (--from), training on all {len(rows)} frames: "
                      f"{decision.why}")
    assert decision.growth is not None
    new = np.flatnonzero(decision.new & in_train)
    old = np.flatnonzero(~decision.new & in_train)
    count = max(cfg.replay_min, round(cfg.replay * len(new)))
    again = replay(data, old, min(count, len(old)), cfg.seed)
    seconds = int(decision.new.sum()) / cfg.fps
    line = (f"warm start from {decision.source}: {_what(decision.growth)} (+{seconds:.0f} s), "
            f"replaying {len(again)} of {len(old)} old frames; --scratch to start over")
    return np.sort(np.concatenate([new, again])), line
