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
from typing import IO, TYPE_CHECKING

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

if TYPE_CHECKING:
    from autotosis.learn.model import ModelMeta

Attach = Callable[[IO[bytes]], None]


def choose_label(model: Path, more: tuple[Path, ...], labels: tuple[str, ...] | None,
                 note: Callable[[str], None]) -> tuple[Path, bytes, ModelMeta, str]:
    """(checkpoint, its bytes, its metadata, label): the one label live scores. --labels' by
    compile's rules (known labels, one model per label), else the first model's first head,
    said when the models score more."""
    used = read_models([model, *more])
    heads = tuple(h for _, _, meta in used for h in meta.heads)
    chosen = chosen_labels(model if len(used) == 1 else "--model", heads, labels)
    if labels and len(chosen) > 1:
        raise AutotosisError(f"--labels {','.join(chosen)}: live mode scores one label; give one, or "
                             "compile the finished recording for a reel of several")
    if len(heads) > 1 and not labels:
        note(f"live: scoring {chosen[0]} only (the model(s) also score {', '.join(heads[1:])}; "
             "--labels NAME to choose)")
    path, data, meta = next(m for m in used if chosen[0] in m[2].heads)
    return path, data, meta, chosen[0]


@dataclass
class LiveSignals:
    """Every signal's values so far, in stream seconds (`offset` moves a later recording file
    of the same stream, after OBS split it, onto the stream's clock)."""

    window: float
    signals: tuple[str, ...]
    threshold: float = 0.5  # the model's, so its probability is bent like compile bends it
    weights: dict[str, float] = field(default_factory=dict)
    levels: list[np.ndarray] = field(default_factory=list)  # loudness dBFS, one array per read
    level_count: int = 0
    model_times: list[np.ndarray] = field(default_factory=list)
    model_values: list[np.ndarray] = field(default_factory=list)
    offset: float = 0.0  # loudness windows simply continue: a new file starts where the last ended
    chat: LiveChat | None = None  # chat's messages, when it is one of the signals
    duration: float | None = None  # the finished recording's length (the end): chat's timeline spans it
    chat_seen: chat_lib.ChatTimeline | None = None  # chat's timeline as the last score used it

    def add_levels(self, values: np.ndarray) -> None:
        self.levels.append(values)
        self.level_count += len(values)

    def add_model(self, times: np.ndarray, values: np.ndarray) -> None:
        self.model_times.append(times + self.offset)
        self.model_values.append(values)

    def loudness(self) -> Timeline | None:
        if "loudness" not in self.signals:
            return None
        values = np.concatenate(self.levels) if self.levels else np.zeros(0)
        return Timeline((np.arange(len(values)) + 0.5) * self.window, values)

    def model(self) -> Timeline | None:
        if "model" not in self.signals:
            return None
        if not self.model_times:
            return Timeline(np.zeros(0), np.zeros(0))
        return Timeline(np.concatenate(self.model_times), np.concatenate(self.model_values))

    def score(self, final: bool = False) -> Timeline:
        """The score selection runs on, built as compile builds it (see run/compile/scoring.py);
        `final`: the stream has ended, chat's delay is estimated on all of it."""
        parts: dict[str, Timeline] = {}
        model = self.model()
        if model is not None:
            parts["model"] = model if self.signals == ("model",) else signals_lib.model_signal(
                model, self.threshold)
        loud = self.loudness()
        if loud is not None:
            parts["loudness"] = select_lib.loudness_score(loud)
        if len(self.signals) == 1:
            return parts[self.signals[0]]
        if any(len(part) == 0 for part in parts.values()):
            return Timeline(np.zeros(0), np.zeros(0))
        if self.chat is not None:
            duration = self.duration if self.duration is not None else self.edge()
            self.chat_seen = self.chat.timeline(duration, parts, final)
            parts["chat"] = self.chat_seen.timeline
        return signals_lib.combine(parts, self.weights)

    def edge(self) -> float:
        """How far every signal has got, in stream seconds."""
        ends = []
        if "loudness" in self.signals:
            ends.append(self.level_count * self.window)
        if "model" in self.signals:
            ends.append(float(self.model_times[-1][-1]) if self.model_times else self.offset)
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
                 predict: Callable[[np.ndarray], np.ndarray], attach: Attach,
                 out: queue.Queue) -> threading.Thread:
    """The model's probability on every sampled face-cam crop, put on `out` as
    ("model", "model", (times, probabilities)) about once a second."""
    def body() -> None:
        batch = max(1, round(fps))
        for frames in media.frames(media.STDIN, fps, box, size, batch_size=batch, info=info, stdin_to=attach):
            out.put(("model", "model", (frames.times, predict(frames.images))))

    return _guarded("model", out, body)
