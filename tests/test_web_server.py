"""The web server's rules over plain HTTP: allowed folders only, token on writes, ranges for video."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import numpy as np
import pytest
from web_support import LiveServer, cli_server, get_json

from autotosis import media
from autotosis.learn import labels
from autotosis.web.labeler import labeler_app
from autotosis.web.server import static_dir


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "clips").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "output").mkdir()
    frames = (np.full((72, 128, 3), (i * 9) % 255, np.uint8) for i in range(30))
    media.encode_frames(tmp_path / "clips" / "a.mp4", frames, fps=10)
    (tmp_path / "secret.txt").write_text("not for the page")
    (tmp_path / "clips" / "escape.mp4").symlink_to(tmp_path / "secret.txt")
    return tmp_path


@pytest.fixture
def server(project):
    live = LiveServer(labeler_app(project))
    yield live
    live.close()


def raw_get(server: LiveServer, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict]:
    """GET with the path sent exactly as given (urllib would not normalise it, http.client never does)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body, dict(response.getheaders())


@pytest.mark.parametrize("path", [
    "/media/../secret.txt",
    "/media/clips/../../secret.txt",
    "/media/%2e%2e/secret.txt",
    "/media/clips/%2E%2E/%2E%2E/etc/passwd",
    "/media//etc/passwd",
    "/media/%2Fetc%2Fpasswd",
    "/media/clips/escape.mp4",          # a symlink leading out of clips/
    "/media/secret.txt",                # inside the project, outside the allowed folders
    "/media/clips\\..\\secret.txt",
    "/proxy/../secret.txt",
])
def test_traversal_is_refused(server, path):
    status, body, _ = raw_get(server, path)
    assert status == 403, (path, status)
    assert b"not for the page" not in body


def test_static_assets_only_by_name(server):
    assert raw_get(server, "/static/labeler.js")[0] == 200
    assert raw_get(server, "/static/../server.py")[0] == 404
    assert raw_get(server, "/static/%2e%2e/server.py")[0] == 404


def test_writes_need_the_token(server, project):
    body = {"clip": "clips/a.mp4", "segments": [[0.5, 1.5]], "digest": None}
    assert server.request("POST", "/api/save", body, token=None)[0] == 403
    assert server.request("POST", "/api/save", body, token="guessed")[0] == 403
    assert server.request("POST", "/api/detect", {"clip": "clips/a.mp4"}, token=None)[0] == 403
    assert server.request("DELETE", "/api/save", body, token=None)[0] == 403
    assert not (project / "labels" / "a.toml").exists()
    status, reply = server.request("POST", "/api/save", body)
    assert status == 200, reply
    assert labels.load_label(project / "labels" / "a.toml").segments[0].end == 1.5


def test_page_carries_token_and_locks_itself_down(server):
    status, body, headers = raw_get(server, "/")
    assert status == 200
    assert server.app.token.encode() in body
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert b"http://" not in body and b"https://" not in body  # nothing loaded from elsewhere
    for asset in static_dir().iterdir():
        text = asset.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, asset.name


def test_foreign_host_header_is_refused(server):
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not read the API."""
    assert raw_get(server, "/api/clips", {"Host": "evil.example"})[0] == 403
    assert raw_get(server, "/api/clips", {"Host": f"localhost:{server.port}"})[0] == 200


def test_video_is_served_with_ranges(server, project):
    data = (project / "clips" / "a.mp4").read_bytes()
    status, body, headers = raw_get(server, "/media/clips/a.mp4", {"Range": "bytes=100-199"})
    assert status == 206 and body == data[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    status, body, _ = raw_get(server, "/media/clips/a.mp4", {"Range": "bytes=-50"})
    assert status == 206 and body == data[-50:]
    assert raw_get(server, "/media/clips/a.mp4", {"Range": f"bytes={len(data) + 5}-"})[0] == 416
    status, body, _ = raw_get(server, "/media/clips/a.mp4")
    assert status == 200 and body == data


def test_save_rejects_bad_values_and_keeps_the_file(server, project):
    assert server.request("POST", "/api/save", {"clip": "clips/a.mp4", "segments": [[1, 0.5]]})[0] == 400
    assert server.request("POST", "/api/save", {"clip": "clips/a.mp4", "segments": [[1, 9]]})[0] == 400
    assert server.request("POST", "/api/save", {"clip": "clips/a.mp4", "facecam": [0.5, 0, 0.2, 1]})[0] == 400
    assert server.request("POST", "/api/save", {"clip": "../secret.txt"})[0] == 403
    assert not (project / "labels" / "a.toml").exists()


def test_cli_serves_until_interrupted(project):
    """`autotosis label --ui --no-browser` prints a 127.0.0.1 URL that serves the page."""
    with cli_server("label", "--ui", cwd=project) as port:
        assert "clips/a.mp4" in json.dumps(get_json(port, "/api/clips"))


def test_a_partly_reviewed_file_is_listed_and_saved_with_its_calm_spans(server, project):
    """A partly reviewed file opens in answer mode with its spans a window at a time, the list
    shows its reviewed seconds, and saving its segments keeps its calm spans (less any a new
    segment overlaps): a save never silently turns a partly reviewed file into one whose every
    unmarked second is a negative."""
    path = project / "labels" / "a.toml"
    path.write_text('clip = "clips/a.mp4"\nlabel = "rage"\nsegments = [[0.5, 1.0]]\n'
                    'calm = [[0.0, 0.5], [1.5, 2.5]]\n')
    [row] = [r for r in get_json(server.port, "/api/clips")["clips"] if r["clip"] == "clips/a.mp4"]
    assert (row["partial"], row["reviewed"], row["positive"]) == (True, 2.0, 0.5)
    opened = get_json(server.port, "/api/clip?clip=clips/a.mp4")
    assert opened["vod"] is True
    window = get_json(server.port, "/api/spans?clip=clips/a.mp4&start=0&end=3")["spans"]
    assert window == {"rage": {"segments": [[0.5, 1.0]], "calm": [[0.0, 0.5], [1.5, 2.5]]}}
    body = {"clip": "clips/a.mp4", "segments": [[0.5, 1.0], [2.0, 2.8]], "digest": opened["digest"]}
    status, reply = server.request("POST", "/api/save", body)
    assert status == 200, reply
    saved = labels.load_label(path)
    assert saved.partial and saved.calm_for("rage") == (labels.parse_segment("0-0.5"),)
    assert [(s.start, s.end) for s in saved.segments] == [(0.5, 1.0), (2.0, 2.8)]
    [row] = [r for r in get_json(server.port, "/api/clips")["clips"] if r["clip"] == "clips/a.mp4"]
    assert row["reviewed"] == 1.8
