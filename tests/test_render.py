"""Reel rendering on generated media: durations, audio sync, caption pixels, awkward names."""

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from media_support import counter_vod, decoded, frame_number

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.frames import frame_span
from autotosis.core.timeline import Segment, Timeline
from autotosis.publish import reel as render

FPS = 30
SR = 48000
FLASHES = (2.0, 5.0, 8.0)  # white frame + beep at the same instant


def _frames(seconds: float):
    flash_frames = {round(t * FPS) for t in FLASHES}
    for i in range(round(seconds * FPS)):
        value = 235 if i in flash_frames else 60
        yield np.full((240, 320, 3), value, np.uint8)


def _audio(seconds: float) -> np.ndarray:
    audio = np.zeros(round(seconds * SR))
    for t in FLASHES:
        start = round(t * SR)
        audio[start:start + SR // 30] = 0.8 * np.sin(np.arange(SR // 30) / SR * 2 * np.pi * 1000)
    return audio


@pytest.fixture(scope="module")
def vod(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("render") / "vod.mp4"
    media.encode_frames(path, _frames(10), FPS, audio=_audio(10), sample_rate=SR, gop=FPS)
    return path


def _streams(path: Path) -> dict[str, float]:
    out = subprocess.run([media.ffprobe_bin(), "-v", "error", "-show_entries", "stream=codec_type,duration",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return {s["codec_type"]: float(s["duration"]) for s in json.loads(out)["streams"]}


def _flash_times(path: Path) -> list[float]:
    """Times of bright frames in a rendered video (caption corner excluded)."""
    found = []
    for batch in media.frames(path, None, (0.0, 0.0, 1.0, 0.5), None):
        bright = batch.images.mean(axis=(1, 2, 3)) > 150
        found += batch.times[bright].tolist()
    return found


def _beep_times(path: Path) -> list[float]:
    samples = np.concatenate(list(media.audio_chunks(path, 8000, 30.0, None)))
    loud = np.flatnonzero(np.abs(samples) > 0.3) / 8000
    return [float(t) for k, t in enumerate(loud) if k == 0 or t - loud[k - 1] > 0.5]


def test_reel_durations_audio_and_sync(vod, tmp_path):
    segments = [Segment(1.5, 3.0), Segment(4.2, 6.0), Segment(7.5, 9.0)]
    reel = render.render_reel(vod, segments, tmp_path / "reel.mp4", render.RenderConfig(overlay=False))
    streams = _streams(reel)
    expected = sum(s.duration for s in segments)
    assert streams["video"] == pytest.approx(expected, abs=2 / FPS * len(segments))
    assert streams["audio"] == pytest.approx(expected, abs=0.1)
    flashes, beeps = _flash_times(reel), _beep_times(reel)
    # In the reel each flash sits 0.5 s, 1.5+0.8 s and 3.3+0.5 s in: where its own piece put it.
    assert flashes == pytest.approx([0.5, 2.3, 3.8], abs=1.5 / FPS)
    assert beeps == pytest.approx(flashes, abs=0.045)  # sound within about a frame of the picture


def test_caption_pixels_and_colour(vod, tmp_path):
    seg = [Segment(0.5, 1.5)]
    hot = Timeline(np.array([0.0, 1.0]), np.array([0.97, 0.97]))
    plain = render.render_reel(vod, seg, tmp_path / "plain.mp4", render.RenderConfig(overlay=False))
    captioned = render.render_reel(vod, seg, tmp_path / "cap.mp4", scores=hot, label="rage")
    corner = (0.0, 0.8, 0.45, 1.0)  # bottom-left, where the caption sits
    a = next(media.frames(plain, 2, corner, None)).images[0].astype(int)
    b = next(media.frames(captioned, 2, corner, None)).images[0].astype(int)
    assert np.abs(a - b).mean() > 5  # something was drawn
    reddish = (b[..., 0] > 180) & (b[..., 1] < 100) & (b[..., 2] < 100)
    assert reddish.sum() > 20  # a 0.97 score is drawn in red


def test_caption_file_follows_scores_and_seconds():
    scores = Timeline(np.arange(0, 20, 0.5), np.linspace(0, 1, 40))
    text = render.caption_ass(Segment(3.2, 5.0), scores, "rage {x}", 640, 360)
    events = [ln for ln in text.splitlines() if ln.startswith("Dialogue:")]
    # edges: 3.2, 3.5, 4.0 (sample and second), 4.5, 5.0
    assert len(events) == 4
    assert events[0].startswith("Dialogue: 0,0:00:00.00,0:00:00.30,")
    assert "rage (x) 0.15" in events[0] and "0:03" in events[0]  # the sample at 3.0 s: 6/39
    assert render.score_colour(0.0) == "&H00FF00&" and render.score_colour(1.0) == "&H0000FF&"


@pytest.mark.parametrize("rate", ["30000/1001", "30", "25", "60000/1001"])
def test_each_piece_has_exactly_its_frames(tmp_path, rate):
    """Every piece shows the frames core.frames gives its span, no more, no fewer (the VOD
    draws each frame's number), and as much sound: the reel is as long as its frames."""
    fps = Fraction(rate)
    vod = counter_vod(tmp_path / "vod.mp4", fps, 4.0)
    segments = [Segment(0.31, 1.0), Segment(1.52, 2.27), Segment(2.9, 3.96)]  # off the frame grid
    reel = render.render_reel(vod, segments, tmp_path / "reel.mp4", render.RenderConfig(overlay=False))
    spans = [frame_span(seg, fps) for seg in segments]
    assert [frame_number(f) for f in decoded(reel)] == [n for a, c in spans for n in range(a, a + c)]
    streams = _streams(reel)
    frames = sum(c for _, c in spans)
    assert streams["video"] == pytest.approx(frames / fps, abs=0.5 / float(fps))
    assert streams["audio"] == pytest.approx(frames / fps, abs=0.025)  # within an AAC frame


def test_command_size_does_not_grow_with_segment_length(tmp_path):
    enc = media.PieceEncoding(fps="30")
    short = media.piece_args("vod.mp4", 10.0, 60, tmp_path / "a.mp4", enc, tmp_path / "a.ass")
    long = media.piece_args("vod.mp4", 36000.0, 54000, tmp_path / "b.mp4", enc, tmp_path / "b.ass")
    assert abs(len(" ".join(long)) - len(" ".join(short))) < 16  # a few more digits in four numbers
    assert short.index("-ss") < short.index("-i")  # input seeking


def test_concat_awkward_names(vod, tmp_path):
    folder = tmp_path / "it's a [weird], dir; ok"
    folder.mkdir()
    enc = media.PieceEncoding(fps="30")
    pieces = []
    for k, name in enumerate(["one two.mp4", "it's.mp4", "-dash,[x].mp4"]):
        piece = folder / name.replace(".mp4", ".mkv")
        media.run(media.piece_args(vod, k, 30, piece, enc, None), piece)
        pieces.append(piece)
    out = media.concat(pieces, folder / "re'el.mp4")
    assert _streams(out)["video"] == pytest.approx(3.0, abs=3 / FPS)
    assert "file '" in media.concat_list(pieces) and "'\\''" in media.concat_list(pieces)


def test_caption_in_awkward_folder_and_crossfade(vod, tmp_path):
    folder = tmp_path / "o'dd: [dir], x;y"
    segments = [Segment(1.0, 3.0), Segment(4.0, 6.0), Segment(7.0, 9.0)]
    scores = Timeline(np.arange(0, 10, 0.5), np.full(20, 0.5))
    reel = render.render_reel(vod, segments, folder / "reel.mp4", render.RenderConfig(crossfade=0.5),
                              scores=scores)
    streams = _streams(reel)
    assert streams["video"] == pytest.approx(6.0 - 2 * 0.5, abs=0.1)
    assert streams["audio"] == pytest.approx(5.0, abs=0.15)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no pieces left behind


def test_existing_reel_needs_force(vod, tmp_path):
    reel = tmp_path / "reel.mp4"
    reel.write_bytes(b"old")
    with pytest.raises(AutotosisError, match="--force"):
        render.render_reel(vod, [Segment(0, 1)], reel)
    render.render_reel(vod, [Segment(0, 1)], reel, render.RenderConfig(overlay=False), force=True)
    assert media.probe(reel).duration == pytest.approx(1.0, abs=0.1)


def test_caption_of_a_reel_with_several_labels_has_a_colour_per_label():
    colours = render.label_colours(["rage", "laugh", "rage", "hype"])
    assert list(colours) == ["rage", "laugh", "hype"] and len(set(colours.values())) == 3
    scores = Timeline(np.array([3.0, 4.0]), np.array([0.2, 0.9]))
    text = render.caption_ass(Segment(3.2, 5.0, label="laugh"), scores, "laugh", 640, 360, colours["laugh"])
    events = [ln for ln in text.splitlines() if ln.startswith("Dialogue")]
    assert all(f"{{\\c{colours['laugh']}}}laugh {{\\c" in ln for ln in events)
    assert f"{{\\c{render.score_colour(0.9)}}}0.90" in events[-1]
