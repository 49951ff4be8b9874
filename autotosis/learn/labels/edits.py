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
from autotosis.core.timeline import Segment, union_spans
from autotosis.learn.labels.reading import (
    DEFAULT_LABEL,
    Box,
    LabelFile,
    check_calm,
    check_label_name,
    check_segments,
    label_path_for,
    load_label,
    make_label_file,
)
from autotosis.learn.labels.writing import save_label

# A clip longer than this is a VOD: nobody looks at all of it, so a new label file for it
# is partly reviewed (`calm = []`): only the spans the person marks are training data.
LONG_CLIP = 600.0


def label_clip(
    clip: Path | str,
    labels_dir: Path | str = "labels",
    segments: Iterable[Segment] = (),
    facecam: Box | None = None,
    label: str | None = None,
    replace: bool = False,
    calm: Iterable[Segment] = (),
) -> LabelFile:
    """Create or update the clip's label file: add (or with `replace`, set) one label's
    segments and calm spans.

    Other labels in the file are left as they are. `label` None means the file's only
    label (rage for a new file); a file with several needs it named. Calm spans make the
    file partly reviewed, and so does a new file for a clip over LONG_CLIP; calm spans that
    overlap are joined (seen twice without the reaction is still seen without it). Everything is
    validated against the probed clip before anything is written, so a typo never
    reaches the file; an existing face-cam box is kept unless given.
    """
    clip_path = media.check_readable_file(clip)
    duration = media.probe(clip_path).duration
    out = label_path_for(clip_path, labels_dir)
    previous = load_label(out, check_clip=False) if out.exists() else None
    new, new_calm = list(segments), list(calm)
    if label is None:
        if previous is not None and len(previous.by_label) > 1 and (new or new_calm or replace):
            raise LabelError(f"{out}: names several labels ({', '.join(previous.labels)}); "
                             "say which one these spans are with --label")
        label = previous.label if previous is not None else DEFAULT_LABEL
    try:
        check_label_name(label)
    except ValueError as exc:
        raise LabelError(f"{clip_path}: {exc}") from None
    by_label = dict(previous.by_label) if previous is not None else {}
    calm_by_label = _calm_of(previous, duration, bool(new_calm))
    kept = () if replace else by_label.get(label, ())
    kept_calm = () if replace or calm_by_label is None else calm_by_label.get(label, ())
    try:
        ordered = check_segments([*kept, *new], duration)
        if calm_by_label is not None:
            check_calm(label, ordered, union_spans(new_calm), duration)  # an error names the span as typed
            joined = union_spans([*kept_calm, *new_calm])
            calm_by_label[label] = tuple(check_calm(label, ordered, joined, duration))
    except ValueError as exc:
        raise LabelError(f"{clip_path}: {label}: {exc}") from None
    by_label[label] = tuple(ordered)
    box = facecam if facecam is not None else (previous.facecam if previous else None)
    updated = make_label_file(clip_path, box, by_label, out, calm_by_label)
    save_label(updated, out)
    return updated



def _calm_of(previous: LabelFile | None, duration: float,
             adding: bool) -> dict[str, tuple[Segment, ...]] | None:
    """The calm spans to start from: the file's, or none for a new long clip, or None (whole clip)."""
    if previous is not None and previous.calm is not None:
        return dict(previous.calm)
    if adding or (previous is None and duration > LONG_CLIP):
        return {}
    return None


def merge_review(
    clip: Path | str,
    labels_dir: Path | str,
    label: str,
    positives: Iterable[Segment] = (),
    calm: Iterable[Segment] = (),
    facecam: Box | None = None,
) -> LabelFile:
    """Add answered spans of `label` to the clip's label file, the newest answer winning.

    Any earlier segment or calm span of that label that overlaps a new span is dropped
    first, so answering the same moment again (or saving a review twice) updates the file
    instead of piling up duplicates or contradictions. The file becomes partly reviewed.
    """
    clip_path = media.check_readable_file(clip)
    duration = media.probe(clip_path).duration
    out = label_path_for(clip_path, labels_dir)
    previous = load_label(out, check_clip=False) if out.exists() else None
    try:
        check_label_name(label)
    except ValueError as exc:
        raise LabelError(f"{clip_path}: {exc}") from None
    new, new_calm = sorted(positives), sorted(calm)
    answered = [*new, *new_calm]

    def untouched(spans: Iterable[Segment]) -> list[Segment]:
        return [s for s in spans if not any(s.start < a.end and a.start < s.end for a in answered)]

    by_label = dict(previous.by_label) if previous is not None else {}
    calm_by_label = dict(previous.calm or {}) if previous is not None else {}
    try:
        segments = check_segments([*untouched(by_label.get(label, ())), *new], duration)
        calm_by_label[label] = tuple(check_calm(label, segments, [*untouched(calm_by_label.get(label, ())),
                                                                  *new_calm], duration))
    except ValueError as exc:
        raise LabelError(f"{clip_path}: {label}: {exc}") from None
    by_label[label] = tuple(segments)
    box = facecam if facecam is not None else (previous.facecam if previous else None)
    updated = make_label_file(clip_path, box, by_label, out, calm_by_label)
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
