"""`autotosis live --ui`: the live page shows each clip as it is cut (Server-Sent Events, no reload),
a late or reconnecting page gets every clip once, the event stream needs the token, and the
finished stream links to its review on the same server."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from media_support import burst_vod
from test_live import QUICK, ROOT, play
from web_support import LiveServer, save_screenshot

from autotosis.run.live import LOG, Clip, Status
from autotosis.web.live import EVENTS, live_app

Events = list[dict[str, str]]


@pytest.fixture(scope="module")
def early_shout(tmp_path_factory) -> Path:
    """20 s of room noise with a 2.5 s shout at 0:02: its clip is cut well before the stream ends,
    even on a busy machine."""
    return burst_vod(tmp_path_factory.mktemp("live_ui") / "shout.mkv", 20.0, (2.0, 4.5))


def read_events(base: str, token: str, last_id: str = "", until: Callable[[Events], bool] = lambda e: False,
                timeout: float = 60.0) -> Events:
    """The events the SSE endpoint sends (field -> value), until `until` says so or it closes."""
    headers = {"Last-Event-ID": last_id} if last_id else {}
    request = urllib.request.Request(f"{base.rstrip('/')}{EVENTS}?token={token}", headers=headers)
    events: Events = []
    current: dict[str, str] = {}
    with urllib.request.urlopen(request, timeout=timeout) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        for raw in response:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(": ")
                current[name] = value
                continue
            if "event" in current:
                events.append(current)
            current = {}
            if until(events):
                break
    return events


def clip_ids(events: Events) -> list[int]:
    return [int(e["id"]) for e in events if e["event"] == "clip"]


def clips_folder(tmp_path: Path, count: int) -> Path:
    """output/vod/ as a live run leaves it mid-stream: `count` clips on disk and in highlights.jsonl."""
    folder = tmp_path / "output" / "vod"
    (folder / "clips").mkdir(parents=True)
    lines = []
    for n in range(1, count + 1):
        clip = new_clip(n)
        (folder / clip.file).write_bytes(bytes(range(256)) * 4)
        lines.append(clip.to_json())
    (folder / LOG).write_text("".join(line + "\n" for line in lines))
    return folder


def new_clip(n: int, label: str = "loud") -> Clip:
    return Clip(10.0 * n, 10.0 * n + 4, label, 0.9, f"clips/{n:02d}-loud-0m{10 * n:02d}s.mp4")


def test_late_join_and_last_event_id_send_each_clip_once(tmp_path):
    """A page that joins late gets the clips cut so far, then the new ones; one that reconnects
    with Last-Event-ID gets only the clips after it; after the end nothing is sent twice."""
    app, feed = live_app(clips_folder(tmp_path, 2))
    live = LiveServer(app)
    try:
        late = read_events(live.url, app.token, until=lambda e: len(clip_ids(e)) == 2)
        assert clip_ids(late) == [1, 2]
        assert late[0]["data"].startswith('{"n": 1') and '"/media/output/vod/clips/01-loud' in late[0]["data"]

        seen: list[Events] = []
        reader = threading.Thread(target=lambda: seen.append(read_events(live.url, app.token, last_id="2")))
        reader.start()
        time.sleep(0.3)
        feed.clip(new_clip(3), 1.0)
        feed.status(Status(40.0, 0.5, 0.1, 3))
        time.sleep(0.3)
        feed.finish("idle")
        reader.join(10)
        assert not reader.is_alive() and clip_ids(seen[0]) == [3]  # not 1 and 2 again
        assert [e["event"] for e in seen[0]] == ["clip", "status", "end"]
        assert '"review": null' in seen[0][-1]["data"]  # no segments.json: nothing to review

        again = read_events(live.url, app.token, last_id="3")
        assert [e["event"] for e in again] == ["status", "end"]  # reconnected after all: no clip twice
        fresh = read_events(live.url, app.token)
        assert clip_ids(fresh) == [1, 2, 3] and fresh[-1]["event"] == "end"
    finally:
        feed.close()
        live.close()


def test_event_stream_needs_the_token_and_clips_are_served_in_ranges(tmp_path):
    app, feed = live_app(clips_folder(tmp_path, 1))
    live = LiveServer(app)
    try:
        for query in ("", "?token=wrong", f"?token={app.token}x"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{live.url.rstrip('/')}{EVENTS}{query}", timeout=10)
            assert refused.value.code == 403
        rebinding = urllib.request.Request(f"{live.url.rstrip('/')}{EVENTS}?token={app.token}",
                                           headers={"Host": "evil.example:80"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(rebinding, timeout=10)
        assert refused.value.code == 403
        assert live.request("GET", "/review")[0] == 404  # the review comes with the end of the stream
        ranged = urllib.request.Request(live.url + "media/output/vod/clips/01-loud-0m10s.mp4",
                                        headers={"Range": "bytes=100-199"})
        with urllib.request.urlopen(ranged, timeout=10) as response:
            assert response.status == 206 and response.read() == bytes(range(100, 200))
        assert live.request("GET", "/media/output/vod/highlights.jsonl/../../../etc/passwd")[0] == 403
    finally:
        feed.close()
        live.close()


def test_a_stalled_page_never_holds_up_the_live_loop(tmp_path):
    """A page connected but never reading (a frozen tab): the loop's calls return at once while its
    connection's buffers are full, and another page still gets every clip."""
    app, feed = live_app(clips_folder(tmp_path, 0))
    live = LiveServer(app)
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", live.port))
    try:
        stalled.sendall(f"GET {EVENTS}?token={app.token} HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n\r\n"
                        .encode())
        assert stalled.recv(12) == b"HTTP/1.1 200"  # then it reads no more
        started = time.monotonic()
        for n in range(1, 5001):  # 6 MB of events: more than the kernel buffers (4 MB at most here)
            feed.clip(new_clip(n, "loud" * 300), 1.0)
            feed.status(Status(float(n), 0.0, 0.1, n))
        assert time.monotonic() - started < 5.0
        feed.finish("idle")
        assert clip_ids(read_events(live.url, app.token)) == list(range(1, 5001))
    finally:
        stalled.close()
        feed.close()
        live.close()


@pytest.mark.browser
def test_page_reconnects_without_duplicating_cards(browser, tmp_path):
    """The browser's EventSource reconnects by itself after a dropped connection and sends the id
    of the last clip it got: the page gets only the clip cut since, and shows each card once."""
    app, feed = live_app(clips_folder(tmp_path, 2))
    asked: list[str] = []
    app.streams[EVENTS] = lambda request, last: (asked.append(last), feed.events(request, last))[1]
    live = LiveServer(app)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(live.url)
        page.wait_for_selector(".card[data-n='2']")
        feed.close()  # every connection drops, as when a laptop sleeps or a proxy times out
        page.wait_for_selector("#message.error:has-text('reconnecting')")
        with feed._changed:
            feed._closed = False  # the server takes connections again
        feed.clip(dataclasses.replace(new_clip(3), replaces=(new_clip(2).file,)), 1.0)  # a shout joined #2
        page.wait_for_selector(".card[data-n='3']", timeout=20000)
        page.wait_for_selector("#message.ok:has-text('connected again')")
        assert page.eval_on_selector_all(".card", "cs => cs.map((c) => c.dataset.n)") == ["3", "2", "1"]
        assert page.eval_on_selector_all(".card.replaced", "cs => cs.map((c) => c.dataset.n)") == ["2"]
        assert "replaced by #3" in page.text_content(".card[data-n='2']")
        assert asked[0] == "" and set(asked[1:]) == {"2"}, asked
    finally:
        context.close()
        feed.close()
        live.close()
    assert not errors


@pytest.mark.browser
def test_live_ui_shows_each_clip_as_it_is_cut(browser, early_shout, project):
    """`live --ui` on a recording written in real time: the card of the highlight appears on the open
    page while the recording still grows (pushed, no reload) and plays its clip; at the end the page
    links to the review of the finished output, served by the same server until Ctrl-C."""
    growing = project / "shout.mkv"
    player = play(early_shout, growing)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    live = subprocess.Popen([sys.executable, "-m", "autotosis", "live", str(growing), "--idle", "1.5", *QUICK,
                             "--ui", "--no-browser"], cwd=project, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    output: list[str] = []
    try:
        assert live.stdout is not None
        first = live.stdout.readline()
        assert first.startswith("autotosis live: http://127.0.0.1:"), first
        url = first.split()[2]
        drain = threading.Thread(target=lambda: output.extend(live.stdout or []), daemon=True)
        drain.start()
        html = urllib.request.urlopen(url, timeout=10).read().decode()
        token = re.search(r'name="autotosis-token" content="([^"]+)"', html)[1]  # type: ignore[index]
        pushed: list[Events] = []
        listener = threading.Thread(target=lambda: pushed.append(read_events(url, token)), daemon=True)
        listener.start()

        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        requests: list[tuple[str, str]] = []
        page.on("request", lambda r: requests.append((r.resource_type, r.url)))
        page.goto(url)
        page.evaluate("window.openedOnce = true")
        page.wait_for_selector(".card[data-n='1']", timeout=40000)
        assert player.poll() is None  # the recording is still being written
        assert page.evaluate("window.openedOnce") is True  # the same page, not reloaded
        assert [r for r in requests if r[0] == "document"] == [("document", url)]  # loaded once
        assert ("eventsource", f"{url.rstrip('/')}{EVENTS}?token={token}") in requests
        video = ".card[data-n='1'] video"
        page.wait_for_function(f"document.querySelector(\"{video}\").readyState >= 1", timeout=20000)
        duration = page.eval_on_selector(video, "v => v.duration")
        rows = [json.loads(line) for line in (project / "output" / "shout" / LOG).read_text().splitlines()]
        assert len(rows) == 1 and page.get_attribute(".card[data-n='1']", "data-file") == rows[0]["file"]
        assert page.get_attribute(video, "src") == "/media/output/shout/" + rows[0]["file"]
        start, end = rows[0]["start"], rows[0]["end"]
        assert duration == pytest.approx(end - start, abs=0.2)
        assert re.search(r"live \d:\d\d · behind", page.text_content("#status"))
        if os.environ.get("AUTOTOSIS_SCREENSHOTS"):
            page.wait_for_function(f"document.querySelector(\"{video}\").readyState >= 2", timeout=20000)
            page.wait_for_timeout(1000)  # let the player's loading spinner fade out
            save_screenshot(page, "live.png")

        page.wait_for_selector("#review-link:not([hidden])", timeout=60000)
        assert "stream ended (idle): 1 clip(s)" in page.text_content("#ended-text")
        assert page.evaluate("window.openedOnce === true")  # still the page first opened
        page.click("#review-link")
        page.wait_for_selector(".card[data-index='0']", timeout=20000)  # the review of the finished output
        listener.join(10)
        assert clip_ids(pushed[0]) == [1] and pushed[0][-1]["event"] == "end"
        assert not errors
        live.send_signal(signal.SIGINT)  # the server stays up for the review until Ctrl-C
        assert live.wait(timeout=20) == 0
        drain.join(10)
        assert "review: http://127.0.0.1:" in "".join(output) and "stopped" in "".join(output)
    finally:
        context.close()
        player.kill()
        if live.poll() is None:
            live.kill()
            live.wait()


def test_a_clip_with_a_short_links_it(tmp_path):
    """--shorts: the clip's card carries its short's URL, which the server serves."""
    folder = clips_folder(tmp_path, 1)
    (folder / "shorts").mkdir()
    (folder / "shorts" / "02-loud-20s.mp4").write_bytes(b"\0" * 512)
    app, feed = live_app(folder)
    live = LiveServer(app)
    try:
        feed.clip(Clip(20.0, 24.0, "loud", 0.9, "clips/02-loud-0m20s.mp4", "shorts/02-loud-20s.mp4"), 1.0)
        cards = [json.loads(e["data"]) for e in read_events(live.url, app.token,
                                                             until=lambda e: len(clip_ids(e)) == 2)]
        assert "short" not in cards[0] and cards[1]["short"] == "/media/output/vod/shorts/02-loud-20s.mp4"
        with urllib.request.urlopen(live.url.rstrip("/") + cards[1]["short"], timeout=10) as response:
            assert response.status == 200 and len(response.read()) == 512
    finally:
        feed.close()
        live.close()
