"""`autotosis demo --quick`: generated clips -> train a small model -> compile a generated VOD -> a reel
that holds the known rage moments. The end-to-end test of the whole product, in-process."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autotosis import media
from autotosis.cli.main import cli
from autotosis.demo import demo
from autotosis.learn.labels import load_label

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo") / "demo"
    result = CliRunner().invoke(cli, ["demo", "--quick", "--folder", str(folder)])
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_demo_finds_every_known_moment(run):
    folder, output = run
    truth = load_label(folder / "vod" / "stream.toml").segments
    assert len(truth) == demo.QUICK.vod_rages
    match = re.search(r"found (\d+)/(\d+) known moments .*; (\d+)/(\d+) highlights are real", output)
    assert match, output
    found, known, real, highlights = (int(g) for g in match.groups())
    assert found == known == len(truth)
    assert real == highlights  # nothing but rage in the reel
    for line in ("model:", "reel:", "time:", "next:     autotosis review"):
        assert line in output


def test_the_reel_shows_a_red_face_at_each_known_moment(run):
    folder, _ = run
    out = folder / "output" / "stream"
    segments = json.loads((out / "segments.json").read_text())["segments"]
    reel = out / "reel.mp4"
    info = media.probe(reel)
    assert info.has_audio
    assert info.duration == pytest.approx(sum(s["duration"] for s in segments), abs=0.1 * len(segments))
    box = demo.FACECAM

    def redness(video: Path, at: float) -> float:
        crop = next(media.frames(video, fps=None, box=box, size=32, start=at, end=at + 0.2)).images[0]
        middle = crop[8:24, 10:22].astype(float)
        return float((middle[..., 0] - middle[..., 2]).mean())

    vod = folder / "vod" / "stream.mp4"
    calm = redness(vod, 0.3)
    for moment in load_label(folder / "vod" / "stream.toml").segments:
        middle = (moment.start + moment.end) / 2
        seg = next(s for s in segments if s["start"] <= middle < s["end"])
        assert redness(reel, seg["reel_start"] + middle - seg["start"]) > calm + 15


def test_a_second_run_reuses_the_data(run):
    folder, _ = run
    clip = folder / "clips" / "clip00.mp4"
    before = clip.stat().st_mtime_ns
    data = demo.make_data(dataclasses.replace(demo.QUICK, folder=folder))
    assert not data.made and clip.stat().st_mtime_ns == before
    model = json.loads((folder / "models" / "rage.metrics.json").read_text())
    assert model["best"]["ap"] > 0.9
    assert np.isfinite(model["best"]["threshold"])


def test_demo_learn_goes_from_no_clips_to_a_reel_of_the_next_vod(tmp_path_factory):
    """`demo --learn --quick`: suggestions on one VOD answered from its truth, one training run on
    those answers alone, and the next VOD of the same streamer compiled and scored."""
    folder = tmp_path_factory.mktemp("learn") / "demo"
    result = CliRunner().invoke(cli, ["demo", "--learn", "--quick", "--folder", str(folder)])
    assert result.exit_code == 0, result.output
    assert not (folder / "clips").exists()
    answered = load_label(folder / "labels" / "stream1.toml")
    assert answered.partial and answered.segments and answered.calm_for("rage")
    answers = re.findall(r"^answer +\d+: .* (Y -s|N \(calm\))", result.output, re.MULTILINE)
    assert len(answers) >= 8 and "Y -s" in answers and "N (calm)" in answers
    match = re.search(r"found (\d+)/(\d+) known moments of the next VOD .*; (\d+)/(\d+) highlights are real",
                      result.output)
    assert match, result.output
    found, known, real, highlights = (int(g) for g in match.groups())
    assert known == 3 and found >= 2 and real >= highlights - 1
    assert (folder / "output" / "stream2" / "reel.mp4").exists()
