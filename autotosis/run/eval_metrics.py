"""How good is a reel, in numbers: frame and event metrics of a score and selection against truth.

Two levels, because they answer different questions:

- frames: is the score itself right? AP and ROC AUC of the timeline's samples
  against the truth spans, independent of any threshold.
- events: is the reel right? A truth event is *found* when one selected segment
  covers at least `min_overlap` of it; a selected segment is a *hit* when it finds
  at least one truth event. Precision = hits / segments, recall = found / truth.
  Plus the seconds of reel outside every truth event: what a viewer sits through.

A threshold sweep repeats the selection at other entry thresholds with everything
else unchanged, so a user can pick `--threshold` and `--max-length` from one table.
Apart from `evaluate` because these are pure numpy on plain values: the demo, the bench
and the tests measure selections with them without probing, scanning or writing a file.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from autotosis.core import metrics
from autotosis.core.timeline import Segment, Timeline
from autotosis.pick import select as select_lib

# Half of a moment on screen is enough to recognise it; less is usually the lead-in
# or the tail of a different moment.
MIN_OVERLAP = 0.5
# The sweep's thresholds, besides the one in use: the whole 0..1 score range in tenths.
# What the selected segments become before they are measured: compile's move onto frames.
Cut = Callable[[Sequence[Segment]], list[Segment]]

SWEEP_THRESHOLDS = tuple(round(k / 10, 1) for k in range(1, 10))


@dataclass(frozen=True)
class FrameMetrics:
    """Score quality per sample, threshold-free; nan where undefined (no positives or negatives)."""

    samples: int
    positives: int  # samples inside a truth event
    ap: float
    auc: float


@dataclass(frozen=True)
class EventMetrics:
    """Selection quality per moment, and what the reel costs in seconds."""

    truth: int  # truth events
    selected: int  # selected segments
    found: int  # truth events one segment covers for at least min_overlap of their length
    hits: int  # selected segments that find at least one truth event
    precision: float  # hits / selected; nan without a selection
    recall: float  # found / truth; nan without truth events
    f1: float  # nan without truth events; 0 when nothing is found
    mean_iou: float  # per truth event its best temporal IoU, 0 if unfound; nan without truth
    reel_seconds: float
    non_highlight_seconds: float  # reel seconds outside every truth event

    @property
    def non_highlight_share(self) -> float:
        return self.non_highlight_seconds / self.reel_seconds if self.reel_seconds > 0 else math.nan


@dataclass(frozen=True)
class SweepRow:
    """The selection's event metrics at one entry threshold."""

    threshold: float
    events: EventMetrics


# ---------------------------------------------------------------- pure metrics


def union(segments: Sequence[Segment]) -> list[tuple[float, float]]:
    """Sorted, non-overlapping spans covering the same seconds as `segments`."""
    spans: list[tuple[float, float]] = []
    for seg in sorted(segments):
        if spans and seg.start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], seg.end))
        else:
            spans.append((seg.start, seg.end))
    return spans


def frame_labels(times: np.ndarray, segments: Sequence[Segment]) -> np.ndarray:
    """True for each sample time inside a segment, start <= t < end (as selection reads samples)."""
    spans = union(segments)
    if not spans:
        return np.zeros(len(times), dtype=bool)
    starts = np.array([s for s, _ in spans])
    ends = np.array([e for _, e in spans])
    index = np.searchsorted(starts, times, side="right") - 1
    return (index >= 0) & (times < ends[np.maximum(index, 0)])


def frame_metrics(score: Timeline, truth: Sequence[Segment]) -> FrameMetrics:
    """AP and ROC AUC of the score's samples against the truth spans."""
    labels = frame_labels(score.times, truth)
    values = score.values.astype(np.float64)
    return FrameMetrics(len(labels), int(labels.sum()), metrics.average_precision(labels, values),
                        metrics.roc_auc(labels, values))


def frame_point(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """(precision, recall) of a yes/no prediction per sample; nan where undefined."""
    true_positives = float(np.sum(labels & predicted))
    precision = true_positives / predicted.sum() if predicted.any() else math.nan
    recall = true_positives / labels.sum() if labels.any() else math.nan
    return precision, recall


def iou(a: Segment, b: Segment) -> float:
    """Temporal intersection over union of two spans."""
    overlap = a.overlap(b)
    return overlap / (a.duration + b.duration - overlap)


def event_metrics(truth: Sequence[Segment], selected: Sequence[Segment],
                  min_overlap: float = MIN_OVERLAP) -> EventMetrics:
    """Precision, recall, F1, mean IoU and reel seconds of a selection against truth events.

    A truth event counts as found only through one segment covering `min_overlap` of
    it (0 means any overlap at all): a moment cut across two segments with a jump in
    between is not a moment the viewer saw. Mean IoU takes each truth event's best
    segment; compile pads segments with lead-in and tail on purpose, so IoU stays well
    below 1 even for a perfect reel: compare it between settings, not against 1.
    """
    if not 0.0 <= min_overlap <= 1.0:
        raise ValueError(f"min_overlap must be within 0..1, got {min_overlap}")
    truth_starts = np.array([t.start for t in truth]).reshape(-1, 1)
    truth_ends = np.array([t.end for t in truth]).reshape(-1, 1)
    sel_starts = np.array([s.start for s in selected]).reshape(1, -1)
    sel_ends = np.array([s.end for s in selected]).reshape(1, -1)
    overlap = np.maximum(0.0, np.minimum(truth_ends, sel_ends) - np.maximum(truth_starts, sel_starts))
    truth_length, sel_length = truth_ends - truth_starts, sel_ends - sel_starts
    finds = (overlap > 0) & (overlap >= min_overlap * truth_length - 1e-9)
    found, hits = int(finds.any(axis=1).sum()), int(finds.any(axis=0).sum())
    ious = overlap / (truth_length + sel_length - overlap)
    best_iou = ious.max(axis=1) if len(selected) else np.zeros(len(truth))

    precision = hits / len(selected) if selected else math.nan
    recall = found / len(truth) if truth else math.nan
    if not truth:
        f1 = math.nan
    elif found == 0:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    reel = float(sum(s.duration for s in selected))
    inside = sum(s.overlap(Segment(a, b)) for s in selected for a, b in union(truth))
    return EventMetrics(len(truth), len(selected), found, hits, precision, recall, f1,
                        float(best_iou.mean()) if truth else math.nan, reel, max(0.0, reel - inside))


def sweep_thresholds(chosen: float, base: Sequence[float] = SWEEP_THRESHOLDS) -> list[float]:
    """`base` plus the threshold in use, sorted, without near-duplicates."""
    values = {round(float(t), 6) for t in base} | {round(float(chosen), 6)}
    return sorted(values)


def sweep(score: Timeline, truth: Sequence[Segment], config: select_lib.SelectConfig,
          duration: float | None, thresholds: Sequence[float],
          min_overlap: float = MIN_OVERLAP, cut: Cut = list) -> list[SweepRow]:
    """Select again at each entry threshold, everything else as in `config`, and measure
    what would be cut (`cut`: compile's move onto whole frames)."""
    rows = []
    for threshold in thresholds:
        moved = dataclasses.replace(config, enter=threshold)
        segments = cut(select_lib.select_segments(score, moved, duration))
        rows.append(SweepRow(threshold, event_metrics(truth, segments, min_overlap)))
    return rows


def sweep_label(scores: dict[str, Timeline], configs: dict[str, select_lib.SelectConfig], label: str,
                truth: Sequence[Segment], duration: float | None, thresholds: Sequence[float],
                min_overlap: float = MIN_OVERLAP, cut: Cut = list) -> list[SweepRow]:
    """`sweep` for one label of a reel of several: the whole reel selected again with that
    label's threshold moved (the others', the shared budget and the overlap trimming as compile
    does them), measured on that label's segments."""
    rows = []
    for threshold in thresholds:
        moved = {**configs, label: dataclasses.replace(configs[label], enter=threshold)}
        own = [s for s in cut(select_lib.select_labelled(scores, moved, duration)) if s.label == label]
        rows.append(SweepRow(threshold, event_metrics(truth, own, min_overlap)))
    return rows
