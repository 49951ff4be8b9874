"""Every combination of model, loudness and chat through `eval` and `compile`, and their errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from autotosis import media
from autotosis.cli.main import cli
from autotosis.demo import synth

COMBINATIONS = ["model", "loudness", "chat", "fused", "model+chat", "loudness+chat", "model+loudness+chat"]


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    """45 s with shouts at a synthetic stream's rages, its truth, and its chat replay next to it.

    The picture is plain (drawing the face-cam costs seconds): the model here is untrained anyway,
    what is tested is that every combination runs and says what it used.
    """
    folder = tmp_path_factory.mktemp("signals")
    spec = synth.scripted(45, seed=21, rages=2, hypes=1, bangs=1, rage_length=(4, 6), gap=8)
    shouts = "+".join(f"between(t,{s.start},{s.end})" for s in spec.rage)
    vod = media.make_tracks_vod(
        folder / "s.mp4",
        45.0,
        [("", f"aevalsrc='0.03*sin(2*PI*150*t)*(1+9*({shouts}))':s=8000:d=45")],
        width=128,
        height=96,
        fps=5,
    )
    synth.write_label(spec, vod, folder / "s.toml")
    synth.write_chat(folder / "s.chat.json", spec)
    return vod


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path.parent / "signals-cache"))
    save_checkpoint(
        tmp_path / "models" / "rage.pt", build_model(), ModelMeta(size=32, fps=2.0, threshold=0.5)
    )
    return tmp_path


def test_every_combination_runs_through_eval(stream, project):
    truth = stream.with_suffix(".toml")
    for scorer in COMBINATIONS:
        result = CliRunner().invoke(
            cli,
            [
                "eval",
                str(stream),
                "--truth",
                str(truth),
                "--scorer",
                scorer,
                "--chat",
                "auto",
                "--facecam",
                "0.72,0.04,0.98,0.46",
                "--json",
            ],
        )
        assert result.exit_code == 0, (scorer, result.output)
        data = json.loads(result.output[result.output.index("{\n") :])
        name = "fused" if scorer == "model+loudness" else scorer
        assert data["scorer"] == name
        assert set(data["options"]["weights"]) == set(scorer.replace("fused", "model+loudness").split("+"))
        assert sum(data["options"]["weights"].values()) == pytest.approx(1.0)
        if "chat" in scorer:
            assert 0 <= data["options"]["chat"]["delay"] <= 20
            assert " messages (twitchdownloader) from s.chat.json; delay " in result.output
    # the default with a model and a chat replay: model + chat
    plain = CliRunner().invoke(
        cli,
        [
            "eval",
            str(stream),
            "--truth",
            str(truth),
            "--chat",
            str(stream.with_suffix(".chat.json")),
            "--facecam",
            "0.72,0.04,0.98,0.46",
        ],
    )
    assert plain.exit_code == 0, plain.output
    assert "signals: model 0.60 + chat 0.40" in plain.output


def test_compile_with_chat_writes_and_draws_it(stream, project):
    result = CliRunner().invoke(
        cli,
        [
            "compile",
            str(stream),
            "--scorer",
            "loudness+chat",
            "--chat",
            "auto",
            "--chat-delay",
            "6",
            "--weights",
            "chat=0.7,loudness=0.3",
            "--no-overlay",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "delay 6s (--chat-delay)" in result.output and "signals: loudness 0.30 + chat 0.70" in result.output
    )
    out = project / "output" / "s"
    header = (out / "chat.csv").read_text().splitlines()[0]
    assert header == "time,messages,chatters,baseline,chat_score"
    options = json.loads((out / "options.json").read_text())
    assert options["scorer"] == "loudness+chat" and options["chat"]["delay"] == 6
    assert options["chat"]["format"] == "twitchdownloader"
    assert (out / "timeline.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--scorer", "chat"], "--scorer chat needs a chat replay: pass --chat FILE"),
        (["--scorer", "model+face"], "--scorer: unknown signal 'face'"),
        (["--weights", "chat"], "--weights: 'chat' is not NAME=WEIGHT"),
        (["--chat", "missing.json"], "missing.json: no such chat file"),
        (["--chat-reactions", "/[/"], "--chat-reactions: /[/ is not a valid regular expression"),
    ],
)
def test_scoring_errors_are_one_line(stream, project, args, problem):
    result = CliRunner().invoke(cli, ["compile", str(stream), *args])
    assert result.exit_code != 0
    assert result.output.splitlines()[-1].startswith("Error: ") and problem in result.output
