"""Browser previews for clips the browser cannot play, made once in the background and cached.

A short clip gets one proxy of the whole file (`ProxyCache`); a long VOD gets a short
preview around each suggestion instead (`SpanPreviews`), so the first plays in seconds.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autotosis import media
from autotosis.core.errors import AutotosisError

# What Chromium (Debian's build included, checked with canPlayType and real playback)
# plays directly; anything else (HEVC, MPEG-4 part 2, FLV, MPEG-TS, ...) gets a proxy.
PLAYABLE_CODECS = frozenset({"h264", "vp8", "vp9", "av1"})
PLAYABLE_CONTAINERS = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv"})


def browser_playable(info: media.VideoInfo) -> bool:
    """Whether a browser can play the original file, judged by codec and container."""
    return info.codec in PLAYABLE_CODECS and info.path.suffix.lower() in PLAYABLE_CONTAINERS


class _Encodes:
    """Files under `folder` made one at a time in a background thread (never flooding the CPU),
    each known by name as preparing, failed (with ffmpeg's one line) or, once on disk, ready."""

    def __init__(self, folder: Path, thread_name: str):
        self.folder = folder
        self._lock = threading.Lock()
        self._failed: dict[str, str] = {}
        self._running: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)

    def _state(self, target: Path) -> tuple[str, str | None]:
        with self._lock:
            if target.name in self._running:
                return "preparing", None
            if target.name in self._failed:
                return "failed", self._failed[target.name]
        return ("ready" if target.exists() else "absent"), None

    def _encode(self, make: Callable[[], object], target: Path) -> None:
        error = None
        try:
            make()
        except AutotosisError as exc:
            error = str(exc)
        with self._lock:
            self._running.discard(target.name)
            if error is not None:
                self._failed[target.name] = error

    def wait(self) -> None:
        """Block until what is queued is done (used when shutting down and by tests)."""
        self._pool.submit(lambda: None).result()


class ProxyCache(_Encodes):
    """Proxies under `folder`, keyed by the clip's identity (path, size, mtime); the page polls
    `status` while one is made."""

    def __init__(self, folder: Path):
        super().__init__(folder, "autotosis-proxy")

    def path_for(self, info: media.VideoInfo) -> Path:
        key = hashlib.sha1(info.identity.encode("utf-8")).hexdigest()[:20]
        return self.folder / f"{key}.mp4"

    def status(self, info: media.VideoInfo) -> dict[str, str | None]:
        """{"state": "ready" | "preparing" | "failed" | "absent", "error": ...}."""
        state, error = self._state(self.path_for(info))
        return {"state": state, "error": error}

    def start(self, info: media.VideoInfo) -> dict[str, str | None]:
        """Begin making the proxy unless it exists or is under way; returns the new status."""
        target = self.path_for(info)
        with self._lock:
            if target.name in self._running:
                return {"state": "preparing", "error": None}
            if target.exists():
                return {"state": "ready", "error": None}
            self._failed.pop(target.name, None)
            self._running.add(target.name)
        self._pool.submit(self._encode, lambda: media.make_browser_proxy(info.path, target, info), target)
        return {"state": "preparing", "error": None}


class SpanPreviews(_Encodes):
    """Previews of a few seconds of a VOD, keyed by the VOD's identity and the span, made with
    input seeking (`media.make_span_preview`), one at a time, newest request first.

    The page asks for the candidate on screen and then the next two; when the person
    jumps ahead, what they look at now is made before the prefetches.
    """

    NAME = re.compile(r"^[0-9a-f]{20}-\d+-\d+\.mp4$")

    def __init__(self, folder: Path):
        super().__init__(folder, "autotosis-preview")
        self._queue: list[tuple[media.VideoInfo, float, float, Path]] = []

    def path_for(self, info: media.VideoInfo, start: float, end: float) -> Path:
        key = hashlib.sha1(info.identity.encode("utf-8")).hexdigest()[:20]
        return self.folder / f"{key}-{round(start * 1000)}-{round(end * 1000)}.mp4"

    def status(self, info: media.VideoInfo, start: float, end: float) -> dict[str, str | None]:
        """{"state": "ready" | "preparing" | "failed" | "absent", "error": ..., "name": file name}."""
        target = self.path_for(info, start, end)
        state, error = self._state(target)
        return {"state": state, "error": error, "name": target.name}

    def start(self, info: media.VideoInfo, start: float, end: float,
              first: bool = True) -> dict[str, str | None]:
        """Queue the preview of [start, end) unless made or under way; `first` puts it at the
        front of the queue (what the person is looking at), else at the back (a prefetch)."""
        target = self.path_for(info, start, end)
        with self._lock:
            if target.name not in self._running and not target.exists():
                self._failed.pop(target.name, None)
                self._running.add(target.name)
                job = (info, start, end, target)
                if first:
                    self._queue.insert(0, job)
                else:
                    self._queue.append(job)
                self._pool.submit(self._next)
            elif first:  # already queued: move it to the front
                for k, job in enumerate(self._queue):
                    if job[3] == target:
                        self._queue.insert(0, self._queue.pop(k))
                        break
        return self.status(info, start, end)

    def file(self, name: str) -> Path | None:
        """The finished preview called `name` (as status gave it), or None."""
        if not self.NAME.match(name):
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def _next(self) -> None:
        with self._lock:
            if not self._queue:
                return
            info, start, end, target = self._queue.pop(0)
        self._encode(lambda: media.make_span_preview(info.path, start, end - start, target, info), target)
