"""Face-cam crops decoded for training: a whole short clip, or one reviewed span of a VOD.

Decoding is the expensive part, so each decode is cached as one uint8 array keyed by
what changes the pixels (the file's identity, box, fps, size and, for a span, the span):
labels are applied afterwards, so editing segments never re-decodes anything, and a new
answer on a VOD decodes only its own span. A span is decoded with input seeking
(`media.frames(start=, end=)` puts -ss before -i): it costs its own seconds and a GOP,
never the VOD before it. Frame times are the file's own seconds either way.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.errors import DataError
from autotosis.core.fsutil import atomic_path
from autotosis.core.paths import cache_dir
from autotosis.core.timeline import Segment

CACHE_VERSION = 1


def cache_key(info: media.VideoInfo, box: media.Box | None, fps: float, size: int,
              span: Segment | None = None) -> str:
    """Changes whenever the decoded pixels would: the file (path, size, mtime), box, fps, size,
    and the span for a part of a VOD (None: the whole clip)."""
    box_text = "full" if box is None else ",".join(f"{v:.6f}" for v in box)
    raw = f"v{CACHE_VERSION}|{info.identity}|{box_text}|{fps:g}|{size}"
    if span is not None:
        raw += f"|span={span.start:.3f}-{span.end:.3f}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _cache_file(key: str, root: Path | None) -> Path:
    return (root if root is not None else cache_dir()) / "crops" / f"{key}.npz"


def _load(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    if not path.exists():
        return None
    try:
        with np.load(path) as data:
            return data["images"], data["times"]
    except (OSError, ValueError, KeyError, EOFError):
        path.unlink(missing_ok=True)  # a damaged entry is just decoded again
        return None


def _store(path: Path, images: np.ndarray, times: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, images=images, times=times)


def extract_clip(
    clip: Path, box: media.Box | None, fps: float, size: int, cache: Path | None = None,
    info: media.VideoInfo | None = None,
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """(images, times, duration, decoded) for a whole clip: one ffmpeg pass, or the cache.

    `decoded` says whether ffmpeg ran, so callers can report cache hits and speed.
    """
    info = info or media.probe(clip)
    path = _cache_file(cache_key(info, box, fps, size), cache)
    cached = _load(path)
    if cached is not None:
        return cached[0], cached[1], info.duration, False
    batches = list(media.frames(clip, fps=fps, box=box, size=size, info=info, batch_size=256))
    if not batches:
        raise DataError(f"{clip}: ffmpeg produced no frames")
    images = np.concatenate([b.images for b in batches])
    times = np.concatenate([b.times for b in batches])
    _store(path, images, times)
    return images, times, info.duration, True


def on_grid(span: Segment, fps: float) -> Segment:
    """The span starting on the next sample tick (k / fps): a span's frames then fall on the
    same instants a whole-file decode would sample, whatever second the person typed."""
    start = math.ceil(span.start * fps - 1e-6) / fps
    return Segment(round(start, 6), span.end) if start < span.end else span


def extract_span(
    clip: Path, span: Segment, box: media.Box | None, fps: float, size: int,
    cache: Path | None = None, info: media.VideoInfo | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(images, times, decoded) for frames in [span.start, span.end) of a long file, decoded
    with input seeking or read from the cache; times in the file's own seconds.

    A span shorter than one sample may give no frame at all: empty arrays, not an error.
    """
    info = info or media.probe(clip)
    span = on_grid(span, fps)
    path = _cache_file(cache_key(info, box, fps, size, span), cache)
    cached = _load(path)
    if cached is not None:
        return cached[0], cached[1], False
    batches = list(media.frames(clip, fps=fps, box=box, size=size, start=span.start, end=span.end,
                                info=info, batch_size=256))
    if batches:
        images = np.concatenate([b.images for b in batches])
        times = np.concatenate([b.times for b in batches])
    else:
        images, times = np.zeros((0, size, size, 3), np.uint8), np.zeros(0, np.float64)
    _store(path, images, times)
    return images, times, True
