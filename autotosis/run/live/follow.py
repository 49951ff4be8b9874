"""Following a recording as it is written: read what is new, hand it to ffmpeg, wait, end.

A thread reads the file from where it left off and writes every new byte to the stdin of
each ffmpeg that needs the stream (replay buffer, loudness, face-cam frames): one read of
the disk, no seeking, so a file still being written is never re-read from its start.
When nothing new comes it waits; the recording has ended when it has not grown for
`idle` seconds, or (`follow_dir`) when a newer recording appeared in the same folder
(OBS's automatic file splitting) and this one has stopped growing, or (`source_done`) when
the ffmpeg recording a stream URL has exited and everything it wrote has been handed over.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

CHUNK = 1 << 16
# With a newer file beside it, a recording that has not grown for this long is finished.
SPLIT_QUIET = 1.0
RECORDING_SUFFIXES = (".mkv", ".flv", ".ts", ".mp4", ".mov", ".m2ts")


def newer_recording(current: Path) -> Path | None:
    """The recording OBS started after `current` in the same folder, if any (oldest such first)."""
    try:
        mtime = current.stat().st_mtime_ns
        later = [p for p in current.parent.iterdir()
                 if p != current and p.suffix.lower() in RECORDING_SUFFIXES and not p.name.startswith(".")
                 and p.is_file() and p.stat().st_mtime_ns > mtime and p.stat().st_size > 0]
    except OSError:
        return None
    return min(later, key=lambda p: (p.stat().st_mtime_ns, p.name)) if later else None


class Follower:
    """Feeds one growing recording to ffmpeg stdins on a thread; see the module docstring.

    `ended` says why it stopped: "idle", "split" (a newer file took over), "source ended"
    (`source_done()` said the writer is gone), "stopped" or "error: ..."; `grew_at` is the
    clock time the file last grew.
    """

    def __init__(self, path: Path, pipes: int, idle: float, follow_dir: bool, poll: float = 0.2,
                 source_done: Callable[[], bool] | None = None):
        self.path, self.idle, self.follow_dir, self.poll = path, idle, follow_dir, poll
        self.source_done = source_done
        self.expected = pipes
        self.pipes: list[IO[bytes]] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.fed = 0
        self.grew_at = time.monotonic()
        self.caught_up = False  # everything written so far has been handed over
        self.ended = ""
        self.next_file: Path | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name="live-follow")

    def attach(self, pipe: IO[bytes]) -> None:
        """An ffmpeg's stdin (media's `stdin_to` callback): feeding starts once all are here."""
        with self._lock:
            self.pipes.append(pipe)
            if len(self.pipes) >= self.expected:
                self.ready.set()

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self.ready.wait(0.2):
                if self.stop.is_set():
                    self.ended = "stopped"
                    return
            with open(self.path, "rb") as handle:
                self.ended = self._feed(handle)
        except BrokenPipeError:
            self.ended = "error: an ffmpeg reading the recording stopped"
        except OSError as exc:
            self.ended = f"error: {self.path}: cannot read ({exc.strerror or exc})"
        finally:
            for pipe in self.pipes:
                with contextlib.suppress(OSError):
                    pipe.close()  # end of input: each ffmpeg flushes and exits

    def _feed(self, handle: IO[bytes]) -> str:
        writer_gone = False  # seen before the last read: that read had all the writer wrote
        while not self.stop.is_set():
            data = handle.read(CHUNK)
            if data:
                for pipe in self.pipes:
                    pipe.write(data)
                    pipe.flush()
                self.fed += len(data)
                self.grew_at = time.monotonic()
                continue
            self.caught_up = True
            if writer_gone:
                return "source ended"
            if self.source_done is not None and self.source_done():
                writer_gone = True
                continue  # read once more: what it wrote just before exiting
            quiet = time.monotonic() - self.grew_at
            if self.follow_dir and quiet >= SPLIT_QUIET:
                self.next_file = newer_recording(self.path)
                if self.next_file is not None:
                    return "split"
            if quiet >= self.idle:
                return "idle"
            self.stop.wait(self.poll)
        return "stopped"


def wait_for(path: Path, idle: float, usable: Callable[[Path], bool], stop: threading.Event) -> bool:
    """Wait until `usable(path)` (the recording exists and ffprobe reads its header), at most
    `idle` seconds without the file growing; False when it never became usable. `usable`
    is asked even before the file exists (it may raise: the writer failed)."""
    size, since = -1, time.monotonic()
    while not stop.is_set():
        try:
            now = path.stat().st_size
        except OSError:
            now = -1
        if usable(path):
            return True
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= idle:
            return False
        stop.wait(0.25)
    return False
