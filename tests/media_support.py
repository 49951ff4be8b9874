"""Small generated media that several test modules share."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autotosis import media

SR = 48000


def burst_vod(path: Path, seconds: float, burst: tuple[float, float], width: int = 160, height: int = 120,
              fps: int = 10, grain: bool = False) -> Path:
    """Quiet room noise with one loud shout in `burst`, over a picture that brightens frame by frame.

    `grain`: a moving film grain instead, which no encoder compresses: its pieces take a
    while to render, for tests that must catch a compile mid-render.
    """
    rng = np.random.default_rng(1)
    audio = 0.01 * rng.standard_normal(round(seconds * SR))
    a, b = (round(t * SR) for t in burst)
    tone = np.sin(np.arange(b - a) / SR * 2 * np.pi * 500)
    audio[a:b] = 0.7 * tone * (1 + 0.3 * rng.standard_normal(b - a))
    count = round(seconds * fps)
    if grain:
        noise = rng.integers(0, 256, (2 * height, width, 3), np.uint8)
        frames = (np.roll(noise, 7 * i, axis=0)[:height] for i in range(count))
    else:
        frames = (np.full((height, width, 3), (i * 3) % 255, np.uint8) for i in range(count))
    return media.encode_frames(path, frames, fps, audio=audio, sample_rate=SR, gop=fps)
