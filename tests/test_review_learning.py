"""Review -> labels -> train changes the model where the review said it was wrong.

A streamer's first model learned rage from clips that never show red game light, so on
their VOD it takes a red flash over the face-cam for rage: a false positive in the reel.
The review drops that highlight and keeps the real rages; `autotosis label --from-review`
writes the kept reactions as segments and the dropped span as calm; training again on the
clips plus those answers brings the model's score on the dropped span down, and compile no
longer selects it, while the rages stay.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autotosis.cli.main import cli
from autotosis.core.timeline import Segment, Timeline
from autotosis.demo import synth
from autotosis.demo.demo import FACECAM
from autotosis.learn.labels import load_label
from autotosis.learn.train import train
from autotosis.learn.trainconfig import TrainConfig
from autotosis.run.compile import CompileOptions, compile_vod

pytestmark = pytest.mark.slow

RAGES = (Segment(8.0, 13.0), Segment(44.0, 49.0))
FLASH = Segment(24.0, 29.0)  # red light: seed 18 tints the VOD's first flash red (synth.stream._light)
SIZE = (160, 90)  # a tiny stream: a 42 px face-cam is plenty for a 32 px model


def _project(root: Path) -> Path:
    """Six 10 s clips (four with a rage, none with game light) labeled whole, and a 60 s VOD."""
    streamer = synth.Streamer.from_seed(0)
    for i in range(6):
        spec = synth.scripted(10.0, seed=100 + i, rages=int(i % 3 != 2), rage_length=(2.0, 4.0),
                              width=SIZE[0], height=SIZE[1], fps=10, facecam=FACECAM,
                              backdrop=("life", "cellauto", "testsrc2")[i % 3], streamer=streamer)
        clip = synth.make_stream(root / "clips" / f"clip{i}.mp4", spec, preset="ultrafast")
        synth.write_label(spec, clip, root / "labels" / f"clip{i}.toml")
    spec = synth.StreamSpec(duration=60.0, width=SIZE[0], height=SIZE[1], fps=10, facecam=FACECAM,
                            backdrop="life", seed=18, streamer=streamer, rage=RAGES, flashes=(FLASH,))
    return synth.make_stream(root / "vods" / "stream.mp4", spec, preset="ultrafast")


def _train(root: Path, out: str) -> dict:
    """A small, repeatable CPU run (one thread: two shared cores oversubscribed crawl)."""
    config = TrainConfig(labels_dir=root / "labels", out=root / "models" / out, size=32, fps=2.0, epochs=4,
                         patience=4, batch_size=16, lr=2e-3, warmup_steps=5, val_fraction=0.25, seed=0,
                         cpu=True, threads=1, cache=root / "cache")
    return train(config).best


def _compile(root: Path, model: str, folder: str) -> tuple[list[Segment], Timeline]:
    result = compile_vod(CompileOptions(vod=root / "vods" / "stream.mp4", out_dir=root / "output" / folder,
                                        model=root / "models" / model, scorer="model", cache=root / "cache",
                                        force=True))
    return result.segments, Timeline.from_csv(root / "output" / folder / "scores.csv")


def _on(score: Timeline, span: Segment) -> np.ndarray:
    return score.values[(score.times >= span.start) & (score.times < span.end)]


def test_a_dropped_false_positive_teaches_the_next_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    _project(tmp_path)
    _train(tmp_path, "rage.pt")
    found, before = _compile(tmp_path, "rage.pt", "stream")
    false = [s for s in found if s.overlap(FLASH) > 0]
    assert len(false) == 1, found  # the red flash passes for rage
    assert all(any(s.overlap(r) > 0 for s in found) for r in RAGES), found

    rows = [{"index": k, "keep": s not in false, "start": s.start, "end": s.end} for k, s in enumerate(found)]
    (tmp_path / "output" / "stream" / "review.json").write_text(json.dumps({"segments": rows}))
    saved = CliRunner().invoke(cli, ["label", "--from-review", "output/stream"], catch_exceptions=False)
    assert saved.output == "labels/stream.toml: rage +2 segments, +1 calm\n"
    answers = load_label(tmp_path / "labels" / "stream.toml")
    assert answers.partial
    [calm] = answers.calm_for("rage")  # label files keep milliseconds; the span is on the reel's frames
    assert (calm.start, calm.end) == pytest.approx((false[0].start, false[0].end), abs=5e-4)
    for segment, rage in zip(answers.segments, RAGES, strict=True):  # the reactions, not their pads
        assert segment.overlap(rage) >= 0.8 * rage.duration and segment.duration <= rage.duration + 1.0

    retrained = _train(tmp_path, "rage-reviewed.pt")
    found, after = _compile(tmp_path, "rage-reviewed.pt", "reviewed")
    assert not [s for s in found if s.overlap(FLASH) > 0], found  # the reel no longer has it
    assert all(any(s.overlap(r) > 0 for s in found) for r in RAGES), found
    assert _on(after, FLASH).max() < retrained["threshold"] < _on(before, FLASH).max()
    assert _on(after, FLASH).mean() < 0.25 * _on(before, FLASH).mean()
