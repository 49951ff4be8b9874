"""`autotosis suggest` on a small generated stream: the scripted moments, calm stretches, answers.

The stream is the synthetic streamer's (autotosis/demo/synth): 150 s with four rages, two
laughs and two loud game bangs, and a chat replay that answers the rages and laughs.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from autotosis.cli.main import cli
from autotosis.core.timeline import Segment
from autotosis.demo import synth
from autotosis.learn import labels as labels_lib

SPEC = synth.scripted(150, seed=5, rages=4, hypes=2, bangs=2, rage_length=(3, 6), gap=8,
                      width=128, height=72, fps=5)
BANGS = tuple(Segment(at, at + SPEC.bang_seconds) for at in SPEC.bangs)
FACECAM = "0.72,0.04,0.98,0.46"


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("suggest")
    vod = synth.make_stream(folder / "s.mp4", SPEC)
    synth.write_chat(folder / "s.chat.json", SPEC)
    return vod


@pytest.fixture
def project(tmp_path, monkeypatch, stream) -> Path:
    """A project folder holding the stream (and its chat) as vods/s.mp4, with a shared cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(stream.parent / "cache"))
    (tmp_path / "vods").mkdir()
    for name in ("s.mp4", "s.chat.json"):
        shutil.copy(stream.parent / name, tmp_path / "vods" / name)
    return tmp_path


def suggest(*args: str) -> tuple[list[dict], str]:
    result = CliRunner().invoke(cli, ["suggest", "vods/s.mp4", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def overlaps(c: dict, spans, margin: float = 0.0) -> bool:
    return any(c["start"] < s.end + margin and s.start - margin < c["end"] for s in spans)


def test_without_a_model_the_strongest_candidates_are_the_scripted_moments(project):
    found, notes = suggest("--dense", "--model", "none")
    assert "chat: using vods/s.chat.json" in notes
    moments = [c for c in found if c["kind"] in ("loud", "chat") and c["score"] >= 0.5]
    reactions = (*SPEC.rage, *SPEC.hype)
    assert len(moments) >= len(reactions)
    assert all(overlaps(c, reactions) for c in moments)
    assert all(any(c["start"] <= s.start and s.end <= c["end"] for c in found) for s in SPEC.rage)
    assert all(any(overlaps(c, [s]) for c in moments) for s in SPEC.hype)
    assert sum(any(overlaps(c, [b]) for c in found) for b in BANGS) >= 1  # a loud game sound earns a "no"
    calm = [c for c in found if c["kind"] == "calm"]
    assert calm and not any(overlaps(c, (*reactions, *BANGS)) for c in calm)
    assert all(c["reason"].startswith("calm stretch") for c in calm)
    for c in found:
        assert set(c) >= {"start", "end", "reason", "score", "kind", "label", "accept", "reject"}
        assert 8 <= c["end"] - c["start"] <= 12 and c["label"] == "rage"
    spans = sorted((c["start"], c["end"]) for c in found)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # never overlapping


def test_spread_by_default_one_a_minute(project):
    found, _ = suggest("--model", "none")
    peaks = sorted(c["peak"] for c in found)
    assert len(found) >= 2 and all(b - a >= 60 for a, b in itertools.pairwise(peaks))
    assert overlaps(found[0], SPEC.rage)  # the loudest rage first


def test_the_table_gives_the_label_lines(project):
    result = CliRunner().invoke(cli, ["suggest", "vods/s.mp4", "--model", "none", "--count", "3", "--dense"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "span", "kind", "score", "reason"]
    assert "tighten -s to the reaction itself" in result.stdout
    first = lines[1].split()
    assert first[0] == "1" and first[2] in ("loud", "chat")
    accept = next(line for line in lines if line.strip().startswith("1  Y:"))
    assert accept.split("Y: ")[1] == f"autotosis label vods/s.mp4 --label rage -s {first[1]}"
    reject = lines[lines.index(accept) + 1]
    assert reject.split("N: ")[1] == f"autotosis label vods/s.mp4 --label rage --calm {first[1]}"
    span = labels_lib.parse_segment(first[1])
    assert any(span.start <= s.start and s.end <= span.end for s in SPEC.rage)


def test_answered_spans_are_not_asked_again(project):
    first, _ = suggest("--dense", "--model", "none", "--count", "6")
    yes = [c for c in first if overlaps(c, SPEC.rage)][:2]
    no = [c for c in first if c["kind"] == "calm"][:1]
    assert yes and no
    rage = [next(s for s in SPEC.rage if overlaps(c, [s])) for c in yes]  # tightened to the reaction
    labels_lib.label_clip("vods/s.mp4", "labels", rage, label="rage",
                          calm=[Segment(c["start"], c["end"]) for c in no])
    again, notes = suggest("--dense", "--model", "none", "--count", "6")
    assert f"{len(rage) + 1} span(s) already answered for rage in labels/s.toml" in notes
    assert again and not any(overlaps(c, [*rage, *(Segment(c["start"], c["end"]) for c in no)])
                             for c in again)
    assert len(again) == 6


@pytest.mark.slow
def test_with_a_model_it_asks_about_its_doubts(project):
    from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

    save_checkpoint(project / "models" / "rage.pt", build_model(),
                    ModelMeta(size=32, fps=2.0, threshold=0.5, facecam=labels_lib.parse_box(FACECAM)))
    found, notes = suggest("--dense")
    assert "model: models/rage.pt (the newest in models/ for rage" in notes
    assert found and {c["kind"] for c in found} <= {"unsure", "confirm", "missed", "calm"}
    assert any(c["reason"].startswith(("model unsure:", "model sure:")) or "model only" in c["reason"]
               for c in found)
    result = CliRunner().invoke(cli, ["suggest", "vods/s.mp4", "--model", "models/rage.pt",
                                      "--label", "laugh"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "Error: models/rage.pt: scores rage, not 'laugh' (--label)"
    plain, _ = suggest("--model", "none")
    assert {c["kind"] for c in plain} <= {"loud", "chat", "calm"}


@pytest.mark.parametrize("make,message", [
    (lambda p: p / "missing.mp4", "missing.mp4: no such file"),
    (lambda p: (p / "notes.mp4").write_text("not a video") and p / "notes.mp4", "notes.mp4: "),
])
def test_bad_input_is_one_line(tmp_path, monkeypatch, make, message):
    monkeypatch.chdir(tmp_path)
    path = make(tmp_path)
    result = CliRunner().invoke(cli, ["suggest", str(path)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ") and message in result.output
    assert "Traceback" not in result.output
