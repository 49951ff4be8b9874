"""Twitch chat as it is typed: an anonymous, read-only IRC client.

Twitch lets anyone read a channel's chat without an account: connect to its IRC server,
log in as `justinfan<digits>` with any password, ask for the IRCv3 tags (display names,
emotes, notices) and JOIN the channel. The server PINGs now and then and drops clients that
do not answer PONG. `TwitchChat` does that on a thread and hands each message over with the
moment it arrived (chat has no stream clock of its own: the caller times it against the
stream). A dropped connection is retried with exponential back-off, never raised: a stream
goes on when its chat does not.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from autotosis.core.errors import ChatError
from autotosis.signals.chat.replay import ChatMessage

SERVER = ("irc.chat.twitch.tv", 6667)
CHANNEL = re.compile(r"^#?([A-Za-z0-9_]{1,25})$")
TWITCH_PREFIX = "twitch:"
# Twitch PINGs about every five minutes: this long without a line, the connection is dead.
SILENCE = 360.0
BACKOFF = (1.0, 60.0)  # the first retry's wait, doubled up to the second
STABLE = 10.0  # a connection that stayed up this long resets the back-off

_TAG_ESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


@dataclass(frozen=True)
class IrcLine:
    """One IRC line: IRCv3 tags, the prefix's nick, the command and its parameters (the
    trailing one included, spaces kept)."""

    command: str
    params: tuple[str, ...] = ()
    nick: str = ""
    tags: dict[str, str] = field(default_factory=dict)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.?)", lambda m: _TAG_ESCAPES.get(m[1], m[1]), value)


def parse_line(line: str) -> IrcLine:
    """Split a raw IRC line (`@tags :prefix COMMAND params :trailing`); ChatError when empty."""
    rest = line.rstrip("\r\n")
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        raw, _, rest = rest[1:].partition(" ")
        for item in raw.split(";"):
            key, _, value = item.partition("=")
            if key:
                tags[key] = _unescape(value)
    rest = rest.lstrip(" ")
    nick = ""
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        nick = prefix.split("!", 1)[0].split("@", 1)[0]
    head, sep, trailing = rest.partition(" :")
    words = head.split()
    if not words:
        raise ChatError(f"not an IRC line: {line.strip()[:60]!r}")
    params = tuple(words[1:]) + ((trailing,) if sep else ())
    return IrcLine(words[0].upper(), params, nick, tags)


def _emote_names(text: str, spec: str) -> tuple[str, ...]:
    """Twitch's `emotes` tag (`id:start-end,start-end/id:...`, character positions) as the names typed."""
    names = []
    for emote in filter(None, spec.split("/")):
        _, _, spans = emote.partition(":")
        first = spans.split(",", 1)[0]
        start, _, end = first.partition("-")
        if start.isdigit() and end.isdigit():
            names.append(text[int(start):int(end) + 1])
    return tuple(dict.fromkeys(n for n in names if n))


def chat_message(line: IrcLine) -> ChatMessage | None:
    """The chat message a PRIVMSG (typed) or USERNOTICE (sub, raid: a notice) carries, else None.

    `time` is 0: the caller times it on arrival.
    """
    if line.command not in ("PRIVMSG", "USERNOTICE") or not line.params:
        return None
    text = line.params[-1] if len(line.params) > 1 else ""
    if text.startswith("\x01ACTION ") and text.endswith("\x01"):
        text = text[len("\x01ACTION "):-1]  # /me
    author = line.tags.get("login") or line.nick or line.tags.get("display-name", "")
    if line.command == "USERNOTICE":
        return ChatMessage(0.0, author, text or line.tags.get("system-msg", ""), notice=True)
    return ChatMessage(0.0, author, text, _emote_names(text, line.tags.get("emotes", "")))


def parse_channel(spec: str) -> str:
    """"twitch:Name" -> "name"; ChatError for anything that is not a Twitch channel name."""
    name = spec[len(TWITCH_PREFIX):] if spec.startswith(TWITCH_PREFIX) else spec
    match = CHANNEL.match(name.strip())
    if match is None:
        raise ChatError(f"--chat {spec}: not a Twitch channel (twitch:NAME, NAME being letters, digits "
                        "and _, 25 at most)")
    return match[1].lower()


def parse_server(text: str | None) -> tuple[str, int]:
    """"host:port" (None: Twitch's own) -> (host, port); ChatError when it is not one."""
    if not text:
        return SERVER
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ChatError(f"--chat-server {text}: give HOST:PORT, e.g. {SERVER[0]}:{SERVER[1]}")
    return host.strip("[]"), int(port)


Deliver = Callable[[float, ChatMessage], None]


class TwitchChat:
    """Reads one channel on a thread until `close()`, calling `deliver(arrival, message)` per
    message (`arrival`: time.monotonic()) and `note(line)` when the connection comes or goes."""

    def __init__(self, channel: str, deliver: Deliver, note: Callable[[str], None],
                 server: tuple[str, int] = SERVER, backoff: tuple[float, float] = BACKOFF):
        self.channel, self.deliver, self.note = channel, deliver, note
        self.server, self.backoff = server, backoff
        self.stop = threading.Event()
        self.connections = 0  # how many times the channel was joined
        self.received = 0
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="live-chat")

    @property
    def where(self) -> str:
        return f"#{self.channel} on {self.server[0]}:{self.server[1]}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.stop.set()
        sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread at once
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        wait = self.backoff[0]
        while not self.stop.is_set():
            began, joined = time.monotonic(), self.connections
            try:
                why = self._session()
            except OSError as exc:
                why = exc.strerror or str(exc) or type(exc).__name__
            except Exception as exc:  # whatever it is, the stream goes on without chat
                why = f"{type(exc).__name__}: {exc}"
            if self.stop.is_set():
                return
            if self.connections and time.monotonic() - began >= STABLE:
                wait = self.backoff[0]
            what = "lost" if self.connections > joined else "cannot join"
            self.note(f"chat: {what} {self.where} ({why}); reconnecting in {wait:g}s, the stream goes on "
                      "without chat meanwhile")
            self.stop.wait(wait)
            wait = min(wait * 2, self.backoff[1])

    def _session(self) -> str:
        """One connection, from login to its end; returns why it ended."""
        with socket.create_connection(self.server, timeout=10) as sock:
            self._socket = sock
            try:
                sock.settimeout(1.0)
                nick = f"justinfan{random.randint(10000, 99999)}"
                sock.sendall(("CAP REQ :twitch.tv/tags twitch.tv/commands\r\nPASS SCHMOOPIIE\r\n"
                              f"NICK {nick}\r\nJOIN #{self.channel}\r\n").encode())
                return self._read(sock)
            finally:
                self._socket = None

    def _read(self, sock: socket.socket) -> str:
        pending, heard = b"", time.monotonic()
        while not self.stop.is_set():
            try:
                data = sock.recv(1 << 16)
            except TimeoutError:
                if time.monotonic() - heard > SILENCE:
                    return f"nothing heard for {SILENCE:g}s"
                continue
            if not data:
                return "the server closed the connection"
            heard = time.monotonic()
            pending += data
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                why = self._handle(sock, raw.decode("utf-8", "replace"), heard)
                if why:
                    return why
        return "closed"

    def _handle(self, sock: socket.socket, raw: str, arrival: float) -> str:
        """Act on one line; a reason to reconnect, or ""."""
        if not raw.strip():
            return ""
        try:
            line = parse_line(raw)
        except ChatError:
            return ""
        if line.command == "PING":
            sock.sendall(f"PONG :{line.params[-1] if line.params else 'tmi.twitch.tv'}\r\n".encode())
        elif line.command == "JOIN" and line.nick.startswith("justinfan"):
            self.connections += 1
            self.note(f"chat: {'reconnected to' if self.connections > 1 else 'reading'} {self.where}")
        elif line.command == "RECONNECT":
            return "the server asked to reconnect"
        elif line.command == "NOTICE" and "failed" in (line.params[-1] if line.params else "").lower():
            return line.params[-1]
        else:
            message = chat_message(line)
            if message is not None:
                self.received += 1
                self.deliver(arrival, message)
        return ""
