"""Importing the seed data.csv of eqy/autotosis into label files.

Apart because it is a one-off bridge from an older, foreign format (parsed with regular
expressions, never `eval`), not part of how label files are read or written.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

from autotosis.core.errors import LabelError
from autotosis.core.timeline import Segment
from autotosis.learn.labels.reading import (
    DEFAULT_LABEL,
    Box,
    LabelFile,
    check_label_name,
    check_segments,
    label_path_for,
    load_label,
    validate_box,
)
from autotosis.learn.labels.writing import save_label

_NUMBER = r"[-+]?\d+(?:\.\d*)?"


def parse_seed_row(line: str) -> tuple[str, Box, list[Segment]] | None:
    """One eqy/autotosis data.csv row: `path "[x0, y0, x1, y1]" "(start, end)" ...`.

    Parsed with regular expressions, never `eval`. Blank and # lines give None.
    """
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    tokens = shlex.split(line)
    if len(tokens) < 2:
        raise ValueError('expected: path "[x0, y0, x1, y1]" "(start, end)" ...')
    box_numbers = re.fullmatch(
        rf"\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]", tokens[1].strip()
    )
    if not box_numbers:
        raise ValueError(f"face-cam box {tokens[1]!r} is not [x0, y0, x1, y1]")
    box = validate_box([float(v) for v in box_numbers.groups()])
    segments = []
    for token in tokens[2:]:
        pair = re.fullmatch(rf"\(\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\)", token.strip())
        if not pair:
            raise ValueError(f"segment {token!r} is not (start, end)")
        start, end = float(pair.group(1)), float(pair.group(2))
        if end <= start or start < 0:
            raise ValueError(f"segment {token!r} ends before it starts")
        segments.append(Segment(start, end))
    return tokens[0], box, segments


def import_seed_csv(
    csv_path: Path | str,
    labels_dir: Path | str = "labels",
    label: str = DEFAULT_LABEL,
    overwrite: bool = False,
) -> list[tuple[Path, str]]:
    """Convert seed data.csv rows into `label` segments; returns (label file, status) per row.

    Clip paths are taken relative to the CSV's folder. A clip's existing file gets the
    label added beside its other labels; segments it already has for `label` are kept
    unless `overwrite`, so re-running an import never destroys hand edits.
    """
    src = Path(csv_path)
    try:
        lines = src.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(f"{src}: cannot read ({exc})") from None
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            parsed = parse_seed_row(line)
        except ValueError as exc:
            raise LabelError(f"{src}:{number}: {exc}") from None
        if parsed is not None:
            rows.append(parsed)
    check_label_name(label)
    results = []
    for clip_text, box, segments in rows:
        clip = Path(clip_text) if Path(clip_text).is_absolute() else src.resolve().parent / clip_text
        out = label_path_for(clip, labels_dir)
        try:
            ordered = tuple(check_segments(segments, None))
        except ValueError as exc:
            raise LabelError(f"{src}: {clip_text}: {exc}") from None
        previous = load_label(out, check_clip=False) if out.exists() else None
        if previous is not None and label in previous.by_label and not overwrite:
            results.append((out, f"kept existing {label} segments"))
            continue
        if previous is None:
            save_label(LabelFile(clip=clip, facecam=box, label=label, segments=ordered), out)
            results.append((out, "written" if clip.exists() else "written (clip not found yet)"))
            continue
        merged = previous.with_labels({**previous.by_label, label: ordered})
        if merged.facecam is None:
            merged = dataclasses.replace(merged, facecam=box)
        save_label(merged, out)
        results.append((out, f"{'replaced' if label in previous.by_label else 'added'} {label} segments"))
    return results
