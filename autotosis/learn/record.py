"""What a checkpoint learned from, and whether the labels only grew since.

A checkpoint carries a record of its training data (`training_record`: plain values, so
`torch.load(weights_only=True)` reads it): per label file the clip's identity (path
relative to the project, bytes, mtime), face-cam box, segments and, for a partly reviewed
VOD, calm spans; the settings that change what a frame looks like or means (arch, fps,
size, negatives, edge guard) and the labels; and each split unit's side. `compare` holds
the labels now against it span by span: they *grew* when every old span is still there
(unchanged, or inside a longer one) and something was added (new files, new spans);
`frame_masks` then checks that no frame the model learned has another target now, and marks
the new frames.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autotosis.core.timecode import format_time
from autotosis.core.timeline import Segment
from autotosis.learn import dataset as dataset_lib
from autotosis.learn.labels import LabelFile, make_label_file

RECORD_VERSION = 1
RECORD_KEY = "trained_on"  # where the record sits in a checkpoint's `extra`


# ---------------------------------------------------------------- the record


def stem_of(label: LabelFile) -> str:
    """A label file's name in the record (unique within a labels folder)."""
    return label.path.stem if label.path is not None else label.clip.stem


def file_of_unit(unit: str) -> str:
    """The label file a split unit comes from: a clip's unit is its stem, a VOD's is "<stem>@<m:ss>"."""
    return unit.rsplit("@", 1)[0]


def _spans(spans: Sequence[Segment]) -> list[list[float]]:
    return [[round(float(s.start), 4), round(float(s.end), 4)] for s in spans]


def _clip_path(label: LabelFile) -> str:
    """The clip as the label file names it relative to the project folder where it can, so
    moving the whole project does not count as a new clip."""
    if label.path is None:
        return str(label.clip)
    root = label.path.resolve().parent.parent
    try:
        return str(label.clip.resolve().relative_to(root))
    except ValueError:
        return str(label.clip.resolve())


def file_record(label: LabelFile) -> dict:
    """What one label file taught: its clip (path, bytes, mtime), box, segments and calm spans."""
    try:
        stat = os.stat(label.clip)
        size, mtime = int(stat.st_size), int(stat.st_mtime_ns)
    except OSError:
        size, mtime = -1, -1
    return {"clip": _clip_path(label), "bytes": size, "mtime_ns": mtime,
            "facecam": None if label.facecam is None else [float(v) for v in label.facecam],
            "segments": {name: _spans(segs) for name, segs in label.by_label.items()},
            "calm": None if label.calm is None else {n: _spans(s) for n, s in label.calm.items()}}


def training_record(files: Sequence[LabelFile], names: Sequence[str], data: dataset_lib.Dataset,
                    val_ids: Sequence[int], settings: dict) -> dict:
    """The record a checkpoint keeps of its training data (module docstring).

    `units` maps each split unit to [file stem, first frame time, last frame time, held out]:
    enough to keep a unit on its side next time even when a VOD's spans regroup.
    """
    held_out = set(val_ids)
    units = {}
    for i, name in enumerate(data.names):
        times = data.times[data.clip == i]
        first, last = (float(times.min()), float(times.max())) if len(times) else (0.0, 0.0)
        units[name] = [file_of_unit(name), round(first, 4), round(last, 4), i in held_out]
    return {"version": RECORD_VERSION, **settings, "labels": list(names),
            "files": {stem_of(f): file_record(f) for f in files}, "units": units}


def record_settings(arch: str, fps: float, size: int, negatives: str, edge_guard: float) -> dict:
    """The settings that change what a frame looks like or means: all must match for a warm start."""
    return {"arch": arch, "fps": float(fps), "size": int(size), "negatives": negatives,
            "edge_guard": float(edge_guard)}


def old_label_file(entry: dict, now: LabelFile) -> LabelFile:
    """The label file as the record saw it (for the targets the model learned)."""
    def segs(spans: list) -> tuple[Segment, ...]:
        return tuple(Segment(float(a), float(b)) for a, b in spans)

    calm = None if entry["calm"] is None else {n: segs(s) for n, s in entry["calm"].items()}
    return make_label_file(now.clip, now.facecam, {n: segs(s) for n, s in entry["segments"].items()},
                           now.path, calm)


# ---------------------------------------------------------------- growth or change


@dataclass(frozen=True)
class Growth:
    """What was added since the record: whole new label files and new spans in old ones."""

    new_files: tuple[str, ...] = ()
    clips: int = 0  # new label files of whole clips
    spans: int = 0  # new spans: segments and calm spans in old files and in new VOD files

    @property
    def unchanged(self) -> bool:
        return not self.new_files and not self.spans


def _span_text(label: str, span: list) -> str:
    return f"{label} {format_time(span[0], 1)}-{format_time(span[1], 1)}"


def _file_change(stem: str, old: dict, now: LabelFile) -> tuple[str | None, int]:
    """(why this file's labels changed rather than grew, or None; how many spans it gained)."""
    new = file_record(now)
    where = f"{stem}.toml"
    if (old["clip"], old["bytes"], old["mtime_ns"]) != (new["clip"], new["bytes"], new["mtime_ns"]):
        return f"{where}: its clip {new['clip']} is not the file it was trained on", 0
    if old["facecam"] != new["facecam"]:
        return f"{where}: the face-cam box changed", 0
    if (old["calm"] is None) != (new["calm"] is None):
        return (f"{where}: was a whole clip, now partly reviewed" if old["calm"] is None
                else f"{where}: was partly reviewed, now a whole clip"), 0
    added = 0
    for kind in ("segments", "calm"):
        before, after = old[kind] or {}, new[kind] or {}
        for label, spans in before.items():
            # A span inside a new one grew: an answer next to an old one is joined to it.
            gone = [s for s in spans if not any(a <= s[0] and s[1] <= b for a, b in after.get(label, []))]
            if gone:
                what = "segment" if kind == "segments" else "calm span"
                return f"{where}: {what} {_span_text(label, gone[0])} was moved or removed", 0
        if label_gone := [n for n in before if n not in after]:
            return f"{where}: label '{label_gone[0]}' was removed", 0
        added += sum(1 for n, spans in after.items() for s in spans
                     if list(s) not in [list(t) for t in before.get(n, [])])
    return None, added


def _plain(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def compare(record: dict | None, files: Sequence[LabelFile], names: Sequence[str],
            settings: dict) -> Growth | str:
    """Growth when the labels only grew since `record`; else the one-line reason they did not
    (checked span by span here; `flipped` checks the frames themselves)."""
    if record is None:
        return "it has no record of the data it learned from (written by an older autotosis)"
    if not isinstance(record, dict) or record.get("version", 0) > RECORD_VERSION:
        return "its record of the data it learned from is from a newer autotosis"
    for key, value in settings.items():
        if record.get(key) != value:
            option = {"edge_guard": "--edge-guard", "negatives": "--negatives"}.get(key, f"--{key}")
            return (f"it was trained with {option} {_plain(record.get(key))}, not {_plain(value)}"
                    if key != "arch" else f"it is a {record.get(key)}, not a {value}")
    if list(record.get("labels", [])) != list(names):
        return (f"it learned {', '.join(record.get('labels', [])) or 'nothing'}, the labels now are "
                f"{', '.join(names)}")
    now = {stem_of(f): f for f in files}
    old_files: dict = record.get("files", {})
    gone = [stem for stem in old_files if stem not in now]
    if gone:
        shown = ", ".join(f"{s}.toml" for s in gone[:3]) + (", ..." if len(gone) > 3 else "")
        return f"labels shrank: {len(gone)} label file{'s' if len(gone) > 1 else ''} gone ({shown})"
    added = 0
    for stem, old in old_files.items():
        why, gained = _file_change(stem, old, now[stem])
        if why:
            return why
        added += gained
    new_files = tuple(stem for stem in now if stem not in old_files)
    vods = [now[s] for s in new_files if now[s].partial]
    spans = added + sum(len(f.reviewed_spans(n)) for f in vods for n in f.labels)
    return Growth(new_files, len(new_files) - len(vods), spans)


def frame_masks(data: dataset_lib.Dataset, files: Sequence[LabelFile], record: dict,
                edge_guard: float, negatives: str) -> tuple[np.ndarray, str | None]:
    """(new: frames known now for a label they were not known for before, or from a new file;
    why: the first file where a frame the model learned has another target now, else None).

    Span checks miss one change: a segment added to a clip labelled whole turns frames the
    model learned as negatives into positives. Comparing targets frame by frame catches it.
    """
    by_stem = {stem_of(f): f for f in files}
    new = np.ones(len(data.times), dtype=bool)
    old_files = record.get("files", {})
    names = data.label_names
    for i, unit in enumerate(data.names):
        stem = file_of_unit(unit)
        if stem not in old_files:
            continue
        rows = np.flatnonzero(data.clip == i)
        old = old_label_file(old_files[stem], by_stem[stem])
        targets, known = dataset_lib.label_targets(data.times[rows], old, names, edge_guard, negatives)
        both = known & data.known[rows]
        flips = np.argwhere(both & (targets != data.targets[rows]))
        if len(flips):
            row, column = flips[0]
            was = "positive" if targets[row, column] else "negative"
            now = "negative" if targets[row, column] else "positive"
            return new, (f"{stem}.toml: {names[column]} frames it learned as {was} are {now} now "
                         f"(at {format_time(float(data.times[rows][row]), 1)})")
        new[rows] = (data.known[rows] & ~known).any(axis=1)
    return new, None
