"""Loudness timeline on generated audio, and the sidecar formats (JSON, chapters, links, EDL)."""

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from autotosis import media
from autotosis.core.errors import MediaError
from autotosis.core.timeline import Segment
from autotosis.publish import sidecars
from autotosis.signals import loudness

SR = 48000


def _video(path: Path, seconds: int, burst: tuple[float, float] | None, audio: bool = True) -> Path:
    frames = (np.full((64, 64, 3), 80, np.uint8) for _ in range(seconds * 10))
    sound = None
    if audio:
        rng = np.random.default_rng(0)
        sound = 0.01 * rng.standard_normal(seconds * SR)
        if burst:
            a, b = round(burst[0] * SR), round(burst[1] * SR)
            sound[a:b] = 0.6 * np.sin(np.arange(b - a) / SR * 2 * np.pi * 600)
    return media.encode_frames(path, frames, 10, audio=sound, sample_rate=SR)


def test_loudness_finds_the_burst_and_is_cached(tmp_path):
    vod = _video(tmp_path / "v.mp4", 12, (6.0, 8.0))
    tl, cached = loudness.loudness(vod, cache=tmp_path / "cache")
    assert not cached and len(tl) == 24
    assert np.allclose(tl.times[:3], [0.25, 0.75, 1.25])
    loud = tl.times[tl.values > tl.values.max() - 6]
    assert loud.min() >= 5.9 and loud.max() <= 8.1
    assert tl.values.max() - np.median(tl.values) > 25  # a shout stands well out of room noise
    again, cached = loudness.loudness(vod, cache=tmp_path / "cache")
    assert cached and np.array_equal(again.values, tl.values)


def test_loudness_without_audio_names_the_file(tmp_path):
    vod = _video(tmp_path / "silent.mp4", 2, None, audio=False)
    with pytest.raises(MediaError, match=r"silent\.mp4: has no audio"):
        loudness.measure(vod)


SEGS = [Segment(3723.5, 3740.0, 0.93, 0.81), Segment(7200.0, 7212.25, 0.71, 0.66)]


def test_segments_json_chapters_and_links(tmp_path):
    paths = sidecars.write_sidecars(tmp_path, Path("/v/my vod.mp4"), SEGS, "rage", Fraction(30),
                                    url="https://youtu.be/abc?si=x&t=5")
    data = json.loads(paths["segments"].read_text())
    assert data["vod"] == "/v/my vod.mp4" and data["label"] == "rage"
    first, second = data["segments"]
    assert (first["start"], first["end"], first["peak"], first["mean"]) == (3723.5, 3740.0, 0.93, 0.81)
    assert second["reel_start"] == 16.5
    assert first["link"] == "https://youtu.be/abc?si=x&t=1h2m3s"
    chapters = paths["chapters"].read_text().splitlines()
    assert chapters[0].startswith("0:00 rage #1 (peak 0.93, VOD 1:02:03)")
    assert chapters[1].startswith("0:16 rage #2") and "t=2h0m0s" in chapters[1]
    assert sidecars.vod_link("https://www.twitch.tv/videos/1", 65) == "https://www.twitch.tv/videos/1?t=1m5s"


def test_segments_json_keeps_each_highlights_cores(tmp_path):
    """The reactions inside each padded span go beside the fields other readers use; a segment
    without known cores writes none."""
    merged = Segment(10.0, 30.0, 0.9, 0.7, "rage", cores=((13.0, 16.5), (20.0, 28.5)))
    paths = sidecars.write_sidecars(tmp_path, Path("/v/x.mp4"), [merged, Segment(40.0, 45.0)], "rage",
                                    Fraction(30))
    first, second = json.loads(paths["segments"].read_text())["segments"]
    assert first["cores"] == [[13.0, 16.5], [20.0, 28.5]]
    assert (first["start"], first["end"], first["label"]) == (10.0, 30.0, "rage")
    assert "cores" not in second


def test_crossfade_moves_chapters():
    assert sidecars.reel_positions(SEGS, crossfade=0.5) == [0.0, 16.0]


def test_cmx3600_edl(tmp_path):
    text = sidecars.edl_text(Path("/v/my vod.mp4"), SEGS, Fraction(30000, 1001), "reel", "rage")
    lines = text.splitlines()
    assert lines[:2] == ["TITLE: reel", "FCM: NON-DROP FRAME"]
    events = [ln for ln in lines if ln[:3].isdigit()]
    # 3723.5 s at 29.97 fps is frame 111593.4: the nearest boundary, 111593 = 01:01:59:23 counted at
    # 30 per second; 3740.0 s is frame 112087.9, so the cut ends at the boundary of 112088
    assert events[0] == "001  AX       AA/V  C        01:01:59:23 01:02:16:08 00:00:00:00 00:00:16:15"
    assert events[1].split()[-2] == "00:00:16:15"
    assert "* FROM CLIP NAME: my vod.mp4" in lines
    for event in events:  # source and record spans agree, frame for frame
        src_in, src_out, rec_in, rec_out = (sidecars.timecode_frames(t, 30) for t in event.split()[-4:])
        assert src_out - src_in == rec_out - rec_in
    assert sidecars.timecode(sidecars.timecode_frames("02:00:12:07", 30), 30) == "02:00:12:07"
