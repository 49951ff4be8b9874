"""Editor timelines: reel.otio, .fcpxml, .xml, .xges, .mlt and .edl read back to the frame.

(test_editor_engines.py has real engines render .xges and .mlt.)
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest

from autotosis import media
from autotosis.core import frames
from autotosis.core.timeline import Segment, Timeline
from autotosis.pick.highlights import highlights
from autotosis.publish import editors, sidecars

SEGMENTS = [Segment(1.0, 3.47, 0.91, 0.6), Segment(4.2, 6.0, 0.75, 0.5), Segment(7.03, 9.9, 1.0, 0.8)]


def make_vod(path: Path, rate: str, vfr: bool = False) -> Path:
    """A 12 s VOD at `rate`; `vfr` drops every 30th frame, as a variable-rate capture would."""
    video = ["-vf", "select='not(eq(mod(n,30),0))'", "-fps_mode", "vfr"] if vfr else []
    media.run(["-f", "lavfi", "-i", f"testsrc2=size=96x54:rate={rate}:duration=12",
               "-f", "lavfi", "-i", "sine=frequency=300:duration=12", *video,
               "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path)], path)
    return path


def _fcpx_seconds(value: str) -> Fraction:
    return Fraction(value.removesuffix("s")) if value != "0s" else Fraction(0)


@pytest.mark.parametrize("rate", ["30000/1001", "25", "60000/1001", "vfr"])
def test_round_trips_to_the_frame(tmp_path, rate):
    folder = tmp_path / "it's a \"reel\" & more"
    folder.mkdir()
    vod = make_vod(folder / "my vod's #1.mp4", "30" if rate == "vfr" else rate, vfr=rate == "vfr")
    info = media.probe(vod)
    fps = frames.timeline_rate(info.fps)
    if rate == "vfr":  # the average rate, 29, is cut at the nearest rate editors use
        assert info.fps == pytest.approx(29, abs=0.1) and fps == Fraction(30000, 1001)
    else:
        assert fps == info.fps == Fraction(rate)
    items = highlights(SEGMENTS, "rage 'n' \"roll\"")
    files = editors.write_editor_files(folder, vod, info, items, "my vod's reel")
    sidecars.write_sidecars(folder, vod, SEGMENTS, "rage", fps)
    rows = json.loads((folder / "segments.json").read_text())["segments"]
    expected = [frames.frame_span(Segment(r["start"], r["end"]), fps) for r in rows]
    assert [(r["first_frame"], r["last_frame"] - r["first_frame"] + 1) for r in rows] == expected

    for name, adapter in (("otio", "otio_json"), ("xml", "fcp_xml")):
        timeline = otio.adapters.read_from_file(str(files[name]), adapter)
        for track in timeline.tracks:
            clips = list(track.find_clips())
            got = [(round(c.source_range.start_time.value), round(c.source_range.duration.value))
                   for c in clips]
            assert got == expected, (name, track.kind)
            for clip in clips:
                assert clip.source_range.start_time.rate == pytest.approx(float(fps), rel=1e-6)
                assert clip.media_reference.target_url == vod.absolute().as_uri()
        markers = [m for c in timeline.video_tracks()[0].find_clips() for m in c.markers]
        assert [m.name.split(" peak")[0] for m in markers] == ["rage 'n' \"roll\""] * 3
        assert len(timeline.audio_tracks()) == 1

    # FCPXML: read it through the adapter (which truncates NTSC rates to whole numbers on
    # reading), and check its exact rational times ourselves.
    root = ET.parse(files["fcpxml"]).getroot()
    assert root.get("version") == "1.8"
    fmt = root.find("./resources/format")
    duration = _fcpx_seconds(fmt.get("frameDuration"))
    assert duration == 1 / fps and fmt.get("width") == "96"
    asset = root.find("./resources/asset")
    assert asset.get("src") == vod.absolute().as_uri() and asset.get("hasAudio") == "1"
    cuts = root.findall(".//spine/asset-clip")
    got = [(_fcpx_seconds(c.get("start")) / duration, _fcpx_seconds(c.get("duration")) / duration)
           for c in cuts]
    assert got == expected
    offsets = [_fcpx_seconds(c.get("offset")) / duration for c in cuts]
    assert offsets == [sum(n for _, n in expected[:k]) for k in range(len(expected))]
    peaks = [_fcpx_seconds(c.find("marker").get("start")) / duration for c in cuts]
    assert all(first <= p < first + n for p, (first, n) in zip(peaks, expected, strict=True))
    back = otio.adapters.read_from_file(str(files["fcpxml"]), "fcpx_xml")
    assert len(list(back.find_clips())) == len(SEGMENTS)
    if fps.denominator == 1:
        assert [(round(c.source_range.start_time.value), round(c.source_range.duration.value))
                for c in back.find_clips()] == expected

    # GES's project through OTIO's xges reader (in-points sit a nanosecond inside the first frame).
    xges = otio.adapters.read_from_file(str(files["xges"]), "xges")
    assert len(xges.tracks) == 2
    for track in xges.tracks:
        got = [(round(c.source_range.start_time.value), round(c.source_range.duration.value))
               for c in track.find_clips()]
        assert got == expected, ("xges", track.kind)
    # Shotcut's project: the V1 playlist's entries, `out` the last frame shown.
    mlt = ET.parse(files["mlt"]).getroot()
    entries = mlt.findall("./playlist[@id='playlist0']/entry")
    assert [(int(e.get("in")), int(e.get("out")) - int(e.get("in")) + 1) for e in entries] == expected
    profile = mlt.find("profile")
    assert Fraction(int(profile.get("frame_rate_num")), int(profile.get("frame_rate_den"))) == fps
    producer = mlt.find("./producer[@id='vod']")
    props = {p.get("name"): p.text for p in producer.findall("property")}
    assert props["resource"] == str(vod.absolute()) and props["audio_index"] == "1"

    # Our own EDL, read back through OTIO's CMX 3600 reader: picture and both sound channels.
    edl = otio.adapters.read_from_file(str(folder / "reel.edl"), "cmx_3600", rate=round(float(fps)))
    assert len(edl.tracks) == 3
    for track in edl.tracks:
        got = [(round(c.source_range.start_time.value), round(c.source_range.duration.value))
               for c in track.find_clips()]
        assert got == expected, track.kind


def test_peak_marker_sits_on_the_highest_score(tmp_path):
    vod = make_vod(tmp_path / "vod.mp4", "30")
    info = media.probe(vod)
    times = [t / 4 for t in range(48)]
    values = [1.0 if t == 2.5 else 0.1 for t in times]
    items = highlights(SEGMENTS[:1], "rage", Timeline(np.array(times), np.array(values)))
    assert items[0].peak_time == 2.5
    timeline = editors.build_timeline(vod, info, items, "t")
    marker = timeline.find_clips()[0].markers[0]
    assert marker.marked_range.start_time.value == 75
    assert marker.metadata["autotosis"]["peak"] == pytest.approx(0.91)
