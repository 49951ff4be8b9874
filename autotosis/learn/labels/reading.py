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

A long VOD is never looked at whole, so its file says which spans were: `calm` lists the
spans seen without the reaction (`calm = [[a, b], ...]` beside a `segments` list, or a
`[calm]` table with one list per label beside a `[segments]` table). A file with a `calm`
key is partly reviewed: only its segments (positive) and calm spans (negative for that
label) are training data, the rest of the VOD is unknown. A label's calm spans never
overlap its own segments.

This module holds the record and its reading and validation: everything else in the
package (writing, the seed import, edits) builds on it, and the labeler, dataset and
evaluation mostly only read.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autotosis import media
from autotosis.core.errors import LabelError, MediaError
from autotosis.core.timecode import format_time, parse_time
from autotosis.core.timeline import Segment
from autotosis.core.tomlfile import parse_toml

Box = tuple[float, float, float, float]

KNOWN_KEYS = ("clip", "facecam", "label", "segments", "calm")
DEFAULT_LABEL = "rage"
# Segment ends may overshoot the probed duration by container rounding (seed data
# often says 16.0 for a 15.98 s clip); beyond this it is a typo.
DURATION_SLACK = 0.25


LABEL_RE = re.compile(r"[\w-]+")


@dataclass(frozen=True)
class LabelFile:
    """One clip's labels. `clip` is resolved to a real path on load.

    `label` and `segments` are the file's first label and its segments (all there is
    in a one-label file); `more` holds every further label in file order. `calm` is None
    when the whole clip was looked at, else label -> spans seen without that reaction
    (a partly reviewed VOD: see the module docstring).
    """

    clip: Path
    facecam: Box | None
    label: str = DEFAULT_LABEL
    segments: tuple[Segment, ...] = ()
    path: Path | None = field(default=None, compare=False)
    more: dict[str, tuple[Segment, ...]] = field(default_factory=dict)
    calm: dict[str, tuple[Segment, ...]] | None = None

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

    @property
    def partial(self) -> bool:
        """Only some spans were looked at: everything else in the clip is unknown, not negative."""
        return self.calm is not None

    def calm_for(self, label: str) -> tuple[Segment, ...]:
        return self.calm.get(label, ()) if self.calm is not None else ()

    def reviewed_spans(self, label: str) -> list[Segment]:
        """Every span the person has answered for `label`: its segments and its calm spans, in order."""
        return sorted([*self.by_label.get(label, ()), *self.calm_for(label)])

    def reviewed_seconds(self, label: str) -> float:
        return sum(s.duration for s in self.reviewed_spans(label))

    def with_labels(self, by_label: dict[str, tuple[Segment, ...]],
                    calm: dict[str, tuple[Segment, ...]] | None = None) -> LabelFile:
        """The same clip and box with these labels (at least one), keeping the calm spans
        of the labels that stay unless `calm` is given."""
        if calm is None and self.calm is not None:
            calm = {k: v for k, v in self.calm.items() if k in by_label}
        return make_label_file(self.clip, self.facecam, by_label, self.path, calm)


def make_label_file(clip: Path, facecam: Box | None, by_label: dict[str, tuple[Segment, ...]],
                    path: Path | None = None,
                    calm: dict[str, tuple[Segment, ...]] | None = None) -> LabelFile:
    """A LabelFile from label -> segments (first label first); ValueError when empty."""
    if not by_label:
        raise ValueError("a label file needs at least one label")
    (first, segments), *rest = by_label.items()
    calm_spans = None if calm is None else {k: tuple(sorted(v)) for k, v in calm.items() if v}
    return LabelFile(clip, facecam, first, tuple(segments), path, {k: tuple(v) for k, v in rest}, calm_spans)


def check_calm(label: str, segments: Iterable[Segment], calm: Iterable[Segment],
               duration: float | None) -> list[Segment]:
    """Sorted calm spans of `label`; ValueError when they overlap each other, run past the
    clip, or overlap one of the label's own segments (the same moment cannot be both)."""
    ordered = check_segments(calm, duration, "calm span")
    for c in ordered:
        for s in segments:
            if c.start < s.end and s.start < c.end:
                raise ValueError(f"calm span {format_time(c.start)}-{format_time(c.end)} overlaps "
                                 f"{label} segment {format_time(s.start)}-{format_time(s.end)}")
    return ordered


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
    match = re.search(rf"^[ \t]*(?:{re.escape(key)}\s*=|\[\s*{re.escape(key)}\s*\])", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _line_in_table(text: str, table: str, key: str) -> int:
    """Line of `key = ` inside `[table]`, else of the table header."""
    header = re.search(rf"^[ \t]*\[\s*{re.escape(table)}\s*\]", text, re.MULTILINE)
    if not header:
        return _line_of(text, table)
    match = re.compile(rf"^[ \t]*\"?{re.escape(key)}\"?\s*=", re.MULTILINE).search(text, header.end())
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


def check_segments(segments: Iterable[Segment], duration: float | None,
                   noun: str = "segment") -> list[Segment]:
    """Sorted segments; ValueError when two overlap or one runs past the clip (`noun` names
    them in the message: calm spans are checked the same way)."""
    ordered = sorted(segments)
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            raise ValueError(
                f"{noun}s {format_time(a.start)}-{format_time(a.end)} and "
                f"{format_time(b.start)}-{format_time(b.end)} overlap"
            )
    if duration is not None:
        for s in ordered:
            if s.end > duration + DURATION_SLACK:
                raise ValueError(
                    f"{noun} {format_time(s.start)}-{format_time(s.end)} runs past the clip's end "
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
    calm = _load_calm(doc, text, p, table, by_label, duration)
    return make_label_file(clip, facecam, by_label, p, calm)


def _load_calm(doc: dict, text: str, p: Path, table: bool, by_label: dict[str, tuple[Segment, ...]],
               duration: float | None) -> dict[str, tuple[Segment, ...]] | None:
    """The `calm` key in the same form as `segments`: a list for the one label, or a table."""
    if "calm" not in doc:
        return None
    raw = doc["calm"]
    if table != isinstance(raw, dict):
        shape = "a [calm] table, one list per label" if table else "a 'calm = [...]' list"
        raise LabelError(f"{p}:{_line_of(text, 'calm')}: calm must be {shape}, like segments")
    raw_by_label = dict(raw) if table else {next(iter(by_label)): raw}
    calm: dict[str, tuple[Segment, ...]] = {}
    for name, value in raw_by_label.items():
        where = _line_in_table(text, "calm", name) if table else _line_of(text, "calm")
        if name not in by_label:
            raise LabelError(f"{p}:{where}: calm: '{name}' is not a label of this file "
                             f"(add {name} = [] under [segments])")
        try:
            calm[name] = tuple(check_calm(name, by_label[name], _segments(value), duration))
        except ValueError as exc:
            raise LabelError(f"{p}:{where}: {name}: {exc}") from None
    return calm


def load_all(labels_dir: Path | str = "labels", check_clip: bool = True) -> list[LabelFile]:
    """Every *.toml in `labels_dir`, sorted by name; the first invalid one raises."""
    folder = Path(labels_dir)
    if not folder.is_dir():
        raise LabelError(f"{folder}: no such labels folder")
    return [load_label(p, check_clip) for p in sorted(folder.glob("*.toml"))]
