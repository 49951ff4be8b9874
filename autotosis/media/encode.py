"""Encoding and cutting: reel pieces, joins, cross-fades and browser previews."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg

from autotosis.core.fsutil import atomic_path
from autotosis.media.probe import VideoInfo, probe
from autotosis.media.runner import arg_path, run


@dataclass(frozen=True)
class PieceEncoding:
    """One encoding for every piece of a reel, so they concatenate without re-encoding video.

    Pieces carry PCM audio (in Matroska): AAC would add ~21 ms of encoder priming per
    piece, and after a few dozen pieces the sound would lag the picture visibly. The
    reel's audio is encoded to AAC once, when the pieces are joined.
    """

    fps: str  # the VOD's frame rate as ffmpeg reads it, e.g. "30" or "30000/1001"
    preset: str = "veryfast"
    crf: int = 20
    audio: bool = True
    audio_rate: int = 48000
    suffix: str = ".mkv"
    audio_track: int = 0  # which audio stream the reel keeps (ffmpeg's 0:a:N): the main mix by default


def filter_value(text: str) -> str:
    """Escape a filter option value for a filter graph given on the command line.

    Two levels, as ffmpeg parses them: `\\ ' :` inside the option value, then
    `\\ ' [ ] , ;` for the graph around it.
    """
    for char in "\\':":
        text = text.replace(char, "\\" + char)
    for char in "\\'[],;":
        text = text.replace(char, "\\" + char)
    return text


def burn_in_filter(subtitles: Path, fonts_dir: Path | None = None) -> str:
    """The `ass` filter that burns a subtitle file into the picture, with our font folder if given."""
    ass = "ass=filename=" + filter_value(arg_path(subtitles))
    if fonts_dir is not None:
        ass += ":fontsdir=" + filter_value(arg_path(fonts_dir))
    return ass


# Containers without a keyframe index: a seek lands on any packet before the target and
# the decoder waits for the next keyframe, which can be after it.
_UNINDEXED = {"mpegts", "flv", "mpeg"}


def seek_lead(info: VideoInfo) -> float:
    """Seconds to decode before a cut so it starts on the right frame (see piece_args)."""
    return 10.0 if _UNINDEXED & set(info.container.split(",")) else 0.0


# A cut seeks this much before its first frame's time: a container's clock can round that
# frame's timestamp a hair below the exact time, and it must not be lost to that (0.1 ms is
# far under a frame at any rate, and 5 samples of sound early is inaudible).
EDGE = 1e-4


def cut_window(start: float, seconds: float, lead: float, fps: Fraction) -> tuple[list[str], float]:
    """Input options that seek to just before `start` and read `seconds` and a little more,
    and the lead the filters must trim off (see piece_args)."""
    seek = max(0.0, start - EDGE)
    # `lead` seconds before the cut are decoded and trimmed off in the filters (so the
    # caption's clock still starts at the cut): for seek_lead's containers, and within
    # the first second, where an FLV without an index cannot seek at all.
    lead = seek if seek < 1.0 else min(seek, lead)
    cut = ["-ss", f"{seek - lead:.6f}"] if seek > lead else []
    # Two frames more than needed reach the filters, so the last one is never short.
    return [*cut, "-t", f"{lead + seconds + float(2 / fps):.6f}"], lead


def piece_args(
    vod: Path | str, start: float, frames: int, output: Path | str, encoding: PieceEncoding,
    subtitles: Path | None = None, fonts_dir: Path | None = None, lead: float = 0.0,
) -> list[str]:
    """Cut `frames` frames from the one shown at `start` with input seeking, and re-encode them,
    optionally with burnt-in subtitles.

    `-ss` before `-i` jumps to the keyframe before `start` and decodes only from there, so a
    piece costs its own seconds whatever the VOD's length; re-encoding makes the cut frame
    accurate. Exactly `frames` frames come out, and exactly their length of sound, so
    pieces join end to end on the frame. Video and audio both start at the cut
    (timestamps reset to 0), which keeps them in sync. The command's size is fixed:
    captions live in the `subtitles` file.
    """
    fps = Fraction(encoding.fps)
    seconds = float(frames / fps)
    chain = []
    if subtitles is not None:
        chain.append(burn_in_filter(subtitles, fonts_dir))
    chain += [f"fps={encoding.fps}", "format=yuv420p"]
    cut, lead = cut_window(start, seconds, lead, fps)
    trim = f"trim=start={lead:.6f},setpts=PTS-{lead:.6f}/TB," if lead > 0 else ""
    atrim = f"atrim=start={lead:.6f},asetpts=PTS-{lead:.6f}/TB," if lead > 0 else ""
    args = [*cut, "-i", arg_path(vod), "-map", "0:v:0", "-vf", trim + ",".join(chain),
            "-c:v", "libx264", "-preset", encoding.preset, "-crf", str(encoding.crf),
            "-video_track_timescale", "90000", "-frames:v", str(frames)]
    if encoding.audio:
        # async resampling pads a late first audio packet so audio keeps the video's clock.
        args += ["-map", f"0:a:{encoding.audio_track}",
                 "-af", f"{atrim}aresample={encoding.audio_rate}:async=1",
                 "-c:a", "pcm_s16le", "-ac", "2", "-ar", str(encoding.audio_rate)]
    return [*args, "-t", f"{seconds:.6f}", arg_path(output)]


def concat_list(paths: Sequence[Path | str]) -> str:
    """A concat-demuxer list: absolute paths in single quotes, each `'` written as `'\\''`."""
    lines = []
    for path in paths:
        quoted = str(Path(path).absolute()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    return "\n".join(lines) + "\n"


def concat_args(list_file: Path | str, output: Path | str, audio: bool = True) -> list[str]:
    """Join same-encoding pieces from a concat list: video copied, PCM audio encoded to AAC once.

    `aresample=async=1` fills any timestamp gap between pieces with silence, so the
    sound stays on the picture's clock across every join.
    """
    args = ["-f", "concat", "-safe", "0", "-i", arg_path(list_file), "-map", "0:v:0", "-c:v", "copy"]
    if audio:
        args += ["-map", "0:a:0", "-af", "aresample=async=1", "-c:a", "aac", "-b:a", "160k"]
    return [*args, "-movflags", "+faststart", arg_path(output)]


def concat(pieces: Sequence[Path | str], output: Path | str, audio: bool = True,
           background: bool = False) -> Path:
    """Join encoded pieces into `output` atomically with the concat demuxer (`background`: see run)."""
    target = Path(output)
    with tempfile.TemporaryDirectory(prefix="autotosis-") as tmp, atomic_path(target) as part:
        list_file = Path(tmp) / "pieces.txt"
        list_file.write_text(concat_list(pieces), encoding="utf-8")
        run(concat_args(list_file, part, audio), part, target, background)
    return target


def crossfade_graph(durations: Sequence[float], fade: float, audio: bool) -> str:
    """A filter graph that chains xfade (and acrossfade) over N inputs; lives in a script file.

    Each transition starts `fade` seconds before the end of what is joined so far, so the
    reel is sum(durations) - (N - 1) * fade long.
    """
    lines = []
    video, sound, length = "[0:v]", "[0:a]", durations[0]
    for k in range(1, len(durations)):
        fade_k = min(fade, length, durations[k]) * 0.999
        offset = length - fade_k
        lines.append(f"{video}[{k}:v]xfade=transition=fade:duration={fade_k:.4f}:offset={offset:.4f}[v{k}]")
        video = f"[v{k}]"
        if audio:
            lines.append(f"{sound}[{k}:a]acrossfade=d={fade_k:.4f}[a{k}]")
            sound = f"[a{k}]"
        length = offset + durations[k]
    lines.append(f"{video}null[vout]")
    if audio:
        lines.append(f"{sound}anull[aout]")
    return ";\n".join(lines) + "\n"


def crossfade_args(pieces: Sequence[Path | str], script: Path | str, output: Path | str,
                   encoding: PieceEncoding) -> list[str]:
    """Join pieces with cross-fades: the graph is read from `script`, so the command stays short."""
    args: list[str] = []
    for piece in pieces:
        args += ["-i", arg_path(piece)]
    args += ["-filter_complex_script", arg_path(script), "-map", "[vout]"]
    if encoding.audio:
        args += ["-map", "[aout]", "-c:a", "aac", "-b:a", "160k"]
    args += ["-c:v", "libx264", "-preset", encoding.preset, "-crf", str(encoding.crf), "-pix_fmt", "yuv420p",
             "-movflags", "+faststart", arg_path(output)]
    return args


def browser_proxy_args(
    source: Path | str, output: Path | str, info: VideoInfo, max_height: int = 720
) -> list[str]:
    """Arguments for a quick H.264/AAC MP4 that any browser plays, on the source's own timeline.

    Nothing is trimmed and ffmpeg starts the output at the source's first frame, so a
    time marked on the proxy is the same time in the original. The picture is scaled
    down (it is only for looking) and gets a keyframe every second so seeking is snappy.
    """
    source_stream = ffmpeg.input(arg_path(source))
    video = source_stream.video.filter("scale", -2, f"trunc(min(ih,{max_height})/2)*2")
    streams = [video, source_stream.audio] if info.has_audio else [video]
    opts: dict[str, object] = {
        "vcodec": "libx264", "preset": "ultrafast", "crf": 27, "pix_fmt": "yuv420p",
        "g": max(1, round(float(info.fps))), "movflags": "+faststart",
    }
    if info.has_audio:
        opts.update(acodec="aac", audio_bitrate="128k")
    return ffmpeg.output(*streams, arg_path(output), **opts).get_args()


def make_browser_proxy(source: Path | str, output: Path | str, info: VideoInfo | None = None) -> Path:
    """Write the browser preview of `source` to `output` atomically (see browser_proxy_args)."""
    info = info or probe(source)
    target = Path(output)
    with atomic_path(target) as part:
        run(browser_proxy_args(source, part, info), part, source)
    return target


def span_preview_args(
    source: Path | str, start: float, duration: float, output: Path | str, info: VideoInfo,
    max_height: int = 360, lead: float = 0.0,
) -> list[str]:
    """A few seconds of a long VOD as a small H.264/AAC MP4 a browser plays, cut with input seeking.

    For answering suggestions on a VOD the browser cannot play: `-ss` before `-i` decodes
    only from the keyframe before `start`, so a preview costs its own seconds however long
    the VOD is (the whole-file proxy would take as long as the VOD to make). The preview's
    time 0 is `start` in the VOD, frame accurate, so the page adds `start` to its clock.
    `lead` as in piece_args (seek_lead's containers decode a little before the cut).
    A keyframe every second keeps seeking inside the preview snappy.
    """
    lead = start if start < 1.0 else min(start, lead)
    cut = ["-ss", f"{start - lead:.3f}"] if start > lead else []
    cut += ["-t", f"{lead + duration:.3f}", "-i", arg_path(source)]
    trim = f"trim=start={lead:.3f},setpts=PTS-STARTPTS," if lead > 0 else ""
    atrim = f"atrim=start={lead:.3f},asetpts=PTS-STARTPTS," if lead > 0 else ""
    scale = f"scale=-2:'trunc(min(ih,{max_height})/2)*2'"
    args = [*cut, "-map", "0:v:0", "-vf", f"{trim}{scale},format=yuv420p",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "27",
            "-g", str(max(1, round(float(info.fps))))]
    if info.has_audio:
        args += ["-map", "0:a:0", "-af", f"{atrim}aresample=async=1", "-c:a", "aac", "-b:a", "96k"]
    return [*args, "-movflags", "+faststart", arg_path(output)]


def make_span_preview(source: Path | str, start: float, duration: float, output: Path | str,
                      info: VideoInfo | None = None) -> Path:
    """Write the preview of [start, start + duration) of `source` atomically (see span_preview_args)."""
    info = info or probe(source)
    target = Path(output)
    with atomic_path(target) as part:
        run(span_preview_args(source, start, duration, part, info, lead=seek_lead(info)), part, source)
    return target
