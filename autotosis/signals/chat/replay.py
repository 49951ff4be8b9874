"""Reading chat replays into `ChatMessage`s.

Four formats, told apart by their content (not their name):

- TwitchDownloader's chat JSON: `{"comments": [{"content_offset_seconds", "commenter",
  "message": {"body", "fragments": [{"text", "emoticon"}]}}]}`;
- chat-downloader's JSON list: `[{"time_in_seconds", "message", "author": {"name"}}]`;
- yt-dlp's YouTube `live_chat.json`: JSON lines of `replayChatItemAction` with
  `videoOffsetTimeMsec`;
- a plain log: `[h:mm:ss] name: text` per line.

Apart from the timeline because the formats follow the tools that download them (a new
field, a new YouTube renderer) while the scoring does not: each reader only turns its
format into messages, and names the file, line and field when something is wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autotosis.core.errors import ChatError


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


def _yt_live_chat(path: Path, lines: list[str], first: int = 1) -> list[ChatMessage]:
    messages = []
    for number, line in enumerate(lines, first):
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


def _log(path: Path, lines: list[str], first: int = 1) -> list[ChatMessage]:
    messages = []
    for number, line in enumerate(lines, first):
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


# The formats written one message a line, so a file still growing can be read line by line.
LINE_FORMATS = ("log", "yt-dlp-live-chat")


def line_format(line: str) -> str | None:
    """The line format `line` is written in ("log" or "yt-dlp-live-chat"), None for any other."""
    line = line.strip()
    if LOG_LINE.match(line):
        return "log"
    if line.startswith("{") and '"replayChatItemAction"' in line:
        return "yt-dlp-live-chat"
    return None


def parse_lines(path: Path, kind: str, lines: list[str], first: int = 1) -> list[ChatMessage]:
    """The messages of `lines` (numbered from `first` in errors) in the line format `kind`."""
    return _log(path, lines, first) if kind == "log" else _yt_live_chat(path, lines, first)


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
    kind = line_format(next(line for line in lines if line.strip()))
    if kind is not None:
        return ChatReplay(p, kind, _sorted(parse_lines(p, kind, lines)))
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
