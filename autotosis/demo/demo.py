"""The whole loop on made-up data: synthetic clips + labels -> train -> compile a VOD -> score the reel.

Everything lands in one folder (default demo/), laid out like a real project
(clips/, labels/, models/, output/) plus vod/ with the VOD (three audio tracks, as OBS
records), its truth file and its chat replay, so after the demo a user can try every
command by hand on the same data:

    autotosis label --list --labels-dir demo/labels
    autotosis compile demo/vod/stream.mp4 --model demo/models/rage.pt --chat auto --force
    autotosis eval demo/vod/stream.mp4 --truth demo/vod/stream.toml --model demo/models/rage.pt --chat auto

Data is made once per configuration (demo/data.json records which); a second run
goes straight to training.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timeline import Segment
from autotosis.demo import synth
from autotosis.learn.labels import load_label
from autotosis.learn.trainconfig import TrainConfig, TrainEvents
from autotosis.run.compile import CompileEvents, CompileOptions, CompileResult, compile_vod
from autotosis.run.evaluate import MIN_OVERLAP, EventMetrics, event_metrics

DATA_VERSION = 3  # bump when synth changes what the files hold
# The streamer's face-cam: top right, as most streams put it. Clips and VOD share it.
FACECAM = (0.72, 0.04, 0.98, 0.46)
BACKDROPS = ("life", "cellauto", "testsrc2")


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo; the defaults fit in about five minutes on two CPU cores."""

    folder: Path = Path("demo")
    clips: int = 24  # a streamer labels a few dozen clips; two dozen is the small end of that
    clip_seconds: float = 16.0
    vod_seconds: float = 240.0
    vod_rages: int = 6  # the known moments the reel should contain
    width: int = 640
    height: int = 360
    fps: float = 30.0
    size: int = 128  # the product's input size
    epochs: int = 6
    seed: int = 0

    def data_key(self) -> dict:
        """What the generated media depend on: a change here means new data."""
        keys = ("clips", "clip_seconds", "vod_seconds", "vod_rages", "width", "height", "fps", "seed")
        return {"version": DATA_VERSION, **{k: getattr(self, k) for k in keys}}


# For tests and a first look: small, low-resolution, a 64 px model.
QUICK = DemoConfig(clips=10, clip_seconds=12.0, vod_seconds=120.0, vod_rages=3, width=320, height=180,
                   size=64, epochs=5)


@dataclass(frozen=True)
class DemoData:
    labels_dir: Path
    vod: Path
    truth: Path
    made: bool  # False when the data of an earlier run was reused
    chat: Path | None = None  # the VOD's chat replay


@dataclass(frozen=True)
class DemoResult:
    data: DemoData
    model: Path
    train_metrics: dict
    compile: CompileResult
    events: EventMetrics
    truth: list[Segment]
    seconds: dict[str, float] = field(default_factory=dict)


class DemoEvents(CompileEvents, TrainEvents):
    """Progress of every step: data making here, plus the train and compile hooks."""

    def stage(self, name: str) -> None: ...
    def making(self, done: int, total: int, name: str) -> None: ...


def _clip_spec(config: DemoConfig, index: int, streamer: synth.Streamer) -> synth.StreamSpec:
    """Clip `index`: most have one or two rages; a quarter are calm (negatives matter too);
    laughs, bangs and red game light are sprinkled in as traps."""
    rages = 0 if index % 4 == 3 else 1 + (index % 3 == 0 and config.clip_seconds >= 16)
    return synth.scripted(
        config.clip_seconds, seed=config.seed * 1000 + index, rages=rages, hypes=int(index % 2 == 0),
        bangs=int(index % 3 != 1), flashes=int(index % 2 == 1),
        rage_length=(2.0, max(2.5, config.clip_seconds / 5)), hype_length=(1.5, 3.0), gap=1.0,
        width=config.width, height=config.height, fps=config.fps, facecam=FACECAM,
        backdrop=BACKDROPS[index % len(BACKDROPS)], streamer=streamer)


def _vod_spec(config: DemoConfig, streamer: synth.Streamer) -> synth.StreamSpec:
    """The VOD: a long stretch of play with a few rages and as many laughs, bangs and flashes,
    recorded with OBS's three audio tracks, and a chat replay that laughs along (and floods)."""
    n = config.vod_rages
    return synth.scripted(
        config.vod_seconds, seed=config.seed * 1000 + 999, rages=n, hypes=n, bangs=n, flashes=n,
        rage_length=(4.0, 8.0), gap=8.0, width=config.width, height=config.height, fps=config.fps,
        facecam=FACECAM, backdrop="life", streamer=streamer)


def make_data(config: DemoConfig, making: Callable[[int, int, str], None] | None = None) -> DemoData:
    """Write the clips, their label files, the VOD and its truth into `config.folder` (once)."""
    root = config.folder
    labels_dir, vod = root / "labels", root / "vod" / "stream.mp4"
    truth, chat = vod.with_suffix(".toml"), vod.with_suffix(".chat.json")
    manifest = root / "data.json"
    data = DemoData(labels_dir, vod, truth, made=False, chat=chat)
    try:
        if (json.loads(manifest.read_text()) == config.data_key() and vod.exists() and truth.exists()
                and chat.exists()):
            return data
    except (OSError, ValueError):
        pass
    manifest.unlink(missing_ok=True)  # half-made data is never mistaken for finished
    for stale in [*labels_dir.glob("*.toml"), *(root / "clips").glob("*.mp4")]:
        stale.unlink()
    streamer = synth.Streamer.from_seed(config.seed)
    total = config.clips + 1
    for index in range(config.clips):
        name = f"clip{index:02d}"
        if making:
            making(index, total, name)
        spec = _clip_spec(config, index, streamer)
        clip = synth.make_stream(root / "clips" / f"{name}.mp4", spec, preset="ultrafast")
        synth.write_label(spec, clip, labels_dir / f"{name}.toml", box_jitter=0.01)
    if making:
        making(config.clips, total, vod.name)
    spec = _vod_spec(config, streamer)
    synth.make_stream(vod, spec, preset="ultrafast", tracks=True)  # mix, mic, game as OBS records
    synth.write_label(spec, vod, truth)
    synth.write_chat(chat, spec, synth.ChatSpec(seed=config.seed))
    if making:
        making(total, total, "")
    atomic_write_text(manifest, json.dumps(config.data_key(), indent=2) + "\n")
    return replace(data, made=True)


def run_demo(config: DemoConfig = DemoConfig(), events: DemoEvents | None = None) -> DemoResult:
    """Make data, train on the CPU, compile the VOD, and measure the reel against the truth."""
    from autotosis.learn.train import train

    events = events or DemoEvents()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    events.stage("data")
    data = make_data(config, events.making)
    seconds["data"] = time.perf_counter() - started

    events.stage("train")
    model = config.folder / "models" / "rage.pt"
    cache = config.folder / "cache"
    trained = train(TrainConfig(labels_dir=data.labels_dir, out=model, size=config.size, epochs=config.epochs,
                                seed=config.seed, cpu=True, cache=cache), events)
    seconds["train"] = time.perf_counter() - started - seconds["data"]

    events.stage("compile")
    compiled = compile_vod(CompileOptions(vod=data.vod, out_dir=config.folder / "output" / data.vod.stem,
                                          model=model, force=True, cache=cache, chat=data.chat), events)
    seconds["compile"] = time.perf_counter() - started - seconds["data"] - seconds["train"]
    truth = list(load_label(data.truth).segments)
    found = event_metrics(truth, compiled.segments, MIN_OVERLAP)
    seconds["total"] = time.perf_counter() - started
    return DemoResult(data, model, trained.best, compiled, found, truth, seconds)
