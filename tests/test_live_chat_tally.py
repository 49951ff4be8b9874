"""Live chat's incremental timeline (ChatTally) against compile's full rebuild (chat_timeline)."""

from __future__ import annotations

import random

import numpy as np

from autotosis.signals.chat import ChatConfig, ChatMessage, ChatTally, chat_timeline

TEXTS = ["KEKW", "hello there", "!song", "WHAT IS THIS", "?????", "nice", "raid greeting hi", "lol"]
AUTHORS = ["ann", "bob", "cy", "dee", "eve", "Nightbot", "", "fay", "gus", "hal"]


def _messages(seed: int, count: int, span: float) -> list[ChatMessage]:
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        at = round(rng.uniform(0.0, span), 2)
        found.append(ChatMessage(time=at, author=rng.choice(AUTHORS), text=rng.choice(TEXTS),
                                 notice=rng.random() < 0.02))
    return found


def _same(a, b) -> None:
    for name in ("times", "messages", "chatters", "baseline", "score"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_tally_equals_the_full_rebuild_at_every_update(tmp_path):
    """Messages arrive in bursts, a little out of order (a log's lines, Twitch's arrivals), with
    floods that complete later, bots, notices and nameless authors; after each burst the tally
    gives the very arrays compile's chat_timeline gives on everything so far, and the same csv."""
    config = ChatConfig()
    messages = _messages(7, 1500, 400.0)
    messages.sort(key=lambda m: m.time + random.Random(m.time).uniform(-3, 3))  # a little out of order
    tally = ChatTally(config)
    seen: list[ChatMessage] = []
    for start in range(0, len(messages), 30):
        for message in messages[start:start + 30]:
            tally.add(message)
            seen.append(message)
        edge = max(m.time for m in seen) - 2.5  # the scored edge lags the newest message
        for duration in (edge, edge + 10.0):
            full = chat_timeline(sorted(seen, key=lambda m: m.time), duration, config)
            _same(tally.timeline(duration), full)
    final = 410.0
    tally.timeline(final).to_csv(tmp_path / "live.csv")
    chat_timeline(messages, final, config).to_csv(tmp_path / "compile.csv")
    assert (tmp_path / "live.csv").read_bytes() == (tmp_path / "compile.csv").read_bytes()
    assert tally.count == len(messages)
