"""autotosis.toml and --profile: precedence, `autotosis config`, every config error, and a
profile that reproduces a command line's reel exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from media_support import burst_vod

from autotosis import media
from autotosis.cli.main import cli

CONFIG = """\
# the project's defaults
[compile]
max-length = "10m"
pad-before = 4
threshold = 0.6

[label]
labels-dir = "mylabels"

[profile.artosis]
facecam = "0.7,0.1,0.95,0.4"   # label and compile both take it
threshold = 0.7
pad-after = 2

[profile.artosis.compile]
threshold = 0.8
"""


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    (tmp_path / "autotosis.toml").write_text(CONFIG)
    return tmp_path


def _resolved(output: str, command: str) -> dict[str, tuple[str, str]]:
    """option -> (value, source) from `autotosis config` output, for one command."""
    lines = output.split(f"\n{command}\n", 1)[1].split("\n\n", 1)[0].splitlines()
    out = {}
    for line in lines:
        key, value, *source = line.split()
        out[key] = (value, " ".join(source))
    return out


def test_precedence_cli_profile_command_table_builtin(project):
    plain = invoke("config", "compile")
    assert plain.exit_code == 0, plain.output
    rows = _resolved(plain.output, "compile")
    assert rows["threshold"] == ("0.6", "[compile] autotosis.toml:5")
    assert rows["max-length"] == ("600", "[compile] autotosis.toml:3")
    assert rows["pad-after"] == ("-", "built-in") and rows["crf"][1] == "built-in"
    profiled = invoke("config", "compile", "--profile", "artosis")
    rows = _resolved(profiled.output, "compile")
    assert "profile: artosis" in profiled.output
    # the profile's compile table beats the profile's own 0.7, which beats [compile]'s 0.6
    assert rows["threshold"] == ("0.8", "[profile.artosis.compile] autotosis.toml:16")
    assert rows["pad-after"] == ("2", "[profile.artosis] autotosis.toml:13")
    assert rows["pad-before"] == ("4", "[compile] autotosis.toml:4")
    assert "[0.7, 0.1, 0.95, 0.4]  " in profiled.output
    label_rows = _resolved(invoke("config", "label", "--profile", "artosis").output, "label")
    assert label_rows["labels-dir"] == ("mylabels", "[label] autotosis.toml:8")
    assert label_rows["facecam"][1].endswith("[profile.artosis] autotosis.toml:11")


def test_the_file_applies_to_commands_and_the_command_line_wins(project):
    (project / "clips").mkdir()
    frames = (np.full((90, 160, 3), i % 255, np.uint8) for i in range(40))
    media.encode_frames(project / "clips" / "c.mp4", frames, fps=10)  # 4 s
    result = invoke("label", "clips/c.mp4", "-s", "1-2", "--profile", "artosis")
    assert result.exit_code == 0, result.output
    text = (project / "mylabels" / "c.toml").read_text()  # [label] labels-dir
    assert "facecam = [0.7, 0.1, 0.95, 0.4]" in text  # the profile's box
    result = invoke("label", "clips/c.mp4", "-s", "3-4", "--labels-dir", "other",
                    "--facecam", "0.1,0.1,0.3,0.3")
    assert result.exit_code == 0, result.output
    assert "facecam = [0.1, 0.1, 0.3, 0.3]" in (project / "other" / "c.toml").read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[compile]\nthreshold = 0.5\nmax-lenght = 3\n", r"toml:3: max-lenght: unknown option for compile"),
        ("[compile]\nthreshold = \"high\"\n", r"autotosis.toml:2: threshold: 'high' is not a valid float"),
        ("[compile]\nthreshold = 1.5\n", r"autotosis.toml:2: threshold: 1.5 is not in the range"),
        ("[train]\nepochs = 2.5\n", r"autotosis.toml:2: epochs: 2.5 is not a whole number"),
        ("[label]\n\nfacecam = [0.9, 0.1, 0.2, 0.4]\n", r"autotosis.toml:3: facecam: .*is empty"),
        ("[compile]\nmax-length = \"ten minutes\"\n", r"autotosis.toml:2: max-length: "),
        ("[profile.x]\ncolour = 3\n", r"autotosis.toml:2: colour: unknown option for any command"),
        ("[profile.x.render]\ncrf = 3\n", r"autotosis.toml:1: unknown table \[profile.x.render\]"),
        ("[compiel]\nthreshold = 3\n", r"autotosis.toml:1: unknown table \[compiel\]"),
        ("threshold = 3\n", r"autotosis.toml:1: unknown key 'threshold' at the top"),
        ("[compile]\nthreshold = [\n", r"autotosis.toml:\d+: invalid TOML"),
        ("[compile.render]\ncrf = 3\n", r"autotosis.toml:1: \[compile.render\] is not a table"),
        ("profile = 3\n", r"autotosis.toml:1: 'profile' must be tables"),
    ],
)
def test_config_errors_are_one_line_with_key_and_line(project, text, message):
    import re

    (project / "autotosis.toml").write_text(text)
    for args in (["config"], ["label", "--list"]):
        result = invoke(*args)
        assert result.exit_code != 0, result.output
        assert "Traceback" not in result.output and result.output.count("\n") == 1, result.output
        assert re.search(message, result.output), result.output


def test_unknown_profile_and_no_file(project):
    result = invoke("compile", "x.mp4", "--profile", "gypsy")
    assert result.exit_code == 1 and "no profile 'gypsy' (profiles: artosis)" in result.output
    (project / "autotosis.toml").unlink()
    result = invoke("label", "--list", "--profile", "artosis")
    assert result.exit_code == 1 and "--profile artosis: no autotosis.toml" in result.output
    assert invoke("config").output.startswith("file:    none")


def test_a_profile_reproduces_a_command_line_exactly(tmp_path, monkeypatch):
    vod = burst_vod(tmp_path / "vod.mp4", 30.0, (12.0, 15.0))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    args = ["--scorer", "loudness", "--threshold", "0.4", "--pad-before", "2", "--pad-after", "0.5",
            "--no-overlay", "--crf", "30", "--preset", "ultrafast"]
    typed = invoke("compile", str(vod), *args, "--out", "typed")
    assert typed.exit_code == 0, typed.output
    (tmp_path / "autotosis.toml").write_text(
        '[compile]\npreset = "ultrafast"\n\n[profile.quick]\nscorer = "loudness"\nthreshold = 0.4\n'
        'pad-before = 2\npad-after = 0.5\nno-overlay = true\ncrf = 30\n')
    profiled = invoke("compile", str(vod), "--profile", "quick", "--out", "profiled")
    assert profiled.exit_code == 0, profiled.output
    def said(output: str) -> list[str]:  # what compile printed, but the folder names
        return [ln for ln in output.splitlines() if "typed" not in ln and "profiled" not in ln]

    assert said(typed.output) == said(profiled.output) and "highlight(s)" in typed.output
    seg_a, seg_b = (json.loads((tmp_path / d / "segments.json").read_text()) for d in ("typed", "profiled"))
    assert seg_a == seg_b and seg_a["segments"]
    opt_a, opt_b = (json.loads((tmp_path / d / "options.json").read_text()) for d in ("typed", "profiled"))
    assert opt_a.pop("profile") is None and opt_b.pop("profile") == "quick"
    assert opt_a == opt_b
    sizes = {(tmp_path / d / "reel.mp4").stat().st_size for d in ("typed", "profiled")}
    assert len(sizes) == 1


def test_model_takes_one_path_or_a_list(project):
    """--model repeats, so the file may give one checkpoint or several."""
    (project / "autotosis.toml").write_text('[compile]\nmodel = ["models/rage.pt", "models/laugh.pt"]\n\n'
                                             '[profile.one]\nmodel = "models/rage.pt"\n')
    several = invoke("config", "compile")
    assert several.exit_code == 0, several.output
    assert _resolved(several.output, "compile")["model"][0] == "[models/rage.pt,"
    assert "models/laugh.pt]" in several.output
    one = invoke("config", "compile", "--profile", "one")
    assert one.exit_code == 0, one.output
    assert _resolved(one.output, "compile")["model"][0] == "[models/rage.pt]"


def test_a_profile_with_several_models_and_the_one_model_commands(project):
    """compile and live take the profile's list; label and suggest, which use one model, still
    run under it: label without a model, suggest with the list's model for --label, else one
    line naming the profile and the --model to pass. A list in a one-model command's own
    table is a one-line error."""
    (project / "autotosis.toml").write_text('[profile.duo]\nmodel = ["models/a.pt", "models/b.pt"]\n')
    (project / "vod.mp4").write_bytes(b"")
    assert _resolved(invoke("config", "compile", "--profile", "duo").output, "compile")["model"][0] == \
        "[models/a.pt,"
    listed = invoke("label", "--list", "--profile", "duo")
    assert "autotosis.toml" not in listed.output and "Traceback" not in listed.output, listed.output
    for command in (["suggest", "vod.mp4"], ["label", "--ui", "vod.mp4", "--no-browser"]):
        result = invoke(*command, "--profile", "duo")
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        name = "suggest" if command[0] == "suggest" else "label --ui"
        assert result.output.strip().splitlines()[-1] == (
            "Error: [profile.duo] autotosis.toml:2: model = [models/a.pt, models/b.pt] gives several "
            f"models; `autotosis {name}` uses one: pass --model models/a.pt (or --label, to use the one "
            "that scores it)")
    picked = invoke("suggest", "vod.mp4", "--profile", "duo", "--label", "rage")
    assert picked.output.strip().splitlines()[-1] == \
        "Error: models/a.pt: no such model file ([profile.duo] autotosis.toml:2)"
    typed = invoke("suggest", "vod.mp4", "--profile", "duo", "--model", "none")  # the command line wins
    assert "several models" not in typed.output and "Traceback" not in typed.output, typed.output
    (project / "autotosis.toml").write_text('[suggest]\nmodel = ["models/a.pt", "models/b.pt"]\n')
    own = invoke("suggest", "vod.mp4")
    assert own.exit_code == 1 and own.output.strip().splitlines()[-1] == \
        f"Error: {project / 'autotosis.toml'}:2: model: `autotosis suggest` takes one model, not a list"
