"""Running ffmpeg: finding it, executing command lines, and turning failures into one-line MediaErrors.

Every other module in this package builds arguments with pure functions; this one is the
only place that starts a process, so stderr is always captured and always explained.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from autotosis.core.errors import MediaError

# stderr lines that mean something a user can act on, checked in order.
_KNOWN_ERRORS = [
    ("No space left on device", "disk full while writing"),
    ("moov atom not found", "file is truncated or incomplete (no moov atom)"),
    ("Permission denied", "permission denied"),
    ("Invalid data found when processing input", "not a readable media file"),
    ("does not contain any stream", "contains no audio/video stream"),
    ("Output file #0 does not contain any stream", "contains no usable stream"),
    ("Stream map '0:a:0' matches no streams", "has no audio stream"),
    ("Stream map '0:v:0' matches no streams", "has no video stream"),
]
_PTS_TIME = re.compile(r"pts_time:\s*(-?[0-9.]+(?:e-?\d+)?)")


@functools.cache
def ffmpeg_bin() -> str:
    """Path of ffmpeg, looked up on first use so `--help` works without it."""
    found = shutil.which("ffmpeg")
    if not found:
        raise MediaError("ffmpeg not found on PATH: install it (Debian/Ubuntu: apt-get install ffmpeg)")
    return found


@functools.cache
def ffprobe_bin() -> str:
    found = shutil.which("ffprobe")
    if not found:
        raise MediaError("ffprobe not found on PATH: install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg)")
    return found


@functools.cache
def has_fps_mode() -> bool:
    """ffmpeg >= 5.1 spells `-vsync` as `-fps_mode`; newer releases drop the old name."""
    out = subprocess.run([ffmpeg_bin(), "-hide_banner", "-h", "long"], capture_output=True, text=True)
    return "-fps_mode" in out.stdout
def explain(stderr: str, path: Path | str | None = None) -> str:
    """One line a user can act on from an ffmpeg stderr dump."""
    prefix = f"{path}: " if path is not None else ""
    for needle, message in _KNOWN_ERRORS:
        if needle in stderr:
            return prefix + message
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "rror" in ln or "nvalid" in ln or "failed" in ln.lower()]
    last = (errors or lines or ["ffmpeg failed with no message"])[-1]
    if prefix and last.startswith(prefix):
        prefix = ""  # ffmpeg named it already ("rtmp://...: Address already in use")
    return prefix + last[:300]

# What ffmpeg reads that is not a file: its stdin (a recording fed by `autotosis live`) or a URL.
_NOT_A_FILE = re.compile(r"^(pipe:\d*|[a-z][a-z0-9+.-]*://.+)$")


def arg_path(path: Path | str) -> str:
    """A path as an ffmpeg argument: absolute, so a name like "-x.mp4" is never read as an option.

    A string that is `pipe:N` or a URL (`srt://...`, `http://...m3u8`) goes to ffmpeg as it is.
    """
    if isinstance(path, str) and _NOT_A_FILE.match(path):
        return path
    return str(Path(path).absolute())


def check_readable_file(path: Path | str) -> Path:
    """Fail early, with the file's name, on the usual user mistakes."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: no such file")
    if p.is_dir():
        raise MediaError(f"{p}: is a directory, expected a video file")
    if p.stat().st_size == 0:
        raise MediaError(f"{p}: file is empty (0 bytes)")
    return p

# How much lower a background ffmpeg runs (nice): CPU goes to it only when nothing else wants it.
BACKGROUND_NICE = 10


def run(args: Sequence[str], output: Path | None = None, source: Path | str | None = None,
        background: bool = False) -> str:
    """Run ffmpeg to completion; MediaError naming `source` (or `output`) on failure.

    Returns its stderr, where measuring filters (loudnorm, ebur128) print their results.
    `background`: at a lower CPU priority (where the system has one), so that work which
    must keep up (live scoring, and the game the streamer plays) goes first.
    """
    cmd = [ffmpeg_bin(), "-hide_banner", "-nostdin", "-nostats", "-y", *args]
    with subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE) as proc:
        if background:
            lower_priority(proc.pid)
        try:
            _, err = proc.communicate()
        except BaseException:
            proc.kill()
            raise
    stderr = err.decode("utf-8", "replace")
    _check(proc.returncode, stderr, output, source)
    return stderr


def lower_priority(pid: int) -> None:
    """Nice `pid` by BACKGROUND_NICE; the threads it starts from now on inherit it. Nothing
    where the system has no nice (Windows) or forbids it."""
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, 0) + BACKGROUND_NICE)


_INTERRUPTED = re.compile(r"received signal (2|15)\b")
# ffmpeg 5 still exits 0 after these: the output is cut short all the same.
_WRITE_FAILURES = ("No space left on device", "Error writing trailer", "Error closing file")


def _check(code: int, stderr: str, output: Path | None, source: Path | str | None) -> None:
    """MediaError for a failed ffmpeg run: a full disk names the output's folder, anything else the source.

    An ffmpeg stopped by Ctrl-C or SIGTERM ("Exiting normally, received signal 2.") was
    interrupted, not broken: KeyboardInterrupt, whether or not this process saw the signal too.
    """
    if code != 0 and _INTERRUPTED.search(stderr):
        raise KeyboardInterrupt
    if code != 0 or any(failure in stderr for failure in _WRITE_FAILURES):
        if "No space left on device" in stderr and output is not None:
            raise MediaError(explain(stderr, output.parent))
        raise MediaError(explain(stderr, source if source is not None else output))
    if output is not None and (not output.exists() or output.stat().st_size == 0):
        raise MediaError(f"{output}: ffmpeg wrote no output ({explain(stderr)})")


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then deliver them.

    Around "start a child and start tracking it": an interrupt landing between the
    two would leave an ffmpeg nobody kills, writing a file after the cleanup ran.
    Signals only reach the main thread, so elsewhere there is nothing to hold.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in held:
            signal.raise_signal(signum)


class FFmpegProcess:
    """An ffmpeg child with stdout/stdin pipes and a thread draining stderr.

    The stderr thread keeps showinfo timestamps in `times` and the last lines in
    `tail`, so a pipe never fills up and a failure can be explained. Always used
    as a context manager: leaving the block kills a still-running ffmpeg.
    """

    def __init__(self, args: Sequence[str], stdin: bool = False, stdout: bool = True):
        quiet_stdin = [] if stdin else ["-nostdin"]
        cmd = [ffmpeg_bin(), "-hide_banner", *quiet_stdin, "-nostats", "-y", *args]
        self.times: queue.Queue[float | None] = queue.Queue()
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        with interrupts_held():  # the child and its reader exist together, or neither does
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                bufsize=1 << 20,
            )
            self._reader = threading.Thread(target=self._drain, daemon=True)
            self._reader.start()

    def _drain(self) -> None:
        """Read stderr to its end, then close it: only this thread ever touches that pipe,
        so an early close elsewhere cannot pull it away from a readline in progress."""
        stderr = self.proc.stderr
        assert stderr is not None
        try:
            for raw in iter(stderr.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip()
                if "showinfo" in line and " n:" in line:
                    match = _PTS_TIME.search(line)
                    if match:
                        self.times.put(float(match.group(1)))
                        continue
                if line and "showinfo" not in line:
                    self.tail.append(line)
        finally:
            self.times.put(None)
            with contextlib.suppress(OSError):
                stderr.close()

    def finish(self, source: Path | str | None) -> None:
        """Wait for a clean exit; MediaError with the stderr tail otherwise."""
        code = self.proc.wait()
        self._reader.join(timeout=5)
        _check(code, "\n".join(self.tail), None, source)

    def __enter__(self) -> FFmpegProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        """Kill a still-running ffmpeg, close our ends of stdin/stdout, and let the reader
        finish: a dead child's stderr ends at once, and the reader closes it itself."""
        if self.proc.poll() is None:
            self.proc.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self.proc.wait()
        self._reader.join(timeout=5)


Job = tuple[Sequence[str], Path, Path | str | None]  # (arguments, output, source named in errors)


def run_all(jobs: Sequence[Job], parallel: int, done: Callable[[int], None] | None = None) -> None:
    """Run independent ffmpeg jobs `parallel` at a time; `done(k)` after job k succeeds.

    The children are started and watched from the calling thread, so a failure, Ctrl-C
    or SIGTERM here kills every ffmpeg still running and starts no more (a thread pool
    would finish its whole queue first, its workers out of reach of the interrupt).
    """
    waiting = list(enumerate(jobs))[::-1]
    running: dict[int, FFmpegProcess] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, parallel):
                k, (args, _, _) = waiting.pop()
                with interrupts_held():  # started means tracked, so the finally below kills it
                    running[k] = FFmpegProcess(args, stdout=False)
            finished = [k for k, ffm in running.items() if ffm.proc.poll() is not None]
            for k in finished:
                ffm = running.pop(k)
                ffm.__exit__()  # reaps the child and its stderr reader
                _, output, source = jobs[k]
                _check(ffm.proc.returncode, "\n".join(ffm.tail), output, source)
                if done is not None:
                    done(k)
            if not finished:
                time.sleep(0.02)
    finally:
        for ffm in running.values():
            ffm.__exit__()
