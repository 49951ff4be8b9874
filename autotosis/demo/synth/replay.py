"""A synthetic chat replay for a synthetic stream, in the formats the chat readers take.

Apart from the picture and sound because chat is a signal of its own: it answers the
stream's moments late and has floods of its own, and only the chat tests and the demo need it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autotosis.demo.synth.stream import StreamSpec

# ---------------------------------------------------------------- chat replay

CHAT_DELAY = 6.0  # seconds between a reaction and chat's answer to it: stream latency plus typing
CHATTERS = 120
CALM = ("gg", "what game is this", "hi chat", "this song slaps", "how long is stream", "nice", "o7",
        "first time here", "lurking", "play the next level", "what rank", "true", "chat is slow", "ok")
REACT = {"rage": ("KEKW", "OMEGALUL", "?????", "HE'S SO MAD", "LUL", "KEKW KEKW", "ICANT", "💀", "LMAO"),
         "hype": ("LUL", "KEKW", "hahaha", "LMAO", "Pog", "LOL")}


@dataclass(frozen=True)
class ChatSpec:
    """A chat replay for a stream: an ordinary rate, bursts after reactions, floods in calm time."""

    rate: float = 0.6  # messages per second when nothing happens
    delay: float = CHAT_DELAY
    burst: int = 14  # chatters answering a rage (a laugh gets two thirds of that)
    floods: int = 3  # calm-time floods, cycling sub train, raid, giveaway spam
    seed: int = 0


def chat_messages(spec: StreamSpec, chat: ChatSpec = ChatSpec()) -> list[dict]:
    """The replay as (time, author, text, emote fragments, notice) dicts, sorted by time.

    Reaction bursts start `chat.delay` after each rage or laugh begins and spread over its
    length; floods sit in calm time, as far as possible from every moment.
    """
    rng = np.random.default_rng([spec.seed, chat.seed, 61])
    names = [f"viewer{k:03d}" for k in range(CHATTERS)]
    out: list[dict] = []

    def say(t: float, author: str, text: str, notice: bool = False) -> None:
        if 0 <= t < spec.duration:
            out.append({"time": round(float(t), 3), "author": author, "text": text, "notice": notice})

    t = float(rng.exponential(1 / chat.rate))
    while t < spec.duration:
        say(t, names[int(rng.integers(CHATTERS))], str(rng.choice(CALM)))
        t += float(rng.exponential(1 / chat.rate))
    for kind, spans in (("rage", spec.rage), ("hype", spec.hype)):
        size = chat.burst if kind == "rage" else round(chat.burst * 2 / 3)
        for span in spans:
            for author in rng.choice(CHATTERS, size, replace=False):
                at = span.start + chat.delay + float(rng.gamma(2.0, 0.35 * min(span.duration, 5.0) / 2))
                say(at, names[int(author)], str(rng.choice(REACT[kind])))
    busy = [(s.start - 8.0, s.end + chat.delay + 6.0) for s in (*spec.rage, *spec.hype)]
    busy += [(at - 8.0, at + 8.0) for at in spec.bangs]
    for k in range(chat.floods):
        start = _calm_time(busy, spec.duration, rng)
        if start is None:
            break
        kind = ("sub", "raid", "giveaway")[k % 3]
        gifter = names[int(rng.integers(CHATTERS))]
        for j, author in enumerate(rng.choice(CHATTERS, 2 * chat.burst, replace=False)):
            when = start + float(rng.uniform(0, 6))
            name = names[int(author)]
            if kind == "sub":
                say(when, name, f"{name} subscribed at Tier 1.", notice=True)
                if j % 3 == 0:
                    say(when + 0.3, "StreamElements", f"{name} thank you for the sub!")
            elif kind == "raid":
                say(when, name, "bigRaid bigRaid RAID FROM bigstreamer bigRaid")
            else:
                say(when, name, "!enter" if j % 2 else "giveaway giveaway")
        if kind == "sub":
            say(start, gifter, f"{gifter} is gifting 10 Tier 1 Subs to the community!", notice=True)
    out.sort(key=lambda m: m["time"])
    return out


def _calm_time(busy: list[tuple[float, float]], duration: float, rng: np.random.Generator) -> float | None:
    """A time whose next 8 s miss every `busy` span (None if there is none); the flood's span is added."""
    for _ in range(500):
        at = float(rng.uniform(2.0, max(2.0, duration - 10.0)))
        if all(at + 8.0 <= a or at >= b for a, b in busy):
            busy.append((at - 2.0, at + 10.0))
            return at
    return None


def write_chat(path: Path | str, spec: StreamSpec, chat: ChatSpec = ChatSpec(),
               fmt: str = "twitchdownloader") -> Path:
    """Write the replay as TwitchDownloader's JSON (default), chat-downloader's list, yt-dlp's live_chat
    JSON lines or a plain log, as those tools write them (the fields autotosis reads, at least)."""
    from autotosis.core.fsutil import atomic_write_text

    messages = chat_messages(spec, chat)
    target = Path(path)
    if fmt == "twitchdownloader":
        comments = [{
            "_id": f"c{k}", "content_offset_seconds": m["time"],
            "commenter": {"display_name": m["author"], "name": m["author"].lower(), "_id": m["author"]},
            "message": {"body": m["text"], "bits_spent": 0,
                        "fragments": [{"text": w, "emoticon": {"emoticon_id": w} if w in EMOTES else None}
                                      for w in m["text"].split(" ")],
                        "user_notice_params": {"msg-id": "sub"} if m["notice"] else {}},
        } for k, m in enumerate(messages)]
        body = json.dumps({"FileInfo": {"Version": {"Major": 1}}, "streamer": {"name": "synth"},
                           "comments": comments})
    elif fmt == "chat-downloader":
        body = json.dumps([{"time_in_seconds": m["time"], "message": m["text"],
                            "author": {"name": m["author"]},
                            "message_type": "subscription" if m["notice"] else "text_message"}
                           for m in messages])
    elif fmt == "yt-dlp":
        lines = []
        for m in messages:
            renderer = "liveChatMembershipItemRenderer" if m["notice"] else "liveChatTextMessageRenderer"
            item = {renderer: {"message": {"runs": [{"text": m["text"]}]},
                               "authorName": {"simpleText": m["author"]}}}
            lines.append(json.dumps({"replayChatItemAction": {
                "actions": [{"addChatItemAction": {"item": item}}],
                "videoOffsetTimeMsec": str(round(m["time"] * 1000))}}))
        body = "\n".join(lines) + "\n"
    elif fmt == "log":
        body = "".join(f"[{_clock_text(m['time'])}] {m['author']}: {m['text']}\n" for m in messages)
    else:
        raise ValueError(f"unknown chat format {fmt!r}")
    atomic_write_text(target, body)
    return target


EMOTES = frozenset({"KEKW", "OMEGALUL", "LUL", "ICANT", "Pog", "bigRaid"})


def _clock_text(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
