"""Label files: one human-editable TOML file per clip, one or several reactions in it.

```toml
clip = "clips/x.mp4"                          # relative to the project folder (labels/..)
facecam = [0.7833, 0.1296, 0.9682, 0.3694]    # x0 y0 x1 y1, fractions of the frame
label = "rage"
segments = [["0:07.425", "0:32.768"], [40.5, 47.2]]   # "h:mm:ss.s", "m:ss.s" or seconds
```

is a clip labeled for one reaction; with several, `segments` becomes a table keyed
by label (and `label` goes):

```toml
clip = "clips/x.mp4"
[segments]
rage = [["0:07.425", "0:32.768"]]
laugh = [[40.5, 47.2]]
calm = []                                     # looked at: no such reaction in this clip
```

For each label the file names, frames inside its segments are positive and the rest of
the clip negative. Segments of one label must not overlap; of different labels they may.
Files are edited with tomlkit so a user's comments and layout survive `autotosis label`;
a file keeps the one-label form until a second label is added.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
from tomlkit.exceptions import ParseError

from autotosis import media
from autotosis.core.errors import LabelError, MediaError
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timecode import format_time, parse_time
from autotosis.core.timeline import Segment
from autotosis.core.tomlfile import parse_toml

Box = tuple[float, float, float, float]

KNOWN_KEYS = ("clip", "facecam", "label", "segments")
DEFAULT_LABEL = "rage"
# Segment ends may overshoot the probed duration by container rounding (seed data
# often says 16.0 for a 15.98 s clip); beyond this it is a typo.
DURATION_SLACK = 0.25


LABEL_RE = re.compile(r"[\w-]+")


@dataclass(frozen=True)
class LabelFile:
    """One clip's labels. `clip` is resolved to a real path on load.

    `label` and `segments` are the file's first label and its segments (all there is
    in a one-label file); `more` holds every further label in file order.
    """

    clip: Path
    facecam: Box | None
    label: str = DEFAULT_LABEL
    segments: tuple[Segment, ...] = ()
    path: Path | None = field(default=None, compare=False)
    more: dict[str, tuple[Segment, ...]] = field(default_factory=dict)

    @property
    def by_label(self) -> dict[str, tuple[Segment, ...]]:
        """Every label the file names -> its segments (possibly none), first label first."""
        return {self.label: self.segments, **self.more}

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.by_label)

    @property
    def positive_seconds(self) -> float:
        return sum(s.duration for s in self.segments)

    def seconds(self, label: str) -> float:
        return sum(s.duration for s in self.by_label.get(label, ()))

    def with_labels(self, by_label: dict[str, tuple[Segment, ...]]) -> LabelFile:
        """The same clip and box with these labels (at least one)."""
        return make_label_file(self.clip, self.facecam, by_label, self.path)


def make_label_file(clip: Path, facecam: Box | None, by_label: dict[str, tuple[Segment, ...]],
                    path: Path | None = None) -> LabelFile:
    """A LabelFile from label -> segments (first label first); ValueError when empty."""
    if not by_label:
        raise ValueError("a label file needs at least one label")
    (first, segments), *rest = by_label.items()
    return LabelFile(clip, facecam, first, tuple(segments), path, {k: tuple(v) for k, v in rest})


def check_label_name(name: str) -> str:
    """A label is one word (letters, digits, _ or -): it names models and columns."""
    if not isinstance(name, str) or not LABEL_RE.fullmatch(name):
        raise ValueError(f"label must be a single word, got {name!r}")
    return name


def label_path_for(clip: Path | str, labels_dir: Path | str = "labels") -> Path:
    """labels/<clip stem>.toml: the file `autotosis label` writes for a clip."""
    return Path(labels_dir) / f"{Path(clip).stem}.toml"


def project_root(label_path: Path) -> Path:
    """Relative clip paths are relative to the folder holding labels/ (the project folder)."""
    return label_path.resolve().parent.parent


def digest(path: Path | str) -> str | None:
    """Content hash used to notice that a file changed on disk since it was read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------- validation


def _line_of(text: str, key: str) -> int:
    match = re.search(rf"^\s*(?:{re.escape(key)}\s*=|\[\s*{re.escape(key)}\s*\])", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _line_in_table(text: str, table: str, key: str) -> int:
    """Line of `key = ` inside `[table]`, else of the table header."""
    header = re.search(rf"^\s*\[\s*{re.escape(table)}\s*\]", text, re.MULTILINE)
    if not header:
        return _line_of(text, table)
    match = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=", re.MULTILINE).search(text, header.end())
    return text.count("\n", 0, (match or header).start()) + 1


def validate_box(value: object) -> Box:
    """A face-cam box: four fractions with x0 < x1 and y0 < y1; ValueError otherwise."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise ValueError("facecam must be [x0, y0, x1, y1]")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ValueError("facecam values must be numbers")
    x0, y0, x1, y1 = (float(v) for v in value)
    if not all(0.0 <= v <= 1.0 for v in (x0, y0, x1, y1)):
        raise ValueError(f"facecam {[x0, y0, x1, y1]} must lie within 0..1 (fractions of the frame)")
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"facecam {[x0, y0, x1, y1]} is empty (need x0 < x1 and y0 < y1)")
    return (x0, y0, x1, y1)


def parse_box(text: str) -> Box:
    """ "x0,y0,x1,y1" as typed on the command line."""
    parts = [p for p in re.split(r"[,\s]+", text.strip().strip("[]()")) if p]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"facecam {text!r} must be four numbers x0,y0,x1,y1") from None
    return validate_box(numbers)


def parse_segment(text: str) -> Segment:
    """ "0:07.4-0:32.7" or "40.5-47.2" as typed on the command line."""
    match = re.fullmatch(r"\s*([0-9:.]+)\s*(?:-|\.\.|,)\s*([0-9:.]+)\s*", text)
    if not match:
        raise ValueError(f"segment {text!r} must look like START-END, e.g. 0:07.4-0:32.7")
    start, end = parse_time(match.group(1)), parse_time(match.group(2))
    if end <= start:
        raise ValueError(f"segment {text!r} ends before it starts")
    return Segment(start, end)


def _segments(value: object) -> list[Segment]:
    if not isinstance(value, list):
        raise ValueError("segments must be a list of [start, end] pairs")
    out = []
    for i, pair in enumerate(value, 1):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"segment {i} must be a [start, end] pair, got {pair!r}")
        try:
            start, end = parse_time(pair[0]), parse_time(pair[1])
        except ValueError as exc:
            raise ValueError(f"segment {i}: {exc}") from None
        if end <= start:
            raise ValueError(f"segment {i} [{pair[0]}, {pair[1]}] ends before it starts")
        out.append(Segment(start, end))
    return out


def check_segments(segments: Iterable[Segment], duration: float | None) -> list[Segment]:
    """Sorted segments; ValueError when two overlap or one runs past the clip."""
    ordered = sorted(segments)
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            raise ValueError(
                f"segments {format_time(a.start)}-{format_time(a.end)} and "
                f"{format_time(b.start)}-{format_time(b.end)} overlap"
            )
    if duration is not None:
        for s in ordered:
            if s.end > duration + DURATION_SLACK:
                raise ValueError(
                    f"segment {format_time(s.start)}-{format_time(s.end)} runs past the clip's end "
                    f"({format_time(duration)})"
                )
    return ordered


def resolve_clip(clip: str, label_path: Path) -> Path:
    candidate = Path(clip).expanduser()
    if candidate.is_absolute():
        return candidate
    for base in (project_root(label_path), label_path.resolve().parent, Path.cwd()):
        if (base / candidate).exists():
            return base / candidate
    return project_root(label_path) / candidate


def load_label(path: Path | str, check_clip: bool = True) -> LabelFile:
    """Parse and validate a label file; LabelError "file:line: problem" on any mistake.

    With `check_clip`, the clip must exist and be a readable video, and segments
    must end within its duration.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabelError(f"{p}: no such label file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(f"{p}: cannot read ({exc})") from None
    doc = parse_toml(text, p, LabelError)

    def fail(key: str, message: str) -> LabelError:
        return LabelError(f"{p}:{_line_of(text, key)}: {message}")

    for key in doc:
        if key not in KNOWN_KEYS:
            raise fail(key, f"unknown key '{key}' (expected one of: {', '.join(KNOWN_KEYS)})")
    if "clip" not in doc or not isinstance(doc["clip"], str) or not doc["clip"].strip():
        raise fail("clip", "missing 'clip = \"path/to/clip.mp4\"'")
    clip = resolve_clip(doc["clip"], p)
    facecam = None
    if "facecam" in doc:
        try:
            facecam = validate_box(doc["facecam"])
        except ValueError as exc:
            raise fail("facecam", str(exc)) from None
    raw_segments = doc.get("segments", [])
    if isinstance(raw_segments, dict):
        if "label" in doc:
            raise fail("label", "'label' goes with a 'segments = [...]' list; "
                                "with a [segments] table, its keys are the labels")
        if not raw_segments:
            raise fail("segments", "the [segments] table names no label (add e.g. rage = [])")
        raw_by_label = dict(raw_segments)
    else:
        label = doc.get("label", DEFAULT_LABEL)
        try:
            check_label_name(label)
        except ValueError as exc:
            raise fail("label", str(exc)) from None
        raw_by_label = {label: raw_segments}
    duration = None
    if check_clip:
        if not clip.exists():
            raise fail("clip", f"clip '{doc['clip']}' not found (looked for {clip})")
        try:
            duration = media.probe(clip).duration
        except MediaError as exc:
            raise fail("clip", str(exc)) from None
    by_label: dict[str, tuple[Segment, ...]] = {}
    table = isinstance(raw_segments, dict)
    for name, value in raw_by_label.items():
        where = _line_in_table(text, "segments", name) if table else _line_of(text, "segments")
        prefix = f"{name}: " if table else ""
        try:
            if table:
                check_label_name(name)
            by_label[name] = tuple(check_segments(_segments(value), duration))
        except ValueError as exc:
            raise LabelError(f"{p}:{where}: {prefix}{exc}") from None
    return make_label_file(clip, facecam, by_label, p)


def load_all(labels_dir: Path | str = "labels", check_clip: bool = True) -> list[LabelFile]:
    """Every *.toml in `labels_dir`, sorted by name; the first invalid one raises."""
    folder = Path(labels_dir)
    if not folder.is_dir():
        raise LabelError(f"{folder}: no such labels folder")
    return [load_label(p, check_clip) for p in sorted(folder.glob("*.toml"))]


# ---------------------------------------------------------------- writing


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
        return tomlkit.dumps(doc)
    if "label" in doc:
        del doc["label"]
    old = doc.get("segments")
    if not isinstance(old, dict):
        if "segments" in doc:
            del doc["segments"]
        doc["segments"] = tomlkit.table()
    table = doc["segments"]
    for name in [k for k in table if k not in label.by_label]:
        del table[name]
    for name, spans in label.by_label.items():
        table[name] = _segment_array(spans)
    return tomlkit.dumps(doc)


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
    for spans in label.by_label.values():
        check_segments(spans, None)
    atomic_write_text(p, render_label(label, p, existing))
    return p


# ---------------------------------------------------------------- import


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


# ---------------------------------------------------------------- high-level edits


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
