"""Chat beside a live stream: messages from a growing log or a Twitch channel, as compile weighs them.

`LiveChat` gathers the messages on the stream's clock (a log's own times; a Twitch message's
arrival, put on the clock by the session once the recording is caught up), keeps compile's
chat timeline up to date message by message (ChatTally: each weighed once, only the windows
it touches recounted), and moves it by chat's delay: `--chat-delay`, or compile's estimate
against the model or loudness, redone every DELAY_EVERY seconds as the stream goes (one line
when it changes by DELAY_CHANGE or more) and once more at the end.
A Twitch channel's messages are kept, timed, in the output folder's chat.log as they come,
so a rerun on the same stream resumes them and compile can read them afterwards.
"""

from __future__ import annotations

import dataclasses
import queue
import time
from collections.abc import Callable
from pathlib import Path

from autotosis.core.errors import ChatError
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Timeline
from autotosis.signals import chat as chat_lib
from autotosis.signals.chat import irc

DELAY_EVERY = 10.0  # seconds between re-estimates of chat's delay
DELAY_CHANGE = 1.0  # a new estimate this far from the last is said in one line
CHAT_LOG = "chat.log"  # a Twitch channel's messages, kept in the output folder as they come
Note = Callable[[str], None]


class LiveChat:
    """One chat source (`spec`: a log file or twitch:CHANNEL) for one live run."""

    def __init__(self, spec: str, config: chat_lib.ChatConfig, note: Note, server: str | None = None,
                 backoff: tuple[float, float] = irc.BACKOFF, log: Path | None = None):
        self.spec, self.config, self.note = spec, config, note
        self.messages: list[chat_lib.ChatMessage] = []
        self.tally = chat_lib.ChatTally(config)  # chat's timeline, kept up to date per message
        self.arrivals: queue.Queue = queue.Queue()  # (monotonic arrival, message) from Twitch
        self.delay = config.delay if config.delay is not None else chat_lib.DEFAULT_DELAY
        self.reference = ""  # the signal the delay was last estimated against
        self.correlation = 0.0
        self._estimated_at = float("-inf")
        self.measured = False  # an estimate agreed enough to be kept
        self._warned: set[str] = set()
        self.tail: chat_lib.ChatTail | None = None
        self.log: Path | None = None  # where Twitch's messages are kept, timed, as a chat log
        self.twitch: irc.TwitchChat | None = None
        if spec.startswith(irc.TWITCH_PREFIX):
            channel = irc.parse_channel(spec)
            self.twitch = irc.TwitchChat(channel, lambda at, m: self.arrivals.put((at, m)), note,
                                         irc.parse_server(server), backoff)
            self.format = "twitch-irc"
            self.log = log
            if log is not None and log.exists():
                self._resume(log)
        else:
            self.tail = chat_lib.ChatTail(Path(spec))  # ChatError now when it cannot be read
            self.format = self.tail.format or "log"

    @property
    def source(self) -> dict:
        """Where the chat came from, for options.json."""
        if self.twitch is not None:
            return {"twitch": self.twitch.channel, "server": "{}:{}".format(*self.twitch.server)}
        return {"file": str(Path(self.spec).absolute())}

    def start(self) -> None:
        if self.twitch is not None:
            self.twitch.start()

    def close(self) -> None:
        if self.twitch is not None:
            self.twitch.close()

    def poll(self, clock: Callable[[float], float] | None) -> None:
        """Take in what is new: the log's new lines; Twitch's arrivals once `clock` (monotonic ->
        stream seconds) is known, the ones from well before the stream began dropped."""
        if self.tail is not None:
            found, problems = self.tail.read()
            self._take(found)
            self.format = self.tail.format or self.format
            for problem in problems:
                key = problem.split(":", 1)[0] if "cannot read" in problem else problem
                if key not in self._warned:  # an unreadable file is said once, not each second
                    self._warned.add(key)
                    self.note(f"chat: {problem}")
            return
        while clock is not None:
            try:
                at, message = self.arrivals.get_nowait()
            except queue.Empty:
                return
            moment = clock(at)
            if moment >= -self.config.window:  # the clock is the scored edge, a little behind the stream
                self._take([dataclasses.replace(message, time=max(0.0, moment))])
                self._keep(self.messages[-1])

    def _take(self, found: list[chat_lib.ChatMessage]) -> None:
        self.messages += found
        for message in found:
            self.tally.add(message)

    def _resume(self, log: Path) -> None:
        """Take back the messages an earlier run on this stream kept (same recording, same clock)."""
        try:
            found, _ = chat_lib.ChatTail(log).read()
        except ChatError as exc:
            self.note(f"chat: {exc}; not resumed")
            return
        self._take(found)
        self.note(f"chat: {len(found)} messages from an earlier run ({log.name})")

    def _keep(self, message: chat_lib.ChatMessage) -> None:
        """Append a Twitch message to the log (`[m:ss.ss] name: text`): a rerun resumes it, and
        `compile --chat` reads it once the stream is over."""
        if self.log is None:
            return
        name = "twitch" if message.notice else message.author or "anonymous"
        try:
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.write(f"[{format_time(message.time, 2)}] {name}: {' '.join(message.text.split())}\n")
        except OSError as exc:
            self.note(f"chat: {self.log}: cannot write ({exc.strerror or exc}); chat is no longer kept")
            self.log = None

    def timeline(self, duration: float, parts: dict[str, Timeline], final: bool = False
                 ) -> chat_lib.ChatTimeline:
        """Chat's timeline over `duration` stream seconds, moved by its delay; the delay is
        estimated again against `parts` (model, else loudness) when it is time to, or `final`."""
        raw = self.tally.timeline(duration)  # as chat_timeline on every message, without redoing it
        if self.config.delay is None and (final or time.monotonic() - self._estimated_at >= DELAY_EVERY):
            self._estimated_at = time.monotonic()
            self._estimate(raw, parts)
        return raw.shifted(self.delay)

    def _estimate(self, raw: chat_lib.ChatTimeline, parts: dict[str, Timeline]) -> None:
        reference = next((name for name in ("model", "loudness") if name in parts), None)
        if reference is None or not self.messages:
            return
        delay, correlation = chat_lib.estimate_delay(raw, parts[reference])
        agreed = correlation >= chat_lib.MIN_DELAY_CORRELATION
        changed = abs(delay - self.delay) >= DELAY_CHANGE or (agreed and not self.measured)
        self.delay, self.reference, self.correlation = delay, reference, correlation
        self.measured = self.measured or agreed
        if changed and agreed:
            self.note(f"chat: delay {delay:g}s (estimated against {reference} on the stream so far, "
                      f"correlation {correlation:.2f}; --chat-delay to set it)")
        elif changed:
            self.note(f"chat: delay {delay:g}s assumed ({reference} and chat do not agree enough to "
                      "measure it; --chat-delay to set it)")

    def known_until(self, edge: float) -> float:
        """The stream second up to which chat's moved timeline is complete when chat has
        reached `edge`: its reactions to later moments are still to come."""
        return edge - self.delay - self.config.window / 2 - self.config.step

    def describe(self) -> str:
        """One line for the end of the stream: what chat was read and the delay used."""
        how = ("--chat-delay" if self.config.delay is not None else
               f"estimated against {self.reference}, correlation {self.correlation:.2f}"
               if self.correlation >= chat_lib.MIN_DELAY_CORRELATION else "assumed")
        return (f"chat: {len(self.messages)} messages ({self.format}) from {self.spec}; "
                f"delay {self.delay:g}s ({how})")
