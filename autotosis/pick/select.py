"""Score timeline -> highlight segments, in plain numpy.

The steps run in a fixed order, each a small pure function:

    smooth -> hysteresis mask -> events -> drop short -> pad -> merge near -> budget

A sample at time t stands for the span [t - step/2, t + step/2) (nearest-sample
coverage), so events start and end between samples, never on one side of them.
Peak and mean of an event are read from the unsmoothed scores inside the event,
before padding: they describe the moment, not the lead-in around it. Each highlight
also keeps its cores: the events themselves before padding (several when neighbours
merged), so the reaction can be told from its lead-in and tail later (review -> labels).

`loudness_score` turns the loudness timeline into a 0..1 score like the model's, so
one selection serves every signal and their combinations (see signals/fuse.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from autotosis.core.timeline import Segment, Timeline

# Hysteresis: once a highlight has started it lasts while the score stays above this
# share of the entry threshold, so a brief dip mid-rant does not cut it in two.
LEAVE_RATIO = 0.75


@dataclass(frozen=True)
class SelectConfig:
    """Selection defaults, written once; `autotosis compile` and `eval` options read them."""

    enter: float = 0.5  # score that starts a highlight (compile uses the model's validation threshold)
    leave: float | None = None  # score that ends it; None: LEAVE_RATIO x enter
    smooth: float = 1.0  # seconds of centred running median: one odd frame is not a reaction
    min_event: float = 1.0  # seconds above the threshold (before padding) to count as a moment
    pad_before: float = 3.0  # seconds of build-up kept before the moment: the reel needs the cause
    pad_after: float = 1.5  # seconds after it, so the reaction is not cut mid-word
    merge_gap: float = 3.0  # padded highlights closer than this are joined: no 2 s jump cuts
    max_length: float | None = None  # reel budget in seconds: the best highlights that fit
    top: int | None = None  # keep only the N best highlights

    @property
    def resolved_leave(self) -> float:
        return self.leave if self.leave is not None else self.enter * LEAVE_RATIO


@dataclass(frozen=True)
class _Event:
    """A highlight under construction: span plus what ranks it."""

    start: float
    end: float
    peak: float
    mean: float
    peak_time: float
    label: str = ""
    cores: tuple[tuple[float, float], ...] = ()  # the events before padding, in time order

    @property
    def duration(self) -> float:
        return self.end - self.start


# ---------------------------------------------------------------- score transforms


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred running median over `window` (odd) samples; the edges take the median of what exists.

    A median, not a mean: it removes any run shorter than half the window (one odd frame,
    a click) yet keeps a longer run's level and edges exactly, so a 1-2 s scream still
    scores what the model gave it. A 1 s mean lowered such a scream under the threshold.
    """
    values = values.astype(np.float64)
    if window <= 1 or len(values) == 0:
        return values
    half = window // 2
    padded = np.pad(values, half, constant_values=np.nan)
    return np.nanmedian(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)


def hysteresis(values: np.ndarray, enter: float, leave: float) -> np.ndarray:
    """True from a sample >= `enter` until the first sample after it below `leave`."""
    mask = np.zeros(len(values), dtype=bool)
    active = False
    above_leave = values >= leave
    above_enter = values >= enter
    for i in range(len(values)):
        active = above_leave[i] if active else bool(above_enter[i])
        mask[i] = active
    return mask


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] index pairs of each run of True."""
    padded = np.r_[False, mask, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def baseline(levels: np.ndarray, step: float, block: float = 60.0, span: float = 600.0) -> np.ndarray:
    """The typical level around each sample: median of the surrounding `span` seconds.

    Block medians (one per `block` seconds), then a running median over the blocks,
    interpolated back to the samples: it follows a stream getting louder over hours
    (another game, music turned up) at the cost of a few thousand numbers for any length.
    """
    if len(levels) == 0:
        return levels.astype(np.float64)
    per_block = max(1, round(block / step))
    count = -(-len(levels) // per_block)
    medians = np.array([np.median(levels[k * per_block:(k + 1) * per_block]) for k in range(count)])
    half = max(0, round(span / block) // 2)
    running = np.array([np.median(medians[max(0, k - half):k + half + 1]) for k in range(count)])
    centres = (np.arange(count) + 0.5) * per_block
    return np.interp(np.arange(len(levels)), centres, running)


# Loudness -> score, calibrated on the VOD itself. "Loud" is LOUD_DB over the local
# typical level (roughly twice as loud to the ear: a shout over the speaking voice), unless
# the VOD never gets that loud: a mixed, compressed stream soundtrack may rarely rise 10 dB
# over its median, so then "loud" starts where the VOD's own loudest (100 - LOUD_PERCENTILE) %
# of sounding time starts, but never within NOISE_SIGMAS x the ordinary wobble of the level
# (read from the quiet half of the distribution) nor under MIN_LOUD_DB: the small ups and
# downs of a steady track are not moments. The logistic scores 0.5 there; its slope scales
# with it (2.5 dB at 10 dB: +5 dB scores about 0.1 and +15 dB about 0.9).
LOUD_DB = 10.0
MIN_LOUD_DB = 1.5
NOISE_SIGMAS = 4.0
LOUD_PERCENTILE = 90.0
LOUD_SLOPE_DB = 2.5
SILENCE_MARGIN_DB = 1.0


def loud_excess(loud: Timeline, silence_db: float = -90.0) -> tuple[np.ndarray, np.ndarray]:
    """(dB over the local baseline per window, which windows are sounding, not digital silence).

    Digital silence (muted mic, BRB screens) is left out of the baseline, so a quiet
    stream's normal talking does not look loud next to it.
    """
    levels = loud.values.astype(np.float64)
    sounding = levels > silence_db + SILENCE_MARGIN_DB
    filled = levels.copy()
    if sounding.any() and not sounding.all():
        filled[~sounding] = np.median(levels[sounding])
    return levels - baseline(filled, loud.step), sounding


def loud_point(excess: np.ndarray, sounding: np.ndarray) -> float:
    """dB over the baseline that scores 0.5 on this VOD (see LOUD_PERCENTILE)."""
    if not sounding.any():
        return LOUD_DB
    low, middle, high = np.percentile(excess[sounding], [16.0, 50.0, LOUD_PERCENTILE])
    floor = max(MIN_LOUD_DB, NOISE_SIGMAS * (middle - low))
    return float(min(max(high, floor), LOUD_DB))


def loudness_score(loud: Timeline, silence_db: float = -90.0) -> Timeline:
    """dBFS per window -> 0..1 "how much louder than usual", relative to the local baseline
    and calibrated on the VOD's own distribution (see LOUD_DB)."""
    if len(loud) == 0:
        return Timeline(loud.times.copy(), loud.values.astype(np.float64))
    excess, sounding = loud_excess(loud, silence_db)
    point = loud_point(excess, sounding)
    slope = LOUD_SLOPE_DB * point / LOUD_DB
    score = 1.0 / (1.0 + np.exp(-np.clip((excess - point) / slope, -50, 50)))
    return Timeline(loud.times.copy(), score)


# ---------------------------------------------------------------- events


def smoothed_score(score: Timeline, config: SelectConfig) -> np.ndarray:
    """The score as the thresholds see it: after the centred `config.smooth` running median."""
    window = max(1, round(config.smooth / score.step)) if config.smooth > 0 else 1
    window += 1 - window % 2  # odd, so the average stays centred on its sample
    return smooth(score.values, window)


def events(score: Timeline, config: SelectConfig, duration: float | None = None) -> list[_Event]:
    """Spans where the smoothed score crosses `enter`, held until it drops below `leave`."""
    if len(score) == 0:
        return []
    step = score.step
    smoothed = smoothed_score(score, config)
    mask = hysteresis(smoothed, config.enter, min(config.resolved_leave, config.enter))
    end_limit = duration if duration is not None else float(score.times[-1]) + step / 2
    found = []
    for first, last in _runs(mask):
        start = max(0.0, float(score.times[first]) - step / 2)
        # The last sample speaks for the rest of the VOD after it.
        end = end_limit if last == len(score) - 1 else min(end_limit, float(score.times[last]) + step / 2)
        if end <= start:
            continue
        raw = score.values[first:last + 1].astype(np.float64)
        peak_index = int(np.argmax(raw))
        found.append(_Event(start, end, float(raw[peak_index]), float(raw.mean()),
                            float(score.times[first + peak_index]), cores=((start, end),)))
    return found


def pad(found: list[_Event], before: float, after: float, duration: float | None) -> list[_Event]:
    """Widen each event by the lead-in and the tail, within the VOD."""
    limit = duration if duration is not None else float("inf")
    return [dataclasses.replace(e, start=max(0.0, e.start - before), end=min(limit, e.end + after))
            for e in found]


def merge(found: list[_Event], gap: float) -> list[_Event]:
    """Join events (in time order) that overlap or lie closer than `gap` seconds."""
    merged: list[_Event] = []
    for event in sorted(found, key=lambda e: e.start):
        if merged and event.start - merged[-1].end <= gap:
            last = merged.pop()
            weight_a, weight_b = last.duration, event.duration
            mean = (last.mean * weight_a + event.mean * weight_b) / max(weight_a + weight_b, 1e-9)
            best = last if last.peak >= event.peak else event
            merged.append(_Event(last.start, max(last.end, event.end), best.peak, mean, best.peak_time,
                                 last.label, last.cores + event.cores))
        else:
            merged.append(event)
    return merged


def clip_cores(cores: tuple[tuple[float, float], ...], start: float,
               end: float) -> tuple[tuple[float, float], ...]:
    """The parts of `cores` inside [start, end): what is left of the reactions in a trimmed span."""
    return tuple((max(a, start), min(b, end)) for a, b in cores if min(b, end) > max(a, start))


def _rank(event: _Event) -> tuple[float, float, float]:
    """Best first: higher peak, then higher mean, then earlier."""
    return (-event.peak, -event.mean, event.start)


def budget(found: list[_Event], max_length: float | None, top: int | None) -> list[_Event]:
    """The best events (by peak, then mean) that fit `max_length` seconds and `top` count.

    Greedy by rank: an event that does not fit is skipped and smaller ones may still
    fill the budget. If even the best event is longer than the whole budget, it is
    trimmed to the budget around its peak rather than leaving the reel empty.
    """
    ranked = sorted(found, key=_rank)
    if top is not None:
        ranked = ranked[:top]
    if max_length is None:
        return sorted(ranked, key=lambda e: e.start)
    kept: list[_Event] = []
    total = 0.0
    for event in ranked:
        if total + event.duration <= max_length + 1e-9:
            kept.append(event)
            total += event.duration
    if not kept and ranked and max_length > 0:
        best = ranked[0]
        start = min(max(best.start, best.peak_time - max_length / 2), best.end - max_length)
        kept.append(_Event(start, start + max_length, best.peak, best.mean, best.peak_time, best.label,
                           clip_cores(best.cores, start, start + max_length)))
    return sorted(kept, key=lambda e: e.start)


def select_segments(score: Timeline, config: SelectConfig = SelectConfig(),
                    duration: float | None = None) -> list[Segment]:
    """The highlights of a VOD, in time order, each with its peak and mean score."""
    found = [e for e in events(score, config, duration) if e.duration >= config.min_event - 1e-9]
    found = merge(pad(found, config.pad_before, config.pad_after, duration), config.merge_gap)
    return [Segment(e.start, e.end, e.peak, e.mean, cores=e.cores)
            for e in budget(found, config.max_length, config.top)]


def select_labelled(scores: dict[str, Timeline], configs: dict[str, SelectConfig],
                    duration: float | None = None) -> list[Segment]:
    """Highlights of several labels in one reel, in time order, each segment labelled.

    Each label is chosen on its own score with its own config (its own threshold); the
    budget (`max_length`, `top` of the first config) is shared, ranked by peak across
    labels. Where two labels' highlights overlap (a laugh right after a rage, padding
    into each other), the later one starts where the earlier ends, so no second of the
    VOD is in the reel twice; one left under `min_event` is dropped.
    """
    found: list[_Event] = []
    for label, score in scores.items():
        config = configs[label]
        own = [e for e in events(score, config, duration) if e.duration >= config.min_event - 1e-9]
        found += [dataclasses.replace(e, label=label)
                  for e in merge(pad(own, config.pad_before, config.pad_after, duration), config.merge_gap)]
    untangled: list[_Event] = []
    for event in sorted(found, key=lambda e: (e.start, -e.peak)):
        if untangled and event.start < untangled[-1].end:
            start = untangled[-1].end
            if event.end - start < max(configs[event.label].min_event, 0.5):
                continue
            event = dataclasses.replace(event, start=start, peak_time=max(event.peak_time, start),
                                        cores=clip_cores(event.cores, start, event.end))
        untangled.append(event)
    shared = next(iter(configs.values()))
    return [Segment(e.start, e.end, e.peak, e.mean, e.label, e.cores)
            for e in budget(untangled, shared.max_length, shared.top)]


def explain_empty(score: Timeline, config: SelectConfig, duration: float | None = None) -> str:
    """Why `select_segments` found nothing, in words that say which option to change."""
    if len(score) == 0:
        return "the score timeline is empty"
    found = events(score, config, duration)
    if not found:
        highest = float(np.max(smoothed_score(score, config)))
        smoothed = f" after {config.smooth:g}s smoothing" if config.smooth > 0 else ""
        return (f"no moment scored {config.enter:.2f} or more (the highest{smoothed} is {highest:.2f}); "
                f"lower --threshold below {highest:.2f}")
    longest = max(e.duration for e in found)
    return (f"every moment above {config.enter:.2f} is shorter than --min-event {config.min_event:g}s "
            f"(the longest is {longest:.1f}s); lower --min-event")
