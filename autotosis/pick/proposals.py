"""What each signal proposes to ask about: loudness peaks, chat bursts, the model's doubts,
confident positives and possible misses, calm stretches; every one a window around its moment.

Apart from the ranking (`suggest`), which only shares the proposals out, spreads them and
skips what was answered: this is the numpy that reads the timelines.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autotosis.core.timeline import Timeline
from autotosis.pick.candidates import KINDS, Candidate, SuggestConfig, SuggestSignals
from autotosis.pick.select import SelectConfig, loud_excess, loudness_score, smoothed_score

GRID = 0.5  # seconds: every signal is read on one grid this fine (loudness's own window)


def _on_grid(timeline: Timeline | None, grid: np.ndarray, fill: float = 0.0) -> np.ndarray | None:
    if timeline is None or len(timeline) == 0:
        return None
    return np.interp(grid, timeline.times, timeline.values.astype(np.float64), left=fill, right=fill)


def _bend(p: np.ndarray, threshold: float) -> np.ndarray:
    """Probabilities bent so `threshold` lands on 0.5 (as signals.fuse.model_signal does)."""
    t = min(max(float(threshold), 1e-6), 1 - 1e-6)
    return np.where(p < t, 0.5 * p / t, 0.5 + 0.5 * (p - t) / (1 - t))


def _rolling_max(values: np.ndarray, width: int) -> np.ndarray:
    """Centred rolling max over `width` samples; edges use what exists."""
    if width <= 1 or len(values) == 0:
        return values.copy()
    half = width // 2
    padded = np.pad(values.astype(np.float64), half, constant_values=-np.inf)
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1).max(axis=1)


def peaks(values: np.ndarray, radius: int, floor: float = -np.inf) -> np.ndarray:
    """Indices of local maxima (the highest within `radius` samples either side) at or above
    `floor`, highest first; of a flat top, the first sample."""
    if len(values) == 0:
        return np.zeros(0, dtype=int)
    top = _rolling_max(values, 2 * radius + 1)
    found = np.flatnonzero((values >= top) & (values >= floor))
    if len(found) > 1:  # a plateau: keep its first sample only
        keep = np.r_[True, (np.diff(found) > radius) | (np.diff(values[found]) != 0)]
        found = found[keep]
    return found[np.argsort(-values[found], kind="stable")]


@dataclass
class _Plan:
    """The grid and every signal on it, read once."""

    grid: np.ndarray
    loud: np.ndarray | None  # 0..1 loudness score
    excess: np.ndarray | None  # dB over the usual level
    chat: np.ndarray | None
    chatters: np.ndarray | None
    usual: np.ndarray | None
    model: np.ndarray | None  # smoothed probability
    bent: np.ndarray | None  # smoothed, bent so the threshold is 0.5
    threshold: float

    @classmethod
    def of(cls, signals: SuggestSignals, config: SuggestConfig) -> _Plan:
        grid = np.arange(0.0, max(signals.duration, GRID), GRID) + GRID / 2
        loud = excess = None
        if signals.loudness is not None and len(signals.loudness):
            loud = _on_grid(loudness_score(signals.loudness), grid)
            excess = _on_grid(Timeline(signals.loudness.times, loud_excess(signals.loudness)[0]), grid)
        model = bent = None
        threshold = signals.threshold if signals.threshold is not None else 0.5
        if signals.model is not None and len(signals.model):
            smoothed = smoothed_score(signals.model, SelectConfig(smooth=config.smooth))
            model = _on_grid(Timeline(signals.model.times, smoothed), grid)
            assert model is not None
            bent = _bend(model, threshold)
        return cls(grid, loud, excess, _on_grid(signals.chat, grid), _on_grid(signals.chatters, grid),
                   _on_grid(signals.chat_usual, grid), model, bent, threshold)

    def moment(self) -> np.ndarray:
        """max(loudness score, chat score) per sample: how much happens, by the cheap signals."""
        parts = [p for p in (self.loud, self.chat) if p is not None]
        return np.maximum.reduce(parts) if parts else np.zeros(len(self.grid))

    def activity(self) -> np.ndarray:
        """The highest of every signal (the model bent to 0.5 at its threshold) per sample."""
        parts = [p for p in (self.loud, self.chat, self.bent) if p is not None]
        return np.maximum.reduce(parts) if parts else np.zeros(len(self.grid))


def _window(peak: float, config: SuggestConfig, duration: float) -> tuple[float, float]:
    """[start, end) of whole seconds around `peak`, `before` + `after` long, inside the VOD."""
    length = config.before + config.after
    start = min(max(0.0, peak - config.before), max(0.0, duration - length))
    end = min(duration, start + length)
    return float(math.floor(start)), float(min(math.ceil(end), math.floor(duration * 1000) / 1000))


def _evidence(plan: _Plan, lo: int, hi: int) -> list[str]:
    """What the cheap signals say about samples lo..hi: "loud: +14 dB over usual", "chat burst: ..."."""
    said = []
    if plan.loud is not None and plan.excess is not None and plan.loud[lo:hi].max() >= 0.5:
        said.append(f"loud: +{plan.excess[lo:hi].max():.0f} dB over usual")
    if plan.chat is not None and plan.chat[lo:hi].max() >= 0.5:
        k = lo + int(np.argmax(plan.chat[lo:hi]))
        who = f"{plan.chatters[k]:.0f} chatters" if plan.chatters is not None else "chat"
        usual = f" (usual {plan.usual[k]:.0f})" if plan.usual is not None else ""
        said.append(f"chat burst: {who}{usual}")
    return said


def proposals(signals: SuggestSignals, label: str, config: SuggestConfig | None = None
              ) -> dict[str, list[Candidate]]:
    """Every candidate of each kind, best first, before shares, spread and answered spans."""
    config = config or SuggestConfig()
    plan = _Plan.of(signals, config)
    duration = signals.duration
    radius = max(1, round((config.before + config.after) / 2 / GRID))
    out: dict[str, list[Candidate]] = {kind: [] for kind in KINDS}

    def make(kind: str, i: int, score: float, reason: str) -> Candidate:
        start, end = _window(float(plan.grid[i]), config, duration)
        return Candidate(start, end, reason, round(float(score), 4), label, kind,
                         round(float(plan.grid[i]), 2))

    def span(i: int) -> tuple[int, int]:
        start, end = _window(float(plan.grid[i]), config, duration)
        return int(start / GRID), max(int(start / GRID) + 1, math.ceil(end / GRID))

    moment = plan.moment()
    for i in peaks(moment, radius, config.moment_floor):
        lo, hi = span(i)
        loud = plan.loud is not None and (plan.chat is None or plan.loud[i] >= plan.chat[i])
        kind = "loud" if loud else "chat"
        said = _evidence(plan, lo, hi) or [
            f"louder than usual: +{plan.excess[i]:.0f} dB" if loud and plan.excess is not None
            else "chat busier than usual"]
        if plan.bent is None:
            out[kind].append(make(kind, i, moment[i], "; ".join(said)))
        elif moment[i] >= config.strong and plan.bent[lo:hi].max() < 0.5 - config.unsure_band:
            assert plan.model is not None
            out["missed"].append(make("missed", i, moment[i], "; ".join(said) + f"; model only "
                                      f"{plan.model[lo:hi].max():.2f} (possible miss)"))
    if plan.bent is not None and plan.model is not None:
        for i in peaks(plan.bent, radius):
            doubt = abs(plan.bent[i] - 0.5)
            p = f"{plan.model[i]:.2f}"
            also = "".join(f"; {e}" for e in _evidence(plan, *span(i)))  # loud or chat there too
            if doubt <= config.unsure_band:
                out["unsure"].append(make("unsure", i, 1.0 - doubt / max(config.unsure_band, 1e-9),
                                          f"model unsure: {p} near {plan.threshold:.2f}{also}"))
            elif plan.bent[i] > 0.5:
                out["confirm"].append(make("confirm", i, plan.model[i], f"model sure: {p} over "
                                           f"{plan.threshold:.2f} (confirm){also}"))
    for kind in ("unsure", "missed"):
        out[kind].sort(key=lambda c: -c.score)
    out["calm"] = _calm(plan, label, config, duration, radius)
    return out


def _calm(plan: _Plan, label: str, config: SuggestConfig, duration: float, radius: int) -> list[Candidate]:
    """The calmest window of each of `count` equal parts of the VOD, evenly spread ones first."""
    busy = _rolling_max(plan.activity(), 2 * radius + 1)  # the busiest sample in each window
    parts = max(1, min(config.count, int(duration // max(config.before + config.after, 1.0))))
    edges = np.linspace(0, len(plan.grid), parts + 1).round().astype(int)
    found: list[tuple[int, Candidate]] = []
    for part, (a, b) in enumerate(itertools.pairwise(edges)):
        if b <= a:
            continue
        i = a + int(np.argmin(busy[a:b]))
        if busy[i] > config.calm_ceiling:
            continue
        start, end = _window(float(plan.grid[i]), config, duration)
        said = ["calm stretch: nothing loud" if plan.loud is not None else "calm stretch"]
        if plan.chat is not None:
            said.append("chat as usual")
        if plan.model is not None:
            said.append(f"model {plan.model[max(0, i - radius):i + radius + 1].max():.2f}")
        found.append((part, Candidate(start, end, ", ".join(said), round(1.0 - float(busy[i]), 4), label,
                                      "calm", round(float(plan.grid[i]), 2))))
    # evenly spread first: the middle part, then always the part farthest from those taken
    order = _spread_order([part for part, _ in found])
    return [c for _, c in sorted(found, key=lambda pc: order[pc[0]])]


def _spread_order(parts: Sequence[int]) -> dict[int, int]:
    """part -> its turn when each next part is the one farthest from every part taken so far
    (the middle one first), so the first few of any number are spread over the whole VOD."""
    left = sorted(parts)
    if not left:
        return {}
    middle = (left[0] + left[-1]) / 2
    taken = [min(left, key=lambda p: abs(p - middle))]
    left.remove(taken[0])
    while left:
        best = max(left, key=lambda p: min(abs(p - t) for t in taken))
        taken.append(best)
        left.remove(best)
    return {part: turn for turn, part in enumerate(taken)}
