"""Labeled clips and reviewed spans of VODs -> face-cam crops in memory, one unit each for the split.

A short clip is decoded whole; a partly reviewed VOD (`LabelFile.partial`) only in its
reviewed spans, with input seeking, never the whole file (`crops`: extraction and its
cache, keyed per clip or per span so a new answer decodes only its own span). Labels are
applied afterwards from the label file (`targets`: what each frame teaches each label),
so editing segments never re-decodes anything, and one extraction serves every label.

The train/validation split is by unit: a short clip is one unit named by its file's stem;
the reviewed spans of a VOD form one unit per group of nearby spans, named
"<stem>@<m:ss>" after the group's start, so one VOD with twenty answers still has a
validation side. Frame times are always the file's own seconds.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.errors import DataError
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Segment
from autotosis.learn import crops
from autotosis.learn import labels as labels_lib
from autotosis.learn.crops import CACHE_VERSION, cache_key, extract_clip, extract_span
from autotosis.learn.labels import LabelFile
from autotosis.learn.targets import (
    all_reviewed,
    apply_labels,
    covered_seconds,
    decode_spans,
    known_seconds,
    label_targets,
    split_units,
)
from autotosis.learn.trainconfig import NEGATIVES

__all__ = ["CACHE_VERSION", "ClipCrops", "Dataset", "apply_labels", "build_dataset", "cache_key", "describe",
           "extract_clip", "extract_span", "label_targets", "select_labels", "split_by_clip"]

Progress = Callable[[int, int, str], None]
Warn = Callable[[str], None]


@dataclass(frozen=True)
class ClipCrops:
    """One clip's sampled face-cam crops and, after `apply_labels`, their labels."""

    name: str
    images: np.ndarray  # (N, size, size, 3) uint8
    times: np.ndarray  # (N,) seconds from the clip's start
    labels: np.ndarray  # (N,) uint8, 1 inside a segment
    seconds: float  # clip duration, for extraction-speed figures


@dataclass(frozen=True)
class Dataset:
    """All crops of all units, concatenated; `clip` indexes `names` (units: a short clip, or a
    group of a VOD's reviewed spans) for the unit-level split.

    `targets` and `known` are (N, len(label_names)): 1 where a frame shows the label,
    and whether that target is known at all (see the module docstring).
    """

    images: np.ndarray
    targets: np.ndarray  # (N, L) uint8
    known: np.ndarray  # (N, L) bool
    times: np.ndarray
    clip: np.ndarray
    names: tuple[str, ...]
    facecam: tuple[float, float, float, float] | None
    label_names: tuple[str, ...]
    decode_seconds: float  # wall time spent decoding (0 when everything came from the cache)
    decoded_clip_seconds: float  # seconds of video decoded in that time
    reviewed_seconds: float = 0.0  # seconds of video looked at: whole clips, VODs' reviewed spans
    label_seconds: dict[str, float] = field(default_factory=dict)  # per label: seconds where it is known

    def subset(self, clip_ids: Sequence[int]) -> Dataset:
        """Frames of the given clips only, in the same order."""
        mask = np.isin(self.clip, np.asarray(clip_ids, dtype=self.clip.dtype))
        return dataclasses.replace(self, images=self.images[mask], targets=self.targets[mask],
                                   known=self.known[mask], times=self.times[mask], clip=self.clip[mask])

    @property
    def positives(self) -> int:
        """Frames positive for some label."""
        return int((self.targets & self.known).any(axis=1).sum())

    def label_positives(self) -> dict[str, int]:
        return {n: int((self.targets[:, i] & self.known[:, i]).sum()) for i, n in enumerate(self.label_names)}


def _default_box(boxes: list[media.Box]) -> tuple[float, float, float, float] | None:
    """The median box is what compile uses on a VOD when no box is given."""
    if not boxes:
        return None
    return tuple(round(float(v), 4) for v in np.median(np.asarray(boxes), axis=0))  # type: ignore[return-value]


def select_labels(labels_dir: Path | str, label: str | None = None,
                  negatives: str = "others") -> tuple[list[LabelFile], tuple[str, ...]]:
    """(label files to train on, labels to learn): `label`, or every label with a positive
    segment somewhere; DataError when there is nothing usable."""
    if negatives not in NEGATIVES:
        raise DataError(f"unknown --negatives {negatives!r} (use {', '.join(NEGATIVES)})")
    files = labels_lib.load_all(labels_dir)
    if not files:
        raise DataError(f"no label files in {labels_dir}/: label some clips first (autotosis label CLIP ...)")
    found = sorted({n for f in files for n in f.labels})
    if label is not None:
        if not any(label in f.by_label for f in files):
            raise DataError(f"no label files with label '{label}' in {labels_dir}/ "
                            f"(found: {', '.join(found)})")
        if not any(f.by_label.get(label) for f in files):
            raise DataError(f"no positive segments in any '{label}' label file in {labels_dir}/: "
                            "mark at least one reaction with --segment")
        names: tuple[str, ...] = (label,)
    else:
        names = tuple(n for n in found if any(f.by_label.get(n) for f in files))
        if not names:
            raise DataError(f"no positive segments in any label file in {labels_dir}/: "
                            "mark at least one reaction with --segment")

    def useful(f: LabelFile) -> bool:
        return (any(n in f.by_label for n in names) or negatives == "all"
                or (negatives == "others" and any(f.by_label.values())))

    return [f for f in files if useful(f)], names


def unit_name(stem: str, start: float) -> str:
    """"<stem>@<m:ss>": a group of a VOD's reviewed spans, by the second it starts in."""
    return f"{stem}@{format_time(math.floor(start), 0)}"


@dataclass(frozen=True)
class _Unit:
    label: LabelFile
    name: str
    spans: list[Segment] | None  # None: the whole clip
    info: media.VideoInfo


def _plan(files: Sequence[LabelFile], infos: Sequence[media.VideoInfo], names: Sequence[str],
          negatives: str) -> list[_Unit]:
    units = []
    for label, info in zip(files, infos, strict=True):
        stem = label.path.stem if label.path is not None else label.clip.stem
        if not label.partial:
            units.append(_Unit(label, stem, None, info))
            continue
        groups = split_units(decode_spans(label, names, negatives))
        units += [_Unit(label, unit_name(stem, group[0].start), group, info) for group in groups]
    return units


def build_dataset(
    files: Sequence[LabelFile],
    fps: float = 4.0,
    size: int = 128,
    edge_guard: float = 0.25,
    cache: Path | None = None,
    progress: Progress | None = None,
    label_names: Sequence[str] | None = None,
    negatives: str = "others",
) -> Dataset:
    """Decode (or load from cache) every clip's crops and every reviewed span of a VOD once,
    and label each frame for every label in `label_names` (default: the first file's first
    label). `progress(done, total, name)` ticks once per clip or span."""
    if not files:
        raise DataError("no label files to build a data set from")
    names_l = tuple(label_names) if label_names else (files[0].label,)
    infos = [media.probe(f.clip) for f in files]
    plan = _plan(files, infos, names_l, negatives)
    total = sum(1 if u.spans is None else len(u.spans) for u in plan)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    names: list[str] = []
    decode_s = decoded_clip_s = 0.0
    done = 0
    for unit in plan:
        label = unit.label
        if unit.spans is None:
            if progress:
                progress(done, total, unit.name)
            started = time.perf_counter()
            images, times, seconds, decoded = extract_clip(label.clip, label.facecam, fps, size, cache,
                                                           unit.info)
            if decoded:
                decode_s += time.perf_counter() - started
                decoded_clip_s += seconds
            done += 1
        else:
            pieces = []
            for span in unit.spans:
                if progress:
                    progress(done, total, unit_name(unit.name.rsplit("@", 1)[0], span.start))
                started = time.perf_counter()
                piece = extract_span(label.clip, span, label.facecam, fps, size, cache, unit.info)
                if piece[2]:
                    decode_s += time.perf_counter() - started
                    decoded_clip_s += crops.on_grid(span, fps).duration
                pieces.append(piece)
                done += 1
            images = np.concatenate([p[0] for p in pieces])
            times = np.concatenate([p[1] for p in pieces])
        targets, known = label_targets(times, label, names_l, edge_guard, negatives)
        keep = known.any(axis=1)
        if unit.spans is not None and not keep.any():
            continue  # spans too short for one sample, or all inside the edge guard
        names.append(unit.name)
        parts.append((images[keep], times[keep], targets[keep], known[keep]))
    if progress:
        progress(total, total, "")
    if not parts:
        raise DataError("no frames to train on: the label files' reviewed spans are shorter than one "
                        f"sample at {fps:g} fps")
    clip_ids = np.concatenate([np.full(len(p[0]), i, dtype=np.int32) for i, p in enumerate(parts)])
    pairs = list(zip(files, infos, strict=True))
    return Dataset(
        images=np.concatenate([p[0] for p in parts]),
        times=np.concatenate([p[1] for p in parts]),
        targets=np.concatenate([p[2] for p in parts]),
        known=np.concatenate([p[3] for p in parts]),
        clip=clip_ids,
        names=tuple(names),
        facecam=_default_box([f.facecam for f in files if f.facecam is not None]),
        label_names=names_l,
        decode_seconds=decode_s,
        decoded_clip_seconds=decoded_clip_s,
        reviewed_seconds=sum(covered_seconds(all_reviewed(f)) if f.partial else i.duration
                             for f, i in pairs),
        label_seconds={n: sum(known_seconds(f, n, i.duration, negatives) for f, i in pairs) for n in names_l},
    )


def split_by_clip(
    data: Dataset, val_fraction: float = 0.2, seed: int = 0, warn: Warn | None = None,
    fixed: dict[str, bool] | None = None,
) -> tuple[list[int], list[int]]:
    """(train clip ids, val clip ids): whole clips on one side, so neighbouring near-identical
    frames never leak into validation. Clips with and without positives are split separately
    so both sides get some of each when possible; the result depends only on names and seed.

    `fixed` (name -> held out) pins clips an earlier run placed; only the others are split,
    so a retrain after new answers is validated on the same old clips plus some new ones."""
    if not 0.0 <= val_fraction < 1.0:
        raise DataError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    n = len(data.names)
    fixed = fixed or {}
    positive = (data.targets & data.known).any(axis=1)
    has_pos = [bool(positive[data.clip == i].any()) for i in range(n)]
    rng = np.random.default_rng(seed)
    val: list[int] = [i for i in range(n) if fixed.get(data.names[i])]
    for group in (True, False):
        ids = sorted((i for i in range(n) if has_pos[i] == group and data.names[i] not in fixed),
                     key=lambda i: data.names[i])
        ids = [ids[j] for j in rng.permutation(len(ids))]
        take = round(val_fraction * len(ids))
        if group and val_fraction > 0 and len(ids) >= 2:
            take = min(max(take, 1), len(ids) - 1)
        val += ids[:take]
    free = sorted((i for i in range(n) if data.names[i] not in fixed), key=lambda i: data.names[i])
    if val_fraction > 0 and not val and n >= 2 and free:
        val = [free[int(rng.integers(len(free)))]]
    train = sorted(set(range(n)) - set(val))
    val = sorted(val)
    if warn:
        if not any(has_pos[i] for i in train):
            warn("no training clip has a positive segment: the model cannot learn the reaction")
        if val and not any(has_pos[i] for i in val):
            warn("no validation clip has a positive segment: AP and the threshold will be meaningless")
        if not val:
            warn("no validation clips (too few clips or --val-fraction 0): metrics come from training data")
    return train, val


def describe(data: Dataset) -> dict:
    """Plain numbers for metrics.json."""
    return {"frames": len(data.times), "positives": data.positives, "clips": len(data.names),
            "labels": {n: {"positives": p, "known": int(data.known[:, i].sum()),
                           "reviewed_seconds": round(data.label_seconds.get(n, 0.0), 3)}
                       for i, (n, p) in enumerate(data.label_positives().items())},
            "reviewed_seconds": round(data.reviewed_seconds, 3),
            "decode_seconds": round(data.decode_seconds, 3),
            "decoded_clip_seconds": round(data.decoded_clip_seconds, 3)}
