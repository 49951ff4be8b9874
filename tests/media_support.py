"""Small generated media that several test modules share."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autotosis import media

SR = 48000


def burst_vod(path: Path, seconds: float, burst: tuple[float, float], width: int = 160, height: int = 120,
              fps: int = 10) -> Path:
    """Quiet room noise with one loud shout in `burst`, over a picture that brightens frame by frame."""
    rng = np.random.default_rng(1)
    audio = 0.01 * rng.standard_normal(round(seconds * SR))
    a, b = (round(t * SR) for t in burst)
    tone = np.sin(np.arange(b - a) / SR * 2 * np.pi * 500)
    audio[a:b] = 0.7 * tone * (1 + 0.3 * rng.standard_normal(b - a))
    frames = (np.full((height, width, 3), (i * 3) % 255, np.uint8) for i in range(round(seconds * fps)))
    return media.encode_frames(path, frames, fps, audio=audio, sample_rate=SR, gop=fps)
