"""Loudness over time: the signal that needs no model, and a second opinion for a model.

Streamers get loud when they rage or cheer; per-window loudness of the VOD's audio
(RMS in dBFS after a high-pass, from ffmpeg's decoded samples) is a timeline like
the model's score, so selection, fusion, plots and sidecars read it the same way.
Audio decodes hundreds of times faster than video, and the result is cached.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.errors import MediaError
from autotosis.core.fsutil import atomic_path
from autotosis.core.paths import cache_dir
from autotosis.core.timeline import Timeline

CACHE_VERSION = 2
SILENCE_DB = -90.0  # floor for digital silence, so log10(0) never reaches the timeline
# Track titles that mean "the streamer's own voice": OBS users name their tracks like this.
VOICE_TITLE = re.compile(r"mic|voice|vocal|commentary|narrat", re.IGNORECASE)


@dataclass(frozen=True)
class LoudnessConfig:
    """Loudness defaults, written once."""

    window: float = 0.5  # seconds per value: a shout is longer, a click shorter
    rate: int = 8000  # Hz; speech and shouting energy sits well below 4 kHz
    highpass: float = 100.0  # Hz; drops hum and rumble that are not loudness to the ear
    # Which audio track: its number (0 = first, as `autotosis probe` lists them), its title, or
    # "auto": a track titled like a mic or voice when there is one (OBS records the mic alone on
    # its own track, free of game explosions), else the first.
    track: str = "auto"


def choose_track(info: media.VideoInfo, spec: str | int = "auto") -> tuple[media.AudioTrack, str]:
    """(the audio track `spec` names, why it was chosen); MediaError listing the tracks when none fits."""
    tracks = info.audio_tracks
    if not tracks:
        raise MediaError(f"{info.path}: has no audio stream, so there is no loudness to measure")
    text = str(spec).strip()
    listing = ", ".join(f"{t.index}" + (f" '{t.title}'" if t.title else "") for t in tracks)
    if text.lower() == "auto":
        voice = next((t for t in tracks if VOICE_TITLE.search(t.title)), None)
        if voice is not None:
            return voice, "auto: titled like a mic"
        return tracks[0], "auto: the first" + ("" if len(tracks) == 1 else " (none titled like a mic)")
    if text.isdigit():
        if int(text) < len(tracks):
            return tracks[int(text)], "as asked"
        raise MediaError(f"{info.path}: has no audio track {text} (tracks: {listing})")
    named = [t for t in tracks if t.title.lower() == text.lower()]
    named = named or [t for t in tracks if text.lower() in t.title.lower()]
    if len(named) == 1 or (named and all(t.title == named[0].title for t in named)):
        return named[0], "as asked"
    which = "several audio tracks are" if named else "no audio track is"
    raise MediaError(f"{info.path}: {which} titled like {text!r} (tracks: {listing})")


def describe_track(track: media.AudioTrack) -> str:
    """"track 1 'Mic'" or "track 0"."""
    return f"track {track.index}" + (f" '{track.title}'" if track.title else "")


def window_db(samples: np.ndarray, window_samples: int) -> np.ndarray:
    """RMS level in dBFS of each full window of `samples` (a partial tail is ignored)."""
    count = len(samples) // window_samples
    if count == 0:
        return np.zeros(0, dtype=np.float64)
    frames = samples[: count * window_samples].astype(np.float64).reshape(count, window_samples)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return np.maximum(20.0 * np.log10(np.maximum(rms, 1e-12)), SILENCE_DB)


def measure(
    vod: Path | str, config: LoudnessConfig = LoudnessConfig(),
    progress: Callable[[float, float], None] | None = None, info: media.VideoInfo | None = None,
) -> Timeline:
    """Loudness (dBFS) per window of the configured track, timed at each window's centre; streamed."""
    info = info or media.probe(vod)
    track, _ = choose_track(info, config.track)
    window_samples = max(1, round(config.window * config.rate))
    values: list[np.ndarray] = []
    carry = np.zeros(0, dtype=np.float32)
    done = 0
    for chunk in media.audio_chunks(vod, config.rate, 30.0, config.highpass, track.index):
        samples = np.concatenate([carry, chunk]) if len(carry) else chunk
        levels = window_db(samples, window_samples)
        values.append(levels)
        carry = samples[len(levels) * window_samples:]
        done += len(levels)
        if progress is not None:
            progress(done * config.window, info.duration)
    if len(carry) >= window_samples // 2:  # a last half-window still says how loud the end is
        values.append(window_db(carry, len(carry)))
    levels = np.concatenate(values) if values else np.zeros(0)
    times = (np.arange(len(levels)) + 0.5) * config.window
    return Timeline(times, levels)


def cache_key(info: media.VideoInfo, config: LoudnessConfig) -> str:
    """Changes with the file, the measuring settings and the track measured."""
    track, _ = choose_track(info, config.track)
    raw = (f"loud{CACHE_VERSION}|{info.identity}|{config.window:g}|{config.rate}|{config.highpass:g}"
           f"|{track.index}|{track.title}")
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def loudness(
    vod: Path | str, config: LoudnessConfig = LoudnessConfig(),
    progress: Callable[[float, float], None] | None = None, cache: Path | None = None,
) -> tuple[Timeline, bool]:
    """(loudness timeline, whether it came from the cache) for a VOD."""
    info = media.probe(vod)
    path = (cache if cache is not None else cache_dir()) / "loudness" / f"{cache_key(info, config)}.npz"
    if path.exists():
        try:
            with np.load(path) as data:
                return Timeline(data["times"], data["values"]), True
        except (OSError, ValueError, KeyError, EOFError):
            path.unlink(missing_ok=True)  # a damaged entry is measured again
    timeline = measure(vod, config, progress, info)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, times=timeline.times, values=timeline.values)
    return timeline, False
