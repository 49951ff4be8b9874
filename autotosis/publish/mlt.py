"""The reel as an MLT project: reel.mlt, which Shotcut opens as its timeline and `melt` renders.

MLT is the engine under Shotcut and Kdenlive. No well-kept OpenTimelineIO adapter writes
it (otio-mlt-adapter's last release is from 2021; the Kdenlive one is archived), so this
module writes it from the same OTIO timeline as the other editor files (editors.py),
laid out as Shotcut lays out its own projects, so Shotcut opens it as an editable
timeline rather than as a clip:

- a profile at the reel's size and rate (29.97 as 30000/1001);
- one producer for the VOD, with the picture stream and the reel's sound stream named by
  their index among all the file's streams (what MLT's avformat producer counts), so a
  VOD with several audio tracks plays the one the reel plays;
- the project bin (`main_bin`, with the VOD), a black background track, and the video
  track V1: one entry per highlight, `in` and `out` its first and last frame;
- the tractor that stacks them (marked `shotcut`), with the audio mix and the (disabled)
  video blend Shotcut puts between its background and the first video track, and the
  peaks as Shotcut markers.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from fractions import Fraction
from urllib.parse import urlsplit
from urllib.request import url2pathname

MLT_VERSION = "7.12.0"  # the oldest MLT the tests render with (Debian 12's melt)


def _element(parent: ET.Element, tag: str, properties: dict[str, object] | None = None,
             **attrib: object) -> ET.Element:
    """A child element with attributes and MLT <property> children."""
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attrib.items()})
    for name, value in (properties or {}).items():
        ET.SubElement(element, "property", name=name).text = str(value)
    return element


def _clock(frames: int, fps: Fraction) -> str:
    """HH:MM:SS.mmm of a frame number, as Shotcut writes marker times."""
    millis = round(frames / fps * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def mlt_project(timeline) -> str:  # timeline: otio.schema.Timeline, as editors.build_timeline makes it
    """The MLT XML of the reel timeline (see the module's docstring)."""
    clips = list(timeline.video_tracks()[0].find_clips())
    reference = clips[0].media_reference
    facts = reference.metadata["autotosis"]
    fps = Fraction(facts["timeline_fps"])
    width, height = int(facts["width"]), int(facts["height"])
    spans = [(round(c.source_range.start_time.value), round(c.source_range.duration.value)) for c in clips]
    length = sum(count for _, count in spans)
    total = round(reference.available_range.duration.value)
    path = url2pathname(urlsplit(reference.target_url).path)
    aspect = math.gcd(width, height)

    root = ET.Element("mlt", {"LC_NUMERIC": "C", "version": MLT_VERSION, "title": timeline.name,
                              "producer": "main_bin"})
    _element(root, "profile", description=f"{width}x{height} {float(fps):.2f} fps", width=width,
             height=height, progressive=1, sample_aspect_num=1, sample_aspect_den=1,
             display_aspect_num=width // aspect, display_aspect_den=height // aspect,
             frame_rate_num=fps.numerator, frame_rate_den=fps.denominator,
             colorspace=709 if height >= 720 else 601)
    _element(root, "producer", {
        "length": total, "eof": "pause", "resource": path, "mlt_service": "avformat", "seekable": 1,
        "video_index": facts["video_stream"],
        "audio_index": facts["audio_stream"] if facts["has_audio"] else -1,
        "shotcut:caption": path.rsplit("/", 1)[-1],
    }, id="vod", **{"in": 0, "out": total - 1})
    bin_ = _element(root, "playlist", {"xml_retain": 1}, id="main_bin")
    _element(bin_, "entry", producer="vod", **{"in": 0, "out": total - 1})
    _element(root, "producer", {"length": length, "eof": "pause", "resource": "0", "mlt_service": "color",
                                "mlt_image_format": "rgba", "set.test_audio": 0},
             id="black", **{"in": 0, "out": length - 1})
    background = _element(root, "playlist", id="background")
    _element(background, "entry", producer="black", **{"in": 0, "out": length - 1})
    video = _element(root, "playlist", {"shotcut:video": 1, "shotcut:name": "V1"}, id="playlist0")
    for first, count in spans:
        _element(video, "entry", producer="vod", **{"in": first, "out": first + count - 1})

    tractor = _element(root, "tractor", {"shotcut": 1, "shotcut:projectAudioChannels": 2,
                                         "shotcut:projectFolder": 0},
                       id="tractor0", title=timeline.name, **{"in": 0, "out": length - 1})
    markers = ET.SubElement(tractor, "properties", name="shotcut:markers")
    at = 0
    for k, (clip, (first, count)) in enumerate(zip(clips, spans, strict=True)):
        for marker in clip.markers:
            where = at + round(marker.marked_range.start_time.value) - first
            _element(markers, "properties", {"text": marker.name, "start": _clock(where, fps),
                                             "end": _clock(where, fps), "color": "#ff0000"}, name=k)
        at += count
    _element(tractor, "track", producer="background")
    _element(tractor, "track", producer="playlist0")
    _element(tractor, "transition", {"a_track": 0, "b_track": 1, "mlt_service": "mix", "always_active": 1,
                                     "sum": 1}, id="transition0")
    _element(tractor, "transition", {"a_track": 0, "b_track": 1, "mlt_service": "qtblend", "disable": 1},
             id="transition1")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"
