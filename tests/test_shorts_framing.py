"""Shorts that look edited by hand: the gameplay never shows the face-cam, the caption never
covers the face, and a short shows exactly the reel's frames.

The geometry (publish/framing.py) is checked on tables of boxes; then real shorts of a
drawn streamer whose face-cam sits in each corner, where OpenCV's face detector must
find the face once (twice would be the face-cam in the gameplay too), the face-cam's
magenta wall must stay out of the gameplay and the caption's pixels off the face.
AUTOTOSIS_SCREENSHOTS=DIR saves those frames as DIR/shorts-corners.png (a row per
corner: the VOD, then stack, game, facecam) and DIR/shorts.png (the bottom-left row,
the README's picture).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from media_support import counter_vod, decoded, frame_number
from PIL import Image

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.frames import frame_span
from autotosis.core.timeline import Segment
from autotosis.demo.synth import Streamer, StreamSpec, make_stream
from autotosis.learn.facecam import faces_in
from autotosis.pick.highlights import highlights
from autotosis.publish import framing, shorts

FRAME = (320, 180)
SIZE = (216, 384)
FACECAM = (0.28, 0.42)  # the face-cam box's width and height, as fractions
CORNERS = {"top-left": (0.02, 0.03), "top-right": (0.70, 0.03),
           "bottom-left": (0.02, 0.55), "bottom-right": (0.70, 0.55)}
MAGENTA = (220, 40, 210)  # the streamer's wall: only the face-cam has it


def _box(corner: str) -> tuple[float, float, float, float]:
    x0, y0 = CORNERS[corner]
    return x0, y0, round(x0 + FACECAM[0], 2), round(y0 + FACECAM[1], 2)


def _pixels(box: tuple[float, float, float, float]) -> media.Rect:
    return media.pixel_box(box, *FRAME)


def _overlaps(a: media.Rect, b: media.Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("corner", CORNERS)
@pytest.mark.parametrize("layout", ["stack", "game"])
@pytest.mark.parametrize("focus", [None, 0, 160, 320])
def test_the_gameplay_crop_keeps_off_the_face_cam(corner, layout, focus):
    face = _pixels(_box(corner))
    parts = framing.layout_parts(layout, (1080, 1920), FRAME, face, (0, 0, *FRAME), focus)
    gameplay = parts[-1]
    assert gameplay.mask is None  # a corner face-cam always leaves room beside it
    assert not _overlaps(gameplay.source, framing.keep_out(face, FRAME))
    w, h = gameplay.source[2:]
    assert abs(w / h - gameplay.width / gameplay.height) < 0.02  # the band's shape: nothing stretched


def test_a_face_cam_across_the_frame_is_masked_and_a_hand_crop_shown_whole():
    wide = (0, 60, 320, 70)  # a band across the middle: no crop beside it is tall enough
    crop, mask = framing.game_crop((0, 0, *FRAME), 9 / 16, None, wide, FRAME)
    assert crop[3] == 180 and mask is not None
    assert mask[1] == 60 - round(0.02 * 180) and mask[3] >= 70  # the box and its margin, inside the crop
    parts = framing.layout_parts("game", SIZE, FRAME, _pixels(_box("bottom-left")), (0, 0, *FRAME),
                                 hand_crop=(0, 0, *FRAME))
    assert parts[0].source == (0, 0, *FRAME) and parts[0].fit  # exactly the crop asked for
    assert parts[0].mask == (0, 95, 103, 84)  # the face-cam (6, 99, 90, 76) and 6.4 x 3.6 px around it


def test_the_caption_takes_the_highest_free_place_in_the_safe_area():
    size = (1080, 1920)
    top, bottom = round(framing.SAFE[1] * 1920), round(framing.SAFE[3] * 1920)
    assert framing.caption_top(size, 100, []) == top
    assert framing.caption_top(size, 100, [(300, 0, 400, 200)]) == top  # the face is above the safe area
    assert framing.caption_top(size, 100, [(300, 200, 400, 500)]) == 700  # just below the face
    assert framing.caption_top(size, 100, [(300, 200, 400, 1040)]) == bottom - 100  # covers the least
    long = framing.caption_height("x" * 80, size)
    assert long >= 3 * framing.caption_height("x", size)  # a long title wraps


def _synthetic(folder: Path, corner: str) -> Path:
    spec = StreamSpec(duration=3.0, width=FRAME[0], height=FRAME[1], fps=30.0, facecam=_box(corner), seed=3,
                      streamer=Streamer(wall=MAGENTA), rage=(Segment(0.5, 2.5),))
    return make_stream(folder / f"{corner}.mp4", spec, preset="ultrafast")


def _is(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 45) -> np.ndarray:
    return (np.abs(pixels.astype(int) - np.array(colour)) < tolerance).all(axis=-1)


def _caption_off_the_face(image: np.ndarray, face: tuple[int, int, int, int], where: str) -> None:
    """The caption's white pixels lie in the safe area and off the face (its head, with hair)."""
    w, h = face[2:]
    head = framing.grow(face, 0.2 * w, 0.4 * h, 0.2 * w, 0.15 * h, (0, 0, *SIZE))
    text = (image > 235).all(axis=-1)
    text[head[1]:head[1] + head[3], head[0]:head[0] + head[2]] = False  # the eyes are white too
    ys, xs = np.nonzero(text)
    assert len(ys) > 20, where  # the caption is there...
    caption = (int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
    assert not _overlaps(caption, head), where  # ...and off the face
    assert SIZE[1] * framing.SAFE[1] - 3 <= caption[1], where  # below the apps' top tabs
    assert caption[1] + caption[3] <= SIZE[1] * framing.SAFE[3], where


@pytest.mark.slow
def test_shorts_from_every_corner_show_the_face_cam_once_and_the_caption_off_the_face(tmp_path):
    rows = []
    items = highlights([Segment(0.5, 2.5, 0.9, 0.6)], "rage")
    for corner in CORNERS:
        vod = _synthetic(tmp_path, corner)
        row = [np.asarray(Image.fromarray(decoded(vod)[45]).resize((SIZE[1] * 16 // 9, SIZE[1])))]
        band = framing.face_band_height(_pixels(_box(corner)), SIZE)
        for layout in ("stack", "game", "facecam"):
            config = shorts.ShortsConfig(size=SIZE, layout=layout)
            path = shorts.make_shorts(vod, items, tmp_path / corner / layout, config, _box(corner))[0]
            frames = decoded(path)
            row.append(frames[30])
            where = f"{corner} {layout}"
            wall = _is(frames[30], MAGENTA)  # the face-cam's wall: in the face-cam's part, nowhere else
            face_part = {"stack": band, "game": 0, "facecam": SIZE[1]}[layout]
            assert face_part == 0 or wall[:face_part].mean() > 0.05, where
            assert layout == "facecam" or wall[face_part + 2:].mean() < 0.002, where
            if layout == "game":
                continue
            # The face, where OpenCV finds it (not in every frame: a shouting, shaking head).
            found = [(image, faces[0][:4]) for image in frames[::6]
                     if len(faces := faces_in(image[:face_part])) == 1]
            assert len(found) >= len(frames[::6]) // 2, where
            for image, face in found:
                _caption_off_the_face(image, face, where)
        rows.append(np.concatenate(row, axis=1))
    folder = os.environ.get("AUTOTOSIS_SCREENSHOTS")
    if folder:
        pictures = {"shorts-corners.png": np.concatenate(rows), "shorts.png": rows[2][:, -3 * SIZE[0]:]}
        for name, picture in pictures.items():
            small = Image.fromarray(picture).quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            small.save(Path(folder) / name, optimize=True)


@pytest.mark.parametrize("rate", ["30000/1001", "30", "25", "60000/1001"])
def test_a_short_shows_exactly_the_reels_frames(tmp_path, rate):
    fps = Fraction(rate)
    vod = counter_vod(tmp_path / "vod.mp4", fps, 3.0, size=(192, 108))
    segment = Segment(0.93, 2.47, 0.9, 0.6)
    first, count = frame_span(segment, fps)
    config = shorts.ShortsConfig(size=(192, 342), layout="game", game_crop=(0.0, 0.0, 1.0, 1.0),
                                 loudness=None)
    path = shorts.make_shorts(vod, highlights([segment], "rage"), tmp_path / "shorts", config)[0]
    frames = decoded(path)
    x, y, w, h = framing.shown(media.Part((0, 0, 192, 108), 192, 342, fit=True), 0, (0, 0, 192, 108))
    assert [frame_number(image[y:y + h, x:x + w]) for image in frames] == list(range(first, first + count))
    assert media.probe(path).fps == fps


def test_game_crop_is_an_option_and_a_config_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "autotosis.toml").write_text("[profile.corner]\ngame-crop = [0.3, 0.0, 1.0, 1.0]\n")
    shown = CliRunner().invoke(cli, ["config", "shorts", "--profile", "corner"])
    assert shown.exit_code == 0, shown.output
    row = next(line.split(None, 1)[1] for line in shown.output.splitlines() if "game-crop" in line)
    assert row.split() == ["[0.3,", "0,", "1,", "1]", "[profile.corner]", "autotosis.toml:2"]
    bad = CliRunner().invoke(cli, ["shorts", str(tmp_path), "--game-crop", "0.5,0,0.2,1"])
    assert bad.exit_code == 2 and "--game-crop" in bad.output
