"""The review page in Debian's Chromium: drop a segment, nudge an edge, render the reel again."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import LiveServer, cli_server, get_json, make_clip, save_screenshot

from autotosis import media
from autotosis.run.compile import CompileOptions, compile_vod
from autotosis.web.review import review_app

pytestmark = pytest.mark.browser

LOUD = [(3.0, 6.0), (15.0, 18.0), (27.0, 30.5)]  # where the "streamer" shouts, far enough apart not to merge


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    """A real `compile` (loudness scorer: no model needed) of a 36 s VOD with three loud moments."""
    project = tmp_path_factory.mktemp("project")
    vod = make_clip(project / "vod.mp4", seconds=36.0, loud=LOUD)
    folder = project / "output" / "vod"
    result = compile_vod(CompileOptions(vod=vod, out_dir=folder, scorer="loudness",
                                        cache=project / ".autotosis-cache"))
    assert len(result.segments) >= 2, result.segments
    return folder


@pytest.fixture
def output(compiled, tmp_path, monkeypatch) -> Path:
    """A fresh copy of the compiled folder per test (the page writes review.json and a new reel)."""
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "output" / "vod"
    shutil.copytree(compiled, folder)
    return folder


@contextlib.contextmanager
def review_page(browser, app) -> Iterator[tuple[LiveServer, Any, list[str]]]:  # type: ignore[no-untyped-def]
    """`app`'s page open in a fresh Chromium context; errors the page throws are collected for the test."""
    live = LiveServer(app)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(live.url)
        yield live, page, errors
    finally:
        context.close()
        live.close()


def selected(folder: Path) -> list[tuple[float, float]]:
    return [(s["start"], s["end"]) for s in json.loads((folder / "segments.json").read_text())["segments"]]


def test_drop_a_segment_and_render(browser, output):
    with review_page(browser, review_app(output.parent.parent, output)) as (_, page, errors):
        spans = selected(output)
        page.wait_for_selector(".card[data-index='1']")
        assert page.locator(".card").count() == len(spans)
        assert "peak" in page.locator(".card[data-index='0'] .score").inner_text()
        assert page.locator("#legend").is_hidden() and page.locator(".label-badge").count() == 0  # one label
        page.wait_for_function("document.querySelector('.card video').readyState >= 1", timeout=20000)

        page.click(".card[data-index='1'] [data-toggle]")
        assert "dropped" in page.locator(".card[data-index='1']").get_attribute("class")
        page.click(".card[data-index='0'] [data-nudge='start+']")  # half a second later
        page.click(".card[data-index='0'] [data-nudge='end-']")  # half a second earlier

        page.click("#render")
        page.wait_for_selector("#message.ok:has-text('reel rendered')", timeout=180000)  # 2 shared cores
        kept = [(spans[0][0] + 0.5, spans[0][1] - 0.5), *spans[2:]]
        reel = media.probe(output / "reel.mp4")
        assert reel.duration == pytest.approx(sum(b - a for a, b in kept), abs=0.1 * len(kept) + 0.1)
        decisions = json.loads((output / "review.json").read_text())["segments"]
        assert [d["keep"] for d in decisions] == [i != 1 for i in range(len(spans))]
        assert (decisions[0]["start"], decisions[0]["end"]) == pytest.approx(kept[0], abs=1e-3)
        assert selected(output) == spans  # compile's own selection is left as it was
        page.wait_for_function("document.getElementById('reel').readyState >= 1", timeout=20000)
        assert "dropped" in page.locator(".card[data-index='1']").get_attribute("class")  # kept after reload
        if os.environ.get("AUTOTOSIS_SCREENSHOTS"):
            page.wait_for_function("[...document.querySelectorAll('video')].every((v) => v.readyState >= 2)",
                                   timeout=20000)
            page.wait_for_timeout(1500)  # let the players' loading spinners fade out
            save_screenshot(page, "review.png")
    assert not errors


def test_render_needs_the_token_and_sane_values(output):
    live = LiveServer(review_app(output.parent.parent, output))
    try:
        rows = [{"start": a, "end": b, "keep": True} for a, b in selected(output)]
        assert live.request("POST", "/api/render", {"segments": rows}, token=None)[0] == 403
        assert live.request("POST", "/api/render", {"segments": rows[:-1]})[0] == 400
        overlapping = [dict(r) for r in rows]
        overlapping[0]["end"] = rows[1]["start"] + 0.5
        assert live.request("POST", "/api/render", {"segments": overlapping})[0] == 400
        none_kept = [{**r, "keep": False} for r in rows]
        assert live.request("POST", "/api/render", {"segments": none_kept})[0] == 400
        assert not (output / "review.json").exists()
        status, body = live.request("GET", "/api/review")
        assert status == 200 and body["vod"] == "vod.mp4"
        assert live.request("GET", "/vod/../../etc/passwd")[0] == 404
    finally:
        live.close()


def test_review_command_serves_the_page(output):
    """`autotosis review output/vod --no-browser` finds the project from the folder and serves it."""
    with cli_server("review", str(output)) as port:
        assert get_json(port, "/api/review")["vod"] == "vod.mp4"


def test_thumbnails_and_a_short_preview(browser, output):
    """Each card shows compile's peak frame; its short button makes the vertical short and plays it."""
    from autotosis.publish.shorts import ShortsConfig

    # The game layout needs no face-cam box (the stack layout's pixels are tested in test_shorts.py).
    app = review_app(output.parent.parent, output, ShortsConfig(size=(216, 384), layout="game"))
    with review_page(browser, app) as (live, page, errors):
        page.wait_for_selector(".card[data-index='1']")
        poster = page.locator(".card[data-index='0'] video").first.get_attribute("poster")
        assert poster and poster.endswith(".jpg") and "/thumbs/01-" in poster
        with urllib.request.urlopen(live.url.rstrip("/") + poster, timeout=30) as response:
            assert response.status == 200 and response.read(3) == b"\xff\xd8\xff"  # a JPEG
        page.click(".card[data-index='1'] [data-nudge='end-']")  # the short follows the edited span
        page.click(".card[data-index='1'] [data-short]")
        said = page.wait_for_selector("#message.ok:has-text('short of #2'), #message.error", timeout=180000)
        assert said.text_content() == "short of #2 ready"  # else the page's error says why
        short = ".card[data-index='1'] video.vertical"
        page.wait_for_function(f"document.querySelector(\"{short}\").readyState >= 1", timeout=20000)
        size = page.evaluate(f"(() => {{ const v = document.querySelector(\"{short}\");"
                             " return [v.videoWidth, v.videoHeight, v.duration]; })()")
        start, end = selected(output)[1]
        assert size[:2] == [216, 384]
        assert size[2] == pytest.approx(end - 0.5 - start, abs=0.1)
        made = list((output / "shorts").glob("02-*.mp4"))
        assert len(made) == 1 and media.probe(made[0]).height == 384
    assert not errors


def _as_two_labels(folder: Path) -> list[str]:
    """Make the compiled folder what a two-label compile writes: a label per segment in
    segments.json, a score column per label in scores.csv. Returns the segments' labels."""
    data = json.loads((folder / "segments.json").read_text())
    labels = ["rage" if i % 2 == 0 else "laugh" for i in range(len(data["segments"]))]
    for row, label in zip(data["segments"], labels, strict=True):
        row["label"] = label
    (folder / "segments.json").write_text(json.dumps({**data, "label": "rage"}))
    rows = (folder / "scores.csv").read_text().splitlines()[1:]
    text = ["time,rage,laugh", *(f"{r},{1 - float(r.split(',')[1]):.5f}" for r in rows)]
    (folder / "scores.csv").write_text("\n".join(text) + "\n")
    return labels


def test_a_reel_of_two_labels_shows_each_in_its_colour(browser, output):
    """Legend, card badges and timeline marks name each segment's label in the palette's colour."""
    from autotosis.core import palette

    labels = _as_two_labels(output)
    colours = palette.label_colours(["rage", "laugh"])
    with review_page(browser, review_app(output.parent.parent, output)) as (live, page, errors):
        page.wait_for_selector(".card[data-index='1'] .label-badge")
        legend = page.locator("#legend .legend-item")
        assert legend.all_inner_texts() == ["rage", "laugh"]
        swatches = page.eval_on_selector_all("#legend .swatch", "els => els.map(e => e.style.background)")
        marks = page.eval_on_selector_all(
            "#strip .seg", "els => els.map(e => [e.dataset.label, getComputedStyle(e).borderTopColor])")
        badges = page.eval_on_selector_all(".label-badge", "els => els.map(e => e.textContent)")
        assert badges == labels
        expected = {name: "rgb({}, {}, {})".format(*(int(c[i:i + 2], 16) for i in (1, 3, 5)))
                    for name, c in colours.items()}
        assert swatches == [expected["rage"], expected["laugh"]]
        assert marks == [[label, expected[label]] for label in labels]
        # a nudged laugh card is scored on the laugh column (1 - the rage score here)
        laugh = live.request("GET", "/api/stats?start=1&end=4&label=laugh")[1]
        rage = live.request("GET", "/api/stats?start=1&end=4&label=rage")[1]
        assert laugh["mean"] == pytest.approx(1 - rage["mean"], abs=1e-3)
    assert not errors


def test_render_of_two_labels_keeps_each_segments_label(browser, output):
    """Render on a reel of two labels: segments.json keeps compile's labelled selection, and each
    part of the new reel is captioned with its own segment's label in that label's colour."""
    import numpy as np

    from autotosis.core import palette

    labels = _as_two_labels(output)
    spans = selected(output)
    with review_page(browser, review_app(output.parent.parent, output)) as (_, page, errors):
        page.wait_for_selector(".card[data-index='1'] .label-badge")
        page.click(".card[data-index='0'] [data-nudge='start+']")  # not compile's reel: half a second later
        page.click("#render")
        page.wait_for_selector("#message.ok:has-text('reel rendered')", timeout=180000)  # 2 shared cores
    assert not errors
    kept = [(spans[0][0] + 0.5, spans[0][1]), *spans[1:]]
    segments = json.loads((output / "segments.json").read_text())["segments"]
    assert [s["label"] for s in segments] == labels and selected(output) == spans

    colours = {name: np.array([int(c[k:k + 2], 16) for k in (1, 3, 5)])
               for name, c in palette.label_colours(["rage", "laugh"]).items()}
    at = 0.0
    for (a, b), label in zip(kept, labels, strict=True):
        middle = at + (b - a) / 2  # the caption (bottom left) names the label in its colour
        batch = next(media.frames(output / "reel.mp4", None, None, None, start=middle, end=middle + 0.2))
        caption = batch.images[0][-60:, :160].astype(int)
        pixels = {name: int((np.abs(caption - c).max(axis=-1) < 60).sum()) for name, c in colours.items()}
        assert pixels[label] > 50 and pixels[label] > 10 * pixels[next(n for n in colours if n != label)], \
            (label, pixels)
        at += b - a


def test_each_card_waits_at_its_peak_until_played(browser, output):
    """Once the players load, a card shows the highlight's peak (compile's thumbnail, the player
    parked at the peak), not the calm first frame of its lead-in; play starts at the span's start."""
    with review_page(browser, review_app(output.parent.parent, output)) as (live, page, errors):
        rows = live.request("GET", "/api/review")[1]["segments"]
        page.wait_for_selector(f".card[data-index='{len(rows) - 1}']")
        loaded = "[...document.querySelectorAll('.card video')].every((v) => v.readyState >= 2)"
        page.wait_for_function(loaded, timeout=30000)
        shown = page.eval_on_selector_all(".card video", "vs => vs.map((v) => [v.poster, v.currentTime])")
        for row, (poster, at) in zip(rows, shown, strict=True):
            assert poster.endswith(row["thumb"]) and f"/thumbs/{row['index'] + 1:02d}-" in poster
            assert row["start"] + 1.0 < row["peak_time"] < row["end"], row  # past the lead-in
            assert at == pytest.approx(row["peak_time"], abs=0.06), (row, at)
        first = ".card[data-index='0'] video"
        page.eval_on_selector(first, "v => v.play()")
        page.wait_for_function(f"document.querySelector(\"{first}\").currentTime > {rows[0]['start']}",
                               timeout=20000)
        at = page.eval_on_selector(first, "v => { v.pause(); return v.currentTime; }")
        assert rows[0]["start"] <= at < rows[0]["peak_time"]  # from the start, lead-in and all
    assert not errors


def test_save_as_labels_writes_the_review_into_the_vods_label_file(browser, output):
    """Drop one card, pull another's end later, Save as labels: the kept reactions are positive
    segments (the last core follows the end), the dropped highlight is calm; saving again adds nothing."""
    from autotosis.learn.labels import load_label

    project = output.parent.parent
    rows = json.loads((output / "segments.json").read_text())["segments"]
    assert all(r["cores"] for r in rows)  # compile wrote each highlight's reactions
    with review_page(browser, review_app(project, output)) as (_, page, errors):
        page.wait_for_selector(".card[data-index='1']")
        page.click(".card[data-index='1'] [data-toggle]")
        page.click(".card[data-index='0'] [data-nudge='end+']")  # half a second later
        page.click("#save-labels")
        said = page.wait_for_selector("#message.ok, #message.error", timeout=30000).text_content()
        kept = len(rows) - 1
        assert said == (f"saved: labels/vod.toml: loud +{kept} segment{'s' if kept > 1 else ''}, +1 calm"
                        " (no face-cam box yet: add one with autotosis label --facecam)")
        saved = load_label(project / "labels" / "vod.toml")
        first = [tuple(c) for c in rows[0]["cores"]]
        first[-1] = (first[-1][0], first[-1][1] + 0.5)
        expected = first + [tuple(c) for r in rows[2:] for c in r["cores"]]
        assert [t for s in saved.segments for t in (s.start, s.end)] == pytest.approx(
            [t for span in expected for t in span], abs=1e-3)
        assert [(s.start, s.end) for s in saved.calm_for("loud")] == [(rows[1]["start"], rows[1]["end"])]
        decisions = json.loads((output / "review.json").read_text())["segments"]
        assert [d["keep"] for d in decisions] == [i != 1 for i in range(len(rows))]
        page.click("#save-labels")
        page.wait_for_selector("#message.ok:has-text('+0 segments, +0 calm')", timeout=30000)
    assert not errors


def test_save_labels_api_takes_an_all_dropped_review_and_a_label_per_highlight(output):
    """No kept highlight is a fine review to learn from (a render needs one); each highlight
    answers for its own label in a reel of several; the token is required."""
    from autotosis.learn.labels import load_label

    labels = _as_two_labels(output)
    spans = selected(output)
    live = LiveServer(review_app(output.parent.parent, output))
    try:
        rows = [{"start": a, "end": b, "keep": False} for a, b in spans]
        assert live.request("POST", "/api/labels", {"segments": rows}, token=None)[0] == 403
        status, body = live.request("POST", "/api/labels", {"segments": rows})
        count = {name: labels.count(name) for name in ("rage", "laugh")}
        assert status == 200 and body == {
            "message": f"labels/vod.toml: rage +0 segments, +{count['rage']} calm; "
                       f"laugh +0 segments, +{count['laugh']} calm", "facecam": False}
        saved = load_label(output.parent.parent / "labels" / "vod.toml")
        for name in ("rage", "laugh"):
            assert [(s.start, s.end) for s in saved.calm_for(name)] == [
                span for span, own in zip(spans, labels, strict=True) if own == name]
            assert saved.by_label[name] == ()
    finally:
        live.close()
