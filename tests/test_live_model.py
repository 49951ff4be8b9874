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


Colour = tuple[int, int, int]
DARK, LIGHT = (DARK_GREY,) * 3, (BRIGHT_GREY,) * 3
RED, BLUE, GREY = (220, 40, 40), (40, 40, 220), (110, 110, 110)


def coloured_vod(path: Path, spans: dict[Colour, tuple[float, float]], ground: Colour,
                 seconds: float = 12.0) -> Path:
    """Frames of one colour, `ground`, but in each span its own, over quiet room noise."""
    rng = np.random.default_rng(3)
    audio = 0.01 * rng.standard_normal(round(seconds * SR))
    times = np.arange(round(seconds * FPS)) / FPS
    colours = (next((c for c, (a, b) in spans.items() if a <= t < b), ground) for t in times)
    frames = (np.full((H, W, 3), colour, np.uint8) for colour in colours)
    return media.encode_frames(path, frames, FPS, audio=audio, sample_rate=SR, gop=FPS)


def bright_vod(path: Path, seconds: float = 12.0) -> Path:
    """Dark frames, bright in BRIGHT."""
    return coloured_vod(path, {LIGHT: BRIGHT}, DARK, seconds)


def colour_model(path: Path, heads: dict[str, Colour], others: tuple[Colour, ...] = ()) -> Path:
    """A real ResNet-18 checkpoint (random backbone) whose each head is sure of its colour's crops
    and of no other colour's: the heads are solved from the backbone's own features of a crop of
    each colour (logit +6 on its own, -6 on the rest), so the scores are known without training."""
    import torch

    from autotosis.learn.model import IMAGENET_MEAN, IMAGENET_STD, ModelMeta, build_model, save_checkpoint

    torch.manual_seed(0)
    labels = tuple(heads)
    model = build_model(heads=len(labels)).eval()
    head, model.fc = model.fc, torch.nn.Identity()
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255
    colours = [*heads.values(), *others]
    crops = torch.tensor(colours, dtype=torch.float32).view(-1, 3, 1, 1).expand(-1, 3, 32, 32)
    with torch.no_grad():
        features = model((crops - mean) / std)
        solve = torch.linalg.pinv(torch.cat([features, torch.ones(len(colours), 1)], dim=1).double())
        for k in range(len(labels)):
            wanted = torch.tensor([6.0 if j == k else -6.0 for j in range(len(colours))], dtype=torch.float64)
            weights = solve @ wanted
            head.weight[k] = weights[:-1].float()
            head.bias[k] = float(weights[-1])
    model.fc = head
    meta = ModelMeta(size=32, fps=2.0, threshold=0.5, facecam=(0.0, 0.0, 1.0, 1.0), label=labels[0],
                     labels=labels if len(labels) > 1 else ())
    save_checkpoint(path, model, meta)
    return path


def brightness_model(path: Path, labels: tuple[str, ...] = ("rage",)) -> Path:
    """The first head sure of bright crops, the second (if any) of dark ones."""
    if len(labels) == 1:
        return colour_model(path, {labels[0]: LIGHT}, (DARK,))
    return colour_model(path, {labels[0]: LIGHT, labels[1]: DARK})


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
    bad = CliRunner().invoke(cli, ["live", str(recording), "--idle", "0.3", "--model", str(model),
                                   "--labels", "pog", "--out", str(project / "bad")])
    assert bad.exit_code == 1 and "scores rage, laugh; not pog (--labels)" in bad.output, bad.output
    assert "Traceback" not in bad.output


def test_live_scores_every_label_as_compile_does(project):
    """No --labels on a two-head checkpoint: both heads are scored, each selected with its own
    threshold, and the clips and the end's segments are labelled as compile labels them."""
    model = colour_model(project / "models" / "reactions.pt", {"rage": RED, "laugh": BLUE}, (GREY,))
    source = coloured_vod(project / "src" / "both.mkv", {RED: (2.0, 4.5), BLUE: (6.5, 9.0)}, GREY)
    live, compiled, _ = live_then_compile(project, source,
                                               ["--model", str(model), "--scorer", "model", *QUICK])
    for label in ("rage", "laugh"):
        assert_same_scores(live / "scores.csv", compiled / "scores.csv", label)
    ours = segments(live)
    assert ours == segments(compiled) and {label for _, _, label in ours} == {"rage", "laugh"}
    options = json.loads((live / "options.json").read_text())
    assert options["labels"] == ["rage", "laugh"] and set(options["thresholds"]) == {"rage", "laugh"}
    rows = [json.loads(line) for line in (live / "highlights.jsonl").read_text().splitlines()]
    rows.sort(key=lambda r: r["start"])
    assert [r["label"] for r in rows] == [label for _, _, label in ours]  # a clip per segment, as labelled
    for row, (start, end, _) in zip(rows, ours, strict=True):
        assert abs(row["start"] - start) <= 0.6 and abs(row["end"] - end) <= 0.6
        assert row["file"].startswith("clips/") and f"-{row['label']}-" in row["file"]
