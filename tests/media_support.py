"""Small generated media that several test modules share."""

from __future__ import annotations

import math
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from autotosis import media

SR = 48000


def play(source: Path, target: Path, realtime: bool = True) -> subprocess.Popen:
    """Write `source` into `target` as a recorder does: in real time, flushed packet by packet."""
    pace = ["-re"] if realtime else []
    return subprocess.Popen([media.ffmpeg_bin(), "-v", "error", *pace, "-i", str(source), "-c", "copy",
                             "-flush_packets", "1", str(target)])


def burst_vod(path: Path, seconds: float, burst: tuple[float, float], width: int = 160, height: int = 120,
              fps: int = 10, grain: bool = False, more: tuple[tuple[float, float], ...] = ()) -> Path:
    """Quiet room noise with one loud shout in `burst` (and one in each of `more`), over a
    picture that brightens frame by frame.

    `grain`: a moving film grain instead, which no encoder compresses: its pieces take a
    while to render, for tests that must catch a compile mid-render.
    """
    rng = np.random.default_rng(1)
    audio = 0.01 * rng.standard_normal(round(seconds * SR))
    for span in (burst, *more):
        a, b = (round(t * SR) for t in span)
        tone = np.sin(np.arange(b - a) / SR * 2 * np.pi * 500)
        audio[a:b] = 0.7 * tone * (1 + 0.3 * rng.standard_normal(b - a))
    count = round(seconds * fps)
    if grain:
        noise = rng.integers(0, 256, (2 * height, width, 3), np.uint8)
        frames = (np.roll(noise, 7 * i, axis=0)[:height] for i in range(count))
    else:
        frames = (np.full((height, width, 3), (i * 3) % 255, np.uint8) for i in range(count))
    return media.encode_frames(path, frames, fps, audio=audio, sample_rate=SR, gop=fps)


# A frame's number, drawn as 12 bits: light blocks on a dark ground, big enough that any
# encoder keeps them, so a test reads which VOD frame a reel, a short or an editor's
# render shows.
COUNTER_BITS = 12


def _bit_block(bit: int, width: int, height: int) -> tuple[slice, slice]:
    cols, rows = 6, COUNTER_BITS // 6
    w, h = width // cols, height // rows
    x, y = (bit % cols) * w, (bit // cols) * h
    return slice(y + h // 5, y + h - h // 5), slice(x + w // 5, x + w - w // 5)


def counter_frame(number: int, width: int = 160, height: int = 96) -> np.ndarray:
    """An RGB frame showing `number` in binary (see frame_number)."""
    image = np.full((height, width, 3), 40, np.uint8)
    for bit in range(COUNTER_BITS):
        if (number >> bit) & 1:
            image[_bit_block(bit, width, height)] = 215
    return image


def frame_number(image: np.ndarray) -> int:
    """The number a counter_frame shows, read from a decoded (maybe rescaled) frame."""
    height, width = image.shape[:2]
    number = 0
    for bit in range(COUNTER_BITS):
        rows, cols = _bit_block(bit, width, height)
        middle = image[rows, cols][2:-2, 2:-2]
        if middle.mean() > 128:
            number |= 1 << bit
    return number


Tones = tuple[tuple[str, float], ...]  # (title, Hz) of each audio track


def counter_vod(path: Path, fps: Fraction, seconds: float, tracks: Tones = (("", 440.0),),
                size: tuple[int, int] = (160, 96)) -> Path:
    """A VOD whose every frame shows its number, with one sine tone per audio track
    (title, Hz), so a test can tell the tracks apart by ear."""
    count = math.floor(seconds * fps)
    t = np.arange(round(seconds * SR)) / SR
    sounds = [0.3 * np.sin(2 * np.pi * hz * t) for _, hz in tracks]
    more = [(title, sound) for (title, _), sound in zip(tracks[1:], sounds[1:], strict=True)]
    return media.encode_frames(path, (counter_frame(i, *size) for i in range(count)), fps,
                               audio=sounds[0], sample_rate=SR, gop=round(float(fps)),
                               audio_title=tracks[0][0] or None, more_audio=more)


def decoded(path: Path) -> np.ndarray:
    """Every frame of a (small) video, (N, H, W, 3) uint8."""
    return np.concatenate([batch.images for batch in media.frames(path, None, None, None)])


def loudest_tone(path: Path, tones: tuple[float, ...], start: float = 0.5, seconds: float = 1.0) -> float:
    """Which of `tones` (Hz) a file's first audio stream plays loudest over a second."""
    args = ["-ss", f"{start:g}", "-t", f"{seconds:g}", "-i", str(path), "-map", "0:a:0", "-ac", "1",
            "-ar", str(SR), "-f", "f32le", "-"]
    raw = subprocess.run([media.ffmpeg_bin(), "-v", "error", *args], capture_output=True, check=True).stdout
    sound = np.frombuffer(raw, np.float32)
    spectrum = np.abs(np.fft.rfft(sound * np.hanning(len(sound))))
    hz = np.fft.rfftfreq(len(sound), 1 / SR)
    return max(tones, key=lambda tone: spectrum[np.abs(hz - tone) < 20].max())
