"""`autotosis demo --learn`: from no clips at all to a model, by answering suggestions on one VOD.

A streamer owns VODs, not labeled clips. This demo makes two VODs of the same synthetic
streamer, asks `suggest` for the moments of the first worth an answer (loudness and chat
only: there is no model yet), answers each as a person who knows the truth would (the
rage inside the window marked as a segment, the rest of the window calm), trains on those
answers alone, and compiles the second VOD with the new model, scored against its truth.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timeline import Segment
from autotosis.demo import synth
from autotosis.demo.demo import DATA_VERSION, FACECAM, DemoEvents
from autotosis.learn import labels as labels_lib
from autotosis.learn.trainconfig import TrainConfig
from autotosis.pick.suggest import Candidate, SuggestConfig
from autotosis.run.compile import CompileOptions, CompileResult, compile_vod
from autotosis.run.evaluate import MIN_OVERLAP, EventMetrics, event_metrics
from autotosis.run.suggest import SuggestOptions, suggest

LABEL = "rage"


@dataclass(frozen=True)
class LearnConfig:
    """Sizes of the learning demo; the defaults fit in a few minutes on two CPU cores."""

    folder: Path = Path("demo-learn")
    vod_seconds: float = 300.0
    moments: int = 6  # rages in each VOD, and as many laughs, bangs and red flashes (the traps)
    answers: int = 20  # the round: 20 answers, one training run
    dense: bool = True  # a 5-minute VOD has no 20 separate minutes: candidates may sit side by side
    width: int = 640
    height: int = 360
    fps: float = 30.0
    size: int = 128
    epochs: int = 8
    seed: int = 0


QUICK_LEARN = LearnConfig(vod_seconds=150.0, moments=3, answers=10, width=320, height=180, size=64,
                          epochs=6)


@dataclass(frozen=True)
class Answer:
    candidate: Candidate
    positives: tuple[Segment, ...]
    calm: tuple[Segment, ...]


@dataclass(frozen=True)
class LearnResult:
    vods: tuple[Path, Path]  # answered on, compiled
    label_file: Path
    answers: list[Answer]
    model: Path
    train_metrics: dict
    compile: CompileResult
    events: EventMetrics
    seconds: dict[str, float] = field(default_factory=dict)


def answer(candidate: Candidate, truth: Sequence[Segment]) -> Answer:
    """A person who knows the truth: every reaction that shows in the window is marked whole
    (they scrub to its edges), and the rest of the window is calm (they watched it)."""
    hits = sorted(t for t in truth if t.start < candidate.end and candidate.start < t.end)
    calm, at = [], candidate.start
    for hit in hits:
        if hit.start > at:
            calm.append(Segment(at, hit.start))
        at = max(at, hit.end)
    if at < candidate.end:
        calm.append(Segment(at, candidate.end))
    return Answer(candidate, tuple(Segment(t.start, t.end) for t in hits),
                  tuple(c for c in calm if c.duration >= 0.5))


def make_vod(folder: Path, name: str, config: LearnConfig, seed: int) -> tuple[Path, list[Segment]]:
    """A VOD of the demo's streamer with its chat replay beside it and its truth in truth/
    (made once); returns it and its rages."""
    vod, truth = folder / "vods" / f"{name}.mp4", folder / "truth" / f"{name}.toml"
    chat = vod.with_suffix(".chat.json")
    spec = synth.scripted(config.vod_seconds, seed=seed, rages=config.moments, hypes=config.moments,
                          bangs=config.moments, flashes=config.moments, rage_length=(3.0, 6.0), gap=8.0,
                          width=config.width, height=config.height, fps=config.fps, facecam=FACECAM,
                          backdrop="life", streamer=synth.Streamer.from_seed(config.seed))
    manifest = vod.with_suffix(".json")
    key = {"version": DATA_VERSION, "seed": seed, **{k: getattr(config, k) for k in
                                                      ("vod_seconds", "moments", "width", "height", "fps")}}
    try:
        made = json.loads(manifest.read_text()) == key and vod.exists() and chat.exists() and truth.exists()
    except (OSError, ValueError):
        made = False
    if not made:
        manifest.unlink(missing_ok=True)  # half-made media is never taken for finished
        synth.make_stream(vod, spec, preset="ultrafast", tracks=True)
        synth.write_chat(chat, spec, synth.ChatSpec(seed=seed))
        synth.write_label(spec, vod, truth)
        atomic_write_text(manifest, json.dumps(key) + "\n")
    return vod, list(spec.rage)


def run_learn_demo(config: LearnConfig = LearnConfig(), events: DemoEvents | None = None) -> LearnResult:
    """Suggest on one VOD, answer from the truth, train, compile the next VOD, measure it."""
    from autotosis.learn.train import train

    events = events or DemoEvents()
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    folder, cache = config.folder, config.folder / "cache"
    labels_dir = folder / "labels"

    events.stage("data")
    first, first_truth = make_vod(folder, "stream1", config, seed=config.seed * 1000 + 1)
    second, second_truth = make_vod(folder, "stream2", config, seed=config.seed * 1000 + 2)
    seconds["data"] = time.perf_counter() - clock

    events.stage("suggest")
    label_file = labels_lib.label_path_for(first, labels_dir)
    model = folder / "models" / f"{LABEL}.pt"
    for earlier in (label_file, model):  # from zero: no answers, no clips, no model
        earlier.unlink(missing_ok=True)
    options = SuggestOptions(label=LABEL, model="none", labels_dir=labels_dir, cache=cache,
                             config=SuggestConfig(count=config.answers, dense=config.dense))
    candidates = suggest(first, options, events)
    seconds["suggest"] = time.perf_counter() - clock - sum(seconds.values())

    events.stage("answer")
    answers = [answer(c, first_truth) for c in candidates]
    for given in answers:
        labels_lib.merge_review(first, labels_dir, LABEL, given.positives, given.calm, facecam=FACECAM)

    events.stage("train")
    trained = train(TrainConfig(labels_dir=labels_dir, out=model, size=config.size, epochs=config.epochs,
                                seed=config.seed, cpu=True, cache=cache), events)
    seconds["train"] = time.perf_counter() - clock - sum(seconds.values())

    events.stage("compile")
    compiled = compile_vod(CompileOptions(vod=second, out_dir=folder / "output" / second.stem, model=model,
                                          force=True, cache=cache, chat=second.with_suffix(".chat.json")),
                           events)
    seconds["compile"] = time.perf_counter() - clock - sum(seconds.values())
    found = event_metrics(second_truth, compiled.segments, MIN_OVERLAP)
    seconds["total"] = time.perf_counter() - clock
    return LearnResult((first, second), label_file, answers, model, trained.best, compiled, found, seconds)
