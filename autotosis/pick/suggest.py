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
import math
from collections.abc import Sequence

from autotosis.core.timeline import Segment
from autotosis.pick.candidates import KINDS, Candidate, SuggestConfig, SuggestSignals
from autotosis.pick.proposals import peaks, proposals

__all__ = ["KINDS", "Candidate", "SuggestConfig", "SuggestSignals", "peaks", "place", "proposals", "rank",
           "shares"]


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


def rank(signals: SuggestSignals, label: str, config: SuggestConfig | None = None,
         answered: Sequence[Segment] = (), extra: Sequence[Candidate] = ()) -> list[Candidate]:
    """The `config.count` candidates most worth asking about, best first.

    `answered`: spans the person already answered for `label` (label file segments and calm
    spans); nothing within `answered_pad` of them is asked again. `extra`: candidates made
    elsewhere (kind "clipped": viewers' clips, best first) that take up to `clipped_share`.
    """
    config = config or SuggestConfig()
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
    # calm stretches last, as they can be anywhere and must not push a moment out, and weak
    # moments (under `strong`) not at all
    order = sorted(quota, key=lambda g: g == "calm")
    turn: dict[Candidate, tuple[float, int]] = {}
    tried: set[Candidate] = set()  # taken in the first pass (as proposed, before any sliding)
    for calm in (False, True):
        keyed = sorted(((k / quota[g], order.index(g), g, c) for g, items in groups.items()
                        if quota.get(g) and (g == "calm") == calm
                        for k, c in enumerate(c for c in items if g != "moment" or c.score >= config.strong)),
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
