"""What a suggestion is: the question asked, the signals it is read from, the defaults.

Apart from the ranking (`suggest`) and the reading of the signals (`proposals`) so that both,
the run that measures the signals and the pages that show the questions share these records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from autotosis.core.timeline import Segment, Timeline
from autotosis.pick.select import SelectConfig

KINDS = ("clipped", "unsure", "loud", "chat", "missed", "confirm", "calm")


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
    strong: float = 0.5  # loud or a burst by the VOD's own standard: weaker moments only fill what is left
    calm_ceiling: float = 0.2  # a window whose every signal stays under this is calm
    core: float = 2.0  # seconds a window keeps either side of its moment when slid clear of another
    answered_pad: float = 2.0  # seconds around an answered span that are not asked about again
    smooth: float = SelectConfig().smooth  # the model's score as selection sees it
