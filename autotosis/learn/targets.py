"""What each frame teaches: targets and `known` per label, and which spans of a VOD to decode.

Each frame gets a target per label and a `known` flag per label. A short clip (`calm` None)
was looked at whole: a label its file names is known on every frame (positive inside its
segments). A partly reviewed VOD (`LabelFile.partial`) was looked at only in its reviewed
spans: a label the file names is known inside its segments (1) and its calm spans (0),
unknown elsewhere. For a label the file does not name, `negatives` decides: "others"
(default) makes the frames inside the file's other labels' segments negatives, "all" makes
every frame looked at negative (the whole clip; a VOD's reviewed spans), "none" leaves them
unknown. Unknown targets add nothing to the loss, and frames known for no label are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from autotosis.core.timeline import Segment
from autotosis.learn.labels import LabelFile

# Reviewed spans closer than this are decoded in one pass: a seek decodes up to a GOP
# (about 2 s of a stream) before its first frame, more than the gap's few frames cost.
MERGE_GAP = 1.0
# Spans of one VOD closer than this are one unit of the train/validation split: a
# reaction and the calm just before and after it are one scene, and frames a few seconds
# apart would put near-copies of training frames into validation. Answers to `suggest`
# lie a minute or more apart, so each is its own unit.
SPLIT_GAP = 10.0


def in_spans(times: np.ndarray, spans: Iterable[Segment]) -> np.ndarray:
    """Which of `times` fall in some [start, end)."""
    inside = np.zeros(len(times), dtype=bool)
    for s in spans:
        inside |= (times >= s.start) & (times < s.end)
    return inside


def merge(spans: Iterable[Segment], gap: float = 0.0) -> list[Segment]:
    """Sorted union of the spans, joining those less than `gap` seconds apart."""
    out: list[Segment] = []
    for s in sorted(spans):
        if out and s.start - out[-1].end < gap:
            out[-1] = Segment(out[-1].start, max(out[-1].end, s.end))
        else:
            out.append(Segment(s.start, s.end))
    return out


def covered_seconds(spans: Iterable[Segment]) -> float:
    """Seconds inside at least one of the spans (overlaps counted once)."""
    return sum(s.duration for s in merge(spans))


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


def all_reviewed(label: LabelFile) -> list[Segment]:
    """Every span looked at for some label of a partly reviewed file, merged."""
    return merge(s for name in label.labels for s in label.reviewed_spans(name))


def label_targets(times: np.ndarray, label: LabelFile, names: Sequence[str], edge_guard: float,
                  negatives: str = "others") -> tuple[np.ndarray, np.ndarray]:
    """(targets, known), each (N, len(names)), for one file's frames (module docstring)."""
    targets = np.zeros((len(times), len(names)), dtype=np.uint8)
    known = np.zeros((len(times), len(names)), dtype=bool)
    in_any = in_spans(times, (seg for spans in label.by_label.values() for seg in spans))
    for i, name in enumerate(names):
        if name in label.by_label:
            targets[:, i], known[:, i] = apply_labels(times, label, edge_guard, name)
            if label.partial:
                known[:, i] &= in_spans(times, label.reviewed_spans(name))
        elif negatives == "all":
            known[:, i] = in_spans(times, all_reviewed(label)) if label.partial else True
        elif negatives == "others":
            known[:, i] = in_any
    return targets, known


def decode_spans(label: LabelFile, names: Sequence[str], negatives: str = "others") -> list[Segment]:
    """The spans of a partly reviewed file whose frames can be known for one of `names`
    (see `label_targets`), merged across labels and across gaps under MERGE_GAP."""
    wanted: list[Segment] = []
    for name, segments in label.by_label.items():
        if name in names or negatives == "all":
            wanted += label.reviewed_spans(name)
        elif negatives == "others":
            wanted += segments
    return merge(wanted, MERGE_GAP)


def split_units(spans: Sequence[Segment], gap: float = SPLIT_GAP) -> list[list[Segment]]:
    """Sorted spans grouped into runs whose neighbours are under `gap` seconds apart."""
    groups: list[list[Segment]] = []
    for s in sorted(spans):
        if groups and s.start - groups[-1][-1].end < gap:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def known_seconds(label: LabelFile, name: str, duration: float, negatives: str = "others") -> float:
    """Seconds of the file where `name`'s target is known, before the edge guard: what the
    person has answered for that label in this file."""
    if name in label.by_label:
        return label.reviewed_seconds(name) if label.partial else duration
    if negatives == "all":
        return covered_seconds(all_reviewed(label)) if label.partial else duration
    if negatives == "others":
        return covered_seconds(s for spans in label.by_label.values() for s in spans)
    return 0.0
