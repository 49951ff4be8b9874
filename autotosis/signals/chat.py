"""Chat replay: the streamer's audience as a highlight signal, before any model is trained.

Four formats, told apart by their content (not their name):

- TwitchDownloader's chat JSON: `{"comments": [{"content_offset_seconds", "commenter",
  "message": {"body", "fragments": [{"text", "emoticon"}]}}]}`;
- chat-downloader's JSON list: `[{"time_in_seconds", "message", "author": {"name"}}]`;
- yt-dlp's YouTube `live_chat.json`: JSON lines of `replayChatItemAction` with
  `videoOffsetTimeMsec`;
- a plain log: `[h:mm:ss] name: text` per line.

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
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autotosis.core.errors import ChatError
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timeline import Timeline
from autotosis.pick.select import baseline as rolling_baseline

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


@dataclass(frozen=True)
class ChatMessage:
    """One message, `time` in seconds from the start of the VOD."""

    time: float
    author: str
    text: str
    emotes: tuple[str, ...] = ()  # names the platform marked as emotes
    notice: bool = False  # a platform notice (sub, gift, raid, membership), not typed by a person


@dataclass(frozen=True)
class ChatReplay:
    path: Path
    format: str  # twitchdownloader | chat-downloader | yt-dlp-live-chat | log
    messages: tuple[ChatMessage, ...]


# ---------------------------------------------------------------- reading


def _time(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ChatError(f"{where}: time {value!r} is not a number") from None
    if not np.isfinite(number) or number < 0:
        raise ChatError(f"{where}: time {value!r} is not a time in the VOD")
    return number


def _twitchdownloader(path: Path, data: dict) -> list[ChatMessage]:
    comments = data.get("comments")
    if not isinstance(comments, list):
        raise ChatError(f"{path}: 'comments' is not a list (a TwitchDownloader chat JSON has one)")
    messages = []
    for k, item in enumerate(comments):
        where = f"{path}: comment {k}"
        if not isinstance(item, dict):
            raise ChatError(f"{where}: not an object")
        if "content_offset_seconds" not in item:
            raise ChatError(f"{where}: no content_offset_seconds")
        message = item.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("body"), str):
            raise ChatError(f"{where}: no message.body text")
        commenter = item.get("commenter") or {}
        author = str(commenter.get("name") or commenter.get("display_name") or commenter.get("_id") or "")
        emotes = tuple(str(f.get("text", "")).strip() for f in message.get("fragments") or []
                       if isinstance(f, dict) and f.get("emoticon"))
        notice = bool((message.get("user_notice_params") or {}).get("msg-id"))
        messages.append(ChatMessage(_time(item["content_offset_seconds"], where), author, message["body"],
                                    emotes, notice))
    return messages


def _chat_downloader(path: Path, data: list) -> list[ChatMessage]:
    messages = []
    for k, item in enumerate(data):
        where = f"{path}: item {k}"
        if not isinstance(item, dict):
            raise ChatError(f"{where}: not an object")
        if "time_in_seconds" not in item:
            raise ChatError(f"{where}: no time_in_seconds")
        text = item.get("message", "")
        if not isinstance(text, str):
            raise ChatError(f"{where}: message is not text")
        author = item.get("author") or {}
        name = str(author.get("name") or author.get("id") or "") if isinstance(author, dict) else str(author)
        emotes = tuple(str(e.get("name", "")) for e in item.get("emotes") or [] if isinstance(e, dict))
        kind = str(item.get("message_type", "text_message"))
        notice = kind not in ("text_message", "paid_message")
        messages.append(ChatMessage(_time(item["time_in_seconds"], where), name, text, emotes, notice))
    return messages


# YouTube chat item renderers we read -> whether they are platform notices.
_YT_RENDERERS = {
    "liveChatTextMessageRenderer": False,
    "liveChatPaidMessageRenderer": False,
    "liveChatMembershipItemRenderer": True,
    "liveChatSponsorshipsGiftPurchaseAnnouncementRenderer": True,
    "liveChatSponsorshipsGiftRedemptionAnnouncementRenderer": True,
}


def _yt_live_chat(path: Path, lines: list[str]) -> list[ChatMessage]:
    messages = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}: line {number}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ChatError(f"{where}: not JSON ({exc.msg})") from None
        replay = entry.get("replayChatItemAction") if isinstance(entry, dict) else None
        if not isinstance(replay, dict):
            raise ChatError(f"{where}: no replayChatItemAction (not a yt-dlp live_chat.json line)")
        if "videoOffsetTimeMsec" not in replay:
            raise ChatError(f"{where}: no videoOffsetTimeMsec")
        at = _time(replay["videoOffsetTimeMsec"], where) / 1000.0
        for action in replay.get("actions") or []:
            item = ((action or {}).get("addChatItemAction") or {}).get("item") or {}
            for renderer, notice in _YT_RENDERERS.items():
                body = item.get(renderer)
                if not isinstance(body, dict):
                    continue
                runs = (body.get("message") or {}).get("runs") or []
                text, emotes = [], []
                for run in runs:
                    if "text" in run:
                        text.append(str(run["text"]))
                    elif "emoji" in run:
                        emoji = run["emoji"] or {}
                        shortcut = (emoji.get("shortcuts") or [""])[0]
                        name = (shortcut or str(emoji.get("emojiId", ""))).strip(":")
                        text.append(name)
                        emotes.append(name)
                author = str((body.get("authorName") or {}).get("simpleText")
                             or body.get("authorExternalChannelId") or "")
                messages.append(ChatMessage(at, author, " ".join(text), tuple(emotes), notice))
    return messages


LOG_LINE = re.compile(r"^\[(?P<time>\d+(?::\d{1,2}){0,2}(?:\.\d+)?)\]\s*"
                      r"(?P<name>[^:\s][^:]*?):\s?(?P<text>.*)$")


def _clock(text: str) -> float:
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _log(path: Path, lines: list[str]) -> list[ChatMessage]:
    messages = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        match = LOG_LINE.match(line.strip())
        if match is None:
            got = line.strip()[:40]
            raise ChatError(f"{path}: line {number}: expected '[h:mm:ss] name: text', got {got!r}")
        name = match["name"].strip()
        messages.append(ChatMessage(_clock(match["time"]), name, match["text"],
                                    notice=name.lower() in ("twitch", "system", "notice")))
    return messages


def read_chat(path: Path | str) -> ChatReplay:
    """Read a chat replay in any of the four formats, told by content; ChatError naming what is wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ChatError(f"{p}: no such chat file") from None
    except UnicodeDecodeError:
        raise ChatError(f"{p}: not a text file (a chat replay is JSON or a text log)") from None
    stripped = text.lstrip()
    if not stripped:
        raise ChatError(f"{p}: empty file, not a chat replay")
    lines = text.splitlines()
    first = next(line for line in lines if line.strip()).strip()
    if LOG_LINE.match(first):
        return ChatReplay(p, "log", _sorted(_log(p, lines)))
    if stripped[0] == "{" and '"replayChatItemAction"' in first:
        return ChatReplay(p, "yt-dlp-live-chat", _sorted(_yt_live_chat(p, lines)))
    if stripped[0] in "{[":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ChatError(f"{p}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
        if isinstance(data, dict) and "comments" in data:
            return ChatReplay(p, "twitchdownloader", _sorted(_twitchdownloader(p, data)))
        if isinstance(data, list):
            return ChatReplay(p, "chat-downloader", _sorted(_chat_downloader(p, data)))
    raise ChatError(f"{p}: not a chat replay autotosis knows (TwitchDownloader JSON, chat-downloader JSON, "
                    "yt-dlp live_chat.json, or '[h:mm:ss] name: text' lines)")


# Names a chat replay has next to its VOD: yt-dlp's (live_chat, rechat), then common ones.
CHAT_SUFFIXES = (".live_chat.json", ".rechat.json", ".chat.json", ".chat.log", ".chat.txt", ".json", ".log")


def find_chat(vod: Path | str) -> Path | None:
    """The chat replay lying next to `vod` (`vod.live_chat.json`, `vod.chat.json`, ...), if any."""
    p = Path(vod)
    for suffix in CHAT_SUFFIXES:
        candidate = p.with_name(p.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def _sorted(messages: list[ChatMessage]) -> tuple[ChatMessage, ...]:
    return tuple(sorted(messages, key=lambda m: m.time))


# ---------------------------------------------------------------- the timeline

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
