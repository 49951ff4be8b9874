"""Decoding video into numpy: sample, crop and scale inside ffmpeg, rgb24 through a pipe."""

from __future__ import annotations

import io
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import ffmpeg
import numpy as np

from autotosis.core.errors import MediaError
from autotosis.media.hwaccel import CPU, DecodePlan, cuvid_input_options
from autotosis.media.probe import VideoInfo, probe
from autotosis.media.runner import FFmpegProcess, arg_path, has_fps_mode

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class FrameBatch:
    """Consecutive sampled frames: `images` (N, H, W, 3) uint8 RGB and their `times` in seconds."""

    times: np.ndarray
    images: np.ndarray


def pixel_box(box: Box, width: int, height: int, source: Path | str = "video") -> tuple[int, int, int, int]:
    """(x, y, w, h) in pixels for a fractional box; MediaError if it is (nearly) empty."""
    x0, y0, x1, y1 = box
    x, y = round(x0 * width), round(y0 * height)
    w = min(round(x1 * width), width) - x
    h = min(round(y1 * height), height) - y
    if w < 2 or h < 2:
        raise MediaError(
            f"{source}: face-cam box {list(box)} is only {max(w, 0)}x{max(h, 0)} px "
            f"in a {width}x{height} video"
        )
    return x, y, w, h


# Sampling at most this fraction of the frame rate skips frames nothing refers to.
SPARSE_RATIO = 3


def frames_args(
    path: Path | str,
    info: VideoInfo,
    fps: float | None,
    box: Box | None,
    size: int | tuple[int, int] | None,
    start: float | None = None,
    end: float | None = None,
    keyframes: bool = False,
    decode: DecodePlan = CPU,
) -> tuple[list[str], tuple[int, int]]:
    """ffmpeg arguments that decode, sample, crop and scale in one pass to an rgb24 pipe.

    Returns the arguments and the (width, height) of each piped frame. With a GPU
    `decode` plan (not for keyframes, which cost little anyway), NVDEC decodes, crops
    and scales, and only the small frames are downloaded.
    """
    if decode.decoder is not None and not keyframes:
        return _cuvid_frames_args(path, info, fps, box, size, start, end, decode)
    input_opts: dict[str, object] = {}
    if keyframes:
        input_opts["skip_frame"] = "nokey"
    elif fps and fps * SPARSE_RATIO <= float(info.fps):
        # Frames no other frame refers to (most B-frames of a stream encode) are dropped
        # undecoded: nothing drifts, a sample lands at most a frame or two from its tick,
        # and a 30 fps stream sampled at 4 fps decodes about 1.6x faster.
        input_opts["skip_frame"] = "noref"
    if start:
        input_opts["ss"] = f"{start:.3f}"
    if end is not None:
        input_opts["t"] = f"{end - (start or 0.0):.3f}"
    stream = ffmpeg.input(arg_path(path), **input_opts).video
    if fps and not keyframes:
        # eof_action=pass keeps the only frame of a video shorter than one sample.
        stream = stream.filter("fps", fps=f"{fps:g}", eof_action="pass")
    out_w, out_h = info.width, info.height
    if box is not None:
        x, y, out_w, out_h = pixel_box(box, info.width, info.height, path)
        stream = stream.crop(x, y, out_w, out_h)
    if size is not None:
        out_w, out_h = (size, size) if isinstance(size, int) else size
        stream = stream.filter("scale", out_w, out_h, flags="area")
    stream = stream.filter("showinfo")
    output_opts: dict[str, object] = {"format": "rawvideo", "pix_fmt": "rgb24"}
    if keyframes or not fps:
        output_opts["fps_mode" if has_fps_mode() else "vsync"] = "passthrough"
    args = stream.output("pipe:", **output_opts).get_args()
    return args, (out_w, out_h)


def _cuvid_frames_args(path: Path | str, info: VideoInfo, fps: float | None, box: Box | None,
                       size: int | tuple[int, int] | None, start: float | None, end: float | None,
                       decode: DecodePlan) -> tuple[list[str], tuple[int, int]]:
    """frames_args on the GPU: crop and resize in the cuvid decoder, the fps filter on GPU
    frames, then download and convert the small picture to rgb24."""
    crop = pixel_box(box, info.width, info.height, path) if box is not None else None
    out_w, out_h = (crop[2], crop[3]) if crop is not None else (info.width, info.height)
    shape = None if size is None else (size, size) if isinstance(size, int) else size
    if shape is not None:
        out_w, out_h = shape
    input_opts = cuvid_input_options(decode, crop, info.width, info.height, shape)
    if start:
        input_opts["ss"] = f"{start:.3f}"
    if end is not None:
        input_opts["t"] = f"{end - (start or 0.0):.3f}"
    stream = ffmpeg.input(arg_path(path), **input_opts).video
    if fps:
        stream = stream.filter("fps", fps=f"{fps:g}", eof_action="pass")
    stream = stream.filter("hwdownload").filter("format", "nv12").filter("showinfo")
    output_opts: dict[str, object] = {"format": "rawvideo", "pix_fmt": "rgb24"}
    if not fps:
        output_opts["fps_mode" if has_fps_mode() else "vsync"] = "passthrough"
    return stream.output("pipe:", **output_opts).get_args(), (out_w, out_h)


def frames(
    path: Path | str,
    fps: float | None,
    box: Box | None,
    size: int | tuple[int, int] | None,
    start: float | None = None,
    end: float | None = None,
    keyframes: bool = False,
    batch_size: int = 64,
    info: VideoInfo | None = None,
    decode: DecodePlan = CPU,
    stdin_to: Callable[[IO[bytes]], None] | None = None,
) -> Generator[FrameBatch, None, None]:
    """Stream sampled, cropped, scaled frames as numpy batches; nothing touches the disk.

    Memory is one batch; closing the generator early kills ffmpeg.
    `keyframes=True` decodes only keyframes (`fps` is then ignored): much faster
    for sparse scans, at whatever spacing the encoder chose for keyframes.
    With `stdin_to` (`path` "pipe:0" and the recording's `info`), ffmpeg reads its stdin,
    handed to that callback once started: live mode feeds it a recording as it grows.
    """
    info = info or probe(path)
    args, (width, height) = frames_args(path, info, fps, box, size, start, end, keyframes, decode)
    frame_bytes = width * height * 3
    offset = start or 0.0
    with FFmpegProcess(args, stdin=stdin_to is not None) as ffm:
        if stdin_to is not None:
            assert ffm.proc.stdin is not None
            stdin_to(ffm.proc.stdin)
        pipe = cast(io.BufferedReader, ffm.proc.stdout)  # bufsize > 0: a buffered binary reader
        index = 0
        times_done = False
        while True:
            images = np.empty((batch_size, height, width, 3), dtype=np.uint8)
            view = images.data.cast("B")
            filled = 0
            while filled < len(view):
                got = pipe.readinto(view[filled:])
                if not got:
                    break
                filled += got
            count = filled // frame_bytes
            if count == 0:
                break
            times = np.empty(count, dtype=np.float64)
            for k in range(count):
                value = None if times_done else ffm.times.get(timeout=60)
                if value is None:
                    times_done = True
                    value = (index + k) / fps if fps else float("nan")
                times[k] = offset + value
            index += count
            if end is not None and times[-1] >= end - 1e-6:  # the fps filter may add a tick at `end`
                inside = times < end - 1e-6  # [start, end) is the promise
                if inside.any():
                    yield FrameBatch(times=times[inside], images=images[:count][inside])
            else:
                yield FrameBatch(times=times, images=images[:count])
            if filled < len(view):
                break
        ffm.finish(path)


def decode_args(path: Path | str, keyframes: bool = False) -> list[str]:
    """`ffmpeg -i VOD -f null -`: decode the video and throw it away (the cost floor of a scan)."""
    opts: dict[str, object] = {"skip_frame": "nokey"} if keyframes else {}
    return ffmpeg.input(arg_path(path), **opts).video.output("-", format="null").get_args()
