"""Coarse scan planning: which frames a first pass looks at, where a second looks closely.

Apart from the passes because it decodes nothing and loads no model: it reads keyframe
spacing and score timelines and answers with spans, so its rules (and the constants
below, which `bench/accuracy.py --section scan` tunes) can be read and tested on their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autotosis import media
from autotosis.core.timeline import Timeline
from autotosis.signals.scan.passes import _resume_point

# Coarse scan. Keyframes further apart than this leave too much unseen between samples
# (loudness and chat still cover the gaps, but a silent face would not be looked at).
MAX_KEYFRAME_GAP = 12.0
# Shorter VODs are scanned densely: two passes and their seeks cost more than they save.
MIN_COARSE_SECONDS = 60.0
# Pass 1 proposes a window where the model scores at least this share of its threshold:
# low, because a moment seen between its keyframes peaks higher than on them.
PROPOSE_RATIO = 0.5
# A pass-1 sample above that level stands for the span to its neighbours; the window
# adds this much on each side, for smoothing and for the moment's edges to be seen densely.
MODEL_MARGIN = 2.0
# A hint's span (a shout, a chat burst) adds this much on each side: the face reacts
# a little before or after the sound, and chat reacts seconds late.
HINT_MARGIN = (4.0, 4.0)
# Windows closer than this are decoded as one: a seek costs decoding from the keyframe
# before it anyway, and each window costs an ffmpeg start.
MERGE_GAP = 4.0


@dataclass(frozen=True)
class Hint:
    """A cheap timeline that proposes windows to a coarse scan: where `score` (0..1) reaches
    `threshold`, the frames get looked at densely. Loudness is one; chat is another."""

    name: str
    score: Timeline
    threshold: float
    margin: tuple[float, float] = HINT_MARGIN  # seconds looked at before and after each run


@dataclass(frozen=True)
class FirstPass:
    """What a coarse scan looks at first: `kind` is "keyframes" or "dense" (the fallback)."""

    kind: str
    reason: str
    interval: float | None = None  # probed keyframe interval in seconds


def plan_first_pass(duration: float, keys: media.KeyframeInfo | None, fps: float) -> FirstPass:
    """Keyframes when they come every few seconds, else a dense scan: see the constants."""
    if duration < MIN_COARSE_SECONDS:
        return FirstPass("dense", f"dense: a VOD under {MIN_COARSE_SECONDS:g}s is scanned whole")
    if keys is None or keys.interval is None:
        span = keys.window if keys is not None else 0.0
        return FirstPass("dense", f"dense: fewer than two keyframes in {span:g}s, nothing cheap to look at")
    gap = keys.interval
    if gap > MAX_KEYFRAME_GAP:
        return FirstPass("dense", f"dense: keyframes {gap:.1f}s apart, over {MAX_KEYFRAME_GAP:g}s", gap)
    if gap <= 1.0 / fps + 1e-6:
        return FirstPass("dense", f"dense: keyframes every {gap:.2f}s, as many as dense samples", gap)
    return FirstPass("keyframes", f"coarse: keyframes every {gap:.1f}s, then dense where it matters", gap)


def _peak(values: np.ndarray) -> np.ndarray:
    """One number per sample whatever the value shape: a sample with several labels' scores
    proposes a window when any of them is high."""
    return values if values.ndim == 1 else values.max(axis=tuple(range(1, values.ndim)))


def _merge_spans(spans: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def propose_windows(first: Timeline, threshold: float, hints: Sequence[Hint], duration: float,
                    grid: float, gap: float = MERGE_GAP) -> list[tuple[float, float]]:
    """The spans pass 2 decodes densely, merged, in time order, starting on the sampling grid.

    A pass-1 sample at or above `threshold` stands for the span between its neighbours
    (the moment may be anywhere between two keyframes); a hint's run above its threshold
    for its own span. Each gets margins; windows closer than `gap` are joined.
    """
    spans: list[tuple[float, float]] = []
    times = first.times
    hot = np.flatnonzero(_peak(np.asarray(first.values)) >= threshold)
    for i in hot.tolist():
        before = float(times[i - 1]) if i > 0 else 0.0
        after = float(times[i + 1]) if i + 1 < len(times) else duration
        spans.append((before - MODEL_MARGIN, after + MODEL_MARGIN))
    for hint in hints:
        score = hint.score
        if len(score) == 0:
            continue
        half = score.step / 2
        mask = _peak(np.asarray(score.values)) >= hint.threshold
        padded = np.r_[False, mask, False].astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            spans.append((float(score.times[a]) - half - hint.margin[0],
                          float(score.times[b - 1]) + half + hint.margin[1]))
    clipped = [(max(0.0, s), min(duration, e)) for s, e in spans if e > 0 and s < duration]
    windows = []
    for start, end in _merge_spans(clipped, gap):
        start = _resume_point(start, 0.0, grid)
        if end > start:
            windows.append((start, end))
    return _merge_spans(windows, 0.0)


def merge_passes(first: Timeline, fine: Timeline, windows: Sequence[tuple[float, float]],
                 grid: float, duration: float) -> Timeline:
    """One timeline on the dense grid: pass 2's samples inside the windows, and outside
    them pass 1's interpolated (nothing happens there, by pass 1's own account).

    Selection smooths over a number of samples and lets each sample stand for one grid
    step, so it needs evenly spaced samples; this keeps it unchanged for coarse scans.
    """
    inside = np.zeros(len(first), dtype=bool)
    for start, end in windows:
        inside |= (first.times >= start) & (first.times < end)
    times = np.concatenate([first.times[~inside], fine.times])
    values = np.concatenate([np.asarray(first.values)[~inside], np.asarray(fine.values)])
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    count = max(1, math.floor(duration * grid - 1e-6) + 1)
    grid_times = np.arange(count) / grid
    if len(times) == 0:
        return Timeline(grid_times, np.zeros(count, np.float32))
    flat = values.reshape(len(values), -1)
    columns = [np.interp(grid_times, times, flat[:, k]) for k in range(flat.shape[1])]
    resampled = np.stack(columns, axis=1).reshape((count, *values.shape[1:])).astype(np.float32)
    return Timeline(grid_times, resampled)
