"""Scoring a stream as it arrives: loudness per window, the face-cam model on every sample.

Each signal runs on its own thread, reading its ffmpeg (fed by the follower) and putting
what it measured on one queue; the session folds those into `LiveSignals`, whose timelines
are exactly what compile measures on the finished file: the same ffmpeg filters, the same
windows (loudness.window_db over a carried remainder, the last half window included), the
same model on the same crops at the same fps (every sample: live has the time).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.timeline import Timeline
from autotosis.pick import select as select_lib
from autotosis.run.compile import chosen_labels, read_models
from autotosis.run.live.chat import LiveChat
from autotosis.signals import chat as chat_lib
from autotosis.signals import fuse as signals_lib
from autotosis.signals import loudness as loudness_lib

Attach = Callable[[IO[bytes]], None]


@dataclass(frozen=True)
class LiveModel:
    """One checkpoint as live runs it: its own reader (face-cam box, crop size) and the heads
    of it that were chosen, with their columns in its output."""

    path: Path
    classifier: Any
    box: media.Box
    size: int
    heads: tuple[str, ...]
    columns: tuple[int, ...]

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        values = self.classifier.predict_all(images)
        return {name: values[:, column] for name, column in zip(self.heads, self.columns, strict=True)}


def load_models(model: Path, more: tuple[Path, ...], labels: tuple[str, ...] | None,
                facecam: media.Box | None) -> tuple[list[LiveModel], dict[str, float], float]:
    """(models, label -> threshold in the order chosen, fps) by compile's rules: --labels' heads
    (known labels, one model per label), else every head; a model no chosen label needs is not run."""
    import torch

    from autotosis.learn.model import load_classifier

    torch.set_num_threads(1)  # one core at most: the streamer's PC runs the game and OBS too
    used = read_models([model, *more])
    chosen = chosen_labels(model if len(used) == 1 else "--model",
                           tuple(h for _, _, meta in used for h in meta.heads), labels)
    thresholds = {name: meta.threshold_for(name)
                  for name in chosen for _, _, meta in used if name in meta.heads}
    models = []
    for path, data, meta in used:
        heads = tuple(name for name in chosen if name in meta.heads)
        if not heads:
            continue
        box = facecam if facecam is not None else meta.facecam
        if box is None:
            raise AutotosisError(f"{path}: has no face-cam box; pass --facecam x0,y0,x1,y1")
        models.append(LiveModel(path, load_classifier(path, data=data), box, meta.size, heads,
                                tuple(meta.heads.index(name) for name in heads)))
    return models, thresholds, max(float(meta.fps) for _, _, meta in used if set(meta.heads) & set(chosen))


@dataclass
class LiveSignals:
    """Every signal's values so far, in stream seconds (`offset` moves a later recording file
    of the same stream, after OBS split it, onto the stream's clock)."""

    window: float
    signals: tuple[str, ...]
    thresholds: dict[str, float] = field(default_factory=dict)  # per label: bends its probability as
    # compile does; its keys are the labels scored, in order (none: "model")
    weights: dict[str, float] = field(default_factory=dict)
    levels: list[np.ndarray] = field(default_factory=list)  # loudness dBFS, one array per read
    level_count: int = 0
    heads: dict[str, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)  # label -> (times, p)
    offset: float = 0.0  # loudness windows simply continue: a new file starts where the last ended
    chat: LiveChat | None = None  # chat's messages, when it is one of the signals
    duration: float | None = None  # the finished recording's length (the end): chat's timeline spans it
    chat_seen: chat_lib.ChatTimeline | None = None  # chat's timeline as the last score used it

    def add_levels(self, values: np.ndarray) -> None:
        self.levels.append(values)
        self.level_count += len(values)

    def add_model(self, times: np.ndarray, values: dict[str, np.ndarray]) -> None:
        for name, probabilities in values.items():
            self.heads.setdefault(name, []).append((times + self.offset, probabilities))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.thresholds) or ("model",)

    def loudness(self) -> Timeline | None:
        if "loudness" not in self.signals:
            return None
        values = np.concatenate(self.levels) if self.levels else np.zeros(0)
        return Timeline((np.arange(len(values)) + 0.5) * self.window, values)

    def model(self, label: str | None = None) -> Timeline | None:
        """The probabilities of `label` (default: the first label's) so far."""
        if "model" not in self.signals:
            return None
        chunks = self.heads.get(label or self.labels[0], [])
        if not chunks:
            return Timeline(np.zeros(0), np.zeros(0))
        return Timeline(np.concatenate([t for t, _ in chunks]), np.concatenate([v for _, v in chunks]))

    def score(self, final: bool = False, label: str | None = None) -> Timeline:
        """The score selection runs on, built as compile builds it (see run/compile/scoring.py),
        with `label`'s probabilities (default: the first label's); `final`: the stream has ended,
        chat's delay is estimated on all of it (against the first label, as compile does)."""
        first = label is None or label == self.labels[0]
        parts: dict[str, Timeline] = {}
        model = self.model(label)
        if model is not None:
            parts["model"] = model if self.signals == ("model",) else signals_lib.model_signal(
                model, self.thresholds.get(label or self.labels[0], 0.5))
        loud = self.loudness()
        if loud is not None:
            parts["loudness"] = select_lib.loudness_score(loud)
        if len(self.signals) == 1:
            return parts[self.signals[0]]
        if any(len(part) == 0 for part in parts.values()):
            return Timeline(np.zeros(0), np.zeros(0))
        if self.chat is not None:
            if first or self.chat_seen is None:
                duration = self.duration if self.duration is not None else self.edge()
                self.chat_seen = self.chat.timeline(duration, parts, final)
            parts["chat"] = self.chat_seen.timeline
        return signals_lib.combine(parts, self.weights)

    def label_scores(self, final: bool = False) -> dict[str, Timeline]:
        """Several labels: each one's score, in order (compile's `Scored.label_scores`); one: {}."""
        return {name: self.score(final, name) for name in self.labels} if len(self.labels) > 1 else {}

    def edge(self) -> float:
        """How far every signal has got, in stream seconds."""
        ends = []
        if "loudness" in self.signals:
            ends.append(self.level_count * self.window)
        if "model" in self.signals:
            ends += [float(self.heads[name][-1][0][-1]) if self.heads.get(name) else self.offset
                     for name in self.labels]
        return min(ends) if ends else 0.0


def _guarded(name: str, out: queue.Queue, body: Callable[[], None]) -> threading.Thread:
    """A reader thread that reports ("done", name) or ("error", exc) on `out` when it ends."""
    def run() -> None:
        try:
            body()
            out.put(("done", name, None))
        except BaseException as exc:  # handed to the session, which raises it
            out.put(("error", name, exc))
    thread = threading.Thread(target=run, daemon=True, name=f"live-{name}")
    thread.start()
    return thread


def loudness_reader(config: loudness_lib.LoudnessConfig, track: int, attach: Attach,
                    out: queue.Queue) -> threading.Thread:
    """Loudness windows of the fed recording, put on `out` as ("levels", "loudness", array) each window."""
    window_samples = max(1, round(config.window * config.rate))

    def body() -> None:
        carry = np.zeros(0, dtype=np.float32)
        for chunk in media.audio_chunks(media.STDIN, config.rate, config.window, config.highpass, track,
                                        stdin_to=attach):
            samples = np.concatenate([carry, chunk]) if len(carry) else chunk
            levels = loudness_lib.window_db(samples, window_samples)
            carry = samples[len(levels) * window_samples:]
            if len(levels):
                out.put(("levels", "loudness", levels))
        if len(carry) >= window_samples // 2:  # as loudness.measure: a last half window counts
            out.put(("levels", "loudness", loudness_lib.window_db(carry, len(carry))))

    return _guarded("loudness", out, body)


def model_reader(info: media.VideoInfo, fps: float, box: media.Box | None, size: int,
                 predict: Callable[[np.ndarray], dict[str, np.ndarray]], attach: Attach,
                 out: queue.Queue) -> threading.Thread:
    """A model's probabilities on every sampled face-cam crop, put on `out` as
    ("model", "model", (times, {label: probabilities})) about once a second."""
    def body() -> None:
        batch = max(1, round(fps))
        for frames in media.frames(media.STDIN, fps, box, size, batch_size=batch, info=info, stdin_to=attach):
            out.put(("model", "model", (frames.times, predict(frames.images))))

    return _guarded("model", out, body)
