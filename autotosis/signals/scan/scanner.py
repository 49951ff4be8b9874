"""VOD -> score timeline: ffmpeg decodes and crops while the model scores, at decode speed.

A decode thread pulls sampled face-cam crops out of ffmpeg (media.frames) into a
small bounded queue; the calling thread runs batched inference on them. Both run at
once, so a pass costs max(decode, inference) rather than their sum, and memory is
the queue plus one float per sample whatever the VOD's length.

Three modes decide which frames are decoded:

- `dense`: every sample at the model's fps over the whole VOD (about one bare decode).
- `keyframes`: keyframes only, one sample per keyframe (a small fraction of a decode).
- `coarse`: look cheaply everywhere, then closely where something happens. Pass 1
  scores the keyframes (when they are close enough to stand for the stream; else the
  scan falls back to dense, see `plan_first_pass`); samples scoring above a
  recall-first level, and the spans where a cheap signal (`Hint`: loudness, chat) is
  high, become windows widened by margins; pass 2 decodes those windows densely with
  input seeking. The timeline handed on is on the dense grid: pass 2's own samples
  inside the windows, pass 1 interpolated outside them (where nothing happens).

Results are cached under paths.cache_dir()/scans keyed by the VOD's identity, the
model file's content, the sampling fps, the mode and the face-cam box (pass 2 also by
its windows), so a second compile with other selection options skips the scan. While
scanning, the scores so far are saved every `checkpoint_seconds` of VOD; an interrupted
pass resumes from the last saved position.
"""

from __future__ import annotations

import hashlib
import math
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from autotosis import media
from autotosis.core.errors import MediaError
from autotosis.core.fsutil import atomic_path
from autotosis.core.hardware import auto_precision, cores
from autotosis.core.paths import cache_dir
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Timeline

if TYPE_CHECKING:
    from autotosis.learn.model import Classifier

CACHE_VERSION = 1
MODES = ("dense", "coarse", "keyframes")
ProgressFn = Callable[[float, float], None]  # (position, total) in seconds of the current pass
StageFn = Callable[[str], None]  # the name of the pass that starts ("scan", "scan 1/2 keyframes", ...)

# Coarse scan. Keyframes further apart than this leave too much unseen between samples
# (loudness and chat still cover the gaps, but a silent face would not be looked at).
MAX_KEYFRAME_GAP = 12.0
# Shorter VODs are scanned densely: two passes and their seeks cost more than they save.
MIN_COARSE_SECONDS = 60.0
# Pass 1 proposes a window where the model scores at least this share of its threshold:
# low, because a moment seen between its keyframes peaks higher than on them.
PROPOSE_RATIO = 0.5
# A pass-1 sample above that level stands for the span to its neighbours; the window
# adds this much on each side, for smoothing and for the moment's edges to be seen densely.
MODEL_MARGIN = 2.0
# A hint's span (a shout, a chat burst) adds this much on each side: the face reacts
# a little before or after the sound, and chat reacts seconds late.
HINT_MARGIN = (4.0, 4.0)
# Windows closer than this are decoded as one: a seek costs decoding from the keyframe
# before it anyway, and each window costs an ffmpeg start.
MERGE_GAP = 4.0


@dataclass(frozen=True)
class ScanConfig:
    """Scan defaults, written once; `autotosis compile` options read them."""

    fps: float | None = None  # None: the fps the model was trained at (what it knows)
    # dense | coarse | keyframes (see the module's docstring); coarse finds what dense finds
    # (bench/accuracy.py --section scan) at a fraction of the decode, and is dense under a minute
    mode: str = "coarse"
    device: str = "cpu"  # "cuda" when a GPU is there; decoding moves to NVDEC where ffmpeg has it
    batch_size: int = 32  # big enough for efficient kernels, small enough to keep the queue light
    # torch threads: half the cores, ffmpeg's decoder takes the rest (on 2 cores one torch
    # thread scanned a 720p VOD in 21 s against 27 s with two fighting the decoder)
    threads: int = field(default_factory=lambda: max(1, cores() // 2))
    precision: str = "auto"  # bf16 where the CPU or GPU does it natively (about 2x), else fp32
    queue_batches: int = 4  # decoded batches waiting for the model: smooths hiccups, bounds memory
    checkpoint_seconds: float = 300.0  # save partial scores every 5 VOD minutes for resuming
    propose: float | None = None  # coarse: score that proposes a window (None: PROPOSE_RATIO x threshold)

    @property
    def keyframes(self) -> bool:
        return self.mode == "keyframes"


@dataclass(frozen=True)
class Hint:
    """A cheap timeline that proposes windows to a coarse scan: where `score` (0..1) reaches
    `threshold`, the frames get looked at densely. Loudness is one; chat is another."""

    name: str
    score: Timeline
    threshold: float
    margin: tuple[float, float] = HINT_MARGIN  # seconds looked at before and after each run


@dataclass(frozen=True)
class ScanModel:
    """A further checkpoint scored from the same decode (`--model` given again): its file,
    its face-cam box (None: the whole frame) and its bytes when the caller read them already."""

    path: Path
    box: media.Box | None
    data: bytes | None = None


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


def resolved_precision(config: ScanConfig) -> str:
    """What "auto" means here (model.inference_dtype decides the same way), for the cache key."""
    return auto_precision(config.device) if config.precision == "auto" else config.precision


@dataclass(frozen=True)
class ScanResult:
    """A score timeline per head of the model and how it was obtained."""

    timeline: Timeline  # the first head's
    cached: bool  # read whole from the cache, nothing decoded
    resumed_from: float  # VOD seconds already scanned by an interrupted earlier run (0 if none)
    wall_seconds: float
    samples: int  # samples scored in this run
    mode: str = "dense"  # what ran: dense, keyframes, or coarse (which may have fallen back to dense)
    plan: str = ""  # coarse: the first pass chosen and why
    windows: int = 0  # coarse: windows decoded densely
    dense_seconds: float = 0.0  # seconds of the VOD decoded at the model's fps
    by_label: dict[str, Timeline] = field(default_factory=dict)  # every head's timeline, in head order

    def summary(self) -> str:
        """One line for the terminal: what was decoded, how much, how fast."""
        if self.cached:
            return "scan: reused the cached scores for this VOD, model, fps and box"
        line = f"scan: {self.samples} samples in {self.wall_seconds:.0f}s"
        if self.mode == "coarse":
            line += f" ({self.plan}"
            if self.windows:
                line += f"; dense in {self.windows} window(s), {format_time(self.dense_seconds, 0)}"
            line += ")"
        return line


def scan_key(info: media.VideoInfo, model_digest: str, fps: float | None, box: media.Box | None,
             keyframes: bool, precision: str = "fp32", extra: str = "") -> str:
    """Changes whenever the scores would: VOD (path, size, mtime), model bytes, fps, keyframes, box,
    the arithmetic precision of the model, and `extra` (a coarse pass 2's windows)."""
    box_text = "full" if box is None else ",".join(f"{v:.6f}" for v in box)
    rate = "key" if keyframes else f"{fps:g}"
    raw = f"scan{CACHE_VERSION}|{info.identity}|{model_digest}|{rate}|{box_text}|{precision}"
    if extra:
        raw += f"|{extra}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _save(path: Path, times: np.ndarray, values: np.ndarray) -> None:
    """times and probabilities; a one-head model's as a plain column, as before several heads."""
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, times=times, values=values)


def _load(path: Path) -> Timeline | None:
    """The first head's timeline of a saved scan; None when missing or damaged."""
    got = _load_columns(path)
    return None if got is None else Timeline(got[0], np.ascontiguousarray(got[1][:, 0]))


def _load_columns(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(times, probabilities (N, heads)) of a saved scan; one-head entries read as one column."""
    if not path.exists():
        return None
    try:
        with np.load(path) as data:
            times = data["times"].astype(np.float64)
            return times, data["values"].astype(np.float32).reshape(len(times), -1)
    except (OSError, ValueError, KeyError, EOFError):
        path.unlink(missing_ok=True)  # a damaged entry is scanned again
        return None


def by_label(times: np.ndarray, columns: np.ndarray, labels: Sequence[str] | None) -> dict[str, Timeline]:
    """A timeline per head from one scan's (N, heads) probabilities (one forward pass scored them all)."""
    if labels is None or len(labels) != columns.shape[1]:
        labels = [f"head{i}" for i in range(columns.shape[1])]
    return {name: Timeline(times, np.ascontiguousarray(columns[:, i])) for i, name in enumerate(labels)}


def _check_complete(vod: Path | str, info: media.VideoInfo, last: float, slack: float) -> None:
    """MediaError when the video stopped well before the length the file claims.

    A download cut short keeps an MP4 header (faststart) that promises the whole VOD;
    scoring only the first part would let selection and render reach past the data.
    `slack` seconds (sample or keyframe spacing) and a stream a little shorter than
    the container are tolerated.
    """
    slack = max(slack, 0.02 * info.duration)
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


# ---------------------------------------------------------------- coarse: planning and windows


@dataclass(frozen=True)
class FirstPass:
    """What a coarse scan looks at first: `kind` is "keyframes" or "dense" (the fallback)."""

    kind: str
    reason: str
    interval: float | None = None  # probed keyframe interval in seconds


def plan_first_pass(duration: float, keys: media.KeyframeInfo | None, fps: float) -> FirstPass:
    """Keyframes when they come every few seconds, else a dense scan: see the constants."""
    if duration < MIN_COARSE_SECONDS:
        return FirstPass("dense", f"dense: a VOD under {MIN_COARSE_SECONDS:g}s is scanned whole")
    if keys is None or keys.interval is None:
        span = keys.window if keys is not None else 0.0
        return FirstPass("dense", f"dense: fewer than two keyframes in {span:g}s, nothing cheap to look at")
    gap = keys.interval
    if gap > MAX_KEYFRAME_GAP:
        return FirstPass("dense", f"dense: keyframes {gap:.1f}s apart, over {MAX_KEYFRAME_GAP:g}s", gap)
    if gap <= 1.0 / fps + 1e-6:
        return FirstPass("dense", f"dense: keyframes every {gap:.2f}s, as many as dense samples", gap)
    return FirstPass("keyframes", f"coarse: keyframes every {gap:.1f}s, then dense where it matters", gap)


def _peak(values: np.ndarray) -> np.ndarray:
    """One number per sample whatever the value shape: a sample with several labels' scores
    proposes a window when any of them is high."""
    return values if values.ndim == 1 else values.max(axis=tuple(range(1, values.ndim)))


def _merge_spans(spans: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def propose_windows(first: Timeline, threshold: float, hints: Sequence[Hint], duration: float,
                    grid: float, gap: float = MERGE_GAP) -> list[tuple[float, float]]:
    """The spans pass 2 decodes densely, merged, in time order, starting on the sampling grid.

    A pass-1 sample at or above `threshold` stands for the span between its neighbours
    (the moment may be anywhere between two keyframes); a hint's run above its threshold
    for its own span. Each gets margins; windows closer than `gap` are joined.
    """
    spans: list[tuple[float, float]] = []
    times = first.times
    hot = np.flatnonzero(_peak(np.asarray(first.values)) >= threshold)
    for i in hot.tolist():
        before = float(times[i - 1]) if i > 0 else 0.0
        after = float(times[i + 1]) if i + 1 < len(times) else duration
        spans.append((before - MODEL_MARGIN, after + MODEL_MARGIN))
    for hint in hints:
        score = hint.score
        if len(score) == 0:
            continue
        half = score.step / 2
        mask = _peak(np.asarray(score.values)) >= hint.threshold
        padded = np.r_[False, mask, False].astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            spans.append((float(score.times[a]) - half - hint.margin[0],
                          float(score.times[b - 1]) + half + hint.margin[1]))
    clipped = [(max(0.0, s), min(duration, e)) for s, e in spans if e > 0 and s < duration]
    windows = []
    for start, end in _merge_spans(clipped, gap):
        start = _resume_point(start, 0.0, grid)
        if end > start:
            windows.append((start, end))
    return _merge_spans(windows, 0.0)


def merge_passes(first: Timeline, fine: Timeline, windows: Sequence[tuple[float, float]],
                 grid: float, duration: float) -> Timeline:
    """One timeline on the dense grid: pass 2's samples inside the windows, and outside
    them pass 1's interpolated (nothing happens there, by pass 1's own account).

    Selection smooths over a number of samples and lets each sample stand for one grid
    step, so it needs evenly spaced samples; this keeps it unchanged for coarse scans.
    """
    inside = np.zeros(len(first), dtype=bool)
    for start, end in windows:
        inside |= (first.times >= start) & (first.times < end)
    times = np.concatenate([first.times[~inside], fine.times])
    values = np.concatenate([np.asarray(first.values)[~inside], np.asarray(fine.values)])
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    count = max(1, math.floor(duration * grid - 1e-6) + 1)
    grid_times = np.arange(count) / grid
    if len(times) == 0:
        return Timeline(grid_times, np.zeros(count, np.float32))
    flat = values.reshape(len(values), -1)
    columns = [np.interp(grid_times, times, flat[:, k]) for k in range(flat.shape[1])]
    resampled = np.stack(columns, axis=1).reshape((count, *values.shape[1:])).astype(np.float32)
    return Timeline(grid_times, resampled)


# ---------------------------------------------------------------- one pass: decode thread + model


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


# ---------------------------------------------------------------- the scan


def scan(
    vod: Path | str,
    model_path: Path | str,
    box: media.Box | None,
    config: ScanConfig = ScanConfig(),
    progress: ProgressFn | None = None,
    cache: Path | None = None,
    fps: float | None = None,
    model_data: bytes | None = None,
    hints: Sequence[Hint] = (),
    stage: StageFn | None = None,
    note: Callable[[str], None] | None = None,
    labels: Sequence[str] | None = None,
    more: Sequence[ScanModel] = (),
) -> ScanResult:
    """Score a VOD with a checkpoint: cached, resumable, decode and inference overlapped.

    `fps` is the resolved sampling rate (config.fps, else the checkpoint's); it is
    ignored in keyframe mode, where every keyframe is one sample. `model_data` is the
    checkpoint's bytes when the caller read them already (model.read_checkpoint).
    `hints` propose windows to a coarse scan; `stage` hears each pass start (its
    progress then runs over that pass); `note` gets one-line remarks (a GPU decode
    falling back to the CPU). Every head of the model is scored in the same forward pass
    over the same decoded crops: `ScanResult.by_label` has a timeline per head, named by
    `labels` (the checkpoint's heads).

    `more` are further checkpoints, each with its own box and input size, scored from the
    same decode (one ffmpeg per pass, see SharedCrop); their heads follow the first model's,
    and `labels` names them all in that order.
    """
    started = time.perf_counter()
    if config.mode not in MODES:
        raise ValueError(f"unknown scan mode {config.mode!r} (use {', '.join(MODES)})")
    info = media.probe(vod)
    models = [ScanModel(Path(model_path), box, model_data), *more]
    rate = fps if fps is not None else config.fps
    if not config.keyframes and not rate:
        raise ValueError("scan needs a sampling fps unless it runs on keyframes")
    # One read: the cache key and the weights come from the same bytes even if
    # `autotosis train` replaces the file meanwhile.
    from autotosis.learn.model import read_checkpoint

    blobs = [m.data if m.data is not None else read_checkpoint(m.path) for m in models]
    digest, precision = hashlib.sha256(blobs[0]).hexdigest(), resolved_precision(config)
    key_box = box
    if len(models) > 1:  # every model's bytes and box (its input size is in its bytes)
        parts = [hashlib.sha256(b).hexdigest() + "@" + ("full" if m.box is None else ",".join(
            f"{v:.6f}" for v in m.box)) for m, b in zip(models, blobs, strict=True)]
        digest, key_box = hashlib.sha256("|".join(parts).encode()).hexdigest(), None
    folder = (cache if cache is not None else cache_dir()) / "scans"
    dense_key = scan_key(info, digest, rate, key_box, config.keyframes, precision)
    if config.mode != "coarse":
        done = _load_columns(folder / f"{dense_key}.npz")  # before loading torch: a cached scan is instant
        if done is not None and (labels is None or done[1].shape[1] == len(labels)):
            if progress is not None:
                progress(info.duration, info.duration)
            heads = by_label(*done, labels)
            return ScanResult(next(iter(heads.values())), True, 0.0, time.perf_counter() - started, 0,
                              config.mode, by_label=heads)

    import torch

    from autotosis.learn.model import load_classifier

    torch.set_num_threads(config.threads)
    classifiers = [load_classifier(m.path, config.device, b, config.precision)
                   for m, b in zip(models, blobs, strict=True)]
    del blobs
    for classifier in classifiers:
        classifier.batch_size = config.batch_size
    scorer = _scorer(vod, info, models, classifiers)
    decode = media.decode_plan(config.device, info.codec, info.rotation)
    if decode.reason and note is not None:
        note(decode.reason)

    def begin(name: str) -> None:
        if stage is not None:
            stage(name)

    if config.mode != "coarse":
        begin("scan")
        job = _Pass(((0.0, None),), None if config.keyframes else rate, dense_key)
        got = _run_pass(vod, info, scorer, config, folder, job, progress, decode)
        _check_complete(vod, info, got.last, 10.0 if config.keyframes else max(2.0, 3.0 / float(rate or 1.0)))
        _finish(folder, dense_key, got)
        return ScanResult(got.timeline, False, got.resumed_from, time.perf_counter() - started, got.samples,
                          config.mode, dense_seconds=0.0 if config.keyframes else info.duration,
                          by_label=by_label(got.timeline.times, got.columns, labels))

    assert rate is not None
    plan = plan_first_pass(info.duration, None if info.duration < MIN_COARSE_SECONDS
                           else media.keyframe_info(vod, info), rate)
    if plan.kind == "dense":
        begin("scan")
        got = _run_pass(vod, info, scorer, config, folder, _Pass(((0.0, None),), rate, dense_key),
                        progress, decode)
        if not got.cached:
            _check_complete(vod, info, got.last, max(2.0, 3.0 / rate))
            _finish(folder, dense_key, got)
        return ScanResult(got.timeline, got.cached, got.resumed_from, time.perf_counter() - started,
                          got.samples, "coarse", plan.reason, 0, info.duration,
                          by_label(got.timeline.times, got.columns, labels))

    begin("scan 1/2 keyframes")
    first_key = scan_key(info, digest, rate, key_box, True, precision)
    first = _run_pass(vod, info, scorer, config, folder, _Pass(((0.0, None),), None, first_key),
                      progress, decode)
    if not first.cached:
        _check_complete(vod, info, first.last, max(10.0, 1.5 * (plan.interval or 0.0)))
        _finish(folder, first_key, first)
    threshold = config.propose
    if threshold is None:
        threshold = PROPOSE_RATIO * min(c.meta.threshold_for(h) for c in classifiers for h in c.labels)
    # several heads: a moment of any label proposes a window
    proposer = Timeline(first.timeline.times, first.columns.max(axis=1)) if first.columns.shape[1] > 1 \
        else first.timeline
    windows = propose_windows(proposer, threshold, hints, info.duration, rate,
                              max(MERGE_GAP, plan.interval or 0.0))
    dense_seconds = sum(e - s for s, e in windows)
    fine_key = scan_key(info, digest, rate, key_box, False, precision,
                        "windows:" + ";".join(f"{s:.3f}-{e:.3f}" for s, e in windows))
    # In a file without an index a seek may land late: start early enough to be inside.
    lead = media.seek_lead(info)
    spans = tuple((_resume_point(s, lead, rate) if lead else s, e) for s, e in windows)
    begin(f"scan 2/2 dense in {len(windows)} window(s)")
    fine = _run_pass(vod, info, scorer, config, folder, _Pass(spans, rate, fine_key), progress, decode)
    if not fine.cached:
        _finish(folder, fine_key, fine)
    first_heads = by_label(first.timeline.times, first.columns, labels)
    fine_heads = by_label(fine.timeline.times, fine.columns, labels)
    heads = {name: merge_passes(first_heads[name], fine_heads[name], windows, rate, info.duration)
             for name in first_heads}
    timeline = next(iter(heads.values()))
    return ScanResult(timeline, first.cached and fine.cached, max(first.resumed_from, fine.resumed_from),
                      time.perf_counter() - started, first.samples + fine.samples, "coarse", plan.reason,
                      len(windows), dense_seconds, heads)
