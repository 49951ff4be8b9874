"""The ffmpeg recording a stream URL into the growing file live follows.

A streamer starts autotosis before going live: an http(s) playlist or stream URL then answers
404 until the streaming server publishes it. Until the stream has first been reached, such a
recorder is started again after a short back-off (0.5 s, doubling up to `MAX_BACKOFF`), one
note saying it waits; Session gives up after `--idle` seconds without a recording (the usual
"no stream arrived within --idle" line). Any other failure is said at once, as before.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from autotosis import media

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 4.0  # a stream that goes live is seen at most this late


class Recorder:
    """`media.record_args(url, path, headers)` in an FFmpegProcess, restarted while the URL is 404."""

    def __init__(self, url: str, path: Path, headers: dict[str, str] | None, note: Callable[[str], None]):
        self.url, self.path, self.headers, self.note = url, path, headers, note
        self.backoff = FIRST_BACKOFF
        self.retry_at = 0.0
        self.waited = False  # the "waiting for the stream to start" note was given
        self.process = self._start()

    def _start(self) -> media.FFmpegProcess:
        self.path.unlink(missing_ok=True)
        return media.FFmpegProcess(media.record_args(self.url, self.path, self.headers), stdout=False)

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        """The current ffmpeg."""
        return self.process.proc

    def waiting(self) -> bool:
        """The recorder exited because the URL is not there yet (404): True while it waits to be
        started again (restarting it once its back-off is over); False for any other exit."""
        if self.proc.poll() is None:
            return True  # started again, still trying
        self.process.__exit__()  # its stderr is read to the end
        if not media.not_there_yet(self.url, "\n".join(self.process.tail)):
            return False
        now = time.monotonic()
        if not self.waited:
            self.waited = True
            self.note(f"live: {self.url} is not there yet (HTTP 404): waiting for the stream to start")
            self.retry_at = now + self.backoff
        if now >= self.retry_at:
            self.process = self._start()
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)
            self.retry_at = now + self.backoff
        return True

    def finish(self, source: str) -> None:
        """Wait for the ffmpeg to exit; MediaError (one line, its stderr) when it failed."""
        self.process.finish(source)

    def __exit__(self, *exc: object) -> None:
        self.process.__exit__(*exc)
