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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.errors import MediaError
from autotosis.core.hardware import auto_precision, cores
from autotosis.core.paths import cache_dir
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Timeline
from autotosis.signals.scan.cache import _load_columns, scan_key
from autotosis.signals.scan.coarse import (
    MERGE_GAP,
    MIN_COARSE_SECONDS,
    PROPOSE_RATIO,
    Hint,
    merge_passes,
    plan_first_pass,
    propose_windows,
)
from autotosis.signals.scan.passes import _finish, _Pass, _resume_point, _run_pass, _scorer

MODES = ("dense", "coarse", "keyframes")
ProgressFn = Callable[[float, float], None]  # (position, total) in seconds of the current pass
StageFn = Callable[[str], None]  # the name of the pass that starts ("scan", "scan 1/2 keyframes", ...)


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
class ScanModel:
    """A further checkpoint scored from the same decode (`--model` given again): its file,
    its face-cam box (None: the whole frame) and its bytes when the caller read them already."""

    path: Path
    box: media.Box | None
    data: bytes | None = None


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
