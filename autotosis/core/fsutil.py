"""Safe file writes: atomic replacement, one-line errors for full or read-only disks, folder locks."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from autotosis.core.errors import AutotosisError

# OSErrors that are the user's disk, not our bug: each becomes a one-line message.
_WRITE_ERRORS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for this file system",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a parent folder is a file",
}


def write_error(exc: OSError, path: Path | str) -> AutotosisError | None:
    """The one-line error for a failed write to `path`, or None when `exc` is not a disk problem."""
    reason = _WRITE_ERRORS.get(exc.errno or 0)
    return AutotosisError(f"{path}: cannot write ({reason})") if reason else None


@contextlib.contextmanager
def atomic_path(path: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it over `path` only if the block succeeds.

    The temp name keeps the real extension unless `suffix` says otherwise (ffmpeg picks
    the muxer from it) and is unique and hidden, so concurrent runs never write into each
    other's files. A full, read-only or forbidden disk raises a one-line AutotosisError
    naming `path`; the temp file is removed whatever happens.
    """
    target = Path(path)
    ext = suffix if suffix is not None else target.suffix
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{ext}", dir=target.parent)
    except OSError as exc:
        raise (write_error(exc, target) or exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        raise (write_error(exc, target) or exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write `data` atomically; the temp name ends in `.part`, so a `*.pt` glob never sees it."""
    with atomic_path(path, suffix="") as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


_held: dict[Path, list[int]] = {}  # folder -> [holders in this process, locked fd]
_held_lock = threading.Lock()


@contextlib.contextmanager
def exclusive(folder: Path | str, what: str = "another autotosis run") -> Iterator[Path]:
    """Hold an advisory lock on `folder` (created if missing) for the block, or fail at once.

    Two processes writing one output folder would mix their files; the second one gets
    a one-line error instead. The lock is flock(2) on the folder itself, so no lock file
    is left behind and a killed process releases it. Re-entrant within one process, so
    a pipeline that locks a folder can call a step that locks it again. A folder made
    here and still empty at the end (the run failed early) is removed again.
    """
    path = Path(folder)
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise (write_error(exc, path) or exc) from None
    key = path.resolve()
    with _held_lock:
        if key not in _held:
            fd = os.open(key, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise AutotosisError(f"{path}: {what} is writing here; wait for it to finish") from None
            _held[key] = [0, fd]
        _held[key][0] += 1
    try:
        yield path
    finally:
        with _held_lock:
            _held[key][0] -= 1
            if _held[key][0] == 0:
                os.close(_held.pop(key)[1])
                if created:
                    with contextlib.suppress(OSError):
                        path.rmdir()
