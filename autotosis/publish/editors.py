"""Editor timelines of a reel through OpenTimelineIO: reel.otio, .fcpxml, .xml, .xges, .mlt.

One OTIO timeline is built from the highlights: a video and an audio track of clips
that reference the VOD at its own frame rate (NTSC rates as 30000/1001 and friends;
a variable frame rate's average, as ffprobe reports it, snaps to the nearest rate
editors use, since FCP XML timebases are whole numbers), back to back, each
with a marker at its peak carrying the label and scores. The adapters write it as
Final Cut Pro X / DaVinci Resolve FCPXML (`fcpx_xml`), as the FCP 7 XML that
Premiere Pro imports (`fcp_xml`) and as a GStreamer Editing Services project (`xges`,
what Pitivi and `ges-launch-1.0` open); `mlt.py` writes the same timeline as the MLT
project Shotcut opens and `melt` renders (no well-kept OTIO adapter for MLT exists).

The xges adapter gives the video track 30 fps and no size whatever the clips are; its
own track description (`XgesTrack`, in the timeline's "XGES" metadata) sets the VOD's
rate and size instead, so GES renders the reel's frames at the reel's rate. It also
writes each clip's in-point rounded down to the nanosecond, where GStreamer may stamp
the first frame a nanosecond later (59.94 fps: 934266666 against 934266667): GES then
starts on the frame before. The in-points are rewritten rounded up, inside the first
frame whichever way its timestamp was rounded.

The fcpx_xml adapter needs help: it only knows eight frame rates and writes an
empty format for the rest, marks the VOD as having no audio, wraps each cut in a
video-only clip, and cannot write two tracks. So its input is the video track alone
and its output is corrected afterwards (format size and rate, audio on, cuts as
asset-clips that carry picture and sound).

The EDL stays our own writer (sidecars.edl_text): the cmx_3600 adapter writes
video-only events and drop-frame timecode for 29.97 VODs, where ours writes one
AA/V event per cut numbered as editors number the file's frames; the tests read
ours back through the adapter.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from autotosis.core.frames import frame_span, frames_in, timeline_rate
from autotosis.core.fsutil import atomic_write_text
from autotosis.media import VideoInfo
from autotosis.pick.highlights import Highlight
from autotosis.publish.mlt import mlt_project

# The rates the fcpx_xml adapter knows, by the float key it looks them up with.
_FCPX_RATES = {Fraction(24000, 1001): 23.98, Fraction(30000, 1001): 29.97, Fraction(60000, 1001): 59.94}
_FCPX_VERSION = "1.8"  # what the adapter writes: Final Cut Pro 10.4.1+ and DaVinci Resolve 15+ read it


def _media_url(vod: Path) -> str:
    """An absolute, percent-encoded file URL (spaces, quotes, `&` and `#` all survive every app)."""
    return vod.absolute().as_uri()


def build_timeline(vod: Path, info: VideoInfo, items: Sequence[Highlight], title: str,
                   rate: float | None = None, audio: bool | None = None,
                   audio_track: int = 0):  # -> otio.schema.Timeline
    """The reel as an OTIO timeline; `rate` overrides the float rate written (same frame numbers).

    The media reference's metadata says which of the VOD's streams the reel shows and
    plays (`audio_track`, ffmpeg's 0:a:N, as --reel-audio picks it), for writers that
    can name a stream (mlt.py).
    """
    import opentimelineio as otio
    from opentimelineio.opentime import RationalTime, TimeRange

    fps = timeline_rate(info.fps)
    rate = float(fps) if rate is None else rate
    audio = info.has_audio if audio is None else audio
    total = frames_in(info.duration, fps)
    tracks = info.audio_tracks
    sound = tracks[audio_track] if 0 <= audio_track < len(tracks) else None
    reference = otio.schema.ExternalReference(
        target_url=_media_url(vod),
        available_range=TimeRange(RationalTime(0, rate), RationalTime(total, rate)),
        metadata={"autotosis": {"fps": str(info.fps), "timeline_fps": str(fps), "width": info.width,
                                "height": info.height, "has_audio": info.has_audio,
                                "video_stream": info.video_stream, "audio_track": audio_track,
                                "audio_stream": sound.stream if sound is not None else -1}},
    )
    timeline = otio.schema.Timeline(name=title, global_start_time=RationalTime(0, rate))
    kinds = [otio.schema.TrackKind.Video] + ([otio.schema.TrackKind.Audio] if audio else [])
    for kind in kinds:
        track = otio.schema.Track(name="V1" if kind == otio.schema.TrackKind.Video else "A1", kind=kind)
        for item in items:
            first, count = frame_span(item.segment, fps, total)
            clip = otio.schema.Clip(
                name=f"{item.label} {item.index + 1}",
                media_reference=reference.clone(),
                source_range=TimeRange(RationalTime(first, rate), RationalTime(count, rate)),
            )
            if kind == otio.schema.TrackKind.Video:
                peak = min(first + count - 1, max(first, math.floor(Fraction(item.peak_time) * fps)))
                clip.markers.append(otio.schema.Marker(
                    name=f"{item.label} peak {item.segment.peak:.2f} mean {item.segment.mean:.2f}",
                    marked_range=TimeRange(RationalTime(peak, rate), RationalTime(0, rate)),
                    color=otio.schema.MarkerColor.RED,
                    metadata={"autotosis": {"label": item.label, "peak": round(item.segment.peak, 4),
                                            "mean": round(item.segment.mean, 4),
                                            "peak_time": round(item.peak_time, 3),
                                            "start": round(item.segment.start, 3),
                                            "end": round(item.segment.end, 3)}},
                ))
            track.append(clip)
        timeline.tracks.append(track)
    return timeline


def _fcpx_time(value: str, rate: float, fps: Fraction) -> str:
    """An FCPXML time the adapter wrote at its float `rate`, as the exact whole frames at `fps`."""
    seconds = Fraction(value.removesuffix("s")) if value not in ("", "0s") else Fraction(0)
    frames = round(seconds * Fraction(rate))
    exact = Fraction(frames) / fps
    return "0s" if frames == 0 else f"{exact.numerator}/{exact.denominator}s"


def _fcpx_fix(text: str, info: VideoInfo, vod_name: str, rate: float, fps: Fraction) -> str:
    """Correct what the fcpx_xml adapter gets wrong (see the module's docstring).

    It also writes times as seconds of its float rate (29.97, not 30000/1001), which
    drift by a third of a frame over three hours: every time is rewritten exactly.
    """
    root = ET.fromstring(text)
    for element in root.iter():
        for name in ("offset", "duration", "start"):
            if element.get(name, "").endswith("s"):
                element.set(name, _fcpx_time(element.attrib[name], rate, fps))
    duration = f"{fps.denominator}/{fps.numerator}s"
    for fmt in root.iter("format"):
        fmt.set("frameDuration", duration)
        fmt.set("width", str(info.width))
        fmt.set("height", str(info.height))
        if not fmt.get("name"):
            del fmt.attrib["name"]
    for asset in root.iter("asset"):
        asset.set("name", vod_name)
        asset.set("hasVideo", "1")
        asset.set("hasAudio", "1" if info.has_audio else "0")
        if info.has_audio:
            asset.set("audioSources", "1")
            asset.set("audioChannels", "2")
    for spine in root.iter("spine"):
        for clip in spine.findall("clip"):
            video = clip.find("video")
            if video is None:
                continue
            clip.tag = "asset-clip"
            clip.set("ref", video.get("ref", ""))
            clip.remove(video)
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n' + ET.tostring(root, "unicode") + "\n"


def _xges(timeline, info: VideoInfo) -> str:  # timeline: otio.schema.Timeline
    """The timeline as a GES project, its video track at the reel's rate and size (see the docstring)."""
    import opentimelineio as otio
    from otio_xges_adapter.xges import GESTrackType, GstCaps, GstStructure, XgesTrack

    fps = timeline_rate(info.fps)
    caps = (f"video/x-raw, framerate=(fraction){fps.numerator}/{fps.denominator}, "
            f"width=(int){info.width}, height=(int){info.height}, pixel-aspect-ratio=(fraction)1/1")
    properties = GstStructure("properties", {"restriction-caps": ("string", caps),
                                             "mixing": ("boolean", True)})
    video = XgesTrack(GstCaps.new_from_str("video/x-raw(ANY)"), GESTrackType.VIDEO, properties)
    tracks = [video]
    if timeline.audio_tracks():
        tracks.append(XgesTrack.new_from_track_type(GESTrackType.AUDIO))
    timeline = timeline.deepcopy()
    timeline.tracks.metadata["XGES"] = {"tracks": tracks}
    root = ET.fromstring(otio.adapters.write_to_string(timeline, "xges"))
    firsts = [round(c.source_range.start_time.value) for c in timeline.video_tracks()[0].find_clips()]
    for layer in root.iter("layer"):  # one layer per track, its clips in the reel's order
        for clip, first in zip(layer.iter("clip"), firsts, strict=True):
            clip.set("inpoint", str(math.ceil(Fraction(first) * 10**9 / fps)))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def editor_files(vod: Path, info: VideoInfo, items: Sequence[Highlight], title: str,
                 audio_track: int = 0) -> dict[str, str]:
    """The text of reel.otio, .fcpxml, .xml, .xges and .mlt, keyed by file name."""
    import opentimelineio as otio

    timeline = build_timeline(vod, info, items, title, audio_track=audio_track)
    fps = timeline_rate(info.fps)
    fcpx_rate = _FCPX_RATES.get(fps, float(fps))
    # The adapter looks names up with XPath: an apostrophe in one would break it, and
    # its asset name is the first clip's; the fix above puts the real names back.
    fcpx_input = build_timeline(vod, info, items, title.replace("'", "\u2019"), fcpx_rate, audio=False)
    for clip in fcpx_input.find_clips():
        clip.name = clip.name.replace("'", "\u2019")
    fcpx = otio.adapters.write_to_string(fcpx_input, "fcpx_xml")
    return {
        "reel.otio": otio.adapters.write_to_string(timeline, "otio_json"),
        "reel.fcpxml": _fcpx_fix(fcpx, info, vod.name, fcpx_rate, fps),
        "reel.xml": otio.adapters.write_to_string(timeline, "fcp_xml"),
        "reel.xges": _xges(timeline, info),
        "reel.mlt": mlt_project(timeline),
    }


def write_editor_files(folder: Path, vod: Path, info: VideoInfo, items: Sequence[Highlight],
                       title: str, audio_track: int = 0) -> dict[str, Path]:
    """Write reel.otio, .fcpxml, .xml, .xges and .mlt into `folder`, each atomically;
    `audio_track` is the VOD's audio stream the reel plays (--reel-audio)."""
    paths = {}
    for name, text in editor_files(vod, info, items, title, audio_track).items():
        atomic_write_text(folder / name, text)
        paths[name.replace("reel.", "")] = folder / name
    return paths
