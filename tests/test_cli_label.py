"""`autotosis label` through click's CliRunner, in a temporary project folder."""

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autotosis import media
from autotosis.cli.main import cli


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    (tmp_path / "clips").mkdir()
    frames = (np.full((90, 160, 3), i % 255, np.uint8) for i in range(60))
    media.encode_frames(tmp_path / "clips" / "my clip.mp4", frames, fps=10)  # 6 s
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_every_command_has_help():
    for name, command in cli.commands.items():
        assert command.help, name
        assert invoke(name, "--help").exit_code == 0


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and "autotosis" in result.output


def test_label_writes_and_lists(project):
    result = invoke("label", "clips/my clip.mp4", "-s", "0:01.5-0:02.5", "--segment", "4-5",
                    "--facecam", "0.7,0.1,0.95,0.4")
    assert result.exit_code == 0, result.output
    assert "labels/my clip.toml: 2 segment(s) 0:01.5-0:02.5, 0:04.0-0:05.0; 2.0s positive" in result.output
    text = (project / "labels" / "my clip.toml").read_text()
    assert 'clip = "clips/my clip.mp4"' in text
    assert 'segments = [["0:01.500", "0:02.500"], ["0:04.000", "0:05.000"]]' in text
    listing = invoke("label", "--list")
    assert listing.exit_code == 0
    row = next(ln for ln in listing.output.splitlines() if ln.startswith("labels/my clip.toml"))
    assert row.split()[-4:] == ["2", "2.0s", "6.0s", "ok"]
    assert "1 files, 0 with errors" in listing.output


def test_label_without_facecam_says_so(project):
    result = invoke("label", "clips/my clip.mp4", "-s", "1-2")
    assert result.exit_code == 0
    assert "no face-cam box yet" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["clips/my clip.mp4", "-s", "3-1"], "ends before it starts"),
        (["clips/my clip.mp4", "-s", "1-9"], "runs past the clip's end"),
        (["clips/my clip.mp4", "-f", "0.9,0.1,0.2,0.4"], "is empty"),
        (["clips/my clip.mp4", "-f", "1,2"], "four numbers|x0, y0, x1, y1"),
        (["clips/missing.mp4", "-s", "1-2"], "clips/missing.mp4: no such file"),
        ([], "give one or more clips"),
    ],
)
def test_label_errors_are_one_line(project, args, message):
    result = CliRunner().invoke(cli, ["label", *args])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    error_lines = [ln for ln in result.output.splitlines() if ln.startswith("Error")]
    assert len(error_lines) == 1


    assert re.search(message, error_lines[0]), result.output
    assert not (project / "labels" / "my clip.toml").exists()


def test_list_reports_broken_files(project):
    (project / "labels").mkdir()
    (project / "labels" / "bad.toml").write_text('clip = "clips/my clip.mp4"\nsegments = [[5, 3]]\n')
    result = CliRunner().invoke(cli, ["label", "--list"])
    assert result.exit_code == 1
    assert "labels/bad.toml:2: segment 1 [5, 3] ends before it starts" in result.output


def test_import(project):
    (project / "data.csv").write_text('"clips/my clip.mp4" "[0.7833, 0.1296, 0.9682, 0.3694]" "(1.0, 2.5)"\n')
    result = invoke("label", "--import", "data.csv")
    assert result.exit_code == 0
    assert "labels/my clip.toml: written" in result.output
    assert invoke("label", "--list").exit_code == 0


def test_debug_env_reraises(project, monkeypatch):
    monkeypatch.setenv("AUTOTOSIS_DEBUG", "1")
    result = CliRunner().invoke(cli, ["label", "clips/missing.mp4", "-s", "1-2"])
    assert result.exception is not None and type(result.exception).__name__ == "MediaError"


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    """`autotosis label --list | head -1`: when the reader is gone, exit like SIGPIPE, no error line."""
    import os
    import subprocess
    import sys

    (tmp_path / "labels").mkdir()
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "autotosis", "label", "--list"], cwd=tmp_path,
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_second_label_keeps_the_first_and_lists_a_column_each(project):
    assert invoke("label", "clips/my clip.mp4", "-s", "1-2", "-s", "4-5").exit_code == 0
    result = invoke("label", "clips/my clip.mp4", "--label", "laugh", "-s", "1.5-3")
    assert result.exit_code == 0, result.output
    assert "laugh: 1 segment(s) 0:01.5-0:03.0; 1.5s positive (other labels kept: rage 2)" in result.output
    listing = invoke("label", "--list")
    assert listing.exit_code == 0
    header = listing.output.splitlines()[0].split()
    assert header == ["label", "file", "rage", "laugh", "total", "status"]
    row = next(ln for ln in listing.output.splitlines() if ln.startswith("labels/my clip.toml"))
    assert row.split()[-9:] == ["2", "2.0s", "1", "1.5s", "6.0s", "ok", "(no", "facecam", "box)"]
    assert "positive: rage 2.0s, laugh 1.5s of 6.0s" in listing.output


def test_import_honours_label(project):
    assert invoke("label", "clips/my clip.mp4", "-s", "4-5").exit_code == 0
    (project / "data_pog.csv").write_text('"clips/my clip.mp4" "[0.78, 0.12, 0.96, 0.36]" "(1.0, 2.5)"\n')
    result = invoke("label", "--import", "data_pog.csv", "--label", "pog")
    assert result.exit_code == 0, result.output
    assert "labels/my clip.toml: added pog segments" in result.output
    text = (project / "labels" / "my clip.toml").read_text()
    assert 'rage = [["0:04.000", "0:05.000"]]' in text and 'pog = [["0:01.000", "0:02.500"]]' in text
