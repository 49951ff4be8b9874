"""The labeler page in Debian's Chromium: play, mark with the keyboard, drag the box, save to TOML."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import tomlkit
from web_support import LiveServer, make_clip, save_screenshot

from autotosis.core.palette import LABEL_COLOURS, label_colours
from autotosis.learn.labels import load_label
from autotosis.web.labeler import labeler_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Made once: an H.264 stream clip and an old MPEG-4 AVI capture the browser cannot play."""
    folder = tmp_path_factory.mktemp("clips")
    make_clip(folder / "stream.mp4", seconds=8.0)
    make_clip(folder / "zz old capture.avi", seconds=3.0, codec="mpeg4")
    return folder


@pytest.fixture
def project(tmp_path, clips, monkeypatch) -> Path:
    shutil.copytree(clips, tmp_path / "clips")
    (tmp_path / "labels").mkdir()
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def server(project):
    live = LiveServer(labeler_app(project))
    yield live
    live.close()


@pytest.fixture
def page(browser, server):
    # bypass_csp only lets Playwright's own wait_for_function evaluate; the page's CSP is tested apart.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_selector("#clips li.active")
    yield page
    context.close()
    assert not errors


def video_time(page) -> float:
    return page.evaluate("document.getElementById('video').currentTime")


def wait_playable(page) -> None:
    page.wait_for_function("document.getElementById('video').readyState >= 2", timeout=20000)


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()


def at(box: dict, fx: float, fy: float) -> tuple[float, float]:
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def test_label_a_clip_with_keyboard_and_mouse(page, project):
    assert page.locator("#clips li.active .name").inner_text().startswith("stream.mp4")
    wait_playable(page)

    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('video').currentTime > 0.3", timeout=10000)
    page.keyboard.press(" ")
    assert page.evaluate("document.getElementById('video').paused")

    page.keyboard.press("Home")
    page.keyboard.press(".")  # one frame forward at 15 fps
    assert video_time(page) == pytest.approx(1 / 15, abs=1e-3)
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("i")
    page.keyboard.press("Shift+ArrowRight")  # +5 s
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("]")
    assert page.locator("#seg-rows tr").count() == 1
    assert page.locator("#seg-rows tr td").nth(1).inner_text() == "0:02.00"
    assert page.locator("#seg-rows tr td").nth(2).inner_text() == "0:06.00"

    # A second segment, then Del removes it again.
    page.keyboard.press("End")
    page.keyboard.press("[")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("o")
    assert page.locator("#seg-rows tr").count() == 2
    page.keyboard.press("Delete")
    assert page.locator("#seg-rows tr").count() == 1

    # Drag the segment's end edge on the timeline from 6 s back to about 5 s.
    bar = page.locator("#timeline").bounding_box()
    edge = page.locator("#segments-layer .seg .edge.end").bounding_box()
    drag(page, at(edge, 0.5, 0.5), at(bar, 5.0 / 8.0, 0.5))
    end_text = page.locator("#seg-rows tr td").nth(2).inner_text()
    assert end_text.startswith("0:05.0") or end_text.startswith("0:04.9"), end_text

    # Auto box finds the face-cam; then draw our own and move it.
    page.keyboard.press("a")
    page.wait_for_selector("#message.ok", timeout=20000)
    auto_box = [float(v) for v in page.locator("#box-text").inner_text().split("[")[1].rstrip("]").split(",")]
    assert auto_box[0] < 0.75 < auto_box[2] and auto_box[1] < 0.3 < auto_box[3]
    overlay = page.locator("#overlay").bounding_box()
    drag(page, at(overlay, 0.05, 0.10), at(overlay, 0.35, 0.50))  # outside the auto box: a new box
    drag(page, at(overlay, 0.20, 0.30), at(overlay, 0.30, 0.35))  # inside it: move by (+0.1, +0.05)
    page.keyboard.press("3")
    assert page.evaluate("document.getElementById('video').playbackRate") == 1

    page.keyboard.press("s")
    page.wait_for_selector("#message.ok:has-text('saved labels/stream.toml')")
    doc = tomlkit.parse((project / "labels" / "stream.toml").read_text()).unwrap()
    assert doc["clip"] == "clips/stream.mp4"
    assert doc["label"] == "rage"
    assert doc["segments"][0][0] == "0:02.000"
    assert 4.9 < load_label(project / "labels" / "stream.toml").segments[0].end < 5.1
    assert doc["facecam"] == pytest.approx([0.15, 0.15, 0.45, 0.55], abs=0.01)
    assert page.locator("#clips li.active .badge").inner_text().startswith("1 seg")
    if os.environ.get("AUTOTOSIS_SCREENSHOTS"):  # for the README: the detected box, playhead in the segment
        page.keyboard.press("a")
        page.wait_for_selector("#message.ok:has-text('face found')")
        page.keyboard.press("Home")
        page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press("ArrowLeft")
        save_screenshot(page, "labeler.png")


def test_changed_on_disk_is_reported_and_edits_survive(page, project):
    wait_playable(page)
    label_file = project / "labels" / "stream.toml"
    label_file.write_text('# written by hand meanwhile\nclip = "clips/stream.mp4"\nsegments = [[1, 2]]\n')
    page.keyboard.press("i")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("o")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#conflict:not([hidden])")
    assert "changed on disk" in page.locator("#conflict-text").inner_text()
    assert "segments = [[1, 2]]" in label_file.read_text()  # untouched
    assert page.locator("#seg-rows tr").count() == 1  # the edit is still in the page
    page.click("#conflict-overwrite")
    page.wait_for_selector("#message.ok:has-text('saved')")
    saved = load_label(label_file)
    assert [(s.start, s.end) for s in saved.segments] == [(0.0, 5.0)]
    assert "# written by hand meanwhile" in label_file.read_text()  # comments kept, as the CLI does


def test_clip_the_browser_cannot_play_gets_a_proxy(page, project):
    page.click("#clips li[data-clip='clips/zz old capture.avi']")
    page.wait_for_function("document.getElementById('video').dataset.proxy === '1'", timeout=30000)
    wait_playable(page)
    assert list((project / "cache" / "proxy").glob("*.mp4"))
    page.keyboard.press("End")
    duration = video_time(page)
    assert duration == pytest.approx(3.0, abs=0.15)  # the original's timeline, not trimmed
    page.keyboard.press("p")  # previous clip
    page.wait_for_selector("#clips li.active[data-clip='clips/stream.mp4']")


def test_label_picker_adds_a_label_and_keeps_the_others(page, project):
    """A clip labeled rage on disk: add laugh in the page, mark an overlapping laugh, switch back
    with L; the saved file has both, the rage segments untouched. Each label wears the colour
    its reels give it (core/palette.py, the project's labels in the order of a model's heads)."""
    label_file = project / "labels" / "stream.toml"
    label_file.write_text('# by hand\nclip = "clips/stream.mp4"\nlabel = "rage"\nsegments = [[1, 2.5]]\n')
    (project / "labels" / "zz old capture.toml").write_text(
        'clip = "clips/zz old capture.avi"\nlabel = "laugh"\nsegments = []\n')
    page.reload()  # the page keeps its own edits per clip: start afresh from the file
    page.wait_for_selector(".label-chip[data-label='rage'].active")
    reel = label_colours(["laugh", "rage"])  # a laugh+rage model's captions, timeline.png, review page
    assert chip_colour(page, "rage") == rgb(reel["rage"])  # though rage is this file's first label
    wait_playable(page)
    page.click("#label-name")
    page.keyboard.type("laugh")
    page.keyboard.press("Enter")
    page.wait_for_selector(".label-chip[data-label='laugh'].active")
    assert page.locator("#seg-rows tr").count() == 0  # laugh's own segments: none yet
    assert page.locator("#segments-layer .seg.other[data-label='rage']").count() == 1  # rage shown faded
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("i")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("o")
    assert page.locator("#seg-rows tr").count() == 1
    assert chip_colour(page, "laugh") == rgb(reel["laugh"]) != chip_colour(page, "rage")
    page.click("#label-name")
    page.keyboard.type("pog")  # new to the project: the palette's next colour
    page.keyboard.press("Enter")
    assert chip_colour(page, "pog") == rgb(LABEL_COLOURS[2])
    page.keyboard.press("l")  # back to rage
    page.wait_for_selector(".label-chip[data-label='rage'].active")
    assert page.locator("#seg-rows tr td").nth(1).inner_text() == "0:01.00"
    page.keyboard.press("s")
    page.wait_for_selector("#message.ok:has-text('saved labels/stream.toml')")
    saved = load_label(label_file)
    assert [(s.start, s.end) for s in saved.by_label["rage"]] == [(1.0, 2.5)]
    assert [(s.start, s.end) for s in saved.by_label["laugh"]] == [(1.0, 3.0)]
    assert saved.by_label["pog"] == ()
    assert "# by hand" in label_file.read_text()


def chip_colour(page, label: str) -> str:
    return page.locator(f".label-chip[data-label='{label}']").evaluate("c => c.style.borderColor")


def rgb(colour: str) -> str:
    """"#RRGGBB" as the browser reports a style's colour."""
    return "rgb({}, {}, {})".format(*(int(colour[k:k + 2], 16) for k in (1, 3, 5)))
