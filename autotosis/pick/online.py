"""Selection while the score still grows: which highlights can no longer change.

`autotosis live` runs `select.select_segments` itself on the score seen so far (the same
smoothing, hysteresis, minimum length, pads and merging as compile, minus the reel's budget,
which only the reel at the end applies) and asks this module which of its highlights are
closed and which are final. A highlight is closed once the score has stayed under the leave
threshold for its whole tail (`pad_after`): live cuts its clip then. It is final once
nothing still to come can touch it:

- it is closed, and the score has stayed quiet for as long again as a later moment would
  need to be merged into it (`merge_gap` plus that moment's own `pad_before`);
- no moment still running began close enough to be merged into it once it lasts `min_event`.

Waiting for final would hold every clip back by the merge reach (6 s by default); a closed
highlight that a later moment then joins is cut again, whole, and the new clip says which
one it replaces.

Only "settled" samples count: the centred running median needs half its window of future
samples, so the last few values of the smoothed score may still move.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from autotosis.core.timeline import Segment, Timeline
from autotosis.pick.select import SelectConfig, hysteresis, select_segments, smoothed_score


@dataclass(frozen=True)
class Online:
    """What selection can say now: `final` highlights, `closed` ones (the final ones and those
    a later moment could still join), `open` ones (found, their tail still to come), and
    `keep_from`, the earliest stream second a highlight still to be finalised may start at
    (the replay buffer keeps from there)."""

    final: list[Segment]
    keep_from: float
    closed: list[Segment] = dataclasses.field(default_factory=list)
    open: list[Segment] = dataclasses.field(default_factory=list)


def settled_until(score: Timeline, config: SelectConfig) -> float:
    """The stream second up to which the smoothed score is what the whole stream will give."""
    if len(score) == 0:
        return 0.0
    window = max(1, round(config.smooth / score.step)) if config.smooth > 0 else 1
    half = window // 2  # selection rounds the window up to odd: it reaches `half` samples ahead
    last = max(0, len(score) - 1 - half)
    return float(score.times[last]) + score.step / 2


def online(score: Timeline, config: SelectConfig, settled: float | None = None) -> Online:
    """The highlights of `score` (the stream so far) that are final, as `select_segments`
    finds them on it; `settled` (default: `settled_until`) is how far the score is known."""
    if len(score) == 0:
        return Online([], 0.0, [])
    if settled is None:
        settled = settled_until(score, config)
    found = select_segments(score, dataclasses.replace(config, max_length=None, top=None), None)
    smoothed = smoothed_score(score, config)
    known = int(np.searchsorted(score.times + score.step / 2, settled + 1e-9, side="right"))
    mask = hysteresis(smoothed[:known], config.enter, min(config.resolved_leave, config.enter))
    running_from = None  # where the moment still going on at the settled edge began
    if known and mask[-1]:
        first = known - 1
        while first > 0 and mask[first - 1]:
            first -= 1
        running_from = max(0.0, float(score.times[first]) - score.step / 2)
    reach = config.merge_gap + config.pad_before  # how far after a highlight a later one still merges
    final, closed = [], []
    for seg in found:
        if seg.end < settled and (running_from is None or running_from > seg.end):
            closed.append(seg)
        quiet_after = seg.end + reach < settled
        blocked = running_from is not None and running_from <= seg.end + reach
        if quiet_after and not blocked:
            final.append(seg)
    pending = [seg.start for seg in found if seg not in final]
    if running_from is not None:
        pending.append(running_from - config.pad_before)
    keep_from = min(pending) if pending else settled - config.pad_before - config.smooth
    return Online(final, max(0.0, keep_from), closed, [seg for seg in found if seg not in closed])
