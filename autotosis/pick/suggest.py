"""Which moments of a VOD are most worth a person's answer: pure ranking over timelines.

`autotosis suggest` asks a person about a few windows of a long VOD instead of making them
watch it. This module decides which, from the signals `run/suggest.py` measures:

- without a model: the strongest loudness peaks (dB over the VOD's own usual level, the
  score selection uses) and chat bursts, plus a few calm stretches spread over the VOD
  (quiet, no burst) as cheap negatives;
- with a model: the moments it is least sure about (smoothed peak near its threshold), a
  few confident positives to confirm, loud or chat moments it scores low (possible misses),
  and a few calm stretches;
- `extra` candidates made elsewhere (e.g. community clips cut from this VOD, kind
  "clipped") compete for a share of the slots.

Each kind has a share of `count`; the kinds interleave in the ranking (the best of each
first), windows never overlap, no two are closer than `spread` seconds (one a minute by
default), and nothing within `answered_pad` of a span already answered is asked again.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from autotosis.core.timeline import Segment, Timeline
from autotosis.pick.select import SelectConfig, loud_excess, loudness_score, smoothed_score

KINDS = ("clipped", "unsure", "loud", "chat", "missed", "confirm", "calm")
GRID = 0.5  # seconds: every signal is read on one grid this fine (loudness's own window)


@dataclass(frozen=True)
class Candidate:
    """One question for the person: is there a `label` reaction in [start, end)?

    `score` (0..1) is how strongly its own kind speaks for asking (the loudness or chat
    score, the model's doubt, its confidence, the calm); `peak` is the moment inside the
    window that made it a candidate. `kind`: one of KINDS.
    """

    start: float
    end: float
    reason: str
    score: float
    label: str
    kind: str = "loud"
    peak: float | None = None  # None: the middle of the window

    def __post_init__(self) -> None:
        if not self.end > self.start >= 0:
            raise ValueError(f"a candidate needs 0 <= start < end, got {self.start}..{self.end}")
        if self.peak is None:
            object.__setattr__(self, "peak", (self.start + self.end) / 2)

    @property
    def moment(self) -> float:
        """Where in the window to look: the peak (set by __post_init__ when not given)."""
        assert self.peak is not None
        return self.peak

    @property
    def span(self) -> Segment:
        return Segment(self.start, self.end)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SuggestSignals:
    """What the ranking reads, all on the VOD's time. Any of them may be missing."""

    duration: float
    loudness: Timeline | None = None  # dBFS per window (signals.loudness)
    chat: Timeline | None = None  # chat's 0..1 burst score, already moved by chat's delay
    chatters: Timeline | None = None  # weighted distinct chatters per chat window (same times)
    chat_usual: Timeline | None = None  # the usual weighted chatters there (chat's rolling baseline)
    model: Timeline | None = None  # the model's probability for the label
    threshold: float | None = None  # the checkpoint's decision threshold for the label


@dataclass(frozen=True)
class SuggestConfig:
    """Suggestion defaults, written once; `autotosis suggest` options read them."""

    count: int = 20  # questions per round: a few minutes of answers, enough to retrain on
    before: float = 6.0  # seconds of window before the peak: a reaction builds up before it is loudest
    after: float = 4.0  # ... and after it: 10 s in all, short enough to judge at a glance
    spread: float = 60.0  # no two candidates closer (one a minute): answers about all of the VOD
    dense: bool = False  # True: candidates may sit side by side (only never overlapping)
    calm_share: float = 0.2  # without a model: calm stretches, cheap negatives from all over the VOD
    model_calm_share: float = 0.1  # with one: fewer, its own doubts are the better negatives
    confirm_share: float = 0.2  # with a model: its confident positives, to catch what it learnt wrong
    missed_share: float = 0.2  # with a model: loud/chat moments it scores low, possible misses
    clipped_share: float = 0.25  # at most this share for `extra` (viewers' clips), best first
    unsure_band: float = 0.2  # "unsure": bent score within 0.5 +- this (threshold -> 0.5, see _bend)
    moment_floor: float = 0.2  # a loud/chat peak under this is no moment; a short bang over it earns a "no"
    calm_ceiling: float = 0.2  # a window whose every signal stays under this is calm
    core: float = 2.0  # seconds a window keeps either side of its moment when slid clear of another
    answered_pad: float = 2.0  # seconds around an answered span that are not asked about again
    smooth: float = SelectConfig().smooth  # the model's score as selection sees it


def _on_grid(timeline: Timeline | None, grid: np.ndarray, fill: float = 0.0) -> np.ndarray | None:
    if timeline is None or len(timeline) == 0:
        return None
    return np.interp(grid, timeline.times, timeline.values.astype(np.float64), left=fill, right=fill)


def _bend(p: np.ndarray, threshold: float) -> np.ndarray:
    """Probabilities bent so `threshold` lands on 0.5 (as signals.fuse.model_signal does)."""
    t = min(max(float(threshold), 1e-6), 1 - 1e-6)
    return np.where(p < t, 0.5 * p / t, 0.5 + 0.5 * (p - t) / (1 - t))


def _rolling(values: np.ndarray, width: int, how: str = "max") -> np.ndarray:
    """Centred rolling max (or min) over `width` samples; edges use what exists."""
    if width <= 1 or len(values) == 0:
        return values.copy()
    half = width // 2
    fill = -np.inf if how == "max" else np.inf
    padded = np.pad(values.astype(np.float64), half, constant_values=fill)
    view = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return view.max(axis=1) if how == "max" else view.min(axis=1)


def peaks(values: np.ndarray, radius: int, floor: float = -np.inf) -> np.ndarray:
    """Indices of local maxima (the highest within `radius` samples either side) at or above
    `floor`, highest first; of a flat top, the first sample."""
    if len(values) == 0:
        return np.zeros(0, dtype=int)
    top = _rolling(values, 2 * radius + 1, "max")
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


def proposals(signals: SuggestSignals, label: str, config: SuggestConfig = SuggestConfig()
              ) -> dict[str, list[Candidate]]:
    """Every candidate of each kind, best first, before shares, spread and answered spans."""
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
        elif plan.bent[lo:hi].max() < 0.5 - config.unsure_band:
            assert plan.model is not None
            out["missed"].append(make("missed", i, moment[i], "; ".join(said) + f"; model only "
                                      f"{plan.model[lo:hi].max():.2f} (possible miss)"))
    if plan.bent is not None and plan.model is not None:
        for i in peaks(plan.bent, radius):
            doubt = abs(plan.bent[i] - 0.5)
            p = f"{plan.model[i]:.2f}"
            if doubt <= config.unsure_band:
                out["unsure"].append(make("unsure", i, 1.0 - doubt / max(config.unsure_band, 1e-9),
                                          f"model unsure: {p} near {plan.threshold:.2f}"))
            elif plan.bent[i] > 0.5:
                out["confirm"].append(make("confirm", i, plan.model[i], f"model sure: {p} over "
                                           f"{plan.threshold:.2f} (confirm)"))
    out["calm"] = _calm(plan, label, config, duration, radius)
    return out


def _calm(plan: _Plan, label: str, config: SuggestConfig, duration: float, radius: int) -> list[Candidate]:
    """The calmest window of each of `count` equal parts of the VOD, evenly spread ones first."""
    busy = _rolling(plan.activity(), 2 * radius + 1, "max")  # the busiest sample in each window
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


def place(c: Candidate, taken: Sequence[tuple[float, float]], duration: float,
          core: float) -> Candidate | None:
    """`c` if it overlaps none of the `taken` spans, else `c` slid (as little as it takes) to
    a free place that keeps its moment `core` seconds inside and stays within the VOD; None
    when there is none."""
    def free(start: float, end: float) -> bool:
        return not any(start < b and a < end for a, b in taken)

    if free(c.start, c.end):
        return c
    length = c.end - c.start
    lo, hi = max(0.0, c.moment + core - length), min(c.moment - core, duration - length)
    starts = [float(math.ceil(b)) for _, b in taken] + [float(math.floor(a - length)) for a, _ in taken]
    for start in sorted(starts, key=lambda x: abs(x - c.start)):
        if lo - 1e-9 <= start <= hi + 1e-9 and free(start, start + length):
            return dataclasses.replace(c, start=start, end=start + length)
    return None


GROUPS = {"loud": "moment", "chat": "moment"}  # kinds that share one share, ranked by score together


def shares(config: SuggestConfig, with_model: bool, extra: int) -> dict[str, int]:
    """How many of `count` each group of kinds may take in the first pass (the rest fill any gap).

    Without a model: "moment" (loud and chat, ranked together) and calm; with one: unsure,
    confirm, missed and calm. Clipped (`extra`) takes up to its share of either.
    """
    count = config.count
    clipped = min(extra, math.floor(count * config.clipped_share + 0.5))
    if with_model:
        out = {"confirm": round(count * config.confirm_share), "missed": round(count * config.missed_share),
               "calm": round(count * config.model_calm_share)}
        out["unsure"] = max(0, count - clipped - sum(out.values()))
    else:
        out = {"calm": round(count * config.calm_share)}
        out["moment"] = max(0, count - clipped - out["calm"])
    return {"clipped": clipped, **out}


def rank(signals: SuggestSignals, label: str, config: SuggestConfig = SuggestConfig(),
         answered: Sequence[Segment] = (), extra: Sequence[Candidate] = ()) -> list[Candidate]:
    """The `config.count` candidates most worth asking about, best first.

    `answered`: spans the person already answered for `label` (label file segments and calm
    spans); nothing within `answered_pad` of them is asked again. `extra`: candidates made
    elsewhere (kind "clipped": viewers' clips, best first) that take up to `clipped_share`.
    """
    groups: dict[str, list[Candidate]] = {}
    for kind, items in proposals(signals, label, config).items():
        groups.setdefault(GROUPS.get(kind, kind), []).extend(items)
    groups["moment"].sort(key=lambda c: -c.score)
    groups["clipped"] = list(extra)
    with_model = signals.model is not None and len(signals.model) > 0
    quota = shares(config, with_model, len(extra))
    blocked = [(s.start - config.answered_pad, s.end + config.answered_pad) for s in answered]
    gap = 0.0 if config.dense else config.spread
    chosen: list[Candidate] = []

    def fits(c: Candidate) -> Candidate | None:
        """`c`, slid clear of the windows taken and the answered spans, when it may be asked."""
        if any(a <= c.moment < b for a, b in blocked):
            return None
        if any(abs(c.moment - o.moment) < gap for o in chosen):
            return None
        return place(c, [*blocked, *((o.start, o.end) for o in chosen)], signals.duration, config.core)

    # first pass: each group up to its share, interleaved (the k-th of a group of share q at k/q);
    # calm stretches last, as they can be anywhere and must not push a moment out
    order = sorted(quota, key=lambda g: g == "calm")
    turn: dict[Candidate, tuple[float, int]] = {}
    tried: set[Candidate] = set()  # taken in the first pass (as proposed, before any sliding)
    for calm in (False, True):
        keyed = sorted(((k / quota[g], order.index(g), g, c) for g, items in groups.items()
                        if quota.get(g) and (g == "calm") == calm for k, c in enumerate(items)),
                       key=lambda x: (x[0], x[1]))
        used = dict.fromkeys(quota, 0)
        for _, where, group, c in keyed:
            if len(chosen) >= config.count:
                break
            placed = fits(c) if used[group] < quota[group] else None
            if placed is not None:
                turn[placed] = (used[group] / quota[group], where)
                chosen.append(placed)
                used[group] += 1
                tried.add(c)
    chosen.sort(key=lambda c: turn[c])  # shown interleaved too: the best of each kind first
    # second pass: any slot left goes to the best remaining candidate of any kind, calm last
    rest = sorted((c for items in groups.values() for c in items if c not in tried),
                  key=lambda c: (c.kind == "calm", -c.score))
    for c in rest:
        if len(chosen) >= config.count:
            break
        placed = fits(c)
        if placed is not None:
            chosen.append(placed)
    return chosen
