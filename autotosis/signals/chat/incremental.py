"""Chat's timeline kept up to date message by message, for a live stream.

`chat_timeline` weighs every message again on each call: fine for compile's one pass, costly
when live asks each second on a busy multi-hour chat (50 messages/s for 5 hours is ~1M). The
`ChatTally` here weighs each message once, as it arrives, and recounts only the windows a new
message (or a flood it completes) touches; `timeline()` then gives exactly what
`chat_timeline` gives on the same messages (tests/test_live_chat.py holds them equal).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from autotosis.pick.select import baseline as rolling_baseline
from autotosis.signals.chat.replay import ChatMessage
from autotosis.signals.chat.timeline import (
    BURST_RATIO_LOG2,
    BURST_SLOPE_LOG2,
    CHATTER_WEIGHT,
    ChatConfig,
    ChatTimeline,
    _Matcher,
    message_weight,
)


class ChatTally:
    """Weighted distinct chatters per window, updated per message (same rules as `chat_timeline`)."""

    def __init__(self, config: ChatConfig):
        self.config = config
        self.per_window = max(1, round(config.window / config.step))
        self.matcher = _Matcher.of(config.reactions)
        self.pasted: Counter[tuple[int, str]] = Counter()
        # step index -> (author key, weight, pasted key or None) of each message in that step
        self.bins: dict[int, list[tuple[str, float, tuple[int, str] | None]]] = defaultdict(list)
        self.sent = np.zeros(0)  # messages per step
        self.chatters = np.zeros(0)  # weighted chatters per window start (all messages so far)
        self.dirty: set[int] = set()
        self.count = 0  # messages taken in

    def add(self, message: ChatMessage) -> None:
        """Take in one message: weighed once, its windows marked to be recounted."""
        config = self.config
        self.count += 1
        weight = message_weight(message, self.matcher)
        index = int(message.time // config.step)
        key = None
        if weight == CHATTER_WEIGHT:
            key = (int(message.time // config.window), " ".join(message.text.lower().split()))
            self.pasted[key] += 1
            if self.pasted[key] == config.flood:  # a flood now: its earlier copies weigh nothing
                first = int(key[0] * config.window // config.step) - 1
                last = int((key[0] + 1) * config.window // config.step) + 1
                for other in range(first, last + 1):
                    self._touch(other)
        if index >= 0:
            self._grow(index + 1)
            self.sent[index] += 1
        self.bins[index].append((message.author.lower() or f"?{index}", weight, key))
        self._touch(index)

    def _grow(self, size: int) -> None:
        """Room for `size` steps, doubled as the stream goes so growing stays rare."""
        if size > len(self.sent):
            size = max(size, 2 * len(self.sent), 64)
            self.sent = np.concatenate([self.sent, np.zeros(size - len(self.sent))])
            self.chatters = np.concatenate([self.chatters, np.zeros(size - len(self.chatters))])

    def _touch(self, index: int) -> None:
        self.dirty.update(range(max(0, index - self.per_window + 1), index + 1))

    def _window(self, start: int, limit: int) -> float:
        """Weighted distinct chatters in the window from step `start`, steps under `limit` only."""
        best: dict[str, float] = {}
        for index in range(start, min(start + self.per_window, limit)):
            for author, weight, key in self.bins.get(index, ()):
                if key is not None and self.pasted[key] >= self.config.flood:
                    weight = 0.0
                if weight > 0:
                    best[author] = max(best.get(author, 0.0), weight)
        return float(sum(best.values()))

    def timeline(self, duration: float) -> ChatTimeline:
        """`chat_timeline(messages so far, duration, config)`, without weighing them all again."""
        config = self.config
        for start in self.dirty:
            self._grow(start + 1)
            self.chatters[start] = self._window(start, 1 << 62)
        self.dirty.clear()
        count = max(1, int(np.ceil(duration / config.step)))
        self._grow(count)
        chatters = self.chatters[:count].copy()
        sent = self.sent[:count]
        for start in range(max(0, count - self.per_window + 1), count):  # windows cut by the end
            chatters[start] = self._window(start, count)
        per_window = self.per_window
        messages_per_window = np.convolve(sent, np.ones(per_window), mode="full")[per_window - 1:][:count]
        usual = rolling_baseline(chatters, config.step, block=60.0, span=config.baseline)
        ratio = np.log2((chatters + 1.0) / (usual + 1.0))
        score = 1.0 / (1.0 + np.exp(-(ratio - BURST_RATIO_LOG2) / BURST_SLOPE_LOG2))
        times = np.arange(count) * config.step + config.window / 2
        return ChatTimeline(times, messages_per_window, chatters, usual, score)
