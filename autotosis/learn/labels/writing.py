"""Writing label files: TOML rendering with tomlkit and the guarded atomic save.

Apart from reading because only writers need tomlkit's layout-keeping document model
and the on-disk change check; readers get plain values from `reading`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import tomlkit
from tomlkit.exceptions import ParseError

from autotosis.core.errors import LabelError
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Segment
from autotosis.learn.labels.reading import LabelFile, check_calm, check_segments, digest, project_root


def _clip_text(clip: Path, label_path: Path) -> str:
    root = project_root(label_path)
    resolved = clip.resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return str(resolved)


def _inline_array(values: list) -> tomlkit.items.Array:
    array = tomlkit.array()
    array.extend(values)
    return array


def render_label(label: LabelFile, path: Path, existing: str | None = None) -> str:
    """TOML text for `label`, editing `existing` text in place so comments survive."""
    doc = tomlkit.parse(existing) if existing else tomlkit.document()
    doc["clip"] = _clip_text(label.clip, path)
    if label.facecam is not None:
        doc["facecam"] = _inline_array([round(v, 4) for v in label.facecam])
    elif "facecam" in doc:
        del doc["facecam"]
    table_form = len(label.by_label) > 1 or isinstance(doc.get("segments"), dict)
    if not table_form:
        doc["label"] = label.label
        doc["segments"] = _segment_array(label.segments)
        if label.calm is not None:
            doc["calm"] = _segment_array(label.calm_for(label.label))
        elif "calm" in doc:
            del doc["calm"]
        return tomlkit.dumps(doc)
    if "label" in doc:
        del doc["label"]
    _set_table(doc, "segments", label.by_label)
    if label.calm is not None:
        _set_table(doc, "calm", {name: label.calm_for(name) for name in label.by_label})
    elif "calm" in doc:
        del doc["calm"]
    return tomlkit.dumps(doc)


def _set_table(doc: tomlkit.TOMLDocument, key: str, by_label: dict[str, tuple[Segment, ...]]) -> None:
    """`[key]` with one list per label, in order, editing the table in place when there is one."""
    if not isinstance(doc.get(key), dict):
        if key in doc:
            del doc[key]
        doc[key] = tomlkit.table()
    table = doc[key]
    for name in [k for k in table if k not in by_label]:
        del table[name]
    for name, spans in by_label.items():
        table[name] = _segment_array(spans)


def _segment_array(segments: Iterable[Segment]) -> tomlkit.items.Array:
    ordered = sorted(segments)
    array = tomlkit.array()
    for s in ordered:
        array.append(_inline_array([format_time(s.start), format_time(s.end)]))
    if len(ordered) > 2:
        array.multiline(True)
    return array


def save_label(label: LabelFile, path: Path | str, expect_digest: str | None = None) -> Path:
    """Write atomically, keeping the comments of an existing file.

    `expect_digest` (from `digest()` when the file was read) makes the write fail
    instead of silently replacing edits made on disk in the meantime.
    """
    p = Path(path)
    existing = p.read_text(encoding="utf-8") if p.exists() else None
    if expect_digest is not None and digest(p) != expect_digest:
        raise LabelError(f"{p}: changed on disk since it was opened; reload before saving")
    if existing is not None:
        try:
            tomlkit.parse(existing)
        except ParseError:
            raise LabelError(f"{p}: existing file is not valid TOML; fix or remove it first") from None
    for name, spans in label.by_label.items():
        check_segments(spans, None)
        check_calm(name, spans, label.calm_for(name), None)
    atomic_write_text(p, render_label(label, p, existing))
    return p
