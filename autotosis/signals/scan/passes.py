"""One scan pass: a decode thread feeding a bounded queue while the model scores its batches.

Apart because this is where threads, ffmpeg processes and torch meet: every mode (dense,
keyframes, both passes of a coarse scan) runs the same pass over its own spans, and what
a pass must guarantee (a resume that never scores a sample twice, ffmpeg killed when the
scan stops, one decode feeding several models) is easier to keep right in one place.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from autotosis import media
from autotosis.core.timeline import Timeline
from autotosis.signals.scan.cache import _load_columns, _save

if TYPE_CHECKING:
    from autotosis.learn.model import Classifier
    from autotosis.signals.scan.scanner import ProgressFn, ScanConfig, ScanModel


@dataclass(frozen=True)
class SharedCrop:
    """How one decode feeds several models: ffmpeg crops the union of their boxes and scales
    it just enough that every model's box keeps at least its input size; each model then
    cuts its own rectangle (x, y, w, h, in the decoded picture) and resizes it to its size."""

    box: media.Box  # the union, as fractions of the frame
    size: tuple[int, int] | None  # what ffmpeg scales the union to (None: its own pixels)
    rects: tuple[tuple[int, int, int, int], ...]


def shared_crop(info: media.VideoInfo, boxes: Sequence[media.Box | None], sizes: Sequence[int],
                source: Path | str = "video") -> SharedCrop:
    """The one crop several models' crops come from (see SharedCrop); never above the source's
    pixels, so a small face-cam next to a big one costs no more than the big one needs."""
    full = (0.0, 0.0, 1.0, 1.0)
    pixels = [media.pixel_box(box or full, info.width, info.height, source) for box in boxes]
    x0, y0 = min(p[0] for p in pixels), min(p[1] for p in pixels)
    x1, y1 = max(p[0] + p[2] for p in pixels), max(p[1] + p[3] for p in pixels)
    width, height = x1 - x0, y1 - y0
    scale = min(1.0, max(max(size / p[2], size / p[3]) for p, size in zip(pixels, sizes, strict=True)))
    out_w, out_h = (width, height)
    if scale < 1.0:
        out_w, out_h = max(2, round(width * scale)), max(2, round(height * scale))
    fx, fy = out_w / width, out_h / height
    rects = []
    for x, y, w, h in pixels:
        left, top = round((x - x0) * fx), round((y - y0) * fy)
        right, bottom = round((x + w - x0) * fx), round((y + h - y0) * fy)
        rects.append((left, top, max(1, right - left), max(1, bottom - top)))
    union = (x0 / info.width, y0 / info.height, x1 / info.width, y1 / info.height)
    return SharedCrop(union, None if (out_w, out_h) == (width, height) else (out_w, out_h), tuple(rects))


def cut(images: np.ndarray, rect: tuple[int, int, int, int], size: int) -> np.ndarray:
    """One model's crops out of shared-crop frames: its rectangle, area-resized to size x size
    (uint8 NHWC in and out, as ffmpeg's own crop and scale would hand them over)."""
    import torch

    x, y, w, h = rect
    part = torch.from_numpy(np.ascontiguousarray(images[:, y:y + h, x:x + w])).permute(0, 3, 1, 2).float()
    if (h, w) != (size, size):
        part = torch.nn.functional.interpolate(part, size=(size, size), mode="area")
    return part.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


@dataclass(frozen=True)
class _Scorer:
    """What a pass decodes (box, size) and how a batch of decoded frames becomes
    probabilities (N, heads): one model on its own crops, or several on a shared crop."""

    box: media.Box | None
    size: int | tuple[int, int] | None
    heads: int
    predict: Callable[[np.ndarray], np.ndarray]


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


def _decode_into(batches: queue.Queue, stop: threading.Event, spans: Sequence[tuple[float, float | None]],
                 **frames_kwargs: object) -> None:
    """Decode thread: put the FrameBatches of each span into the bounded queue, then _DONE
    (or the exception). One ffmpeg per span, each started with input seeking."""
    try:
        for start, end in spans:
            stream = media.frames(start=start or None, end=end, **frames_kwargs)  # type: ignore[arg-type]
            try:
                for batch in stream:
                    if not _put(batches, batch, stop):
                        return
            finally:
                stream.close()  # kills ffmpeg if we stopped early
        _put(batches, _DONE, stop)
    except BaseException as exc:  # handed to the scanning thread, which raises it
        _put(batches, exc, stop)


@dataclass(frozen=True)
class _Pass:
    """One decode-and-score run over `spans` (None end: to the VOD's end), cached under `key`."""

    spans: tuple[tuple[float, float | None], ...]
    grid: float | None  # sampling fps; None: keyframes (times as decoded)
    key: str


@dataclass(frozen=True)
class _Scanned:
    timeline: Timeline  # the first head's
    cached: bool
    resumed_from: float
    samples: int
    last: float
    columns: np.ndarray  # (N, heads): every head's probabilities at timeline.times


def _spans_left(spans: Sequence[tuple[float, float | None]], last: float, back: float,
                grid: float | None) -> list[tuple[float, float | None]]:
    """What a resumed pass still decodes: spans after `last`, the one holding it from a
    little before (a seek may land late; samples done are dropped as they come)."""
    left: list[tuple[float, float | None]] = []
    for start, end in spans:
        if end is not None and end <= last:
            continue
        if start <= last:
            start = max(start, _resume_point(last, back, grid))
        left.append((start, end))
    return left


def _run_pass(vod: Path | str, info: media.VideoInfo, scorer: _Scorer, config: ScanConfig, folder: Path,
              job: _Pass, progress: ProgressFn | None, decode: media.DecodePlan) -> _Scanned:
    """Decode the pass's spans and score them: cached, resumable, decode and inference overlapped."""
    final, partial = folder / f"{job.key}.npz", folder / f"{job.key}.partial.npz"
    total = sum((info.duration if e is None else e) - s for s, e in job.spans)

    def report(last: float) -> None:
        if progress is None:
            return
        done = 0.0
        for start, end in job.spans:
            stop_at = info.duration if end is None else end
            done += min(max(last - start, 0.0), stop_at - start)
        progress(min(done, total), total)

    heads = scorer.heads
    done = _load_columns(final)
    if done is not None and done[1].shape[1] == heads:
        report(math.inf)
        first = Timeline(done[0], np.ascontiguousarray(done[1][:, 0]))
        return _Scanned(first, True, 0.0, 0, float(done[0][-1]) if len(done[0]) else -1.0, done[1])

    grid = job.grid
    earlier = _load_columns(partial)
    if earlier is not None and earlier[1].shape[1] != heads:
        earlier = None  # not this model's: scan again
    times: list[np.ndarray] = [earlier[0]] if earlier is not None else []
    values: list[np.ndarray] = [earlier[1]] if earlier is not None else []
    resume_at, last = 0.0, -1.0
    spans = list(job.spans)
    if earlier is not None and len(earlier[0]):
        last = float(earlier[0][-1])
        resume_at = last + (1.0 / grid if grid else 1e-3)
        # A seek may land past its target (on the next keyframe, or anywhere in a file
        # without an index): start a little earlier, on the grid, and drop what is done.
        spans = _spans_left(spans, last, max(1.0, media.seek_lead(info)), grid)

    batches: queue.Queue = queue.Queue(maxsize=config.queue_batches)
    stop = threading.Event()
    decoder = threading.Thread(
        target=_decode_into, name="autotosis-decode", daemon=True, args=(batches, stop, spans),
        kwargs=dict(path=vod, fps=grid, box=scorer.box, size=scorer.size, keyframes=grid is None,
                    batch_size=config.batch_size, info=info, decode=decode),
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
            probabilities = scorer.predict(item.images[keep])
            times.append(stamps[keep])
            values.append(probabilities)
            scored += int(keep.sum())
            if keep.any():
                last = float(stamps[keep][-1])
            report(last)
            if last - saved_at >= config.checkpoint_seconds:
                _save(partial, np.concatenate(times), np.concatenate(values))
                saved_at = last
        finished = True
        report(math.inf)
    finally:
        stop.set()
        decoder.join(timeout=10)
        if not finished and last > saved_at:  # Ctrl-C or a failure: keep what was scored
            _save(partial, np.concatenate(times), np.concatenate(values))
    all_times = np.concatenate(times) if times else np.zeros(0)
    columns = np.concatenate(values) if values else np.zeros((0, heads), np.float32)
    timeline = Timeline(all_times, np.ascontiguousarray(columns[:, 0]))
    return _Scanned(timeline, False, resume_at, scored, last, columns)


def _scorer(vod: Path | str, info: media.VideoInfo, models: Sequence[ScanModel],
            classifiers: Sequence[Classifier]) -> _Scorer:
    """One model: ffmpeg crops and scales its box, as always. Several: a SharedCrop."""
    if len(classifiers) == 1:
        only = classifiers[0]
        return _Scorer(models[0].box, int(only.meta.size), len(only.labels), only.predict_all)
    sizes = [int(c.meta.size) for c in classifiers]
    shared = shared_crop(info, [m.box for m in models], sizes, vod)

    def predict(images: np.ndarray) -> np.ndarray:
        parts = zip(classifiers, shared.rects, sizes, strict=True)
        return np.concatenate([c.predict_all(cut(images, rect, size)) for c, rect, size in parts], axis=1)

    return _Scorer(shared.box, shared.size, sum(len(c.labels) for c in classifiers), predict)


def _finish(folder: Path, key: str, got: _Scanned) -> None:
    _save(folder / f"{key}.npz", got.timeline.times, got.columns)
    (folder / f"{key}.partial.npz").unlink(missing_ok=True)
