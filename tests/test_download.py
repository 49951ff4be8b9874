"""VOD links: yt-dlp downloads from a local HTTP server on 127.0.0.1 (resuming), then compile. No internet."""

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from http_support import Server
from media_support import burst_vod

from autotosis.cli.main import cli
from autotosis.core.errors import DownloadError
from autotosis.run.download import download_chat, download_vod


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    vod = burst_vod(tmp_path_factory.mktemp("served") / "clip.mp4", 12.0, (5.0, 8.0), 96, 64, 10)
    served = Server({"clip.mp4": vod.read_bytes()})
    yield served
    served.httpd.shutdown()


def test_download_resumes_a_partial_file_and_reuses_a_finished_one(server, tmp_path):
    data = server.files["clip.mp4"]
    part = tmp_path / "clip [clip].mp4.part"
    part.write_bytes(data[: len(data) // 2])  # what an interrupted run leaves
    seen: list[tuple[int, int | None]] = []
    path = download_vod(f"{server.url}/clip.mp4", tmp_path, lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "clip [clip].mp4" and path.read_bytes() == data and not part.exists()
    assert f"bytes={len(data) // 2}-" in server.gets("clip.mp4")  # it continued, not restarted
    assert seen and seen[-1] == (len(data), len(data))
    written = path.stat().st_mtime_ns
    assert download_vod(f"{server.url}/clip.mp4", tmp_path) == path
    assert path.stat().st_mtime_ns == written  # already there: not fetched again
    assert download_chat(f"{server.url}/clip.mp4", tmp_path) is None  # a plain file has no chat replay


def test_a_missing_vod_is_one_line(server, tmp_path):
    with pytest.raises(DownloadError, match=r"/nope\.mp4: cannot download \(.*404"):
        download_vod(f"{server.url}/nope.mp4", tmp_path)


def test_compile_url_downloads_into_vods_then_compiles(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    url = f"{server.url}/clip.mp4"
    result = CliRunner().invoke(cli, ["compile", url, "--chat", "auto", "--no-overlay"])
    assert result.exit_code == 0, result.output
    assert f"downloaded: {tmp_path / 'vods' / 'clip [clip].mp4'}" in result.output
    assert "offers no chat replay" in result.output and "1 highlight(s)" in result.output
    segments = json.loads((tmp_path / "output" / "clip [clip]" / "segments.json").read_text())
    assert segments["segments"][0]["link"].startswith(url + "?t=")
    missing = CliRunner().invoke(cli, ["compile", f"{server.url}/gone.mp4"])
    assert missing.exit_code == 1 and missing.output.startswith("Error: ") and "404" in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    assert not (tmp_path / "vods" / "gone.mp4").exists()


def test_a_downloaded_chat_replay_is_found_next_to_the_vod(tmp_path):
    vod = tmp_path / "vods" / "My stream [v1].mp4"
    vod.parent.mkdir()
    vod.write_bytes(b"")
    (vod.parent / "My stream [v1].live_chat.json").write_text("")
    from autotosis.signals.chat import find_chat

    assert find_chat(vod) == vod.parent / "My stream [v1].live_chat.json"
