"""Answering suggestions on a VOD in Debian's Chromium: `autotosis label --ui VOD` with the real
`suggest`, the keyboard, the label file on disk, and a VOD the browser cannot play."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from web_support import LiveServer, save_screenshot

from autotosis import media
from autotosis.core.timeline import Segment
from autotosis.demo import synth
from autotosis.learn.labels import load_label
from autotosis.web.labeler import labeler_app

pytestmark = pytest.mark.browser

SHOUTS = [(20.0, 24.0), (85.0, 89.0), (150.0, 153.0)]  # over a murmur: suggest's loud moments
FIRST = "S.vod.candidates[0].answer"  # the first moment's answer, as the page holds it


def shouting_vod(path: Path, seconds: float, shouts: list[tuple[float, float]],
                 codec: str = "libx264") -> Path:
    """A tiny stream with shouting in `shouts`; the picture's brightness counts frames (5 fps)."""
    rate, fps = 16000, 5
    t = np.arange(int(seconds * rate)) / rate
    loud = np.any([(t >= a) & (t < b) for a, b in shouts], axis=0)
    audio = np.where(loud, 0.6, 0.01) * np.random.default_rng(2).uniform(-1, 1, t.size)
    frames = (np.full((54, 96, 3), (i * 7) % 200 + 30, np.uint8) for i in range(int(seconds * fps)))
    return media.encode_frames(path, frames, fps, audio=audio, sample_rate=rate, codec=codec, gop=fps)


@pytest.fixture(scope="module")
def vods(tmp_path_factory) -> Path:
    """Made once: a 200 s H.264 MP4 and a 130 s MPEG-4 Part 2 MKV (Chromium plays no MPEG-4)."""
    folder = tmp_path_factory.mktemp("vods")
    shouting_vod(folder / "stream.mp4", 200.0, SHOUTS)
    shouting_vod(folder / "old capture.mkv", 130.0, [(20.0, 24.0), (100.0, 104.0)], codec="mpeg4")
    return folder


@pytest.fixture
def project(tmp_path, vods, monkeypatch) -> Path:
    shutil.copytree(vods, tmp_path / "vods")
    (tmp_path / "labels").mkdir()
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # suggest looks for models/ and the cache here, as the CLI does
    return tmp_path


def open_page(browser, project: Path, vod: str):
    live = LiveServer(labeler_app(project, project / "vods" / vod))
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live.url)
    page.wait_for_selector("#candidates li.active", timeout=30000)
    return live, context, page, errors


def clock(page) -> float:
    """The page's time on the VOD's clock (a span preview starts at its offset)."""
    return page.evaluate("now()")


def active(page) -> int:
    return int(page.locator("#candidates li.active").get_attribute("data-index"))


def test_answer_suggestions_with_the_keyboard(browser, project):
    live, context, page, errors = open_page(browser, project, "stream.mp4")
    try:
        candidates = page.evaluate("S.vod.candidates")
        assert len(candidates) >= 3
        for shout, cand in zip(SHOUTS, candidates[:3], strict=True):  # the loud moments, in time order here
            assert cand["start"] <= shout[0] < cand["end"]
        first, second, third = candidates[:3]
        assert page.locator("#keys-vod").is_visible() and "Y" in page.locator("#keys-vod").inner_text()
        assert page.locator("#answered").inner_text().startswith(f"0 / {len(candidates)} answered")
        page.wait_for_function("document.getElementById('video').readyState >= 2", timeout=20000)
        assert clock(page) == pytest.approx(first["peak"], abs=0.3)  # the moment, until played
        # The timeline shows the moment's window, not the 200 s VOD.
        assert page.evaluate("view()") == first["view"]

        page.keyboard.press("Enter")  # plays from 2 s before the moment
        page.wait_for_function("!document.getElementById('video').paused", timeout=10000)
        assert first["start"] - 2.2 <= clock(page) <= first["start"] + 1.5
        page.keyboard.press("y")
        page.wait_for_function("document.querySelector('#candidates li.active').dataset.index === '1'")
        page.keyboard.press("n")
        page.wait_for_function("document.querySelector('#candidates li.active').dataset.index === '2'")
        page.wait_for_selector("#message.ok:has-text('calm saved to labels/stream.toml')")
        assert page.locator("#answered").inner_text().startswith(f"2 / {len(candidates)} answered")
        assert "✓ reaction" in page.locator("#candidates li[data-index='0'] .cand-answer").inner_text()
        assert "✗ calm" in page.locator("#candidates li[data-index='1'] .cand-answer").inner_text()
        saved = load_label(project / "labels" / "stream.toml")
        assert saved.partial
        assert saved.segments == (Segment(first["start"], first["end"]),)
        assert saved.calm_for("rage") == (Segment(second["start"], second["end"]),)
        assert active(page) == 2 and clock(page) == pytest.approx(third["peak"], abs=0.3)

        # Back to the first: tighten the reaction (I at the shout, then drag the end edge in).
        page.keyboard.press("ArrowUp")
        page.keyboard.press("k")
        assert active(page) == 0
        page.evaluate(f"seek({SHOUTS[0][0]})")
        page.keyboard.press("i")
        page.wait_for_function(f"{FIRST}.positive[0] > 19.5 && !{FIRST}.saving")
        edge = page.locator("#segments-layer .seg.reaction .edge.end").bounding_box()
        bar = page.locator("#timeline").bounding_box()
        a, b = first["view"]
        target = bar["x"] + bar["width"] * (SHOUTS[0][1] - a) / (b - a)
        page.mouse.move(edge["x"] + edge["width"] / 2, edge["y"] + edge["height"] / 2)
        page.mouse.down()
        page.mouse.move(target, edge["y"] + edge["height"] / 2, steps=5)
        page.mouse.up()
        page.wait_for_function(f"{FIRST}.positive[1] < 24.5 && !{FIRST}.saving")
        page.wait_for_function("document.querySelectorAll('#segments-layer .seg.calm').length === 2")
        saved = load_label(project / "labels" / "stream.toml")
        (reaction,) = saved.segments
        assert reaction.start == pytest.approx(SHOUTS[0][0], abs=0.3)
        assert reaction.end == pytest.approx(SHOUTS[0][1], abs=0.4)
        calm = saved.calm_for("rage")  # the rest of the first window, and the second
        assert [(c.start, c.end) for c in calm] == [
            (first["start"], reaction.start), (reaction.end, first["end"]), (second["start"], second["end"])]
        assert page.locator("#clips li.active .badge").inner_text().startswith("1 seg")

        # Quick hands: I, O and Y on the third moment without waiting; the file gets the last edges.
        page.keyboard.press("j")
        page.keyboard.press("ArrowDown")
        page.evaluate(f"seek({SHOUTS[2][0]})")
        page.keyboard.press("i")
        page.evaluate(f"seek({SHOUTS[2][1]})")
        page.keyboard.press("o")
        page.keyboard.press("y")
        page.wait_for_function("S.vod.candidates[2].answer && !S.vod.candidates[2].answer.saving")
        reactions = load_label(project / "labels" / "stream.toml").segments
        assert [(s.start, s.end) for s in reactions][1] == pytest.approx(SHOUTS[2], abs=0.05)

        page.reload()  # the answers come back from the file
        page.wait_for_selector("#candidates li.active")
        assert page.locator("#answered").inner_text().startswith(f"3 / {len(candidates)} answered")
        texts = page.locator("#candidates .cand-answer").all_inner_texts()
        assert texts[:3] == ["✓ reaction 0:20.0–0:24.0", "✗ calm", "✓ reaction 2:30.0–2:33.0"]
    finally:
        context.close()
        live.close()
    assert not errors


def test_a_vod_the_browser_cannot_play_plays_through_span_previews(browser, project):
    live, context, page, errors = open_page(browser, project, "old capture.mkv")
    try:
        first, second = page.evaluate("S.vod.candidates")[:2]
        page.wait_for_function("document.getElementById('video').dataset.proxy === '1'", timeout=30000)
        page.wait_for_function("document.getElementById('video').readyState >= 2", timeout=20000)
        assert page.evaluate("S.offset") == first["view"][0]
        assert clock(page) == pytest.approx(first["peak"], abs=0.3)
        # The preview holds the moment's window only: its own clock is short, the page's is the VOD's.
        assert page.evaluate("document.getElementById('video').duration") == pytest.approx(
            first["view"][1] - first["view"][0], abs=0.3)
        page.keyboard.press("Enter")
        page.wait_for_function("!document.getElementById('video').paused", timeout=10000)
        assert first["start"] - 2.2 <= clock(page) <= first["start"] + 1.5
        page.keyboard.press("n")  # moves on: the next preview was made while the first played
        page.wait_for_function(f"S.offset === {second['view'][0]} && S.vod.preview.ready", timeout=20000)
        assert clock(page) == pytest.approx(second["peak"], abs=0.3)
        spans = list((project / "cache" / "proxy" / "spans").glob("*.mp4"))
        assert len(spans) >= 2 and not list((project / "cache" / "proxy").glob("*.mp4"))
        page.wait_for_selector("#message.ok:has-text('calm saved')")
        assert load_label(project / "labels" / "old capture.toml").calm_for("rage") == (
            Segment(first["start"], first["end"]),)
    finally:
        context.close()
        live.close()
    assert not errors


@pytest.mark.skipif(not os.environ.get("AUTOTOSIS_SCREENSHOTS"), reason="refreshes the README's picture only")
def test_screenshot_answering_a_synthetic_stream(browser, tmp_path, monkeypatch):
    """docs/img/answers.png: the generated streamer's VOD with its chat, answered as a person
    would (the reaction tightened with I and O, the rest N), back on a moment with its reaction."""
    spec = synth.scripted(300.0, seed=11, rages=4, hypes=2, bangs=2, rage_length=(3.0, 6.0), gap=30.0,
                          width=480, height=270, fps=10)
    (tmp_path / "vods").mkdir()
    (tmp_path / "labels").mkdir()
    synth.make_stream(tmp_path / "vods" / "stream.mp4", spec, preset="ultrafast")
    synth.write_chat(tmp_path / "vods" / "stream.chat.json", spec)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    live, context, page, errors = open_page(browser, tmp_path, "stream.mp4")
    try:
        page.wait_for_function("document.getElementById('video').readyState >= 2", timeout=20000)
        count = len(page.evaluate("S.vod.candidates"))
        for _ in range(count - 1):
            cand = page.evaluate("current()")
            rage = [s for s in spec.rage if s.start < cand["end"] and s.end > cand["start"]]
            if rage:
                page.evaluate(f"seek({rage[0].start})")
                page.keyboard.press("i")
                page.evaluate(f"seek({rage[0].end})")
                page.keyboard.press("o")
                page.keyboard.press("y")
            else:
                page.keyboard.press("n")
        shown = next(k for k, c in enumerate(page.evaluate("S.vod.candidates"))
                     if c["answer"] and c["answer"]["answer"] == "yes")
        page.click(f"#candidates li[data-index='{shown}']")
        page.evaluate(f"seek(S.vod.candidates[{shown}].answer.positive[0] + 1.0)")
        page.wait_for_function("document.getElementById('video').readyState >= 2 && !S.vod.candidates.some("
                               "(c) => c.answer && c.answer.saving)", timeout=20000)
        save_screenshot(page, "answers.png")
    finally:
        context.close()
        live.close()
    assert not errors
