"""`autotosis live --shorts`: each clip's vertical short is made as the clip is cut, from the
same stream seconds, named as compile names it, listed in highlights.jsonl, never made twice."""

from __future__ import annotations

import json
import threading
import time

import pytest
from click.testing import CliRunner
from media_support import burst_vod, decoded, play

from autotosis import media
from autotosis.cli.main import cli

QUICK = ["--scorer", "loudness", "--pad-before", "2", "--merge-gap", "1"]
SHORTS = ["--shorts", "--shorts-size", "90x160", "--layout", "facecam", "--facecam", "0,0,1,1",
          "--preset", "ultrafast"]


def test_live_shorts_are_made_as_each_clip_is_cut(project):
    # 18 s, a shout at 0:03-0:05.5; every frame one grey, 3 levels brighter than the one before
    shout = burst_vod(project / "src" / "shout.mkv", 18.0, (3.0, 5.5), width=160, height=90)
    growing = project / "rec" / "shout.mkv"
    growing.parent.mkdir()
    player = play(shout, growing)
    finished: list[float] = []
    threading.Thread(target=lambda: finished.append(player.wait() * 0 + time.time()), daemon=True).start()
    result = CliRunner().invoke(cli, ["live", str(growing), "--idle", "1.5", *QUICK, *SHORTS])
    assert result.exit_code == 0, result.output
    out = project / "output" / "shout"
    rows = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert row["short"] == f"shorts/01-loud-{int(row['start'])}s.mp4"  # compile's name for it
    short = out / row["short"]
    assert f"short {row['short']}" in result.output and "1 short(s) in" in result.output
    assert short.stat().st_mtime < finished[0]  # made while the recording was still being written
    assert sorted(p.name for p in (out / "shorts").iterdir()) == [short.name]  # not again at the end
    info = media.probe(short)
    assert (info.width, info.height) == (90, 160)
    assert info.duration == pytest.approx(row["end"] - row["start"], abs=0.15)
    first = decoded(short)[0][60:100, 10:80].mean()  # the stream fitted in the middle: its own grey
    assert first == pytest.approx(3 * round(row["start"] * 10) % 255, abs=4)  # the clip's first frame
    options = json.loads((out / "options.json").read_text())
    assert options["shorts"]["size"] == [90, 160] and options["shorts"]["layout"] == "facecam"

    made = short.stat().st_mtime_ns
    again = CliRunner().invoke(cli, ["live", str(growing), "--idle", "0.3", *QUICK, *SHORTS])
    assert again.exit_code == 0, again.output
    assert short.stat().st_mtime_ns == made
    assert sorted(p.name for p in (out / "shorts").iterdir()) == [short.name]  # resume: nothing remade


def test_live_shorts_bad_options_are_one_line(project):
    source = burst_vod(project / "s.mkv", 2.0, (0.5, 1.0), width=160, height=90)
    speech = CliRunner().invoke(cli, ["live", str(source), "--idle", "0.3", "--shorts", "--captions", "both"])
    assert speech.exit_code == 1 and "live shorts show no words said" in speech.output
    assert "Traceback" not in speech.output and not (project / "output" / "s").exists()
    title = CliRunner().invoke(cli, ["live", str(source), "--idle", "0.3", "--shorts", "--title", "{nope}"])
    assert title.exit_code == 1 and "unknown field {nope}" in title.output


def test_a_clip_whose_short_fails_is_kept(project):
    """No face-cam box and none to be found (a grey picture): the clip is cut and logged, one line
    says why it has no short, and the stream goes on."""
    source = burst_vod(project / "grey.mkv", 4.0, (1.0, 2.0), width=160, height=90)
    result = CliRunner().invoke(cli, ["live", str(source), "--idle", "0.3", "--scorer", "loudness",
                                      "--no-reel", "--shorts", "--shorts-size", "90x160"])
    assert result.exit_code == 0, result.output
    assert "live: no short of clip 01: no face found" in result.output and ".live-" not in result.output
    [row] = [json.loads(line) for line in (project / "output" / "grey" / "highlights.jsonl").read_text()
             .splitlines()]
    assert "short" not in row and (project / "output" / "grey" / row["file"]).exists()
    assert not (project / "output" / "grey" / "shorts").exists() or \
        not list((project / "output" / "grey" / "shorts").iterdir())


def test_a_short_that_failed_is_made_on_resume(project):
    """The first run cannot write its short (a file is where shorts/ should be): the clip is kept
    without one. Once that is cleared, the rerun over the same recording makes the short from
    the replay buffer (the recording re-read) without cutting the clip again, and adds it to the
    clip's row in highlights.jsonl."""
    source = burst_vod(project / "shout.mkv", 8.0, (3.0, 5.0), width=160, height=90)
    out = project / "output" / "shout"
    out.mkdir(parents=True)
    (out / "shorts").write_text("not a folder")
    first = CliRunner().invoke(cli, ["live", str(source), "--idle", "0.3", *QUICK, *SHORTS, "--no-reel"])
    assert first.exit_code == 0, first.output
    assert "live: no short of clip 01: output/shout/shorts: cannot write (File exists)" in first.output
    [row] = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    assert "short" not in row
    clip = out / row["file"]
    cut = clip.stat().st_mtime_ns

    (out / "shorts").unlink()
    again = CliRunner().invoke(cli, ["live", str(source), "--idle", "0.3", *QUICK, *SHORTS, "--no-reel"])
    assert again.exit_code == 0, again.output
    assert "1 clip(s) already cut by an earlier run, 1 without their short (made again)" in again.output
    own = f"shorts/01-loud-{int(row['start'])}s.mp4"
    assert f"live: short {own} of clip 01 (cut by an earlier run), made from the replay buffer" \
        in again.output
    assert [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()] == \
        [{**row, "short": own}]
    assert clip.stat().st_mtime_ns == cut and sorted(p.name for p in (out / "clips").iterdir()) == [clip.name]
    info = media.probe(out / own)
    assert (info.width, info.height) == (90, 160)
    assert info.duration == pytest.approx(row["end"] - row["start"], abs=0.15)
    first_grey = decoded(out / own)[0][60:100, 10:80].mean()  # the stream's own first frame, no caption
    assert first_grey == pytest.approx(3 * round(row["start"] * 10) % 255, abs=4)
