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
    assert row.split()[-7:] == ["2", "2.0s", "6.0s", "6.0s", "of", "6.0s", "ok"]
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
    assert row.split()[-13:] == ["2", "2.0s", "6.0s", "1", "1.5s", "6.0s", "6.0s", "of", "6.0s", "ok",
                                 "(no", "facecam", "box)"]
    summary = "positive of reviewed: rage 2.0s of 6.0s, laugh 1.5s of 6.0s; reviewed 6.0s of 6.0s"
    assert summary in listing.output


def test_import_honours_label(project):
    assert invoke("label", "clips/my clip.mp4", "-s", "4-5").exit_code == 0
    (project / "data_pog.csv").write_text('"clips/my clip.mp4" "[0.78, 0.12, 0.96, 0.36]" "(1.0, 2.5)"\n')
    result = invoke("label", "--import", "data_pog.csv", "--label", "pog")
    assert result.exit_code == 0, result.output
    assert "labels/my clip.toml: added pog segments" in result.output
    text = (project / "labels" / "my clip.toml").read_text()
    assert 'rage = [["0:04.000", "0:05.000"]]' in text and 'pog = [["0:01.000", "0:02.500"]]' in text


# ---------------------------------------------------------------- partly reviewed VODs


def test_calm_spans_make_the_file_partly_reviewed(project):
    result = invoke("label", "clips/my clip.mp4", "-s", "2-3", "--calm", "0-1", "--calm", "4-5.5")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "labels/my clip.toml: 1 segment(s) 0:02.0-0:03.0; 1.0s positive; "
        "2 calm span(s), 2.5s; reviewed 3.5s of 6.0s")
    text = (project / "labels" / "my clip.toml").read_text()
    assert 'calm = [["0:00.000", "0:01.000"], ["0:04.000", "0:05.500"]]' in text
    listing = invoke("label", "--list")
    row = next(ln for ln in listing.output.splitlines() if ln.startswith("labels/my clip.toml"))
    assert row.split()[-10:] == ["1", "1.0s", "3.5s", "3.5s", "of", "6.0s", "ok", "(no", "facecam", "box)"]
    assert listing.output.splitlines()[-1] == (
        "1 files, 0 with errors; positive of reviewed: rage 1.0s of 3.5s; reviewed 3.5s of 6.0s")


@pytest.mark.parametrize("args", [
    ["--calm", "2.5-4"],  # against the file's segment
    ["-s", "3.5-4", "--calm", "3.8-5"],  # against a segment given beside it
])
def test_calm_overlapping_a_segment_is_a_one_line_error(project, args):
    assert invoke("label", "clips/my clip.mp4", "-s", "2-3").exit_code == 0
    before = (project / "labels" / "my clip.toml").read_text()
    result = CliRunner().invoke(cli, ["label", "clips/my clip.mp4", *args])
    segment = "0:02.000-0:03.000" if args[0] == "--calm" else "0:03.500-0:04.000"
    calm = "0:02.500-0:04.000" if args[0] == "--calm" else "0:03.800-0:05.000"
    assert (result.exit_code, result.output) == (
        1, f"Error: clips/my clip.mp4: rage: calm span {calm} overlaps rage segment {segment}\n")
    assert (project / "labels" / "my clip.toml").read_text() == before


def test_calm_spans_given_twice_are_joined(project):
    assert invoke("label", "clips/my clip.mp4", "--calm", "0-2", "--calm", "1.5-3").exit_code == 0
    result = invoke("label", "clips/my clip.mp4", "--calm", "2.5-4", "--calm", "5-6")
    assert result.output.splitlines()[0] == ("labels/my clip.toml: 0 segment(s) (none yet); 0.0s positive; "
                                             "2 calm span(s), 5.0s; reviewed 5.0s of 6.0s")
    assert 'calm = [["0:00.000", "0:04.000"], ["0:05.000", "0:06.000"]]' in (
        project / "labels" / "my clip.toml").read_text()


def test_replace_sets_both_lists_of_the_label(project):
    assert invoke("label", "clips/my clip.mp4", "-s", "1-2", "--calm", "3-4").exit_code == 0
    result = invoke("label", "clips/my clip.mp4", "--replace", "--calm", "0-1", "-f", "0.7,0.1,0.95,0.4")
    assert result.output == ("labels/my clip.toml: 0 segment(s) (none yet); 0.0s positive; "
                             "1 calm span(s), 1.0s; reviewed 1.0s of 6.0s\n")
    result = invoke("label", "clips/my clip.mp4", "--replace", "-s", "4-5")
    assert result.output == ("labels/my clip.toml: 1 segment(s) 0:04.0-0:05.0; 1.0s positive; "
                             "0 calm span(s), 0.0s; reviewed 1.0s of 6.0s\n")
    text = (project / "labels" / "my clip.toml").read_text()
    assert 'segments = [["0:04.000", "0:05.000"]]' in text and "calm = []" in text  # still partly reviewed


def test_list_shows_reviewed_time_of_a_vod_beside_short_clips(project):
    frames = (np.full((90, 160, 3), i % 255, np.uint8) for i in range(2 * 754))
    media.encode_frames(project / "vods" / "stream.mp4", frames, fps=2)  # 12:34
    box = ["-f", "0.7,0.1,0.95,0.4"]
    assert invoke("label", "clips/my clip.mp4", "-s", "1-2", "-s", "4-5", *box).exit_code == 0
    result = invoke("label", "vods/stream.mp4", "-s", "1:02-1:08", "-s", "5:00-5:04.5", "--calm", "0:50-1:02",
                    "--calm", "1:08-1:20", "--calm", "9:00-9:30", *box)
    assert result.output == ("labels/stream.toml: 2 segment(s) 1:02.0-1:08.0, 5:00.0-5:04.5; 10.5s positive; "
                             "3 calm span(s), 54.0s; reviewed 1:04.5 of 12:34.0\n")
    result = invoke("label", "vods/stream.mp4", "--label", "laugh", "-s", "3:00-3:03", "--calm", "2:40-3:00")
    assert result.exit_code == 0, result.output
    assert invoke("label", "--list").output.splitlines() == [
        "label file                                    rage                       laugh             "
        "      total          status",
        "                                    segs  positive  reviewed  segs  positive  reviewed  revi"
        "ewed of duration",
        "labels/my clip.toml                    2      2.0s      6.0s     -         -         -      "
        "    6.0s of 6.0s  ok",
        "labels/stream.toml                     2     10.5s    1:04.5     1      3.0s     23.0s     1"
        ":27.5 of 12:34.0  ok",
        "2 files, 0 with errors; positive of reviewed: rage 12.5s of 1:10.5, laugh 3.0s of 23.0s; "
        "reviewed 1:33.5 of 12:40.0",
    ]


def test_a_new_file_for_a_long_vod_is_partly_reviewed_from_the_cli(project, monkeypatch):
    from autotosis.learn import labels as labels_lib

    monkeypatch.setattr(labels_lib.edits, "LONG_CLIP", 5.0)
    result = invoke("label", "clips/my clip.mp4", "-s", "1-2")
    assert result.output.splitlines()[0] == (
        "labels/my clip.toml: 1 segment(s) 0:01.0-0:02.0; 1.0s positive; "
        "0 calm span(s), 0.0s; reviewed 1.0s of 6.0s")
