"""`autotosis live` on recordings ffmpeg writes in real time (`-re`), as OBS does: clips while the
stream runs, the end's outputs equal to compile's, resume, Ctrl-C, OBS file splitting, HLS."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from media_support import burst_vod, play

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.timeline import Timeline
from autotosis.pick.online import online, settled_until
from autotosis.pick.select import SelectConfig, select_segments

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shout(tmp_path_factory) -> Path:
    """18 s of room noise with a 2.5 s shout at 0:05, as Matroska (OBS's default)."""
    return burst_vod(tmp_path_factory.mktemp("live") / "shout.mkv", 18.0, (5.0, 7.5))


# Shorter lead-in and merge reach than the defaults: a highlight is final sooner, so short
# test streams still run on after it (compile gets the same options).
QUICK = ["--scorer", "loudness", "--pad-before", "2", "--merge-gap", "1"]


def assert_ends_like_compile(out: Path, recording: Path, compiled: Path, samples_apart: int = 0) -> None:
    """Live's end (`out`) against `compile` on the finished `recording` with the same options:
    one highlight each, within one loudness sample (0.5 s), the same loudness timeline (to
    within `samples_apart` samples in length)."""
    result = CliRunner().invoke(cli, ["compile", str(recording), *QUICK, "--out", str(compiled)])
    assert result.exit_code == 0, result.output
    ours = json.loads((out / "segments.json").read_text())["segments"]
    theirs = json.loads((compiled / "segments.json").read_text())["segments"]
    assert len(ours) == len(theirs) == 1
    for a, b in zip(ours, theirs, strict=True):
        assert abs(a["start"] - b["start"]) <= 0.5 and abs(a["end"] - b["end"]) <= 0.5
    live_scores = Timeline.from_csv(out / "loudness.csv")
    compile_scores = Timeline.from_csv(compiled / "loudness.csv")
    assert abs(len(live_scores) - len(compile_scores)) <= samples_apart
    n = min(len(live_scores), len(compile_scores))
    assert abs(live_scores.values[:n] - compile_scores.values[:n]).max() < 1e-3


def test_online_selection_is_final_only_when_nothing_can_change_it():
    """The rule on its own: a highlight is final once its tail and the merge reach are quiet."""
    step, config = 0.5, SelectConfig(enter=0.5)
    times = (np.arange(80) + 0.5) * step
    values = np.where((times > 10) & (times < 13), 0.9, 0.1)
    whole = Timeline(times, values)
    expected = select_segments(whole, config)
    assert len(expected) == 1
    for n in range(10, 81):
        seen = Timeline(times[:n], values[:n])
        state = online(seen, config)
        reach = expected[0].end + config.merge_gap + config.pad_before
        settled = settled_until(seen, config)  # the smoothing still waits for half its window
        assert settled == pytest.approx(float(times[n - 1]) + step / 2 - step)
        if settled <= reach:
            assert state.final == [], n  # a shout starting now would still be merged into it
            assert state.keep_from <= expected[0].start + 1e-9
        else:
            assert state.final == expected, n
        assert state.closed == (expected if settled > expected[0].end else []), n  # its tail is quiet


def test_a_closed_highlight_that_a_later_moment_joins_closes_again_whole():
    """Closed at its tail (the clip is cut then), then a shout within the merge reach joins it:
    it is no longer closed until the joined highlight's own tail, never final in between."""
    step, config = 0.5, SelectConfig(enter=0.5)
    times = (np.arange(80) + 0.5) * step
    values = np.where(((times > 10) & (times < 13)) | ((times > 18) & (times < 21)), 0.9, 0.1)
    whole = select_segments(Timeline(times, values), config)
    assert len(whole) == 1  # the two shouts are one highlight
    alone = select_segments(Timeline(times[:34], values[:34]), config)[0]
    states = {n: online(Timeline(times[:n], values[:n]), config) for n in range(30, 81)}
    assert any(state.closed == [alone] and state.final == [] for state in states.values())
    assert all(state.final in ([], whole) for state in states.values())
    assert states[80].closed == whole


def test_live_cuts_while_the_stream_runs_and_ends_like_compile(shout, project):
    growing = project / "rec" / "shout.mkv"
    growing.parent.mkdir()
    player = play(shout, growing)
    finished: list[float] = []
    threading.Thread(target=lambda: finished.append(player.wait() * 0 + time.time()), daemon=True).start()
    result = CliRunner().invoke(cli, ["live", str(growing), "--idle", "1.5", *QUICK])
    assert result.exit_code == 0, result.output
    out = project / "output" / "shout"
    rows = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and set(rows[0]) >= {"start", "end", "label", "peak", "file"}
    clip = out / rows[0]["file"]
    assert rows[0]["file"].startswith("clips/01-loud-0m0") and clip.exists()
    assert rows[0]["start"] <= 5.0 and rows[0]["end"] >= 7.5
    assert media.probe(clip).duration == pytest.approx(rows[0]["end"] - rows[0]["start"], abs=0.15)
    assert clip.stat().st_mtime < finished[0]  # cut while the recording was still being written
    assert f"clip {rows[0]['file']}" in result.output and "stream ended (idle)" in result.output
    assert not (out / ".buffer").exists()  # the replay buffer goes with the stream
    for name in ("reel.mp4", "segments.json", "scores.csv", "loudness.csv", "chapters.txt", "reel.edl",
                 "reel.otio", "timeline.png", "options.json"):
        assert (out / name).stat().st_size > 0, name
    # x264 signs its settings into the stream: the clip at --clip-preset (superfast: subme=1), the
    # reel at --preset (veryfast: subme=2)
    assert b" subme=1 " in clip.read_bytes() and b" subme=2 " not in clip.read_bytes()
    assert b" subme=2 " in (out / "reel.mp4").read_bytes()

    assert_ends_like_compile(out, growing, project / "compiled")

    again = CliRunner().invoke(cli, ["live", str(growing), "--idle", "0.5", *QUICK])
    assert again.exit_code == 0, again.output
    assert "1 clip(s) already cut by an earlier run" in again.output
    assert len((out / "highlights.jsonl").read_text().splitlines()) == 1  # not cut twice
    assert sorted(p.name for p in (out / "clips").iterdir()) == [clip.name]


def test_a_later_shout_joins_a_clip_already_cut_and_replaces_it(project, tmp_path):
    """The first shout's clip is cut as soon as its tail is quiet; a second shout within the
    merge reach joins it, so the whole highlight is cut again, saying which clip it replaces."""
    (tmp_path / "media").mkdir()
    source = burst_vod(tmp_path / "media" / "two.mkv", 15.0, (2.0, 3.5), more=((9.5, 11.0),))
    growing = project / "two.mkv"
    player = play(source, growing)
    options = ["--scorer", "loudness", "--pad-before", "2", "--merge-gap", "3"]
    result = CliRunner().invoke(cli, ["live", str(growing), "--idle", "1.5", *options])
    player.wait()
    assert result.exit_code == 0, result.output
    out = project / "output" / "two"
    rows = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    assert len(rows) == 2, rows
    assert rows[0]["end"] < 6.0 and "replaces" not in rows[0]
    assert rows[1]["replaces"] == [rows[0]["file"]] and rows[1]["start"] == rows[0]["start"]
    assert rows[1]["end"] >= 11.0 and all((out / row["file"]).exists() for row in rows)
    assert f"replaces {Path(rows[0]['file']).name}" in result.output
    segments = json.loads((out / "segments.json").read_text())["segments"]
    assert len(segments) == 1  # the reel's highlight is the whole one, snapped to frames
    whole = (rows[1]["start"], rows[1]["end"])
    assert (segments[0]["start"], segments[0]["end"]) == pytest.approx(whole, abs=0.1)


def test_ctrl_c_keeps_the_clips_and_writes_the_reel(shout, project):
    growing = project / "shout.mkv"
    player = play(shout, growing)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    live = subprocess.Popen([sys.executable, "-m", "autotosis", "live", str(growing), "--idle", "30", *QUICK],
                            env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    time.sleep(10.0)  # the shout (0:05-0:07.5) is over, its highlight not yet final
    live.send_signal(signal.SIGINT)
    output, _ = live.communicate(timeout=60)
    player.kill()
    assert live.returncode == 0, output
    assert "stream ended (interrupted)" in output
    out = project / "output" / "shout"
    rows = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and (out / rows[0]["file"]).exists()
    segments = json.loads((out / "segments.json").read_text())["segments"]
    assert len(segments) == 1 and (out / "reel.mp4").exists()


def test_follow_dir_continues_in_the_next_file(project, tmp_path):
    """OBS's file splitting: the stream goes on in a newer file of the same folder."""
    folder = tmp_path / "obs"
    folder.mkdir()
    first = burst_vod(folder / "part1.mkv", 8.0, (0.0, 0.01))
    time.sleep(0.05)
    burst_vod(folder / "part2.mkv", 12.0, (5.0, 7.5))
    result = CliRunner().invoke(cli, ["live", str(first), "--follow-dir", "--idle", "1",
                                      "--scorer", "loudness"])
    assert result.exit_code == 0, result.output
    assert "following part2.mkv" in result.output and "2 recording files" in result.output
    rows = [json.loads(line) for line in (project / "output" / "part1" / "highlights.jsonl").read_text()
            .splitlines()]
    assert len(rows) == 1
    assert rows[0]["start"] == pytest.approx(8.0 + 5.0 - 3.0, abs=0.6)  # on the stream's clock


def test_hls_over_http_on_localhost(shout, project, tmp_path):
    folder = tmp_path / "hls"
    folder.mkdir()
    media.run(["-i", str(shout), "-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
               str(folder / "stream.m3u8")])
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/stream.m3u8"
        result = CliRunner().invoke(cli, ["live", url, "--idle", "1", "--scorer", "loudness", "--no-reel"])
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    out = project / "output" / "stream"
    assert (out / "stream.mkv").exists()  # the stream as recorded
    rows = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["start"] <= 5.0 and rows[0]["end"] >= 7.5


def test_bad_source_is_one_line(project, tmp_path):
    result = CliRunner().invoke(cli, ["live", str(tmp_path), "--idle", "0.3"])
    assert result.exit_code == 1 and "is a folder" in result.output and "Traceback" not in result.output
    missing = CliRunner().invoke(cli, ["live", str(tmp_path / "nope.mkv"), "--idle", "0.3",
                                       "--scorer", "loudness"])
    assert missing.exit_code == 1 and "no readable recording appeared" in missing.output
