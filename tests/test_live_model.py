"""`autotosis live` scoring with a real checkpoint: the model on every sample of a recording
written in real time gives compile's dense timeline and compile's segments; --labels and
autotosis.toml profiles choose what compile chooses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from media_support import SR, play

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.timeline import Timeline

W, H, FPS = 160, 90, 10
BRIGHT = (4.0, 7.0)  # seconds of the recording that are bright: what the model finds
DARK_GREY, BRIGHT_GREY = 30, 220
# Short lead-in and merge reach (as test_live's QUICK): the highlight is final well before the end.
QUICK = ["--pad-before", "1", "--pad-after", "1", "--merge-gap", "1"]


def bright_vod(path: Path, seconds: float = 12.0) -> Path:
    """Dark frames, bright in BRIGHT, over quiet room noise."""
    rng = np.random.default_rng(3)
    audio = 0.01 * rng.standard_normal(round(seconds * SR))
    times = np.arange(round(seconds * FPS)) / FPS
    frames = (np.full((H, W, 3), BRIGHT_GREY if BRIGHT[0] <= t < BRIGHT[1] else DARK_GREY, np.uint8)
              for t in times)
    return media.encode_frames(path, frames, FPS, audio=audio, sample_rate=SR, gop=FPS)


def brightness_model(path: Path, labels: tuple[str, ...] = ("rage",)) -> Path:
    """A real ResNet-18 checkpoint (random backbone) whose first head is sure of bright crops and
    of nothing dark, and whose second (if any) the other way round: its heads are set from the
    backbone's own features of a dark and a bright crop, so the score is known without training."""
    import torch

    from autotosis.learn.model import IMAGENET_MEAN, IMAGENET_STD, ModelMeta, build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model(heads=len(labels)).eval()
    head, model.fc = model.fc, torch.nn.Identity()
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255
    grey = torch.tensor([DARK_GREY, BRIGHT_GREY], dtype=torch.float32).view(2, 1, 1, 1).expand(2, 3, 32, 32)
    with torch.no_grad():
        dark, bright = model((grey - mean) / std)
        direction = bright - dark
        scale = 12.0 / float(direction @ direction)  # logits +6 bright, -6 dark
        weight = scale * direction
        bias = -float(weight @ (bright + dark)) / 2
        for k in range(len(labels)):
            sign = 1.0 if k == 0 else -1.0
            head.weight[k] = sign * weight
            head.bias[k] = sign * bias
    model.fc = head
    meta = ModelMeta(size=32, fps=2.0, threshold=0.5, facecam=(0.0, 0.0, 1.0, 1.0), label=labels[0],
                     labels=labels if len(labels) > 1 else ())
    save_checkpoint(path, model, meta)
    return path


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    return tmp_path


def live_then_compile(project: Path, source: Path, args: list[str]) -> tuple[Path, Path, str]:
    """Live on `source` written in real time, then compile (every sample) on the finished file."""
    growing = project / "rec" / source.name
    growing.parent.mkdir(exist_ok=True)
    player = play(source, growing)
    result = CliRunner().invoke(cli, ["live", str(growing), "--idle", "1.5", "--no-overlay", *args])
    player.wait()
    assert result.exit_code == 0, result.output
    compiled = CliRunner().invoke(cli, ["compile", str(growing), "--scan", "dense", "--no-overlay", *args,
                                        "--out", str(project / "compiled")])
    assert compiled.exit_code == 0, compiled.output
    return project / "output" / growing.stem, project / "compiled", result.output


def assert_same_scores(live: Path, compiled: Path, column: str = "score") -> None:
    """The live timeline is compile's, sample for sample (one sample more or less at the end)."""
    ours, theirs = Timeline.columns_from_csv(live)[column], Timeline.columns_from_csv(compiled)[column]
    assert abs(len(ours) - len(theirs)) <= 1 and len(theirs) >= 20
    n = min(len(ours), len(theirs))
    assert np.allclose(ours.times[:n], theirs.times[:n], atol=1e-3)
    assert abs(ours.values[:n] - theirs.values[:n]).max() < 1e-3
    assert ours.values.max() > 0.99 and ours.values.min() < 0.01  # the model did see bright and dark


def segments(folder: Path) -> list[tuple[float, float, str]]:
    rows = json.loads((folder / "segments.json").read_text())["segments"]
    return [(round(r["start"], 1), round(r["end"], 1), r.get("label", "")) for r in rows]


@pytest.mark.parametrize("scorer", ["model", "fused"])
def test_live_model_scores_every_sample_as_compile_does(project, scorer):
    model = brightness_model(project / "bright.pt")
    live, compiled, output = live_then_compile(project, bright_vod(project / "src" / "bright.mkv"),
                                               ["--model", str(model), "--scorer", scorer, *QUICK])
    assert f"live: scoring with {scorer}" in output
    if scorer == "fused":  # the model's part on its own, then the fused score
        assert_same_scores(live / "model_scores.csv", compiled / "model_scores.csv", "probability")
        ours, theirs = Timeline.from_csv(live / "scores.csv"), Timeline.from_csv(compiled / "scores.csv")
        n = min(len(ours), len(theirs))
        assert abs(len(ours) - len(theirs)) <= 1 and abs(ours.values[:n] - theirs.values[:n]).max() < 1e-3
    else:
        assert_same_scores(live / "scores.csv", compiled / "scores.csv")
    assert segments(live) == segments(compiled)
    [(start, end, _)] = segments(live)
    rows = [json.loads(line) for line in (live / "highlights.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["label"] == "rage" and rows[0]["file"].startswith("clips/01-rage-")
    assert (rows[0]["start"], rows[0]["end"]) == pytest.approx((start, end), abs=0.6)
    if scorer == "model":  # the bright seconds, padded
        assert start == pytest.approx(BRIGHT[0] - 1, abs=0.6) and end == pytest.approx(BRIGHT[1] + 1, abs=0.6)

def test_live_labels_from_a_profile_choose_the_head_compile_chooses(project):
    """A two-head checkpoint (rage: bright, laugh: dark); `labels = "laugh"` in a profile of
    autotosis.toml: live scores the laugh head, as compile does under the same profile."""
    model = brightness_model(project / "models" / "reactions.pt", ("rage", "laugh"))
    (project / "autotosis.toml").write_text('[profile.dark]\nlabels = "laugh"\nscorer = "model"\n')
    live, compiled, output = live_then_compile(project, bright_vod(project / "src" / "two.mkv"),
                                               ["--profile", "dark", "--model", str(model), *QUICK])
    assert "scoring laugh only" not in output
    assert_same_scores(live / "scores.csv", compiled / "scores.csv")
    assert segments(live) == segments(compiled) and len(segments(live)) >= 1
    assert json.loads((live / "options.json").read_text())["label"] == "laugh"
    rows = [json.loads(line) for line in (live / "highlights.jsonl").read_text().splitlines()]
    assert rows and all(r["label"] == "laugh" and r["file"].startswith(f"clips/{n:02d}-laugh-")
                        for n, r in enumerate(rows, 1))
    assert all(not (BRIGHT[0] < r["start"] + 1 and r["end"] - 1 < BRIGHT[1]) for r in rows)  # the dark

    recording = project / "rec" / "two.mkv"
    for labels, message in (("rage,laugh", "live mode scores one label"),
                            ("pog", "scores rage, laugh; not pog (--labels)")):
        bad = CliRunner().invoke(cli, ["live", str(recording), "--idle", "0.3", "--model", str(model),
                                       "--labels", labels, "--out", str(project / "bad")])
        assert bad.exit_code == 1 and message in bad.output and "Traceback" not in bad.output, bad.output
    tiny = bright_vod(project / "src" / "tiny.mkv", 2.0)  # no need to follow a whole stream again
    first = CliRunner().invoke(cli, ["live", str(tiny), "--idle", "0.3", "--model", str(model),
                                     "--scorer", "model", "--no-reel", "--out", str(project / "first")])
    assert first.exit_code == 0 and "scoring rage only (the model(s) also score laugh" in first.output
