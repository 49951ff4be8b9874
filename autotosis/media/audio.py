"""Decoding audio into numpy: in chunks so hours of sound stay small, or one short span."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import ffmpeg
import numpy as np

from autotosis.media.runner import FFmpegProcess, arg_path


def audio_args(path: Path | str, rate: int, highpass: float | None = 100.0, track: int = 0) -> list[str]:
    """Arguments that decode one audio stream (`track`, ffmpeg's `0:a:N`), as mono float32 PCM, to a pipe.

    The high-pass drops rumble and hum that carry energy but not loudness to the ear
    (a rough stand-in for the K-weighting of EBU R128 loudness).
    """
    stream = ffmpeg.input(arg_path(path))[f"a:{track}"]
    if highpass:
        stream = stream.filter("highpass", f=f"{highpass:g}")
    return stream.output("pipe:", format="f32le", ac=1, ar=rate, acodec="pcm_f32le").get_args()


def audio_chunks(path: Path | str, rate: int = 8000, seconds: float = 30.0,
                 highpass: float | None = 100.0, track: int = 0,
                 stdin_to: Callable[[IO[bytes]], None] | None = None) -> Iterator[np.ndarray]:
    """Stream mono float32 samples in chunks of `seconds`: memory stays one chunk for any length.

    With `stdin_to` (and `path` "pipe:0"), ffmpeg reads its stdin, handed to that callback
    once started: live mode feeds it a recording still being written.
    """
    chunk_bytes = max(1, round(rate * seconds)) * 4
    with FFmpegProcess(audio_args(path, rate, highpass, track), stdin=stdin_to is not None) as ffm:
        assert ffm.proc.stdout is not None
        if stdin_to is not None:
            assert ffm.proc.stdin is not None
            stdin_to(ffm.proc.stdin)
        while True:
            data = ffm.proc.stdout.read(chunk_bytes)
            if len(data) >= 4:
                yield np.frombuffer(data[: len(data) - len(data) % 4], dtype="<f4")
            if len(data) < chunk_bytes:
                break
        ffm.finish(path)


def span_audio_args(path: Path | str, start: float, seconds: float, rate: int = 16000,
                    track: int = 0) -> list[str]:
    """Arguments that decode `seconds` of one audio stream from `start` (input seeking, so a
    span costs its own length), mono float32 at `rate`, to a pipe: what speech models take."""
    return ["-ss", f"{max(0.0, start):.3f}", "-t", f"{seconds:.3f}", "-i", arg_path(path), "-vn",
            "-map", f"0:a:{track}", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-acodec", "pcm_f32le",
            "pipe:"]


def span_audio(path: Path | str, start: float, seconds: float, rate: int = 16000,
               track: int = 0) -> np.ndarray:
    """The sound of [start, start + seconds) as mono float32 samples at `rate`."""
    with FFmpegProcess(span_audio_args(path, start, seconds, rate, track)) as ffm:
        assert ffm.proc.stdout is not None
        data = ffm.proc.stdout.read()
        ffm.finish(path)
    return np.frombuffer(data[: len(data) - len(data) % 4], dtype="<f4").copy()
