"""ffprobe: what a media file holds, read once into a frozen record."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg

from autotosis.core.errors import MediaError
from autotosis.media.runner import arg_path, check_readable_file, explain, ffprobe_bin


@dataclass(frozen=True)
class AudioTrack:
    """One audio stream: `index` counts audio streams only (ffmpeg's `0:a:N`), as `--audio-track` does.

    `title` is what OBS and most muxers write per track ("Mic", "Game", ...); "" when unnamed.
    """

    index: int
    codec: str
    channels: int
    sample_rate: int | None
    title: str = ""
    language: str = ""
    stream: int = -1  # its index among all the file's streams (what MLT's audio_index counts)


@dataclass(frozen=True)
class VideoInfo:
    """What we need to know about a video, read once by ffprobe.

    `width`/`height` are the displayed size: rotation metadata is already applied,
    because ffmpeg rotates frames while decoding and face-cam boxes refer to what
    the user sees.
    """

    path: Path
    duration: float
    width: int
    height: int
    fps: Fraction
    codec: str
    rotation: int
    has_audio: bool
    audio_rate: int | None
    size_bytes: int
    mtime_ns: int
    container: str = ""  # ffprobe's format names, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "mpegts"
    audio_tracks: tuple[AudioTrack, ...] = ()  # every audio stream, in file order
    video_stream: int = 0  # the picture's index among all the file's streams
    start: float = 0.0  # the container's first timestamp (seconds; a stream copy may shift it)
    video_start: float = 0.0  # the picture's first timestamp: its frames fall on video_start + k / fps

    @property
    def identity(self) -> str:
        """A cheap key for caches: changes when the file is replaced or edited."""
        return f"{self.path.resolve()}|{self.size_bytes}|{self.mtime_ns}"

def _fraction(text: str | None) -> Fraction | None:
    if not text or ("/" not in text and not text.replace(".", "", 1).isdigit()):
        return None
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _seconds(text: object) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            return round(float(side["rotation"])) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) % 360 if tag and tag.lstrip("-").isdigit() else 0


def probe(path: Path | str, growing: bool = False) -> VideoInfo:
    """Read duration, size, frame rate and streams; a clear MediaError for anything unusable.

    `growing`: a recording still being written (live), whose header may not say its length
    yet (a stream with no known end): duration 0 then, instead of an error."""
    p = check_readable_file(path)
    try:
        data = ffmpeg.probe(arg_path(p), cmd=ffprobe_bin())
    except ffmpeg.Error as exc:
        stderr = exc.stderr.decode("utf-8", "replace")
        with open(p, "rb") as handle:
            head = handle.read(64)
        if "moov atom not found" in stderr and b"ftyp" not in head:
            raise MediaError(f"{p}: not a readable media file") from None
        raise MediaError(explain(stderr, p)) from None
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    if video is None:
        raise MediaError(f"{p}: has no video stream")
    audio_streams = [s for s in streams if s.get("codec_type") == "audio"]
    audio = audio_streams[0] if audio_streams else None
    fps = _fraction(video.get("avg_frame_rate")) or _fraction(video.get("r_frame_rate"))
    if fps is None or fps > 1000:
        fps = Fraction(30)
    duration = None
    for source in (data.get("format", {}), video):
        try:
            duration = float(source["duration"])
            break
        except (KeyError, ValueError, TypeError):
            continue
    if duration is None or duration <= 0:
        frames = int(video.get("nb_frames", 0) or 0)
        if frames <= 0 and not growing:
            raise MediaError(f"{p}: cannot tell the video's duration (file may be incomplete)")
        duration = max(frames, 0) / float(fps)
    rotation = _rotation(video)
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise MediaError(f"{p}: video stream has no picture size")
    if rotation in (90, 270):
        width, height = height, width
    stat = p.stat()
    return VideoInfo(
        path=p,
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        codec=str(video.get("codec_name", "?")),
        rotation=rotation,
        has_audio=audio is not None,
        audio_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        size_bytes=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        container=str(data.get("format", {}).get("format_name", "")),
        audio_tracks=tuple(_track(k, s) for k, s in enumerate(audio_streams)),
        video_stream=int(video.get("index", 0)),
        start=_seconds(data.get("format", {}).get("start_time")),
        video_start=_seconds(video.get("start_time")),
    )


# Handler names muxers write when nobody named the track: not a title.
GENERIC_HANDLERS = {"soundhandler", "core media audio", "gpac iso audio handler", "apple sound media handler",
                    "sound media handler", "audiohandler", "mainconcept mp4 sound media handler", ""}


def _track(index: int, stream: dict) -> AudioTrack:
    """A track's facts; its title from `title` (MKV) or a non-generic `handler_name` (MP4, as OBS writes)."""
    tags = {str(k).lower(): str(v).strip() for k, v in (stream.get("tags") or {}).items()}
    title = tags.get("title", "")
    if not title and tags.get("handler_name", "").lower() not in GENERIC_HANDLERS:
        title = tags["handler_name"]
    rate = stream.get("sample_rate")
    language = tags.get("language", "")
    return AudioTrack(index, str(stream.get("codec_name", "?")), int(stream.get("channels") or 0),
                      int(rate) if rate and str(rate).isdigit() else None, title,
                      "" if language == "und" else language, int(stream.get("index", -1)))
