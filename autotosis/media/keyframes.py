"""How far apart a video's keyframes are, read from packet flags without decoding anything.

A coarse scan decodes keyframes only when they come often enough to stand for the
stream (OBS and Twitch: every 2 s); this tells it. ffprobe reads the packet headers of a
few short windows spread over the file (`-read_intervals`, each a seek), so the cost is
a few hundred milliseconds whatever the VOD's length.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autotosis.core.errors import MediaError
from autotosis.media.probe import VideoInfo
from autotosis.media.runner import arg_path, explain, ffprobe_bin


@dataclass(frozen=True)
class KeyframeInfo:
    """Keyframe spacing seen in the sampled windows.

    `interval` is the median gap in seconds, None when no window held two keyframes
    (keyframes further apart than a window, or a stream with one keyframe at the start).
    `spread` is the largest gap over the median: near 1 for a fixed GOP, larger for
    scene-cut keyframes or variable frame rate captures.
    """

    interval: float | None
    keyframes: int
    spread: float
    window: float


def keyframe_windows(duration: float, count: int = 3, window: float = 30.0) -> list[tuple[float, float]]:
    """`count` windows of `window` seconds spread over the file (start, middle, end), inside it."""
    if duration <= window * count:
        return [(0.0, duration)]
    starts = np.linspace(0.0, duration - window, count)
    return [(float(s), window) for s in starts]


def keyframe_args(path: Path | str, windows: list[tuple[float, float]]) -> list[str]:
    """ffprobe arguments printing the time and flags of each video packet inside `windows`."""
    intervals = ",".join(f"{start:.3f}%+{length:.3f}" for start, length in windows)
    return [ffprobe_bin(), "-v", "error", "-select_streams", "v:0", "-read_intervals", intervals,
            "-show_entries", "packet=pts_time,dts_time,flags", "-of", "csv=p=0", arg_path(path)]


def parse_keyframes(text: str) -> list[float]:
    """Keyframe times from ffprobe's csv packet lines (`pts_time,dts_time,flags`)."""
    times = []
    for line in text.splitlines():
        parts = line.strip().split(",")
        if len(parts) < 3 or "K" not in parts[-1]:
            continue
        for value in (parts[0], parts[1]):
            try:
                times.append(float(value))
                break
            except ValueError:
                continue
    return times


def keyframe_info(path: Path | str, info: VideoInfo, count: int = 3, window: float = 30.0) -> KeyframeInfo:
    """Probe the keyframe interval over `count` windows of `window` seconds."""
    windows = keyframe_windows(info.duration, count, window)
    done = subprocess.run(keyframe_args(path, windows), capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        raise MediaError(explain(done.stderr, path))
    times = np.array(sorted(set(parse_keyframes(done.stdout))), dtype=np.float64)
    gaps: list[np.ndarray] = []
    for start, length in windows:
        inside = times[(times >= start - 1e-6) & (times <= start + length + 1e-6)]
        if len(inside) >= 2:
            gaps.append(np.diff(inside))
    both = np.concatenate(gaps) if gaps else np.zeros(0)
    both = both[both > 1e-6]
    if len(both) == 0:
        return KeyframeInfo(None, len(times), float("inf"), window)
    median = float(np.median(both))
    return KeyframeInfo(median, len(times), float(both.max() / median), window)
