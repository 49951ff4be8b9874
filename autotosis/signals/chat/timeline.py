"""Chat replay: the streamer's audience as a highlight signal, before any model is trained.

The chat timeline counts *distinct chatters* per few seconds, each weighted by what they
wrote (a reaction emote or pattern counts fully, other chatter a quarter, bots, `!commands`,
sub/raid notices and copy-pasted floods nothing), against the stream's own rolling
baseline: one spammer, a bot flood or a raid's pasted greeting does not make a highlight,
twenty people typing KEKW at once does. Chat lags the moment it reacts to; `estimate_delay`
finds by how much by sliding chat against another signal.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autotosis.core.errors import ChatError
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timeline import Timeline
from autotosis.pick.select import baseline as rolling_baseline
from autotosis.signals.chat.replay import ChatMessage

# Reaction emotes and words chat types when something happens (laughing, hype, shock).
DEFAULT_REACTIONS = (
    "KEKW", "KEK", "KEKL", "OMEGALUL", "LUL", "LULW", "pepeLaugh", "ICANT", "LOL", "LMAO", "LMFAO",
    "ROFL", "xdd", "Pog", "PogU", "PogChamp", "POGGERS", "Poggers", "PagMan", "PogO", "WutFace",
    "monkaS", "monkaW", "D:", "Jebaited", "NotLikeThis", "WAYTOODANK", "Clap", "EZ", "OMG", "WTF",
    "HOLY", "NOWAY", "CLIP", "Clipped", "😂", "🤣", "😱", "💀",
)
# Patterns: "?????", "!!!!", "hahaha", "xDDD", "noooo way", and ALLCAPS: a message shouted in capitals.
ALL_CAPS = "ALLCAPS"
DEFAULT_PATTERNS = (r"\?{3,}", r"!{3,}", r"(?i)\b(?:a?ha){3,}h?\b", r"(?i)\bx+d{2,}\b", r"(?i)\bno+ ?wa+y+\b",
                    ALL_CAPS)
# Chat bots that post on their own (timers, sub thank-yous, song requests).
BOTS = frozenset({
    "nightbot", "streamelements", "streamlabs", "moobot", "fossabot", "wizebot", "soundalerts", "sery_bot",
    "botisimo", "deepbot", "phantombot", "coebot", "ankhbot", "kofistreambot", "pokemoncommunitygame",
    "streamstickers", "own3d", "blerp", "songlistbot", "supibot",
})
# Platform notices written into the chat log as messages: subs, gifts, raids, memberships.
NOTICE = re.compile(r"(?i)\b(?:subscribed (?:at|with)|gifted (?:a|\d+)|is gifting|raiders? from|is raiding|"
                    r"welcome to|became a member|new member|resubscribed|converted from a)\b")
CAPS = re.compile(r"[A-Z]")
LETTERS = re.compile(r"[A-Za-z]")


# A burst of 4x the usual weighted chatters (plus one, so a near-silent chat needs a few
# people, not one) scores 0.5; 2x scores about 0.1, 8x about 0.9.
BURST_RATIO_LOG2 = 2.0
BURST_SLOPE_LOG2 = 0.45
REACTION_WEIGHT = 1.0
CHATTER_WEIGHT = 0.25  # an ordinary message: chat being busy says a little, not much
# The delay chat may have: stream latency plus reading and typing time.
DELAY_RANGE = (0.0, 20.0)
DEFAULT_DELAY = 5.0  # used when no other signal agrees with chat enough to measure it
MIN_DELAY_CORRELATION = 0.15


@dataclass(frozen=True)
class ChatConfig:
    """Chat timeline defaults, written once; `--chat-reactions` replaces `reactions`."""

    step: float = 1.0  # seconds per value
    window: float = 5.0  # seconds a chatter is counted once in: a burst lasts a few seconds
    baseline: float = 300.0  # seconds of chat the usual rate is read from
    reactions: tuple[str, ...] = DEFAULT_REACTIONS + DEFAULT_PATTERNS  # words, emotes; /regex/ allowed
    delay: float | None = None  # seconds chat lags the VOD; None: estimate it
    flood: int = 3  # this many chatters pasting the same non-reaction text in a window is a flood

    def to_dict(self) -> dict:
        return {"step": self.step, "window": self.window, "baseline": self.baseline,
                "reactions": list(self.reactions), "delay": self.delay, "flood": self.flood}


def parse_reactions(text: str) -> tuple[str, ...]:
    """"KEKW,LUL,/\\?{3,}/,ALLCAPS": emotes/words, /regex/ items and ALLCAPS, comma-separated
    (`--chat-reactions`)."""
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    for item in items:
        if len(item) > 2 and item.startswith("/") and item.endswith("/"):
            try:
                re.compile(item[1:-1])
            except re.error as exc:
                raise ChatError(f"--chat-reactions: {item} is not a valid regular expression ({exc})") \
                    from None
    if not items:
        raise ChatError("--chat-reactions: give at least one emote, word or /regex/")
    return items


@dataclass(frozen=True)
class _Matcher:
    words: frozenset[str]
    patterns: tuple[re.Pattern[str], ...] = field(default=())
    caps: bool = False

    @classmethod
    def of(cls, reactions: Sequence[str]) -> _Matcher:
        words, patterns = set(), []
        for item in reactions:
            if item == ALL_CAPS:
                continue
            if len(item) > 2 and item.startswith("/") and item.endswith("/"):
                patterns.append(re.compile(item[1:-1]))
            elif item in DEFAULT_PATTERNS:
                patterns.append(re.compile(item))
            else:
                words.add(item.lower())
        return cls(frozenset(words), tuple(patterns), ALL_CAPS in reactions)

    def reacts(self, message: ChatMessage) -> bool:
        tokens = {t.lower().strip(".,!?") or t.lower() for t in message.text.split()}
        tokens |= {e.lower() for e in message.emotes}
        if tokens & self.words or any(p.search(message.text) for p in self.patterns):
            return True
        letters = LETTERS.findall(message.text)
        return self.caps and len(letters) >= 4 and len(CAPS.findall(message.text)) == len(letters)  # ALL CAPS


def message_weight(message: ChatMessage, matcher: _Matcher) -> float:
    """What one message says about the moment: a reaction 1, chatter 0.25, bots/commands/notices 0."""
    text = message.text.strip()
    if message.notice or not text or text.startswith("!") or message.author.lower() in BOTS:
        return 0.0
    if NOTICE.search(text):
        return 0.0
    return REACTION_WEIGHT if matcher.reacts(message) else CHATTER_WEIGHT


@dataclass(frozen=True)
class ChatTimeline:
    """Per step: messages, weighted distinct chatters, the rolling baseline, and the 0..1 score.

    Times are the VOD's (chat's own times minus `delay`).
    """

    times: np.ndarray
    messages: np.ndarray
    chatters: np.ndarray
    baseline: np.ndarray
    score: np.ndarray
    delay: float = 0.0

    @property
    def timeline(self) -> Timeline:
        return Timeline(self.times, self.score)

    def shifted(self, delay: float) -> ChatTimeline:
        """The same chat moved `delay` seconds earlier (chat lags the moment by that much)."""
        return ChatTimeline(self.times + self.delay - delay, self.messages, self.chatters, self.baseline,
                            self.score, delay)

    def to_csv(self, path: Path) -> Path:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["time", "messages", "chatters", "baseline", "chat_score"])
        for row in zip(self.times, self.messages, self.chatters, self.baseline, self.score, strict=True):
            writer.writerow([f"{row[0]:.3f}", int(row[1]), f"{row[2]:.2f}", f"{row[3]:.2f}", f"{row[4]:.5f}"])
        atomic_write_text(path, buffer.getvalue())
        return path


def chat_timeline(messages: Sequence[ChatMessage], duration: float, config: ChatConfig = ChatConfig()
                  ) -> ChatTimeline:
    """Weighted distinct chatters per `window`, against the rolling baseline, as a 0..1 score.

    Not yet shifted for delay: times are chat's own.
    """
    count = max(1, int(np.ceil(duration / config.step)))
    per_window = max(1, round(config.window / config.step))
    matcher = _Matcher.of(config.reactions)
    weights = [message_weight(m, matcher) for m in messages]
    # Floods: many chatters pasting the same non-reaction text (raid greetings, giveaway keywords).
    pasted: Counter[tuple[int, str]] = Counter()
    for message, weight in zip(messages, weights, strict=True):
        if weight == CHATTER_WEIGHT:
            pasted[(int(message.time // config.window), " ".join(message.text.lower().split()))] += 1
    best: dict[tuple[str, int], float] = defaultdict(float)
    sent = np.zeros(count)
    for message, weight in zip(messages, weights, strict=True):
        index = int(message.time // config.step)
        if index >= count:
            continue
        sent[index] += 1
        if weight == CHATTER_WEIGHT and pasted[(int(message.time // config.window),
                                                " ".join(message.text.lower().split()))] >= config.flood:
            weight = 0.0
        if weight <= 0:
            continue
        author = message.author.lower() or f"?{index}"
        for start in range(max(0, index - per_window + 1), index + 1):  # every window holding it
            key = (author, start)
            best[key] = max(best[key], weight)
    chatters = np.zeros(count)
    for (_, start), weight in best.items():
        chatters[start] += weight
    messages_per_window = np.convolve(sent, np.ones(per_window), mode="full")[per_window - 1:][:count]
    usual = rolling_baseline(chatters, config.step, block=60.0, span=config.baseline)
    ratio = np.log2((chatters + 1.0) / (usual + 1.0))
    score = 1.0 / (1.0 + np.exp(-(ratio - BURST_RATIO_LOG2) / BURST_SLOPE_LOG2))
    times = np.arange(count) * config.step + config.window / 2  # each window's centre
    return ChatTimeline(times, messages_per_window, chatters, usual, score)


def estimate_delay(chat: ChatTimeline, reference: Timeline, limits: tuple[float, float] = DELAY_RANGE,
                   step: float = 0.5) -> tuple[float, float]:
    """(delay, correlation): how many seconds chat lags `reference`, by sliding one over the other.

    The delay kept is the one where chat's score, moved earlier by it, correlates best with
    the reference score. Correlation under MIN_DELAY_CORRELATION means the two do not agree
    enough to say: the caller falls back to DEFAULT_DELAY.
    """
    if len(reference) < 4 or len(chat.times) < 4:
        return DEFAULT_DELAY, 0.0
    grid = np.arange(float(reference.times[0]), float(reference.times[-1]), 0.5)
    ref = np.interp(grid, reference.times, reference.values)
    if ref.std() == 0:
        return DEFAULT_DELAY, 0.0
    best = (DEFAULT_DELAY, -1.0)
    for delay in np.arange(limits[0], limits[1] + 1e-9, step):
        moved = np.interp(grid + delay - chat.delay, chat.times, chat.score, left=0.0, right=0.0)
        if moved.std() == 0:
            continue
        correlation = float(np.corrcoef(moved, ref)[0, 1])
        if correlation > best[1] + 1e-9:
            best = (float(delay), correlation)
    if best[1] < MIN_DELAY_CORRELATION:
        return DEFAULT_DELAY, max(best[1], 0.0)
    return best
