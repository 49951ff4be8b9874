"""How good is a reel? A VOD's score and selection measured against hand-labeled truth.

`evaluate_vod` wires the pure metrics of `eval_metrics` (frames, events, the threshold
sweep) to the compile pipeline's scoring: it loads and checks the truth file, scores the
VOD as compile would, selects, measures, and writes eval.json, pr_curve.png and timeline.png.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotosis import media
from autotosis.core.errors import LabelError
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timeline import Segment, Timeline
from autotosis.learn import labels as labels_lib
from autotosis.learn.labels import LabelFile
from autotosis.pick import select as select_lib
from autotosis.run.compile import (
    CompileEvents,
    CompileOptions,
    Scored,
    on_frames,
    output_dir,
    score_vod,
    select_highlights,
    selection_config,
)
from autotosis.run.eval_metrics import (
    MIN_OVERLAP,
    Cut,
    EventMetrics,
    FrameMetrics,
    SweepRow,
    event_metrics,
    frame_labels,
    frame_metrics,
    frame_point,
    sweep,
    sweep_label,
    sweep_thresholds,
)

# ---------------------------------------------------------------- a VOD against its truth file


@dataclass(frozen=True)
class LabelEvaluation:
    """One label of a model of several: its truth against the reel's segments of that label."""

    label: str
    truth: tuple[Segment, ...]
    config: select_lib.SelectConfig  # that label's selection (its own threshold)
    segments: tuple[Segment, ...]
    frames: FrameMetrics
    events: EventMetrics
    at_threshold: tuple[float, float]
    reel_frames: tuple[float, float]
    sweep: tuple[SweepRow, ...]

    def to_dict(self) -> dict:
        return {"truth": [[t.start, t.end] for t in self.truth], "threshold": self.config.enter,
                **_measured(self.segments, self.frames, self.events, self.at_threshold, self.reel_frames,
                            self.sweep)}


def _measured(segments: Sequence[Segment], frames: FrameMetrics, events: EventMetrics,
              at_threshold: tuple[float, float], reel_frames: tuple[float, float],
              rows: Sequence[SweepRow]) -> dict:
    """The metrics part of eval.json, the same for the whole evaluation and for one label."""
    def with_share(m: EventMetrics) -> dict:
        return {**dataclasses.asdict(m), "non_highlight_share": m.non_highlight_share}

    return {
        "segments": [{"start": s.start, "end": s.end, "peak": s.peak} for s in segments],
        "frames": {**dataclasses.asdict(frames),
                   "at_threshold": dict(zip(("precision", "recall"), at_threshold, strict=True)),
                   "reel": dict(zip(("precision", "recall"), reel_frames, strict=True))},
        "events": with_share(events),
        "sweep": [{"threshold": row.threshold, **with_share(row.events)} for row in rows],
    }


@dataclass(frozen=True)
class Evaluation:
    """Everything `autotosis eval` measured and where it wrote it."""

    vod: Path
    truth_file: Path
    truth: tuple[Segment, ...]
    scorer: str
    config: select_lib.SelectConfig  # the selection measured (compile's, from the same options)
    min_overlap: float
    segments: tuple[Segment, ...]
    frames: FrameMetrics
    events: EventMetrics
    at_threshold: tuple[float, float]  # frame (precision, recall) of raw scores >= the threshold
    reel_frames: tuple[float, float]  # frame (precision, recall) of the selected segments
    sweep: tuple[SweepRow, ...]
    resolved: dict  # the resolved options, as compile's options.json
    files: dict[str, Path]
    notes: tuple[str, ...]
    # A model of several labels and a truth file naming them: each label measured on its own,
    # the first of them also as the fields above (what a one-label evaluation reports).
    labels: tuple[LabelEvaluation, ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON values; undefined metrics (nan) become null."""
        data = {
            "vod": str(self.vod),
            "truth_file": str(self.truth_file),
            "truth": [[t.start, t.end] for t in self.truth],
            "scorer": self.scorer,
            "threshold": self.config.enter,
            "min_overlap": self.min_overlap,
            **_measured(self.segments, self.frames, self.events, self.at_threshold, self.reel_frames,
                        self.sweep),
            "options": {**self.resolved, "select": dataclasses.asdict(self.config)},
            "files": {k: str(v) for k, v in self.files.items()},
        }
        if self.labels:
            data["label"] = self.labels[0].label
            data["labels"] = {one.label: one.to_dict() for one in self.labels}
        return _nan_to_none(data)


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


def load_truth(path: Path, vod: Path, duration: float) -> LabelFile:
    """The truth label file for `vod`; LabelError when it is for another video or runs past it.

    The file's `clip` must name the VOD: the same file, or one with the same name
    stem (a remux vod.mkv of vod.mp4 keeps its timeline). Measuring a VOD against
    another video's truth would give plausible, meaningless numbers.
    """
    truth = labels_lib.load_label(path, check_clip=False)
    same_file = truth.clip.exists() and vod.exists() and truth.clip.resolve() == vod.resolve()
    if not same_file and truth.clip.stem != vod.stem:
        raise LabelError(f"{path}: truth is for '{truth.clip.name}', not '{vod.name}' "
                         "(edit its clip line if it is the same video)")
    try:
        labels_lib.check_segments(truth.segments, duration)
    except ValueError as exc:
        raise LabelError(f"{path}: {exc}") from None
    return truth


def eval_dir(vod: Path, out_dir: Path | None = None) -> Path:
    """output/<vod stem>/eval/ beside compile's outputs, unless given."""
    return out_dir if out_dir is not None else output_dir(vod) / "eval"


def evaluate_vod(options: CompileOptions, truth_path: Path, min_overlap: float = MIN_OVERLAP,
                 progress: CompileEvents | None = None) -> Evaluation:
    """Score the VOD as compile would (reusing cached scans), select, measure, write the outputs.

    `options.out_dir` is the eval folder itself (default output/<vod stem>/eval/);
    rendering options are ignored: nothing is rendered.
    """
    progress = progress or CompileEvents()
    info = media.probe(options.vod)
    truth = load_truth(truth_path, options.vod, info.duration)  # before a scan that may take hours
    scored = score_vod(options, progress, info)
    notes = list(scored.notes)
    evaluated = [name for name in scored.label_scores if name in truth.by_label]
    if evaluated:
        return _evaluate_labels(options, truth_path, truth, scored, evaluated, min_overlap, notes, progress)
    if scored.label in truth.by_label:  # a truth file of several labels: the one scored (--labels)
        own = {scored.label: truth.by_label[scored.label]}
        truth = labels_lib.make_label_file(truth.clip, truth.facecam, own, truth.path)
    elif scored.model_scores is not None and truth.label != scored.label:
        notes.append(f"{truth_path}: truth is labeled '{truth.label}' but the model scores '{scored.label}'")
        progress.note(notes[-1])
    config = selection_config(options.select, scored)
    duration = scored.info.duration
    cut = functools.partial(on_frames, info=scored.info)
    segments = cut(select_lib.select_segments(scored.score, config, duration))
    labels = frame_labels(scored.score.times, truth.segments)
    folder = eval_dir(options.vod, options.out_dir)
    files = {"json": folder / "eval.json", "pr_curve": folder / "pr_curve.png",
             "timeline": folder / "timeline.png"}
    evaluation = Evaluation(
        vod=options.vod,
        truth_file=truth_path,
        truth=truth.segments,
        scorer=scored.scorer,
        config=config,
        min_overlap=min_overlap,
        segments=tuple(segments),
        frames=frame_metrics(scored.score, truth.segments),
        events=event_metrics(truth.segments, segments, min_overlap),
        at_threshold=frame_point(labels, scored.score.values >= config.enter),
        reel_frames=frame_point(labels, frame_labels(scored.score.times, segments)),
        sweep=tuple(sweep(scored.score, truth.segments, config, duration, sweep_thresholds(config.enter),
                          min_overlap, cut)),
        resolved=scored.resolved,
        files=files,
        notes=tuple(notes),
    )

    from autotosis.publish.plot import plot_pr_curve, plot_timeline

    name = options.vod.name
    plot_pr_curve(files["pr_curve"], labels, scored.score.values, config.enter,
                  {f"score >= {config.enter:.2f}": evaluation.at_threshold,
                   "selected reel": evaluation.reel_frames},
                  f"{name}: frame AP {_fmt(evaluation.frames.ap)} by {scored.scorer}")
    plot_timeline(files["timeline"], duration, segments, scored.score, scored.loudness, config.enter,
                  f"{name}: {len(segments)} segment(s) by {scored.scorer}, truth below", truth.segments,
                  scored.chat.timeline if scored.chat is not None else None)
    atomic_write_text(files["json"], json.dumps(evaluation.to_dict(), indent=2) + "\n")
    return evaluation


def measure_label(scores: dict[str, Timeline], configs: dict[str, select_lib.SelectConfig], label: str,
                  truth: Sequence[Segment], segments: Sequence[Segment], duration: float | None,
                  min_overlap: float = MIN_OVERLAP, cut: Cut = list) -> LabelEvaluation:
    """One label of a reel of several against its truth: its score, and the reel's segments
    (`segments`, as `select_labelled` chose them from `scores` and `configs`) labelled with it."""
    score, config = scores[label], configs[label]
    own = tuple(s for s in segments if s.label == label)
    labels = frame_labels(score.times, truth)
    return LabelEvaluation(
        label=label, truth=tuple(truth), config=config, segments=own,
        frames=frame_metrics(score, truth),
        events=event_metrics(truth, own, min_overlap),
        at_threshold=frame_point(labels, score.values >= config.enter),
        reel_frames=frame_point(labels, frame_labels(score.times, own)),
        sweep=tuple(sweep_label(scores, configs, label, truth, duration, sweep_thresholds(config.enter),
                                min_overlap, cut)))


def _evaluate_labels(options: CompileOptions, truth_path: Path, truth: LabelFile, scored: Scored,
                     evaluated: list[str], min_overlap: float, notes: list[str],
                     progress: CompileEvents) -> Evaluation:
    """evaluate_vod for a model of several labels: the reel selected as compile does, then
    each label that the truth file names measured on its own segments and truth."""
    for name in scored.label_scores:
        if name not in truth.by_label:
            notes.append(f"{truth_path}: no '{name}' in the truth file; '{name}' is not measured")
            progress.note(notes[-1])
    duration = scored.info.duration
    cut = functools.partial(on_frames, info=scored.info)
    segments = cut(select_highlights(options.select, scored, duration))
    configs = {name: selection_config(options.select, scored, name) for name in scored.label_scores}
    measured = tuple(measure_label(scored.label_scores, configs, name, truth.by_label[name], segments,
                                   duration, min_overlap, cut) for name in evaluated)
    first = measured[0]
    folder = eval_dir(options.vod, options.out_dir)
    files = {"json": folder / "eval.json", "pr_curve": folder / "pr_curve.png",
             "timeline": folder / "timeline.png"}
    evaluation = Evaluation(
        vod=options.vod, truth_file=truth_path, truth=first.truth, scorer=scored.scorer,
        config=first.config, min_overlap=min_overlap, segments=first.segments, frames=first.frames,
        events=first.events, at_threshold=first.at_threshold, reel_frames=first.reel_frames,
        sweep=first.sweep, resolved=scored.resolved, files=files, notes=tuple(notes), labels=measured)

    from autotosis.publish.plot import plot_pr_curve, plot_timeline

    name = options.vod.name
    score, enter = scored.label_scores[first.label], first.config.enter
    plot_pr_curve(files["pr_curve"], frame_labels(score.times, first.truth), score.values, enter,
                  {f"score >= {enter:.2f}": first.at_threshold, "selected reel": first.reel_frames},
                  f"{name}: {first.label} frame AP {_fmt(first.frames.ap)} by {scored.scorer}")
    plot_timeline(files["timeline"], duration, segments, scored.score, scored.loudness, enter,
                  f"{name}: {len(segments)} segment(s) by {scored.scorer}, truth below",
                  [t for one in measured for t in one.truth],
                  scored.chat.timeline if scored.chat is not None else None,
                  label_scores=scored.label_scores,
                  thresholds={one.label: one.config.enter for one in measured})
    atomic_write_text(files["json"], json.dumps(evaluation.to_dict(), indent=2) + "\n")
    return evaluation


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}"
