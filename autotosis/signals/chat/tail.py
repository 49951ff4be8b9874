"""A chat log still being written, read as it grows.

A chat logger appends one message a line (`[h:mm:ss] name: text`, or yt-dlp's live_chat
JSON lines), each timed on the stream's clock like a replay's. `ChatTail` reads the complete
lines added since its last read (a line caught half-written waits for its end); a finished
replay in a whole-file format (TwitchDownloader, chat-downloader JSON) is read once, whole.
A line that is not chat is skipped and named, so a stray line does not stop a stream.
"""

from __future__ import annotations

from pathlib import Path

from autotosis.core.errors import ChatError
from autotosis.signals.chat.replay import ChatMessage, line_format, parse_lines, read_chat


class ChatTail:
    """Reads `path` from where the last `read()` stopped; see the module docstring."""

    def __init__(self, path: Path):
        self.path = path
        self.format = ""  # log | yt-dlp-live-chat | a whole-file format, once known
        self.offset = 0
        self.lines = 0
        self._rest = b""
        self._whole: list[ChatMessage] | None = None
        try:
            with open(path, "rb") as handle:
                head = handle.read(1 << 16)
        except FileNotFoundError:
            raise ChatError(f"{path}: no such chat file") from None
        except OSError as exc:
            raise ChatError(f"{path}: cannot read ({exc.strerror or exc})") from None
        first = next((line for line in head.decode("utf-8-sig", "replace").splitlines() if line.strip()), "")
        if first and line_format(first) is None:
            replay = read_chat(path)  # a replay written whole (or ChatError saying what it is not)
            self.format, self._whole = replay.format, list(replay.messages)

    def read(self) -> tuple[list[ChatMessage], list[str]]:
        """(messages added since the last read, problems: lines skipped, an unreadable file)."""
        if self._whole is not None:
            messages, self._whole = self._whole, []
            return messages, []
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except OSError as exc:
            return [], [f"{self.path}: cannot read ({exc.strerror or exc})"]
        self.offset += len(data)
        data = self._rest + data
        complete, newline, self._rest = data.rpartition(b"\n")
        if not newline:
            return [], []
        text = complete.decode("utf-8-sig" if self.lines == 0 else "utf-8", "replace")
        messages, problems = [], []
        for line in text.split("\n"):
            self.lines += 1
            if not line.strip():
                continue
            if not self.format:
                self.format = line_format(line) or ""
            try:
                if not self.format:
                    raise ChatError(f"{self.path}: line {self.lines}: not a chat line "
                                    "('[h:mm:ss] name: text' or yt-dlp live_chat JSON)")
                messages += parse_lines(self.path, self.format, [line], self.lines)
            except ChatError as exc:
                problems.append(f"{exc}; skipped")
        return messages, problems
