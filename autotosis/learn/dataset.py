"""Labeled clips -> face-cam crops held in memory, with a per-clip decode cache.

Decoding is the expensive part, so each clip's crops are cached as one uint8 array
keyed by what changes the pixels (clip content, box, fps, size); labels are applied
afterwards from the label file, so editing segments never re-decodes anything, and
one extraction serves every label.

Each frame gets a target per label and a `known` flag per label: a label the clip's
file names is known on every frame (positive inside its segments), while for a label
the file does not name, `negatives` decides: "others" (default) makes the frames inside
the file's other labels' segments negatives and leaves the rest unknown, "all" makes
the whole clip negative, "none" leaves it unknown. Unknown targets add nothing to the loss.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.errors import DataError
from autotosis.core.fsutil import atomic_path
from autotosis.core.paths import cache_dir
from autotosis.learn import labels as labels_lib
from autotosis.learn.labels import LabelFile
from autotosis.learn.trainconfig import NEGATIVES

CACHE_VERSION = 1
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
    """All crops of all clips, concatenated; `clip` indexes `names` for the clip-level split.

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


def cache_key(info: media.VideoInfo, box: media.Box | None, fps: float, size: int) -> str:
    """Changes whenever the decoded pixels would: clip file (path, size, mtime), box, fps, size."""
    box_text = "full" if box is None else ",".join(f"{v:.6f}" for v in box)
    raw = f"v{CACHE_VERSION}|{info.identity}|{box_text}|{fps:g}|{size}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _cache_file(key: str, root: Path | None) -> Path:
    return (root if root is not None else cache_dir()) / "crops" / f"{key}.npz"


def extract_clip(
    clip: Path, box: media.Box | None, fps: float, size: int, cache: Path | None = None,
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """(images, times, duration, decoded) for one clip: one ffmpeg pass, or the cache.

    `decoded` says whether ffmpeg ran, so callers can report cache hits and speed.
    """
    info = media.probe(clip)
    path = _cache_file(cache_key(info, box, fps, size), cache)
    if path.exists():
        try:
            with np.load(path) as data:
                return data["images"], data["times"], info.duration, False
        except (OSError, ValueError, KeyError, EOFError):
            path.unlink(missing_ok=True)  # a damaged entry is just re-decoded
    batches = list(media.frames(clip, fps=fps, box=box, size=size, info=info, batch_size=256))
    if not batches:
        raise DataError(f"{clip}: ffmpeg produced no frames")
    images = np.concatenate([b.images for b in batches])
    times = np.concatenate([b.times for b in batches])
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, images=images, times=times)
    return images, times, info.duration, True


def apply_labels(times: np.ndarray, label: LabelFile, edge_guard: float,
                 name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(labels, keep): 1 inside a segment [start, end) of label `name` (default: the file's
    first); `keep` drops frames within `edge_guard` seconds of a segment edge, where a
    hand-placed boundary is a guess."""
    labels = np.zeros(len(times), dtype=np.uint8)
    keep = np.ones(len(times), dtype=bool)
    for seg in label.by_label.get(name or label.label, ()):
        labels[(times >= seg.start) & (times < seg.end)] = 1
        if edge_guard > 0:
            for edge in (seg.start, seg.end):
                keep &= np.abs(times - edge) >= edge_guard
    return labels, keep


def label_targets(times: np.ndarray, label: LabelFile, names: Sequence[str], edge_guard: float,
                  negatives: str = "others") -> tuple[np.ndarray, np.ndarray]:
    """(targets, known), each (N, len(names)), for one clip's frames (module docstring)."""
    targets = np.zeros((len(times), len(names)), dtype=np.uint8)
    known = np.zeros((len(times), len(names)), dtype=bool)
    in_any = np.zeros(len(times), dtype=bool)
    for spans in label.by_label.values():
        for seg in spans:
            in_any |= (times >= seg.start) & (times < seg.end)
    for i, name in enumerate(names):
        if name in label.by_label:
            targets[:, i], known[:, i] = apply_labels(times, label, edge_guard, name)
        elif negatives == "all":
            known[:, i] = True
        elif negatives == "others":
            known[:, i] = in_any
    return targets, known


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
    """Decode (or load from cache) every clip's crops once and label each frame for every
    label in `label_names` (default: the first file's first label)."""
    if not files:
        raise DataError("no label files to build a data set from")
    names_l = tuple(label_names) if label_names else (files[0].label,)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    names: list[str] = []
    decode_s = decoded_clip_s = 0.0
    for index, label in enumerate(files):
        name = label.path.stem if label.path is not None else label.clip.stem
        if progress:
            progress(index, len(files), name)
        started = time.perf_counter()
        images, times, duration, decoded = extract_clip(label.clip, label.facecam, fps, size, cache)
        if decoded:
            decode_s += time.perf_counter() - started
            decoded_clip_s += duration
        targets, known = label_targets(times, label, names_l, edge_guard, negatives)
        keep = known.any(axis=1)
        names.append(name)
        parts.append((images[keep], times[keep], targets[keep], known[keep]))
    if progress:
        progress(len(files), len(files), "")
    clip_ids = np.concatenate([np.full(len(p[0]), i, dtype=np.int32) for i, p in enumerate(parts)])
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
            "labels": {n: {"positives": p, "known": int(data.known[:, i].sum())}
                       for i, (n, p) in enumerate(data.label_positives().items())},
            "decode_seconds": round(data.decode_seconds, 3),
            "decoded_clip_seconds": round(data.decoded_clip_seconds, 3)}
