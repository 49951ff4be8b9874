"""`autotosis live` on stream URLs, each served or pushed on 127.0.0.1 by a real ffmpeg playing a
file in real time (`-re`): a growing HLS playlist over http, rtmp:// and srt:// listened on."""

from __future__ import annotations

import functools
import json
import socket
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from media_support import burst_vod
from test_live import QUICK, assert_ends_like_compile

from autotosis import media
from autotosis.cli.main import cli
from autotosis.run.live import source_name
from autotosis.run.live.resolve import needs_resolving


@pytest.mark.parametrize(("url", "before", "name", "page"), [
    ("http://h/live/stream.m3u8?token=1", ["-live_start_index", "0"], "stream", False),
    ("rtmp://127.0.0.1:1935/live/key", ["-listen", "1"], "key", False),
    ("srt://127.0.0.1:9000?mode=listener", [], "stream", False),
    ("https://www.twitch.tv/someone", [], "someone", True),
    ("https://cdn.example/vod.mp4", [], "vod", False),
])
def test_what_each_url_gets(url, before, name, page):
    """The recorder's input options, the output folder's name, and whether yt-dlp is asked first."""
    args = media.record_args(url, Path("out.mkv"))
    assert args[: args.index("-i")] == before and args[args.index("-i") + 1] == url
    assert source_name(url) == name and needs_resolving(url) is page
    with_headers = media.record_args(url, Path("out.mkv"), {"Referer": "https://x/"})
    assert ("-headers" in with_headers) is url.startswith("http")


@pytest.fixture(scope="module")
def shout(tmp_path_factory) -> Path:
    """10 s of room noise with a 2 s shout at 0:03, tiny (160x90) so pushing it costs nothing."""
    return burst_vod(tmp_path_factory.mktemp("sources") / "shout.mkv", 10.0, (3.0, 5.0), width=160, height=90)


@pytest.fixture
def served(tmp_path):
    """A folder served over http on 127.0.0.1: (folder, base URL)."""
    folder = tmp_path / "www"
    folder.mkdir()
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None: ...

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    server.socket.settimeout(1.0)  # a client killed between the server's select and accept hangs no accept
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def push(source: Path, *output: str, delay: float = 0.0) -> subprocess.Popen:
    """ffmpeg playing `source` in real time into `output` (after `delay` s, so a listener is up)."""
    time.sleep(delay)
    return subprocess.Popen([media.ffmpeg_bin(), "-v", "error", "-re", "-i", str(source), "-c", "copy",
                             *output], stdin=subprocess.DEVNULL)


def wait_segments(playlist: Path, count: int, seconds: float = 10.0) -> None:
    """Until the playlist lists `count` segments: live then starts late, as it would on a stream
    already running (and ffmpeg's default of starting 3 segments from the end would lose some)."""
    end = time.monotonic() + seconds
    while not playlist.exists() or playlist.read_text().count("#EXTINF") < count:
        assert time.monotonic() < end, f"{playlist} never listed {count} segments"
        time.sleep(0.05)


def assert_like_compile(project: Path, out: Path, burst: tuple[float, float]) -> list[dict]:
    """One clip around the shout, and segments/loudness equal to compile's on the recorded stream."""
    rows = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and (out / rows[0]["file"]).exists()
    assert rows[0]["start"] <= burst[0] + 0.5 and rows[0]["end"] >= burst[1] - 0.5
    for name in ("reel.mp4", "segments.json", "loudness.csv"):
        assert (out / name).stat().st_size > 0, name
    assert_ends_like_compile(out, out / "stream.mkv", project / "compiled", samples_apart=1)
    return rows


@pytest.mark.parametrize("window", [0, 6], ids=["event", "sliding"])
def test_growing_hls_playlist_is_followed_to_its_endlist(shout, project, served, window):
    """ffmpeg writes the playlist and its segments as a streaming server does (the whole event, or
    a sliding window of 6); live follows the URL while it grows and ends at #EXT-X-ENDLIST."""
    folder, base = served
    started = time.monotonic()
    player = push(shout, "-f", "hls", "-hls_time", "1", "-hls_list_size", str(window),
                  "-hls_flags", "temp_file", str(folder / "stream.m3u8"))
    wait_segments(folder / "stream.m3u8", 5)
    result = CliRunner().invoke(cli, ["live", f"{base}/stream.m3u8", "--idle", "20", *QUICK])
    player.wait(10)
    assert result.exit_code == 0, result.output
    assert "stream ended (source ended)" in result.output  # the ENDLIST, not --idle
    assert time.monotonic() - started < 10.0 + 12.0  # an --idle end would take 30 s or more
    out = project / "output" / "stream"
    rows = assert_like_compile(project, out, (3.0, 5.0))
    assert media.probe(out / "stream.mkv").duration == pytest.approx(10.0, abs=1.2)  # nothing skipped
    assert f"clip {rows[0]['file']}" in result.output


def test_hls_playlist_that_stops_growing_ends_after_idle(shout, project, served):
    """A stream that died without #EXT-X-ENDLIST: ffmpeg keeps re-reading the playlist, so it is
    --idle without a new byte that ends the stream, with what was recorded kept."""
    folder, base = served
    media.run(["-i", str(shout), "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
               str(folder / "stream.m3u8")])
    playlist = folder / "stream.m3u8"
    playlist.write_text(playlist.read_text().replace("#EXT-X-ENDLIST\n", ""))
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["live", f"{base}/stream.m3u8", "--idle", "2", *QUICK])
    assert result.exit_code == 0, result.output
    assert "stream ended (idle)" in result.output and time.monotonic() - started < 15.0
    assert_like_compile(project, project / "output" / "stream", (3.0, 5.0))


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listen_and_push(scheme: str, port: int) -> tuple[str, list[str]]:
    """The URL live listens on, and the pusher's output arguments (OBS's server + stream key)."""
    if scheme == "rtmp":
        url = f"rtmp://127.0.0.1:{port}/live/key"
        return url, ["-f", "flv", url]
    return f"srt://127.0.0.1:{port}?mode=listener", ["-f", "mpegts", f"srt://127.0.0.1:{port}?mode=caller"]


@pytest.mark.parametrize("scheme", ["rtmp", "srt"])
def test_pushed_stream_is_listened_for_and_ends_with_the_pusher(shout, project, scheme):
    """An encoder (OBS, here ffmpeg -re) connects to live's rtmp:// or srt:// listener and pushes
    10 s; the clip is cut while it streams and the reel written as soon as the pusher leaves."""
    kind = socket.SOCK_DGRAM if scheme == "srt" else socket.SOCK_STREAM
    url, output = listen_and_push(scheme, free_port(kind))
    pushers: list[subprocess.Popen] = []
    timer = threading.Timer(1.0, lambda: pushers.append(push(shout, *output)))
    timer.start()
    started = time.monotonic()
    try:
        result = CliRunner().invoke(cli, ["live", url, "--idle", "20", *QUICK, "--out", "out"])
    finally:
        timer.join()
        for pusher in pushers:
            pusher.kill()
    assert result.exit_code == 0, result.output
    assert "stream ended (source ended)" in result.output  # the pusher left: no --idle wait
    assert time.monotonic() - started < 1.0 + 10.0 + 12.0  # an --idle end: 31 s or more
    rows = assert_like_compile(project, project / "out", (3.0, 5.0))
    assert f"clip {rows[0]['file']}" in result.output


@pytest.mark.parametrize("scheme", ["rtmp", "srt"])
def test_listener_errors_are_one_line(project, scheme):
    """Nobody connects within --idle; the port is taken by another listener."""
    kind = socket.SOCK_DGRAM if scheme == "srt" else socket.SOCK_STREAM
    url, _ = listen_and_push(scheme, free_port(kind))
    started = time.monotonic()
    alone = CliRunner().invoke(cli, ["live", url, "--idle", "1.5", "--scorer", "loudness", "--out", "a"])
    assert alone.exit_code == 1 and time.monotonic() - started < 6.0
    assert alone.output.strip().splitlines()[-1] == f"Error: {url}: no stream arrived within --idle 1.5s"
    with socket.socket(socket.AF_INET, kind) as taken:
        taken.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            taken.listen()
        url, _ = listen_and_push(scheme, taken.getsockname()[1])
        busy = CliRunner().invoke(cli, ["live", url, "--idle", "5", "--scorer", "loudness", "--out", "b"])
    assert busy.exit_code == 1 and "Traceback" not in busy.output, busy.output
    last = busy.output.strip().splitlines()[-1]
    assert last == f"Error: {url}: Address already in use", busy.output


PAGE = """<!doctype html><html><head><title>Someone live</title></head><body>
<video controls autoplay><source src="{src}" type="{kind}"></video></body></html>"""


def test_channel_page_is_resolved_by_yt_dlp_to_its_live_playlist(shout, project, served):
    """A page with a player (yt-dlp's generic extractor, no mock) whose stream is a growing HLS
    playlist: live asks yt-dlp for the stream, then follows it to its #EXT-X-ENDLIST."""
    folder, base = served
    (folder / "channel.html").write_text(PAGE.format(src="live/stream.m3u8", kind="application/x-mpegURL"))
    (folder / "live").mkdir()
    player = push(shout, "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_flags", "temp_file",
                  str(folder / "live" / "stream.m3u8"))
    wait_segments(folder / "live" / "stream.m3u8", 2)
    result = CliRunner().invoke(cli, ["live", f"{base}/channel.html", "--idle", "20", *QUICK])
    player.wait(10)
    assert result.exit_code == 0, result.output
    assert f"live: {base}/channel.html is live (Someone live" in result.output
    assert f"recording {base}/live/stream.m3u8 to" in result.output
    assert "stream ended (source ended)" in result.output
    out = project / "output" / "channel"
    assert_like_compile(project, out, (3.0, 5.0))
    assert media.probe(out / "stream.mkv").duration == pytest.approx(10.0, abs=1.2)


def test_page_without_a_live_stream_is_one_line(shout, project, served):
    folder, base = served
    (folder / "vod.mp4").write_bytes(shout.read_bytes())
    (folder / "vod.html").write_text(PAGE.format(src="vod.mp4", kind="video/mp4"))
    for page, message in [("vod.html", "not a live stream (yt-dlp found mp4 video, not live HLS"),
                          ("gone", "no live stream (Unable to download webpage: HTTP Error 404")]:
        result = CliRunner().invoke(cli, ["live", f"{base}/{page}", "--idle", "2", "--scorer", "loudness"])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        last = result.output.strip().splitlines()[-1]
        assert last.startswith(f"Error: {base}/{page}: {message}"), result.output


@pytest.mark.parametrize("suffix", [".m3u8", ".mkv"])
def test_url_not_there_yet_is_waited_for(shout, project, served, suffix):
    """Started before the stream: the playlist (or stream file) URL answers 404 for 2 s, then
    appears (a playlist's segments were already there); live says once that it waits, asks
    again with a short back-off, and follows it."""
    folder, base = served
    late = folder / f"late{suffix}"
    if suffix == ".m3u8":
        media.run(["-i", str(shout), "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
                   str(late)])
    else:
        late.write_bytes(shout.read_bytes())
    timer = threading.Timer(2.0, lambda: late.rename(folder / f"stream{suffix}"))
    timer.start()
    started = time.monotonic()
    try:
        result = CliRunner().invoke(cli, ["live", f"{base}/stream{suffix}", "--idle", "10", *QUICK,
                                          "--no-reel"])
    finally:
        timer.cancel()
    assert result.exit_code == 0, result.output
    assert result.output.count("is not there yet (HTTP 404): waiting for the stream to start") == 1
    assert "stream ended (source ended)" in result.output and time.monotonic() - started < 10.0
    rows = [json.loads(line) for line in (project / "output" / "stream" / "highlights.jsonl").read_text()
            .splitlines()]
    assert len(rows) == 1 and rows[0]["start"] <= 3.5 and rows[0]["end"] >= 4.5
    assert (project / "output" / "stream" / rows[0]["file"]).stat().st_size > 0


@pytest.mark.parametrize("name", ["stream.m3u8", "stream.ts"])
def test_url_never_there_ends_after_idle_in_one_line(project, served, name):
    """Nothing is published within --idle: the usual one line, not the 404 of the first try."""
    _, base = served
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["live", f"{base}/{name}", "--idle", "1.5", "--scorer", "loudness"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output.strip().splitlines()[-1] == \
        f"Error: {base}/{name}: no stream arrived within --idle 1.5s"
    assert 1.5 <= time.monotonic() - started < 6.0


def test_a_failed_short_of_a_stream_url_is_made_from_its_clip_on_resume(shout, project, served):
    """A stream URL is recorded anew by the rerun, so its buffer never holds the first run's
    clip again: the short that first failed is made from the clip file itself."""
    from test_live_shorts import SHORTS

    folder, base = served
    (folder / "stream.mkv").write_bytes(shout.read_bytes())
    out = project / "output" / "stream"
    out.mkdir(parents=True)
    (out / "shorts").write_text("not a folder")
    args = ["live", f"{base}/stream.mkv", "--idle", "5", *QUICK, *SHORTS, "--no-reel"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0 and "live: no short of clip 01: " in first.output, first.output
    [row] = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    (out / "shorts").unlink()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    own = f"shorts/01-loud-{int(row['start'])}s.mp4"
    assert f"live: short {own} of clip 01 (cut by an earlier run), made from {row['file']}" in again.output
    assert [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()] == \
        [{**row, "short": own}]
    assert media.probe(out / own).duration == pytest.approx(row["end"] - row["start"], abs=0.15)
