"""Vertical shorts and stills: parts of the VOD stacked into a phone frame, loudness for phones.

A short is one ffmpeg pass from the VOD with input seeking: the picture is cut into
`Part`s (the face-cam box, the gameplay), each scaled into its band of the vertical
frame and stacked; a part whose shape does not fill its band sits on a blurred,
darkened copy of itself (never black bars), and a part's `mask` (a face-cam its crop
could not avoid) is hidden under the same fill. The caption is an ASS file burnt in at
the end, so the command line stays short whatever it says. The sound is normalised
to an EBU R128 loudness with loudnorm's two-pass mode: `loudnorm_measure` reads the
span's loudness first (audio only, fast), then the encode applies one linear gain
with those figures, which lands within a fraction of a LU of the target where a
single dynamic pass would not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from autotosis.core.errors import MediaError
from autotosis.media.encode import burn_in_filter, cut_window
from autotosis.media.runner import arg_path, run

Rect = tuple[int, int, int, int]  # x, y, width, height in the VOD's pixels


@dataclass(frozen=True)
class Part:
    """A rectangle of the VOD and the band of the short it fills (bands stack top to bottom)."""

    source: Rect
    width: int
    height: int
    fit: bool  # True: shown whole over a blurred copy; False: its shape already fills the band
    mask: Rect | None = None  # x, y, w, h within `source` hidden under its blurred fill (a face-cam)


@dataclass(frozen=True)
class ShortEncoding:
    """How shorts are encoded: what the apps take (H.264 High, yuv420p, AAC 48 kHz stereo)."""

    fps: str  # output frame rate, e.g. "30" or "30000/1001"
    preset: str = "veryfast"
    crf: int = 21
    audio: bool = True
    audio_track: int = 0  # the VOD's audio stream the short keeps (ffmpeg's 0:a:N), as the reel does
    loudness: float | None = -14.0  # integrated LUFS (what TikTok, YouTube, Instagram play at); None: as is
    true_peak: float = -1.5  # dBTP ceiling
    loudness_range: float = 11.0  # LU: loudnorm's LRA target; linear mode leaves the range as it was


def _blur_size(width: int, height: int) -> tuple[int, int, int]:
    """A small size for the blurred backdrop (blurring 1/8 of the pixels is 64x cheaper) and a radius."""
    bw, bh = max(8, width // 16 * 2), max(8, height // 16 * 2)
    return bw, bh, max(1, min(bw, bh) // 4 - 1)


def _part_graph(k: int, part: Part) -> list[str]:
    x, y, w, h = part.source
    lines, crop = [], f"[s{k}]crop={w}:{h}:{x}:{y}"
    if part.mask is not None:
        mx, my, mw, mh = part.mask
        bw, bh, radius = _blur_size(w, h)
        lines += [f"{crop},split=2[c{k}][d{k}]",
                  f"[d{k}]scale={bw}:{bh},boxblur={radius}:2,lutyuv=y=val*0.55,scale={w}:{h},"
                  f"crop={mw}:{mh}:{mx}:{my}[m{k}]"]
        crop = f"[c{k}][m{k}]overlay={mx}:{my}"
    if not part.fit:
        return [*lines, f"{crop},scale={part.width}:{part.height},setsar=1[p{k}]"]
    bw, bh, radius = _blur_size(part.width, part.height)
    return [
        *lines,
        f"{crop},split=2[a{k}][b{k}]",
        f"[a{k}]scale={bw}:{bh}:force_original_aspect_ratio=increase,crop={bw}:{bh},"
        f"boxblur={radius}:2,lutyuv=y=val*0.55,scale={part.width}:{part.height},setsar=1[bg{k}]",
        f"[b{k}]scale={part.width}:{part.height}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
        f"setsar=1[fg{k}]",
        f"[bg{k}][fg{k}]overlay=(W-w)/2:(H-h)/2[p{k}]",
    ]


def short_graph(parts: list[Part], fps: str, lead: float = 0.0, subtitles: Path | None = None,
                fonts_dir: Path | None = None) -> str:
    """The filter graph of a short: `[0:v]` -> parts -> stacked -> caption -> `[v]`."""
    trim = f"trim=start={lead:.6f},setpts=PTS-STARTPTS," if lead > 0 else ""
    names = "".join(f"[s{k}]" for k in range(len(parts)))
    lines = [f"[0:v]{trim}fps={fps},split={len(parts)}{names}" if len(parts) > 1
             else f"[0:v]{trim}fps={fps}[s0]"]
    for k, part in enumerate(parts):
        lines += _part_graph(k, part)
    stacked = "".join(f"[p{k}]" for k in range(len(parts)))
    tail = []
    if subtitles is not None:
        tail.append(burn_in_filter(subtitles, fonts_dir))
    tail.append("format=yuv420p")
    if len(parts) > 1:
        lines.append(f"{stacked}vstack=inputs={len(parts)},{','.join(tail)}[v]")
    else:
        lines.append(f"{stacked}{','.join(tail)}[v]")
    return ";".join(lines)


def _seek(vod: Path | str, start: float, seconds: float, lead: float, fps: str) -> tuple[list[str], float]:
    """Input seeking to just before `start` (see encode.cut_window, and encode.piece_args for
    why some containers need a lead)."""
    cut, lead = cut_window(start, seconds, lead, Fraction(fps))
    return [*cut, "-i", arg_path(vod)], lead


def loudnorm_filter(encoding: ShortEncoding, measured: dict[str, str] | None) -> str:
    """loudnorm with the target; with the first pass's `measured` figures, the linear second pass."""
    text = f"loudnorm=I={encoding.loudness:g}:TP={encoding.true_peak:g}:LRA={encoding.loudness_range:g}"
    if measured is None:
        return text + ":print_format=json"
    return (text + f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
            f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
            f":offset={measured['target_offset']}:linear=true:print_format=summary")


def loudnorm_measure_args(vod: Path | str, start: float, duration: float, encoding: ShortEncoding,
                          lead: float = 0.0) -> list[str]:
    """First loudnorm pass: decode only the span's sound and print its loudness as JSON."""
    cut, lead = _seek(vod, start, duration, lead, encoding.fps)
    atrim = f"atrim=start={lead:.6f},asetpts=PTS-STARTPTS," if lead > 0 else ""
    return [*cut, "-vn", "-map", f"0:a:{encoding.audio_track}",
            "-af", atrim + loudnorm_filter(encoding, None), "-f", "null", "-"]


def parse_loudnorm(stderr: str) -> dict[str, str]:
    """The JSON block loudnorm prints at the end of a measuring pass."""
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr)
    if match is None:
        raise MediaError(f"loudnorm printed no measurement ({stderr.strip().splitlines()[-1:]})")
    return {key: str(value) for key, value in json.loads(match.group(0)).items()}


def loudnorm_measure(vod: Path | str, start: float, duration: float, encoding: ShortEncoding,
                     lead: float = 0.0) -> dict[str, str] | None:
    """The span's loudness figures for the second pass; None when it is silent (nothing to raise)."""
    measured = parse_loudnorm(run(loudnorm_measure_args(vod, start, duration, encoding, lead), None, vod))
    try:
        silent = float(measured["input_i"]) < -70
    except ValueError:  # "-inf"
        silent = True
    return None if silent else measured


def short_args(vod: Path | str, start: float, frames: int, output: Path | str, parts: list[Part],
               encoding: ShortEncoding, measured: dict[str, str] | None = None, subtitles: Path | None = None,
               fonts_dir: Path | None = None, lead: float = 0.0) -> list[str]:
    """One pass from the VOD to a finished short of `frames` frames (at `encoding.fps`) from the
    one shown at `start`, and their length of sound: seek, crop and stack, caption, encode, loudness."""
    seconds = float(frames / Fraction(encoding.fps))
    cut, lead = _seek(vod, start, seconds, lead, encoding.fps)
    graph = short_graph(parts, encoding.fps, lead, subtitles, fonts_dir)
    args = [*cut, "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", encoding.preset,
            "-crf", str(encoding.crf), "-profile:v", "high", "-pix_fmt", "yuv420p", "-frames:v", str(frames)]
    if encoding.audio:
        chain = [f"atrim=start={lead:.6f},asetpts=PTS-STARTPTS"] if lead > 0 else []
        if encoding.loudness is not None and measured is not None:
            chain.append(loudnorm_filter(encoding, measured))
        chain.append("aresample=48000:async=1")
        args += ["-map", f"0:a:{encoding.audio_track}", "-af", ",".join(chain), "-c:a", "aac", "-b:a", "160k",
                 "-ar", "48000", "-ac", "2"]
    return [*args, "-t", f"{seconds:.6f}", "-movflags", "+faststart", arg_path(output)]


def ebur128_args(path: Path | str) -> list[str]:
    """Measure a file's EBU R128 integrated loudness (printed as a summary on stderr)."""
    return ["-i", arg_path(path), "-map", "0:a:0", "-af", "ebur128=framelog=verbose", "-f", "null", "-"]


def integrated_loudness(path: Path | str) -> float:
    """Integrated loudness of a file's first audio stream, in LUFS (EBU R128, as the apps measure)."""
    stderr = run(ebur128_args(path), None, path)
    found = re.findall(r"^\s*I:\s+(-?[\d.]+|-inf) LUFS", stderr, re.MULTILINE)
    if not found:
        raise MediaError(f"{path}: ebur128 printed no loudness")
    return float(found[-1])


def still_args(vod: Path | str, time: float, output: Path | str, width: int, lead: float = 0.0) -> list[str]:
    """One frame at `time` as a JPEG `width` wide, with input seeking (decodes from the keyframe before)."""
    lead = min(time, lead)
    cut = ["-ss", f"{time - lead:.3f}"] if time > lead else []
    skip = [f"trim=start={lead:.3f}"] if lead > 0 else []
    chain = ",".join([*skip, f"scale={width}:-2", "format=yuvj420p"])
    return [*cut, "-i", arg_path(vod), "-map", "0:v:0", "-vf", chain, "-frames:v", "1", "-q:v", "3",
            "-update", "1", arg_path(output)]
