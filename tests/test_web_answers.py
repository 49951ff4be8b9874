"""Answering suggestions on a VOD, server side: the answer rules, the routes and the span previews.

The routes run on a real server over a real (tiny) VOD; the suggestions come from a fixed
suggester here so each state (scanning, ready, failed) can be held and looked at. The
browser tests (test_web_answers_browser.py) use the real `suggest`.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from web_support import LiveServer, cli_server, get_json

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.errors import MediaError
from autotosis.core.timeline import Segment
from autotosis.learn import labels
from autotosis.pick.suggest import Candidate
from autotosis.web.labeler import labeler_app
from autotosis.web.suggestions import LEAD_IN, answer_of, answer_spans, spans_in, view_of

SECONDS = 40.0
FIXED = [Candidate(8.0, 18.0, "loud: +20 dB over usual", 0.9, "rage", "loud", 13.0),
         Candidate(26.0, 36.0, "calm stretch", 0.5, "rage", "calm")]


@pytest.mark.parametrize(("answer", "positive", "segments", "calm"), [
    ("no", None, [], [(10, 20)]),
    ("yes", None, [(10, 20)], []),  # the whole window is the reaction
    ("yes", (12, 15), [(12, 15)], [(10, 12), (15, 20)]),  # tightened: the rest was looked at, calm
    ("yes", (10.1, 19), [(10.1, 19)], [(19, 20)]),  # a sliver under MIN_CALM is edge slop
    ("yes", (16, 23), [(16, 23)], [(10, 16)]),  # dragged past the window: what was seen grows
])
def test_answer_spans(answer, positive, segments, calm):
    got = answer_spans(Segment(10, 20), answer, Segment(*positive) if positive else None)
    assert [(s.start, s.end) for s in got[0]] == segments
    assert [(s.start, s.end) for s in got[1]] == calm


def test_answer_spans_refuses_other_answers():
    with pytest.raises(ValueError, match="yes or no"):
        answer_spans(Segment(1, 2), "maybe")


def test_answer_of_and_spans_in_read_the_file():
    file = labels.make_label_file(Path("v.mp4"), None, {"rage": (Segment(12, 15),), "laugh": ()},
                                  calm={"rage": (Segment(10, 12), Segment(15, 20), Segment(100, 110))})
    assert answer_of(file, "rage", Segment(10, 20)) == {"answer": "yes", "positive": [12, 15]}
    assert answer_of(file, "rage", Segment(98, 108)) == {"answer": "no", "positive": None}
    assert answer_of(file, "rage", Segment(30, 40)) is None
    assert answer_of(file, "laugh", Segment(10, 20)) is None  # answers are per label
    assert answer_of(None, "rage", Segment(10, 20)) is None
    window = spans_in(file, 9, 16)
    assert window["rage"] == {"segments": [[12, 15]], "calm": [[10, 12], [15, 20]]}  # not 100-110
    assert window["laugh"] == {"segments": [], "calm": []}
    assert view_of(Segment(3, 13), 15) == (0.0, 15)
    assert view_of(Segment(50, 60), 1000) == (50 - LEAD_IN - 6.0, 66.0)


# ---------------------------------------------------------------- the routes


@pytest.fixture(scope="module")
def vod_file(tmp_path_factory) -> Path:
    """A tiny 40 s "VOD" (brightness counts frames) with sound; H.264 in MP4."""
    path = tmp_path_factory.mktemp("vod") / "stream.mp4"
    frames = (np.full((36, 64, 3), (i * 5) % 250, np.uint8) for i in range(int(SECONDS * 5)))
    audio = 0.05 * np.random.default_rng(0).uniform(-1, 1, int(SECONDS * 8000))
    return media.encode_frames(path, frames, fps=5, audio=audio, sample_rate=8000, gop=5)


@pytest.fixture
def project(tmp_path, vod_file, monkeypatch) -> Path:
    (tmp_path / "vods").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "vods" / "stream.mp4").write_bytes(vod_file.read_bytes())
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


class Held:
    """A suggester that reports progress, then waits until released (or fails when told to)."""

    def __init__(self, fail: Exception | None = None):
        self.release = threading.Event()
        self.fail = fail
        self.calls: list[tuple[Path, str]] = []

    def __call__(self, vod, label, progress):
        self.calls.append((vod, label))
        progress(-1, "signals: loudness")
        progress(0.4, "loudness")
        assert self.release.wait(20)
        if self.fail is not None:
            raise self.fail
        return FIXED


@pytest.fixture
def held() -> Held:
    return Held()


@pytest.fixture
def server(project, held):
    live = LiveServer(labeler_app(project, project / "vods" / "stream.mp4", suggester=held))
    yield live
    held.release.set()
    live.close()


def ready(server, label="rage") -> dict:
    deadline = time.monotonic() + 20
    while True:
        status, body = server.request("GET", f"/api/suggest?clip=vods/stream.mp4&label={label}")
        assert status == 200, body
        if body["state"] != "running" or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_suggestions_are_found_in_the_background_and_polled(server, held, project):
    status, clips = server.request("GET", "/api/clips")
    assert clips["focus"] == "vods/stream.mp4"
    status, info = server.request("GET", "/api/clip?clip=vods/stream.mp4")
    assert info["vod"] is True and info["answer_label"] == "rage"  # named on the command line
    assert server.request("GET", "/api/suggest?clip=vods/stream.mp4")[1]["state"] == "absent"
    status, body = server.request("POST", "/api/suggest", {"clip": "vods/stream.mp4", "label": "rage"})
    assert status == 200 and body["state"] == "running"
    deadline = time.monotonic() + 10
    while server.request("GET", "/api/suggest?clip=vods/stream.mp4")[1]["progress"] < 0.4:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    body = server.request("GET", "/api/suggest?clip=vods/stream.mp4&label=rage")[1]
    assert (body["state"], body["stage"], body["notes"]) == ("running", "loudness", ["signals: loudness"])
    server.request("POST", "/api/suggest", {"clip": "vods/stream.mp4", "label": "rage"})  # joins, no 2nd scan
    held.release.set()
    body = ready(server)
    assert body["state"] == "ready" and len(held.calls) == 1
    first, second = body["candidates"]
    assert (first["start"], first["end"], first["peak"], first["kind"]) == (8.0, 18.0, 13.0, "loud")
    assert first["view"] == [0.0, 24.0] and second["view"] == [18.0, 40.0]
    assert first["answer"] is None and body["reviewed"] == 0.0


def test_answers_are_written_at_once_and_the_newest_wins(server, held, project):
    held.release.set()
    server.request("POST", "/api/suggest", {"clip": "vods/stream.mp4"})
    ready(server)
    label_file = project / "labels" / "stream.toml"
    yes = {"clip": "vods/stream.mp4", "label": "rage", "start": 8, "end": 18, "answer": "yes"}
    status, body = server.request("POST", "/api/answer", yes)
    assert status == 200, body
    assert body["answer"] == {"answer": "yes", "positive": [8.0, 18.0]}
    assert body["label_file"] == "labels/stream.toml" and body["row"]["partial"] is True
    saved = labels.load_label(label_file)
    assert saved.partial and [(s.start, s.end) for s in saved.segments] == [(8.0, 18.0)]
    # Edges adjusted: the reaction is 11-14, the rest of the window is calm.
    status, body = server.request("POST", "/api/answer", {**yes, "positive": [11, 14]})
    assert body["spans"]["rage"] == {"segments": [[11.0, 14.0]], "calm": [[8.0, 11.0], [14.0, 18.0]]}
    server.request("POST", "/api/answer", {**yes, "start": 26, "end": 36, "answer": "no"})
    saved = labels.load_label(label_file)
    assert [(s.start, s.end) for s in saved.segments] == [(11.0, 14.0)]
    assert [(s.start, s.end) for s in saved.calm_for("rage")] == [(8.0, 11.0), (14.0, 18.0), (26.0, 36.0)]
    answers = [c["answer"] for c in ready(server)["candidates"]]  # what a reloaded page shows
    assert answers == [{"answer": "yes", "positive": [11.0, 14.0]}, {"answer": "no", "positive": None}]
    # Changing one's mind: the first moment was calm after all.
    server.request("POST", "/api/answer", {**yes, "answer": "no"})
    saved = labels.load_label(label_file)
    assert saved.segments == () and len(saved.calm_for("rage")) == 2
    assert server.request("GET", "/api/spans?clip=vods/stream.mp4&start=20&end=30")[1]["spans"] == {
        "rage": {"segments": [], "calm": [[26.0, 36.0]]}}
    # The box goes into the same file and keeps the answers.
    box = {"clip": "vods/stream.mp4", "facecam": [0.6, 0, 1, 0.4]}
    status, body = server.request("POST", "/api/facecam", box)
    assert status == 200 and labels.load_label(label_file).facecam == (0.6, 0.0, 1.0, 0.4)
    assert len(labels.load_label(label_file).calm_for("rage")) == 2


@pytest.mark.parametrize(("body", "message"), [
    ({"start": 8, "end": 18, "answer": "maybe"}, "yes or no"),
    ({"start": 18, "end": 8, "answer": "no"}, "not a span"),
    ({"start": "x", "end": 8, "answer": "no"}, "number"),
    ({"start": 8, "end": 18, "answer": "yes", "positive": [1]}, "[start, end]"),
    ({"start": 8, "end": 18, "answer": "no", "label": "two words"}, "label"),
    ({"start": 8, "end": 18, "answer": "no", "clip": "../secret.mp4"}, "refused"),
])
def test_bad_answers_are_refused_and_write_nothing(server, project, body, message):
    status, reply = server.request("POST", "/api/answer", {"clip": "vods/stream.mp4", **body})
    assert status in (400, 403) and message in reply["error"]
    assert not (project / "labels" / "stream.toml").exists()


def test_a_failed_scan_says_why_and_is_tried_again(project):
    held = Held(fail=MediaError("vods/stream.mp4: has no audio, no chat replay and there is no model"))
    live = LiveServer(labeler_app(project, project / "vods" / "stream.mp4", suggester=held))
    try:
        held.release.set()
        live.request("POST", "/api/suggest", {"clip": "vods/stream.mp4"})
        body = ready(live)
        assert body["state"] == "failed" and "no audio" in body["error"]
        held.fail = None
        assert live.request("POST", "/api/suggest", {"clip": "vods/stream.mp4"})[1]["state"] == "running"
        assert ready(live)["state"] == "ready" and len(held.calls) == 2
    finally:
        live.close()


def test_which_videos_open_in_answer_mode(project, held):
    """A long or named video without a label file, or a partly reviewed one: answer mode. A clip
    labeled whole stays in the labeler (answering would turn its unmarked time unknown)."""
    (project / "vods" / "whole.mp4").write_bytes((project / "vods" / "stream.mp4").read_bytes())
    (project / "vods" / "part.mp4").write_bytes((project / "vods" / "stream.mp4").read_bytes())
    labels.label_clip(project / "vods" / "whole.mp4", project / "labels", [Segment(1, 2)])
    labels.merge_review(project / "vods" / "part.mp4", project / "labels", "laugh", calm=[Segment(3, 9)])
    live = LiveServer(labeler_app(project, project / "vods", label=None, suggester=held))
    try:
        modes = {name: live.request("GET", f"/api/clip?clip=vods/{name}")[1] for name in
                 ("stream.mp4", "whole.mp4", "part.mp4")}
        assert [modes[n]["vod"] for n in ("stream.mp4", "whole.mp4", "part.mp4")] == [False, False, True]
        assert modes["part.mp4"]["answer_label"] == "laugh"  # the file's label
        assert modes["part.mp4"]["label"]["labels"] == {"laugh": []}  # spans come a window at a time
        assert modes["whole.mp4"]["label"]["segments"] == [[1.0, 2.0]]
    finally:
        live.close()


def test_the_labeler_keeps_a_partly_reviewed_file_partial(server, project):
    """Saving from the ordinary labeler (e.g. another label) must not make calm spans vanish,
    which would turn the whole VOD into negatives."""
    clip = project / "vods" / "stream.mp4"
    labels.merge_review(clip, project / "labels", "rage", [Segment(11, 14)], [Segment(26, 36)])
    digest = labels.digest(project / "labels" / "stream.toml")
    body = {"clip": "vods/stream.mp4", "label": "laugh", "segments": [[2, 3]], "digest": digest}
    status, reply = server.request("POST", "/api/save", body)
    assert status == 200, reply
    saved = labels.load_label(project / "labels" / "stream.toml")
    assert saved.partial and saved.calm_for("rage") == (Segment(26, 36),)
    status, reply = server.request("POST", "/api/save", {
        "clip": "vods/stream.mp4", "label": "rage", "segments": [[11, 14], [30, 31]], "force": True})
    assert status == 200, reply  # the newest answer wins: the calm span it contradicts goes
    saved = labels.load_label(project / "labels" / "stream.toml")
    assert saved.partial and saved.calm_for("rage") == () and saved.by_label["rage"][-1] == Segment(30, 31)


def test_span_previews_are_cut_made_once_and_served(server, project):
    body = {"clip": "vods/stream.mp4", "start": 10, "end": 16}
    status, first = server.request("POST", "/api/preview", body)
    assert status == 200 and first["state"] in ("preparing", "ready")
    deadline = time.monotonic() + 20
    while (done := server.request("GET", "/api/preview?clip=vods/stream.mp4&start=10&end=16")[1])["state"] \
            == "preparing" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done["state"] == "ready" and done["url"] == "/span/" + first["name"]
    path = project / "cache" / "proxy" / "spans" / first["name"]
    assert media.probe(path).duration == pytest.approx(6.0, abs=0.3)
    assert not list((project / "cache" / "proxy").glob("*.mp4"))  # never a proxy of the whole VOD
    with urllib.request.urlopen(server.url.rstrip("/") + done["url"], timeout=10) as response:
        assert response.status == 200 and response.read(12)[4:8] == b"ftyp"
    mtime = path.stat().st_mtime_ns
    assert server.request("POST", "/api/preview", body)[1]["state"] == "ready"  # made once
    assert path.stat().st_mtime_ns == mtime
    assert server.request("GET", "/span/../stream.toml")[0] == 404
    assert server.request("GET", "/span/0123456789abcdef0123-1-2.mp4")[0] == 404


def test_cli_label_ui_on_a_missing_vod_is_one_line(project):
    result = CliRunner().invoke(cli, ["label", "--ui", "vods/gone.mp4", "--no-browser"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: vods/gone.mp4: no such file"


def test_a_dropped_connection_prints_no_traceback(server, capfd):
    """A closed tab or a seek resets connections mid-request: the terminal running the page
    must not fill with tracebacks."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /api/clips HTTP/1.1\r\nHost: 127.0.0.1")  # no end of line: the server waits
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.2)
    sock.close()  # with linger 0: a reset, not a clean close
    time.sleep(0.3)
    assert server.request("GET", "/api/clips")[0] == 200
    assert "Traceback" not in capfd.readouterr().err


def test_cli_label_ui_opens_on_the_vod(project):
    with cli_server("label", "--ui", "vods/stream.mp4", cwd=project) as port:
        clips = get_json(port, "/api/clips")
        assert clips["focus"] == "vods/stream.mp4"
        assert [c["clip"] for c in clips["clips"]] == ["vods/stream.mp4"]
        assert get_json(port, "/api/clip?clip=vods/stream.mp4")["vod"] is True
