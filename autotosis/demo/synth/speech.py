"""A streamer who says known sentences at known times, over game noise: speech captions' truth.

espeak-ng (Debian's `espeak-ng`) speaks each word on its own, and the words are laid end to
end with a short gap, so every word's start and end in the VOD is known to the sample:
what the tests and bench/captions.py check the transcript's words and times against.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.transcript import Word

RATE = 48000
WORD_GAP = 0.12  # seconds between words: a quick talker's
SILENT = 0.01  # a word's sound starts and ends where it passes this level


def espeak_bin() -> str:
    found = shutil.which("espeak-ng")
    if not found:
        raise AutotosisError("espeak-ng not found on PATH: install it "
                             "(Debian/Ubuntu: apt-get install espeak-ng)")
    return found


def say_word(word: str, rate: int = RATE, speed: int = 165, voice: str = "en-us") -> np.ndarray:
    """One word as float samples at `rate`, its leading and trailing silence cut off."""
    out = subprocess.run([espeak_bin(), "-v", voice, "-s", str(speed), "--stdout", word],
                         capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(out)) as handle:
        own = handle.getframerate()
        samples = np.frombuffer(handle.readframes(handle.getnframes()), "<i2").astype(np.float64) / 32768
    count = round(len(samples) * rate / own)
    samples = np.interp(np.arange(count) * own / rate, np.arange(len(samples)), samples)
    sound = np.flatnonzero(np.abs(samples) > SILENT)
    return samples[sound[0]:sound[-1] + 1] if len(sound) else samples[:0]


def spoken(lines: Sequence[tuple[float, str]], duration: float, rate: int = RATE,
           gain: float = 1.0) -> tuple[np.ndarray, list[Word]]:
    """(the sound of each (start time, sentence) in `lines`, every word with its true times)."""
    audio = np.zeros(round(duration * rate))
    truth: list[Word] = []
    for start, sentence in lines:
        at = start
        for text in sentence.split():
            sound = gain * say_word(text, rate)
            a = round(at * rate)
            if a + len(sound) > len(audio):
                raise AutotosisError(f"the line {sentence!r} at {start:g}s runs past {duration:g}s")
            audio[a:a + len(sound)] += sound
            truth.append(Word(text, at, at + len(sound) / rate))
            at += len(sound) / rate + WORD_GAP
    return audio, truth


def game_noise(duration: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Game sound at unit RMS: rumbling low-passed noise, a hum, and bleeps every 0.7 s."""
    rng = np.random.default_rng(seed)
    count = round(duration * rate)
    t = np.arange(count) / rate
    rumble = np.convolve(rng.standard_normal(count), np.ones(24) / 24, mode="same")
    hum = 0.4 * np.sin(2 * np.pi * 110 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    bleeps = 0.6 * np.sin(2 * np.pi * 1320 * t) * ((t % 0.7) < 0.08)
    noise = rumble / (rumble.std() or 1.0) + hum + bleeps
    return noise / noise.std()


def mix(speech: np.ndarray, snr_db: float | None, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """`speech` over game noise `snr_db` below the speech's own level while it talks (None: clean)."""
    if snr_db is None:
        return speech
    talking = np.abs(speech) > SILENT
    level = float(np.sqrt(np.mean(speech[talking] ** 2))) if talking.any() else 0.1
    noise = game_noise(len(speech) / rate, rate, seed)[: len(speech)]
    return speech + noise * level / 10 ** (snr_db / 20)


def speaking_vod(path: Path, lines: Sequence[tuple[float, str]], duration: float, snr_db: float | None = 10.0,
                 size: tuple[int, int] = (320, 180), fps: int = 10, seed: int = 0) -> list[Word]:
    """Write a VOD where the streamer says `lines` over game noise (a plain dark picture with a
    moving block); returns every word with its true times."""
    speech, truth = spoken(lines, duration, RATE, gain=0.8)
    audio = mix(speech, snr_db, seed)
    audio *= 0.9 / max(0.9, float(np.abs(audio).max()))
    width, height = size

    def frames():  # cheap to encode, and the caption's white is nowhere in it
        for i in range(round(duration * fps)):
            image = np.full((height, width, 3), (30, 40, 60), np.uint8)
            x = (i * 4) % max(1, width - 20)
            image[height // 2:height // 2 + 20, x:x + 20] = (90, 120, 90)
            yield image

    media.encode_frames(path, frames(), fps, audio=audio.astype(np.float32), sample_rate=RATE, gop=fps)
    return truth
