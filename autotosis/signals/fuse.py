"""Which signals score a VOD, each normalised to one 0..1 scale, and their weighted sum.

Three signals: the face-cam `model`, audio `loudness`, and `chat` replay. `--scorer`
takes any `+`-joined set of them (`fused` is the old name of model+loudness). Each is
brought to a score where 0.5 means "a highlight by this signal's own standard":

- model: its probability, bent so the checkpoint's validation threshold lands on 0.5;
- loudness: `select.loudness_score` (0.5 = loud for this VOD, calibrated on the VOD);
- chat: `chat.chat_timeline`'s score (0.5 = about four times the usual weighted chatters).

A weighted mean of such scores means something: with the default weights, model+chat
selects what the model is sure of, or what it half-believes and chat confirms, but not
what chat alone laughs at (the model was trained on what this streamer wants).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from autotosis.core.errors import AutotosisError, ChatError, MediaError, ModelError
from autotosis.core.paths import MODELS_DIR
from autotosis.core.timeline import Timeline

SIGNALS = ("model", "loudness", "chat")
FUSED = "fused"  # model+loudness, the name it had before chat
# Relative weights. The model is the specific judge (trained on this streamer's labels), so
# it outweighs either generic signal alone; loudness and chat weigh the same. With a model,
# 0.6 vs 0.4: a moment only chat or only loudness likes scores at most 0.4 < 0.5.
MODEL_WEIGHT = 0.6
LOUDNESS_WEIGHT = 0.4
CHAT_WEIGHT = 0.4


def parse_scorer(text: str) -> tuple[str, ...]:
    """"model+chat" -> ("model", "chat") in canonical order; "fused" -> model+loudness."""
    names: list[str] = []
    for part in text.replace(" ", "").lower().split("+"):
        expanded = ["model", "loudness"] if part == FUSED else [part]
        for name in expanded:
            if name not in SIGNALS:
                raise AutotosisError(f"--scorer: unknown signal {part!r} "
                                     f"(use {', '.join(SIGNALS)} or {FUSED}, joined with +)")
            if name not in names:
                names.append(name)
    return tuple(name for name in SIGNALS if name in names)


def scorer_name(signals: Sequence[str]) -> str:
    """The scorer's name as outputs say it: model, loudness, fused, model+chat, ..."""
    ordered = tuple(name for name in SIGNALS if name in signals)
    return FUSED if ordered == ("model", "loudness") else "+".join(ordered)


def parse_weights(text: str | None) -> dict[str, float]:
    """"model=0.6,chat=0.4" -> {"model": 0.6, "chat": 0.4} (`--weights`)."""
    weights: dict[str, float] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = name.strip().lower()
        if not sep or name not in SIGNALS:
            raise AutotosisError(f"--weights: {item.strip()!r} is not NAME=WEIGHT with NAME one of "
                                 f"{', '.join(SIGNALS)}")
        try:
            weight = float(value)
        except ValueError:
            raise AutotosisError(f"--weights: {value.strip()!r} is not a number") from None
        if not weight >= 0:
            raise AutotosisError(f"--weights: {name} weight must be 0 or more, got {value.strip()}")
        weights[name] = weight
    return weights


def resolve_weights(signals: Sequence[str], fuse_weight: float = LOUDNESS_WEIGHT,
                    overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The weight of each signal used, summing to 1. `fuse_weight` is loudness's share next to
    the model (`--fuse-weight`, as before chat); `overrides` (`--weights`) win over both."""
    base = {"model": 1.0 - fuse_weight, "loudness": fuse_weight, "chat": CHAT_WEIGHT}
    base.update(overrides or {})
    used = {name: base[name] for name in signals}
    total = sum(used.values())
    if total <= 0:
        raise AutotosisError(f"--weights: the signals used ({', '.join(signals)}) weigh nothing together")
    return {name: weight / total for name, weight in used.items()}


def model_signal(probabilities: Timeline, threshold: float) -> Timeline:
    """The model's probability bent piecewise-linearly so `threshold` scores 0.5 (0 and 1 stay)."""
    p = probabilities.values.astype(np.float64)
    t = min(max(float(threshold), 1e-6), 1 - 1e-6)
    values = np.where(p < t, 0.5 * p / t, 0.5 + 0.5 * (p - t) / (1 - t))
    return Timeline(probabilities.times.copy(), values)


def combine(parts: Mapping[str, Timeline], weights: Mapping[str, float]) -> Timeline:
    """Weighted mean of normalised signals on the first one's grid (model, then loudness, then chat).

    The others are interpolated onto it, holding their end values past their ends.
    """
    names = [name for name in SIGNALS if name in parts]
    if not names:
        raise AutotosisError("no signal to score the VOD with")
    grid = parts[names[0]]
    total = np.zeros(len(grid), dtype=np.float64)
    for name in names:
        part = parts[name]
        values = part.values if part is grid else (
            np.interp(grid.times, part.times, part.values) if len(part) else np.zeros(len(grid)))
        total += weights[name] * values
    return Timeline(grid.times.copy(), total / sum(weights[name] for name in names))


def choose_signals(asked: str | None, has_model: bool, has_chat: bool, has_audio: bool,
                   vod: object) -> tuple[tuple[str, ...], list[str]]:
    """(signals to score with, notes) from `--scorer` (None: the defaults) and what is at hand.

    Defaults: the model when there is one, else loudness; plus chat when a replay is given.
    A set asking for loudness on a silent VOD drops it (with a note) unless nothing would be left.
    """
    notes = []
    if asked:
        signals = parse_scorer(asked)
    else:
        signals = ("model",) if has_model else ("loudness",)
        if has_chat:
            signals += ("chat",)
        if not has_model:
            notes.append(f"no trained model in {MODELS_DIR}/: choosing highlights by "
                         f"{' and '.join(signals)} alone (train one with `autotosis train`, or pass --model)")
    name = scorer_name(signals)
    if "model" in signals and not has_model:
        raise ModelError(f"--scorer {name} needs a model: pass --model PATH or run `autotosis train`")
    if "chat" in signals and not has_chat:
        raise ChatError(f"--scorer {name} needs a chat replay: pass --chat FILE")
    if "loudness" in signals and not has_audio:
        if signals == ("loudness",):
            raise MediaError(f"{vod}: has no audio, so loudness cannot pick highlights; train a model first")
        signals = tuple(s for s in signals if s != "loudness")
        notes.append(f"{vod}: no audio; scoring with {scorer_name(signals)} alone")
    return signals, notes
