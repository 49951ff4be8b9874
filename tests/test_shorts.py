"""Vertical shorts and thumbnails on a generated VOD with a known face-cam colour."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.errors import AutotosisError
from autotosis.core.timeline import Segment, Timeline
from autotosis.pick.highlights import Highlight, highlights
from autotosis.publish import framing, shorts, thumbs
from autotosis.run.compile import CompileOptions, compile_vod

W, H, FPS, RATE = 320, 180, 30, 48000
FACE = (0.70, 0.05, 0.95, 0.45)  # the face-cam box, filled with MAGENTA
MAGENTA, GREEN, YELLOW = (230, 30, 200), (40, 110, 60), (250, 250, 40)
SIZE = (216, 384)
LOUD = [(3.0, 6.0), (14.0, 17.0)]


def _frames(seconds: float):
    x0, y0, x1, y1 = round(FACE[0] * W), round(FACE[1] * H), round(FACE[2] * W), round(FACE[3] * H)
    for i in range(int(seconds * FPS)):
        img = np.empty((H, W, 3), np.uint8)
        img[:] = GREEN
        cx = 30 + (i * 3) % 60  # the action: a yellow block moving about on the left
        img[100:140, cx:cx + 30] = YELLOW
        img[y0:y1, x0:x1] = MAGENTA
        yield img


@pytest.fixture(scope="module")
def vod(tmp_path_factory) -> Path:
    """22 s of a 'stream' whose sound is quiet murmur with two loud stretches."""
    folder = tmp_path_factory.mktemp("shorts") / "my \"best\" stream's vod"
    folder.mkdir()
    t = np.arange(22 * RATE) / RATE
    loud = np.any([(t >= a) & (t < b) for a, b in LOUD], axis=0)
    audio = np.where(loud, 0.5, 0.02) * np.random.default_rng(0).uniform(-1, 1, t.size)
    return media.encode_frames(folder / "vod 1.mp4", _frames(22), FPS, audio=audio, sample_rate=RATE, gop=FPS)


def _frame(path: Path, at: float) -> np.ndarray:
    batch = next(media.frames(path, None, None, None, at, at + 0.2))
    return batch.images[0].astype(int)


def _is(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    return (np.abs(pixels - np.array(colour)) < tolerance).all(axis=-1)


def _no_black_edges(image: np.ndarray) -> None:
    for edge in (image[:3], image[-3:], image[:, :3], image[:, -3:]):
        assert edge.mean() > 25, "a black bar at an edge"


def test_stack_short_shows_the_facecam_over_the_game(vod, tmp_path):
    items = highlights([Segment(2.0, 7.5, 0.9, 0.6)], "rage: it's \"on\"")
    out = shorts.make_shorts(vod, items, tmp_path / "shorts", shorts.ShortsConfig(size=SIZE), FACE)
    assert [p.name for p in out] == ["01-rage-it-s-on-2s.mp4"]
    info = media.probe(out[0])
    assert (info.width, info.height) == SIZE and info.has_audio and info.codec == "h264"
    assert info.duration == pytest.approx(5.5, abs=2 / FPS)
    assert media.integrated_loudness(out[0]) == pytest.approx(-14.0, abs=1.0)

    image = _frame(out[0], 2.0)
    band = framing.face_band_height((224, 9, 80, 72), SIZE)
    face = image[round(band * 0.4):band - 4]  # below the caption
    assert _is(face, MAGENTA).mean() > 0.9  # the face-cam box fills its band
    game = image[band + 4:]
    assert not _is(game, MAGENTA).any()  # the game band is cropped away from the face-cam
    assert _is(game, GREEN).mean() > 0.5 and _is(game, YELLOW).sum() > 50  # and shows the action
    _no_black_edges(image[:band])
    _no_black_edges(image[band:])


def test_game_and_facecam_layouts(vod, tmp_path):
    items = highlights([Segment(8.0, 10.0, 0.8, 0.5)], "hype")
    for layout in ("game", "facecam"):
        config = shorts.ShortsConfig(size=SIZE, layout=layout)
        path = shorts.make_shorts(vod, items, tmp_path / layout, config, FACE)[0]
        image = _frame(path, 1.0)
        assert image.shape[:2] == (SIZE[1], SIZE[0])
        _no_black_edges(image)
        if layout == "game":
            assert not _is(image, MAGENTA).any() and _is(image, YELLOW).sum() > 50
        else:
            middle = image[SIZE[1] // 2 - 20:SIZE[1] // 2 + 20]
            assert _is(middle, MAGENTA).mean() > 0.9
            fill = image[-40:]  # the box is wider than the frame: a blurred, darkened copy fills below
            assert fill[..., 0].mean() > 60 and fill[..., 0].mean() > 2 * fill[..., 1].mean()
            assert fill[..., 0].mean() < 0.8 * MAGENTA[0]


def test_long_highlight_is_capped_around_its_peak(vod, tmp_path):
    scores = Timeline(np.arange(0, 22, 0.25), np.where(np.arange(0, 22, 0.25) == 15.0, 1.0, 0.2))
    items = highlights([Segment(1.0, 21.0, 1.0, 0.3)], "rage", scores)
    assert items[0].peak_time == 15.0
    span = shorts.window(items[0], 6.0)
    assert (span.start, span.end) == pytest.approx((11.0, 17.0))  # the peak two thirds in
    config = shorts.ShortsConfig(size=SIZE, max_seconds=6.0, title="{label} #{index}: \"{time}\" {{x}} 100%")
    path = shorts.make_shorts(vod, items, tmp_path, config, FACE)[0]
    assert media.probe(path).duration == pytest.approx(6.0, abs=2 / FPS)
    assert shorts.window(Highlight(0, Segment(0.0, 30.0), "x", 29.0), 10.0) == Segment(20.0, 30.0)


def test_titles_and_sizes_are_checked(vod, tmp_path):
    with pytest.raises(AutotosisError, match=r"unknown field \{game\}"):
        shorts.check_title("{label} {game}")
    with pytest.raises(AutotosisError, match="brace"):
        shorts.check_title("{label")
    with pytest.raises(ValueError, match="even"):
        shorts.parse_size("1081x1920")
    assert shorts.parse_size("1080x1920") == (1080, 1920)
    items = highlights([Segment(2.0, 3.0)], "rage")
    with pytest.raises(AutotosisError, match="face-cam"):
        shorts.make_shorts(vod, items, tmp_path, shorts.ShortsConfig(size=SIZE), None)
    first = shorts.make_shorts(vod, items, tmp_path, shorts.ShortsConfig(size=SIZE), FACE)[0]
    before = first.read_bytes()
    with pytest.raises(AutotosisError, match="--force"):
        shorts.make_shorts(vod, items, tmp_path, shorts.ShortsConfig(size=SIZE, layout="game"), FACE)
    assert first.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_thumbs_and_contact_sheet(vod, tmp_path):
    items = highlights([Segment(2.0, 4.0), Segment(9.0, 12.0)], "rage")
    items = [Highlight(i.index, i.segment, i.label, t) for i, t in zip(items, (3.0, 10.0), strict=True)]
    paths = thumbs.make_thumbs(vod, items, tmp_path / "thumbs", width=160)
    assert [p.name for p in paths] == ["01-rage-2s.jpg", "02-rage-9s.jpg"]
    for path, at in zip(paths, (3.0, 10.0), strict=True):
        with Image.open(path) as image:
            assert image.size == (160, 90)
            got = np.asarray(image.convert("RGB")).astype(int)
        expected = list(_frames(at + 0.5))[round(at * FPS)]
        small = np.asarray(Image.fromarray(expected).resize((160, 90))).astype(int)
        assert np.abs(got - small).mean() < 12  # the frame at the peak, not another
    sheet = thumbs.contact_sheet(items, paths, tmp_path / "thumbs" / "contact.jpg", "my vod")
    with Image.open(sheet) as image:
        assert image.width > 2 * 160


def test_compile_shorts_and_the_shorts_command(vod, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "output" / "vod 1"
    result = compile_vod(CompileOptions(vod=vod, out_dir=folder, scorer="loudness", facecam=FACE,
                                        shorts=shorts.ShortsConfig(size=SIZE)))
    assert len(result.segments) == 2
    made = sorted((folder / "shorts").glob("*.mp4"))
    assert len(made) == 2 and all(media.probe(p).height == SIZE[1] for p in made)
    assert len(list((folder / "thumbs").glob("0*.jpg"))) == 2 and (folder / "thumbs" / "contact.jpg").exists()
    assert json.loads((folder / "options.json").read_text())["shorts"]["size"] == list(SIZE)

    rows = json.loads((folder / "segments.json").read_text())["segments"]
    review = [{"index": 0, "keep": False, "start": rows[0]["start"], "end": rows[0]["end"]},
              {"index": 1, "keep": True, "start": rows[1]["start"] + 1.0, "end": rows[1]["end"]}]
    (folder / "review.json").write_text(json.dumps({"segments": review}))
    run = CliRunner().invoke(cli, ["shorts", str(folder), "--shorts-size", "216x384", "--layout", "game",
                                   "--facecam", ",".join(map(str, FACE)), "--force"])
    assert run.exit_code == 0, run.output
    assert "from the review page's kept segments" in run.output and run.output.count(".mp4") == 1
    redone = folder / "shorts" / f"01-loud-{int(rows[1]['start'] + 1.0)}s.mp4"
    assert media.probe(redone).duration == pytest.approx(rows[1]["end"] - rows[1]["start"] - 1.0, abs=2 / FPS)

    bad = CliRunner().invoke(cli, ["shorts", str(folder), "--title", "{nope}"])
    assert bad.exit_code == 1 and "unknown field {nope}" in bad.output and "Traceback" not in bad.output
