"""The scan cache: its keys and the files that hold scores between runs.

Apart so that the key's recipe (it must change whenever the scores would, and never
otherwise, or a second compile rescans for nothing) and the file format it names sit
in one small place that the passes and the scan both read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.fsutil import atomic_path
from autotosis.core.timeline import Timeline

CACHE_VERSION = 1


def scan_key(info: media.VideoInfo, model_digest: str, fps: float | None, box: media.Box | None,
             keyframes: bool, precision: str = "fp32", extra: str = "") -> str:
    """Changes whenever the scores would: VOD (path, size, mtime), model bytes, fps, keyframes, box,
    the arithmetic precision of the model, and `extra` (a coarse pass 2's windows)."""
    box_text = "full" if box is None else ",".join(f"{v:.6f}" for v in box)
    rate = "key" if keyframes else f"{fps:g}"
    raw = f"scan{CACHE_VERSION}|{info.identity}|{model_digest}|{rate}|{box_text}|{precision}"
    if extra:
        raw += f"|{extra}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _save(path: Path, times: np.ndarray, values: np.ndarray) -> None:
    """times and probabilities; a one-head model's as a plain column, as before several heads."""
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, times=times, values=values)


def _load(path: Path) -> Timeline | None:
    """The first head's timeline of a saved scan; None when missing or damaged."""
    got = _load_columns(path)
    return None if got is None else Timeline(got[0], np.ascontiguousarray(got[1][:, 0]))


def _load_columns(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(times, probabilities (N, heads)) of a saved scan; one-head entries read as one column."""
    if not path.exists():
        return None
    try:
        with np.load(path) as data:
            times = data["times"].astype(np.float64)
            return times, data["values"].astype(np.float32).reshape(len(times), -1)
    except (OSError, ValueError, KeyError, EOFError):
        path.unlink(missing_ok=True)  # a damaged entry is scanned again
        return None
