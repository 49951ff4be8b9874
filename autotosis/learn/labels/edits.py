"""High-level label edits for `autotosis label`: add or set one label's segments, survey a folder.

Apart because these probe the clip and merge with what the file already holds, built on
reading and writing, which stay free of such policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autotosis import media
from autotosis.core.errors import LabelError, MediaError
from autotosis.core.timeline import Segment
from autotosis.learn.labels.reading import (
    DEFAULT_LABEL,
    Box,
    LabelFile,
    check_label_name,
    check_segments,
    label_path_for,
    load_label,
    make_label_file,
)
from autotosis.learn.labels.writing import save_label


def label_clip(
    clip: Path | str,
    labels_dir: Path | str = "labels",
    segments: Iterable[Segment] = (),
    facecam: Box | None = None,
    label: str | None = None,
    replace: bool = False,
) -> LabelFile:
    """Create or update the clip's label file: add (or with `replace`, set) one label's segments.

    Other labels in the file are left as they are. `label` None means the file's only
    label (rage for a new file); a file with several needs it named. Everything is
    validated against the probed clip before anything is written, so a typo never
    reaches the file; an existing face-cam box is kept unless given.
    """
    clip_path = media.check_readable_file(clip)
    duration = media.probe(clip_path).duration
    out = label_path_for(clip_path, labels_dir)
    previous = load_label(out, check_clip=False) if out.exists() else None
    new = list(segments)
    if label is None:
        if previous is not None and len(previous.by_label) > 1 and (new or replace):
            raise LabelError(f"{out}: names several labels ({', '.join(previous.labels)}); "
                             "say which one these segments are with --label")
        label = previous.label if previous is not None else DEFAULT_LABEL
    try:
        check_label_name(label)
    except ValueError as exc:
        raise LabelError(f"{clip_path}: {exc}") from None
    by_label = dict(previous.by_label) if previous is not None else {}
    kept = () if replace else by_label.get(label, ())
    try:
        ordered = check_segments([*kept, *new], duration)
    except ValueError as exc:
        raise LabelError(f"{clip_path}: {label}: {exc}") from None
    by_label[label] = tuple(ordered)
    box = facecam if facecam is not None else (previous.facecam if previous else None)
    updated = make_label_file(clip_path, box, by_label, out)
    save_label(updated, out)
    return updated


@dataclass(frozen=True)
class LabelStatus:
    """A row of `autotosis label --list`."""

    path: Path
    label: LabelFile | None
    duration: float | None
    problem: str | None


def survey(labels_dir: Path | str = "labels") -> list[LabelStatus]:
    """Validate every label file without stopping at the first bad one."""
    folder = Path(labels_dir)
    if not folder.is_dir():
        raise LabelError(f"{folder}: no such labels folder")
    rows = []
    for path in sorted(folder.glob("*.toml")):
        try:
            parsed = load_label(path, check_clip=True)
            rows.append(LabelStatus(path, parsed, media.probe(parsed.clip).duration, None))
        except (LabelError, MediaError) as exc:
            rows.append(LabelStatus(path, None, None, str(exc)))
    return rows
