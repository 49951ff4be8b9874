"""`autotosis compile` in-process on generated VODs: loudness-only default, outputs, cache reuse, --force."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from media_support import burst_vod

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.timeline import Segment, Timeline

BURST = (20.0, 24.0)


@pytest.fixture(scope="module")
def vod(tmp_path_factory) -> Path:
    """40 s of quiet room noise with a 4 s shout at 0:20."""
    return burst_vod(tmp_path_factory.mktemp("compile") / "my vod.mp4", 40.0, BURST)


def test_loudness_only_compile_finds_the_burst(vod, project):
    result = CliRunner().invoke(cli, ["compile", str(vod), "--url", "https://youtu.be/x"])
    assert result.exit_code == 0, result.output
    assert "no trained model" in result.output and "loudness alone" in result.output
    out = project / "output" / "my vod"
    for name in ("reel.mp4", "scores.csv", "loudness.csv", "segments.json", "chapters.txt", "reel.edl",
                 "reel.otio", "reel.fcpxml", "reel.xml", "reel.xges", "reel.mlt", "timeline.png",
                 "options.json"):
        assert (out / name).stat().st_size > 0, name
    data = json.loads((out / "segments.json").read_text())
    assert len(data["segments"]) == 1
    seg = data["segments"][0]
    assert seg["start"] <= BURST[0] + 0.5 and seg["end"] >= BURST[1] - 0.5
    assert seg["end"] - seg["start"] < 12  # the burst plus padding, not the whole VOD
    assert seg["link"] == f"https://youtu.be/x?t={int(seg['start'])}s"
    reel = media.probe(out / "reel.mp4")
    assert reel.has_audio and reel.duration == pytest.approx(seg["end"] - seg["start"], abs=0.15)
    assert json.loads((out / "options.json").read_text())["scorer"] == "loudness"
    assert len(Timeline.from_csv(out / "scores.csv")) == len(Timeline.from_csv(out / "loudness.csv"))

    again = CliRunner().invoke(cli, ["compile", str(vod)])
    assert again.exit_code == 1 and "already exists; pass --force" in again.output

    from autotosis.run.compile import rerender  # what the review page calls after edits

    rerender(out, [Segment(1.0, 3.0), Segment(30.0, 31.0)])
    assert media.probe(out / "reel.mp4").duration == pytest.approx(3.0, abs=0.15)
    assert json.loads((out / "segments.json").read_text()) == data  # compile's selection is kept


def test_model_scan_is_cached_across_selection_options(vod, project):
    from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

    save_checkpoint(project / "models" / "rage.pt", build_model(), ModelMeta(size=32, fps=2.0, threshold=0.0))
    base = ["compile", str(vod), "--facecam", "0,0,0.5,0.5", "--no-overlay", "--top", "1"]
    first = CliRunner().invoke(cli, base)
    assert first.exit_code == 0, first.output
    assert "reused the cached" not in first.output
    options = json.loads((project / "output" / "my vod" / "options.json").read_text())
    assert options["scorer"] == "model" and options["fps"] == 2.0 and options["facecam"] == [0, 0, 0.5, 0.5]
    assert len(Timeline.from_csv(project / "output" / "my vod" / "scores.csv")) == 80
    second = CliRunner().invoke(cli, [*base, "--force", "--threshold", "0.2", "--pad-after", "0"])
    assert second.exit_code == 0, second.output
    assert "reused the cached" in second.output


def test_bad_inputs_are_one_line_errors(vod, project):
    missing = CliRunner().invoke(cli, ["compile", "nope.mp4"])
    assert missing.exit_code == 1 and "nope.mp4: no such file" in missing.output
    no_model = CliRunner().invoke(cli, ["compile", str(vod), "--scorer", "model"])
    assert no_model.exit_code == 1 and "--scorer model needs a model" in no_model.output
    bad_box = CliRunner().invoke(cli, ["compile", str(vod), "--facecam", "1,2"])
    assert bad_box.exit_code == 2 and "--facecam" in bad_box.output


def test_facecam_auto_finds_the_face_cam_on_the_vod(project):
    """A VOD whose face-cam sits elsewhere than the model's box: `--facecam auto` crops the real one."""
    from autotosis.demo import synth
    from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

    inset = (0.05, 0.35, 0.4, 0.95)
    spec = synth.StreamSpec(duration=8.0, width=320, height=180, fps=10.0, facecam=inset, seed=2)
    vod = synth.make_stream(project / "left.mp4", spec, preset="ultrafast")
    save_checkpoint(project / "models" / "rage.pt", build_model(),
                    ModelMeta(size=32, fps=1.0, threshold=0.0, facecam=(0.7, 0.0, 1.0, 0.4)))
    result = CliRunner().invoke(cli, ["compile", str(vod), "--facecam", "auto", "--no-overlay", "--top", "1"])
    assert result.exit_code == 0, result.output
    assert "face-cam detected (as asked)" in result.output
    box = json.loads((project / "output" / "left" / "options.json").read_text())["facecam"]
    assert box == pytest.approx(inset, abs=0.08)
