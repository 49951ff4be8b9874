"""`--facecam auto` on a real photo of a face placed as a face-cam inset."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.learn.facecam import detect_facecam

skimage_data = pytest.importorskip("skimage.data")

INSET = (0.62, 0.04, 0.98, 0.68)  # where we paste the photo, as fractions of 640x360


def _stream_with_photo(path: Path, seconds: float = 3.0, fps: int = 10) -> None:
    photo = Image.fromarray(skimage_data.astronaut())
    width, height = 640, 360
    x0, y0, x1, y1 = (round(INSET[0] * width), round(INSET[1] * height),
                      round(INSET[2] * width), round(INSET[3] * height))
    inset = np.asarray(photo.resize((x1 - x0, y1 - y0)))
    rng = np.random.default_rng(0)

    def frames():
        for i in range(int(seconds * fps)):
            img = np.zeros((height, width, 3), np.uint8)
            img[..., 1] = 60 + (np.arange(width) + 7 * i) % 90  # a moving "game" gradient
            img[200:260, (i * 13) % 500:(i * 13) % 500 + 60] = rng.integers(0, 255, 3)
            img[y0:y1, x0:x1] = inset
            yield img

    media.encode_frames(path, frames(), fps=fps)


def test_finds_the_astronaut(tmp_path):
    clip = tmp_path / "astronaut.mp4"
    _stream_with_photo(clip)
    guess = detect_facecam(clip, samples=8)
    assert guess.hit_rate >= 0.75
    fx0, fy0, fx1, fy1 = guess.face
    # The face sits inside the inset, and the proposed box contains the face.
    assert INSET[0] <= fx0 < fx1 <= INSET[2]
    assert INSET[1] <= fy0 < fy1 <= INSET[3]
    bx0, by0, bx1, by1 = guess.box
    assert bx0 < fx0 and by0 < fy0 and bx1 > fx1 and by1 > fy1
    assert guess.spread < 0.01


def test_no_face_is_a_clear_error(tmp_path):
    clip = tmp_path / "noface.mp4"
    media.encode_frames(clip, (np.full((120, 160, 3), 30 * i, np.uint8) for i in range(8)), fps=4)
    with pytest.raises(AutotosisError, match=r"no face found .*--facecam x0,y0,x1,y1"):
        detect_facecam(clip, samples=4)
