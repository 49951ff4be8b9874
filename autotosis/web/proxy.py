"""Browser previews for clips the browser cannot play, made once in the background and cached."""

from __future__ import annotations

import hashlib
import threading
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


class ProxyCache:
    """Proxies under `folder`, keyed by the clip's identity (path, size, mtime).

    One proxy is encoded at a time so a folder of clips never floods the CPU; the
    page polls `status` while it waits.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._lock = threading.Lock()
        self._failed: dict[str, str] = {}
        self._running: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autotosis-proxy")

    def path_for(self, info: media.VideoInfo) -> Path:
        key = hashlib.sha1(info.identity.encode("utf-8")).hexdigest()[:20]
        return self.folder / f"{key}.mp4"

    def status(self, info: media.VideoInfo) -> dict[str, str | None]:
        """{"state": "ready" | "preparing" | "failed" | "absent", "error": ...}."""
        target = self.path_for(info)
        with self._lock:
            if target.name in self._running:
                return {"state": "preparing", "error": None}
            if target.name in self._failed:
                return {"state": "failed", "error": self._failed[target.name]}
        return {"state": "ready" if target.exists() else "absent", "error": None}

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
        self._pool.submit(self._make, info, target)
        return {"state": "preparing", "error": None}

    def _make(self, info: media.VideoInfo, target: Path) -> None:
        error = None
        try:
            media.make_browser_proxy(info.path, target, info)
        except AutotosisError as exc:
            error = str(exc)
        with self._lock:
            self._running.discard(target.name)
            if error is not None:
                self._failed[target.name] = error

    def wait(self) -> None:
        """Block until queued proxies are done (used when shutting down and by tests)."""
        self._pool.submit(lambda: None).result()
