"""The synthetic stream maker: real files whose pictures, sound and labels say what the spec says."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from autotosis import media
from autotosis.core.timeline import Segment
from autotosis.demo import synth
from autotosis.learn.facecam import detect_facecam
from autotosis.learn.labels import load_label
from autotosis.signals import loudness

SPEC = synth.StreamSpec(duration=12.0, width=320, height=180, fps=15.0, facecam=(0.6, 0.05, 0.95, 0.6),
                        seed=3, rage=(Segment(2.0, 5.0),), hype=(Segment(7.0, 9.0),), bangs=(10.0,),
                        flashes=(Segment(10.5, 11.5),))


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> Path:
    return synth.make_stream(tmp_path_factory.mktemp("synth") / "stream.mp4", SPEC, preset="ultrafast")


def _redness(images: np.ndarray) -> np.ndarray:
    """Mean red minus blue of the middle of each crop: where the face is."""
    middle = images[:, 12:36, 16:32].astype(np.float64)
    return (middle[..., 0] - middle[..., 2]).mean(axis=(1, 2))


def test_file_has_the_asked_size_rate_length_and_sound(stream):
    info = media.probe(stream)
    assert (info.width, info.height, float(info.fps)) == (320, 180, 15.0)
    assert info.duration == pytest.approx(12.0, abs=0.1)
    assert info.has_audio and info.audio_rate == synth.AUDIO_RATE


def test_rage_is_in_the_face_cam_and_nowhere_else(stream):
    crops = next(media.frames(stream, fps=2.0, box=SPEC.facecam, size=48, batch_size=64))
    red = _redness(crops.images)
    rage = (crops.times >= 2.5) & (crops.times < 4.5)
    calm = (crops.times < 1.5) | ((crops.times >= 6.0) & (crops.times < 6.9))
    laugh = (crops.times >= 7.5) & (crops.times < 8.5)
    assert red[rage].min() > red[calm].max() + 15
    assert red[rage].min() > red[laugh].max() + 15  # laughing is not rage
    game = next(media.frames(stream, fps=2.0, box=(0.0, 0.65, 0.5, 1.0), size=48, batch_size=64))
    assert np.abs(_redness(game.images)[rage].mean() - _redness(game.images)[calm].mean()) < 20


def test_shouting_and_laughing_and_bangs_are_loud(stream):
    levels = loudness.measure(stream, loudness.LoudnessConfig(window=0.5))
    t, db = levels.times, levels.values
    calm = db[(t > 0.5) & (t < 1.5)].mean()
    assert db[(t > 2.5) & (t < 4.5)].mean() > calm + 10
    assert db[(t > 7.5) & (t < 8.5)].mean() > calm + 6
    assert db[(t >= 10.0) & (t < 10.5)].max() > calm + 6


def test_face_cam_auto_finds_the_drawn_face(stream):
    guess = detect_facecam(stream, samples=8)
    assert guess.hit_rate >= 0.75
    x0, y0, x1, y1 = SPEC.facecam
    fx0, fy0, fx1, fy1 = guess.face
    assert x0 <= fx0 < fx1 <= x1 and y0 <= fy0 < fy1 <= y1
    bx0, by0, bx1, by1 = guess.box
    overlap = max(0.0, min(bx1, x1) - max(bx0, x0)) * max(0.0, min(by1, y1) - max(by0, y0))
    assert overlap / ((x1 - x0) * (y1 - y0)) > 0.5  # the proposal covers most of the real inset


@pytest.mark.parametrize("backdrop", sorted(media.BACKDROPS))
def test_every_backdrop_renders_and_moves(tmp_path, backdrop):
    spec = synth.StreamSpec(duration=2.0, width=160, height=96, fps=10.0, backdrop=backdrop, seed=1)
    path = synth.make_stream(tmp_path / f"{backdrop}.mp4", spec, preset="ultrafast")
    batch = next(media.frames(path, fps=2.0, box=(0.0, 0.5, 0.5, 1.0), size=32))
    assert len(batch.images) == 4
    assert np.abs(batch.images[0].astype(int) - batch.images[-1].astype(int)).mean() > 1  # the game moves


def test_unknown_backdrop_is_a_clear_error(tmp_path):
    with pytest.raises(media.MediaError, match="unknown backdrop 'lava'"):
        synth.make_stream(tmp_path / "x.mp4", synth.StreamSpec(duration=1.0, backdrop="lava"))


def test_scripted_moments_are_apart_and_repeatable():
    spec = synth.scripted(120.0, seed=5, rages=4, hypes=4, bangs=3, flashes=3, gap=8.0)
    assert (len(spec.rage), len(spec.hype), len(spec.bangs), len(spec.flashes)) == (4, 4, 3, 3)
    spans = sorted([*spec.rage, *spec.hype, *spec.flashes, *(Segment(b, b + 1.2) for b in spec.bangs)])
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert spans[0].start >= 0 and spans[-1].end <= 120.0
    rages = list(spec.rage)
    assert all(b.start - a.end >= 8.0 - 1e-6 for a, b in itertools.pairwise(rages))
    assert synth.scripted(120.0, seed=5, rages=4, hypes=4, bangs=3, flashes=3, gap=8.0) == spec
    with pytest.raises(ValueError, match=r"need .* but the stream is 20s"):
        synth.scripted(20.0, seed=5, rages=4, rage_length=(5.0, 6.0), gap=3.0)


def test_intensity_ramps_around_edges():
    span = (Segment(2.0, 4.0),)
    values = synth.intensity(np.array([1.0, 1.8, 2.0, 2.2, 3.0, 4.0, 4.3]), span)
    np.testing.assert_allclose(values, [0.0, 0.0, 0.5, 1.0, 1.0, 0.5, 0.0], atol=1e-9)


def test_label_file_matches_the_spec(stream, tmp_path):
    path = synth.write_label(SPEC, stream, tmp_path / "labels" / "stream.toml")
    label = load_label(path)
    assert label.clip.resolve() == stream.resolve()
    assert [(s.start, s.end) for s in label.segments] == [(2.0, 5.0)]
    assert label.facecam == pytest.approx(SPEC.facecam)
