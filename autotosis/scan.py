"""VOD -> score timeline: ffmpeg decodes and crops while the model scores, at decode speed.

A decode thread pulls sampled face-cam crops out of ffmpeg (media.frames) into a
small bounded queue; the calling thread runs batched inference on them. Both run at
once, so the scan costs max(decode, inference) rather than their sum, and memory is
the queue plus one float per sample whatever the VOD's length.

Results are cached under paths.cache_dir()/scans keyed by the VOD's identity, the
model file's content, the sampling fps, keyframe mode and the face-cam box, so a
second compile with other selection options skips the scan. While scanning, the
scores so far are saved every `checkpoint_seconds` of VOD; an interrupted scan
resumes from the last saved position.
"""

from __future__ import annotations

import hashlib
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.errors import MediaError
from autotosis.fsutil import atomic_path
from autotosis.hardware import auto_precision, cores
from autotosis.paths import cache_dir
from autotosis.timecode import format_time
from autotosis.timeline import Timeline

CACHE_VERSION = 1
ProgressFn = Callable[[float, float], None]  # (position in the VOD, VOD duration) in seconds


@dataclass(frozen=True)
class ScanConfig:
    """Scan defaults, written once; `autotosis compile` options read them."""

    fps: float | None = None  # None: the fps the model was trained at (what it knows)
    keyframes: bool = False  # decode keyframes only: several times faster, sparser samples
    device: str = "cpu"  # "cuda" when a GPU is there; decoding stays on the CPU
    batch_size: int = 32  # big enough for efficient kernels, small enough to keep the queue light
    # torch threads: half the cores, ffmpeg's decoder takes the rest (on 2 cores one torch
    # thread scanned a 720p VOD in 21 s against 27 s with two fighting the decoder)
    threads: int = field(default_factory=lambda: max(1, cores() // 2))
    precision: str = "auto"  # bf16 where the CPU or GPU does it natively (about 2x), else fp32
    queue_batches: int = 4  # decoded batches waiting for the model: smooths hiccups, bounds memory
    checkpoint_seconds: float = 300.0  # save partial scores every 5 VOD minutes for resuming


def resolved_precision(config: ScanConfig) -> str:
    """What "auto" means here (model.inference_dtype decides the same way), for the cache key."""
    return auto_precision(config.device) if config.precision == "auto" else config.precision


@dataclass(frozen=True)
class ScanResult:
    """A score timeline and how it was obtained."""

    timeline: Timeline
    cached: bool  # read whole from the cache, nothing decoded
    resumed_from: float  # VOD seconds already scanned by an interrupted earlier run (0 if none)
    wall_seconds: float
    samples: int  # samples scored in this run


def scan_key(info: media.VideoInfo, model_digest: str, fps: float | None, box: media.Box | None,
             keyframes: bool, precision: str = "fp32") -> str:
    """Changes whenever the scores would: VOD (path, size, mtime), model bytes, fps, keyframes, box,
    and the arithmetic precision of the model."""
    box_text = "full" if box is None else ",".join(f"{v:.6f}" for v in box)
    rate = "key" if keyframes else f"{fps:g}"
    raw = f"scan{CACHE_VERSION}|{info.identity}|{model_digest}|{rate}|{box_text}|{precision}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _save(path: Path, times: np.ndarray, values: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, times=times, values=values)


def _load(path: Path) -> Timeline | None:
    if not path.exists():
        return None
    try:
        with np.load(path) as data:
            return Timeline(data["times"].astype(np.float64), data["values"].astype(np.float32))
    except (OSError, ValueError, KeyError, EOFError):
        path.unlink(missing_ok=True)  # a damaged entry is scanned again
        return None


def _check_complete(vod: Path | str, info: media.VideoInfo, last: float, rate: float | None,
                    keyframes: bool) -> None:
    """MediaError when the video stopped well before the length the file claims.

    A download cut short keeps an MP4 header (faststart) that promises the whole VOD;
    scoring only the first part would let selection and render reach past the data.
    Keyframe spacing and a stream a little shorter than the container are tolerated.
    """
    slack = max(10.0 if keyframes else 2.0, 3.0 / rate if rate else 0.0, 0.02 * info.duration)
    if info.duration - max(last, 0.0) > slack:
        raise MediaError(
            f"{vod}: the video stops at {format_time(max(last, 0.0), 0)} but the file claims "
            f"{format_time(info.duration, 0)} (an incomplete download?); copy out what is there "
            "with `ffmpeg -i IN -c copy OUT.mp4` and compile that")


def _resume_point(last: float, back: float, grid: float | None) -> float:
    """Where a resumed decode starts: at least `back` seconds before `last`, on the sampling
    grid and on a whole millisecond. `-ss` takes milliseconds; a seek between them makes
    the fps filter hand over each frame one sample late."""
    if not grid:
        return max(0.0, last - back)
    for n in range(math.floor((last - back) * grid), 0, -1):
        at = n / grid
        if abs(at * 1000 - round(at * 1000)) < 1e-6:
            return at
    return 0.0


_DONE = object()


def _put(batches: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Wait for room in the queue unless the scan was stopped; False when it was."""
    while not stop.is_set():
        try:
            batches.put(item, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False


def _decode_into(batches: queue.Queue, stop: threading.Event, **frames_kwargs: object) -> None:
    """Decode thread: put FrameBatches into the bounded queue, then _DONE (or the exception)."""
    stream = media.frames(**frames_kwargs)  # type: ignore[arg-type]
    try:
        for batch in stream:
            if not _put(batches, batch, stop):
                return
        _put(batches, _DONE, stop)
    except BaseException as exc:  # handed to the scanning thread, which raises it
        _put(batches, exc, stop)
    finally:
        stream.close()  # kills ffmpeg if we stopped early


def scan(
    vod: Path | str,
    model_path: Path | str,
    box: media.Box | None,
    config: ScanConfig = ScanConfig(),
    progress: ProgressFn | None = None,
    cache: Path | None = None,
    fps: float | None = None,
    model_data: bytes | None = None,
) -> ScanResult:
    """Score a VOD with a checkpoint: cached, resumable, decode and inference overlapped.

    `fps` is the resolved sampling rate (config.fps, else the checkpoint's); it is
    ignored in keyframe mode, where every keyframe is one sample. `model_data` is the
    checkpoint's bytes when the caller read them already (model.read_checkpoint).
    """
    started = time.perf_counter()
    info = media.probe(vod)
    model_file = Path(model_path)
    rate = fps if fps is not None else config.fps
    if not config.keyframes and not rate:
        raise ValueError("scan needs a sampling fps unless it runs on keyframes")
    # One read: the cache key and the weights come from the same bytes even if
    # `autotosis train` replaces the file meanwhile.
    from autotosis.model import read_checkpoint

    model_bytes = model_data if model_data is not None else read_checkpoint(model_file)
    key = scan_key(info, hashlib.sha256(model_bytes).hexdigest(), rate, box, config.keyframes,
                   resolved_precision(config))
    folder = (cache if cache is not None else cache_dir()) / "scans"
    final, partial = folder / f"{key}.npz", folder / f"{key}.partial.npz"
    done = _load(final)
    if done is not None:
        if progress is not None:
            progress(info.duration, info.duration)
        return ScanResult(done, True, 0.0, time.perf_counter() - started, 0)

    import torch

    from autotosis.model import load_classifier

    torch.set_num_threads(config.threads)
    classifier = load_classifier(model_file, config.device, model_bytes, config.precision)
    del model_bytes
    classifier.batch_size = config.batch_size
    size = int(classifier.meta.size)

    earlier = _load(partial)
    times: list[np.ndarray] = [earlier.times] if earlier is not None else []
    values: list[np.ndarray] = [earlier.values] if earlier is not None else []
    resume_at, seek_to, last = 0.0, 0.0, -1.0
    grid = rate if rate and not config.keyframes else None
    if earlier is not None and len(earlier):
        last = float(earlier.times[-1])
        resume_at = last + (1.0 / grid if grid else 1e-3)
        # A seek may land past its target (on the next keyframe, or anywhere in a file
        # without an index): start a little earlier, on the grid, and drop what is done.
        seek_to = _resume_point(last, max(1.0, media.seek_lead(info)), grid)

    batches: queue.Queue = queue.Queue(maxsize=config.queue_batches)
    stop = threading.Event()
    decoder = threading.Thread(
        target=_decode_into, name="autotosis-decode", daemon=True, args=(batches, stop),
        kwargs=dict(path=vod, fps=rate, box=box, size=size, start=seek_to or None,
                    keyframes=config.keyframes, batch_size=config.batch_size, info=info),
    )
    decoder.start()
    scored = 0
    saved_at = resume_at
    finished = False
    try:
        while True:
            item = batches.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            stamps = np.round(item.times * grid) / grid if grid else item.times  # one grid across resumes
            # Strictly increasing: never a sample twice across a resume or at a stream's end.
            keep = stamps > np.maximum.accumulate(np.concatenate([[last], stamps[:-1]]))
            probabilities = classifier.predict(item.images[keep])
            times.append(stamps[keep])
            values.append(probabilities)
            scored += int(keep.sum())
            if keep.any():
                last = float(stamps[keep][-1])
            if progress is not None:
                progress(min(last, info.duration), info.duration)
            if last - saved_at >= config.checkpoint_seconds:
                _save(partial, np.concatenate(times), np.concatenate(values))
                saved_at = last
        finished = True
    finally:
        stop.set()
        decoder.join(timeout=10)
        if not finished and last > saved_at:  # Ctrl-C or a failure: keep what was scored
            _save(partial, np.concatenate(times), np.concatenate(values))
    _check_complete(vod, info, last, rate, config.keyframes)
    timeline = Timeline(np.concatenate(times) if times else np.zeros(0),
                        np.concatenate(values) if values else np.zeros(0, np.float32))
    _save(final, timeline.times, timeline.values)
    partial.unlink(missing_ok=True)
    if progress is not None:
        progress(info.duration, info.duration)
    return ScanResult(timeline, False, resume_at, time.perf_counter() - started, scored)
