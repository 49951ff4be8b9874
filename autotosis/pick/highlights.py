"""The highlights of a compiled VOD as every publishing output sees them: span, label, peak.

Shorts, thumbnails and the editor timelines all start from `Highlight`s, built here
and only here, so what a highlight is called and where its peak is are decided once.
The label comes from the segment itself when it carries one (several labels per reel),
else from the reel's label. `load_selection` reads a compile output folder: the
review page's kept segments when there are any, else compile's own selection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autotosis.core.errors import AutotosisError
from autotosis.core.timecode import youtube_offset
from autotosis.core.timeline import Segment, Timeline

REVIEW_FILE = "review.json"


@dataclass(frozen=True)
class Highlight:
    """One highlight: where it is in the VOD, what it is called, when it peaks."""

    index: int  # position in the selection, from 0
    segment: Segment
    label: str
    peak_time: float  # VOD seconds of the highest score inside the segment (its middle without scores)

    @property
    def slug(self) -> str:
        """`NN-label-1m41s`: a file name stem that sorts, says what it is and where, and is safe anywhere."""
        label = re.sub(r"[^A-Za-z0-9_-]+", "-", self.label).strip("-") or "highlight"
        return f"{self.index + 1:02d}-{label[:40]}-{youtube_offset(self.segment.start)}"


def label_of(segment: Segment, default: str) -> str:
    """The one rule for a highlight's name: its own label if the segment has one, else the reel's."""
    own = getattr(segment, "label", None)
    return str(own) if own else default


def peak_time(segment: Segment, scores: Timeline | None) -> float:
    """Time of the highest score inside the segment: the moment a thumbnail or a short centres on."""
    if scores is not None and len(scores):
        inside = (scores.times >= segment.start) & (scores.times < segment.end)
        if inside.any():
            times, values = scores.times[inside], scores.values[inside]
            return float(times[int(np.argmax(values))])
    return (segment.start + segment.end) / 2


def highlights(segments: Sequence[Segment], label: str, scores: Timeline | None = None) -> list[Highlight]:
    """Highlights for `segments` in order, named by `label_of` and peaked by `peak_time`."""
    return [Highlight(k, seg, label_of(seg, label), peak_time(seg, scores)) for k, seg in enumerate(segments)]


@dataclass(frozen=True)
class Selection:
    """What a compile output folder says about its highlights, enough to publish them again."""

    folder: Path
    vod: Path
    label: str
    highlights: list[Highlight]
    options: dict  # compile's options.json (face-cam box, render settings); {} when missing
    reviewed: bool  # True: the review page's kept segments; False: compile's selection


def _segments(rows: list, source: Path) -> list[Segment]:
    try:
        return [Segment(float(r["start"]), float(r["end"]), float(r.get("peak", 0)), float(r.get("mean", 0)),
                        str(r.get("label") or "")) for r in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise AutotosisError(f"{source}: bad segment ({exc})") from None


def _rescored(segment: Segment, scores: Timeline | None) -> Segment:
    """A reviewed span's own peak and mean score: its edges may have been nudged."""
    if scores is None:
        return segment
    inside = scores.values[(scores.times >= segment.start) & (scores.times < segment.end)]
    if not inside.size:
        return segment
    return Segment(segment.start, segment.end, float(inside.max()), float(inside.mean()))


def load_selection(folder: Path, reviewed: bool = True) -> Selection:
    """The highlights of output/<vod>/: the review page's kept segments if any, else segments.json."""
    path = folder / "segments.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        vod, label, rows = Path(data["vod"]), str(data.get("label") or "highlight"), data["segments"]
    except FileNotFoundError:
        raise AutotosisError(f"{folder}: no segments.json here; run `autotosis compile` first") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AutotosisError(f"{path}: cannot read ({exc})") from None
    segments = _segments(rows, path)
    scores_path = folder / "scores.csv"
    scores = Timeline.from_csv(scores_path) if scores_path.exists() else None
    review = folder / REVIEW_FILE
    used_review = False
    if reviewed and review.exists():
        try:
            kept = [r for r in json.loads(review.read_text(encoding="utf-8"))["segments"] if r.get("keep")]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AutotosisError(f"{review}: cannot read ({exc})") from None
        if kept:
            segments = sorted(_rescored(seg, scores) for seg in _segments(kept, review))
            used_review = True
    options: dict = {}
    if (folder / "options.json").exists():
        try:
            options = json.loads((folder / "options.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AutotosisError(f"{folder / 'options.json'}: cannot read ({exc})") from None
    vod = vod if vod.is_absolute() else folder.parent.parent / vod
    return Selection(folder, vod, label, highlights(segments, label, scores), options, used_review)
