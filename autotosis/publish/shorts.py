"""Vertical shorts: one phone-shaped MP4 per highlight, ready for TikTok, YouTube Shorts, Reels.

Layouts (`LAYOUTS`): `stack` puts the face-cam box on top and the gameplay below, the
face-cam band as tall as the box's shape asks (within a quarter and half of the
frame), the gameplay cropped to fill the rest around where the action is (or around
`game_box`); `game` is the gameplay alone, cropped the same way; `facecam` the
face-cam alone. A face-cam that does not fill its band sits on a blurred, darkened
copy of itself. The caption (label and VOD time, or a `title` template) sits at the
top, below the band the apps cover with their own tabs. A highlight longer than
`max_seconds` is trimmed around its peak, which lands two thirds of the way in: a
reaction needs the moment that caused it more than its tail.

Every short is one ffmpeg pass from the VOD with input seeking (media.short_args),
encoded `jobs` at a time from the calling thread's watch, and appears under its
name only when it is complete.
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.fsutil import atomic_write_text, exclusive, write_error
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Segment
from autotosis.pick.highlights import Highlight
from autotosis.publish.reel import ass_text, ass_time, fonts_dir

LAYOUTS = ("stack", "game", "facecam")
DEFAULT_SIZE = (1080, 1920)
DEFAULT_TITLE = "{label} \u00b7 {time}"
TITLE_FIELDS = ("label", "time", "index", "peak", "vod")
PEAK_AT = 2 / 3  # where the peak lands in a trimmed short
FACE_BAND = (0.25, 0.5)  # the face-cam band's share of the height, least and most
TOP_SAFE = 0.085  # share of the height the apps' top tabs cover
SIDE_SAFE = 0.08
ACTION_SECONDS = 3.0  # seconds either side of the peak looked at to find the action


def _jobs() -> int:
    from autotosis.core.hardware import cores

    return max(1, min(4, cores()))


@dataclass(frozen=True)
class ShortsConfig:
    """How shorts look and are encoded; `autotosis compile --shorts` and `autotosis shorts` fill it."""

    size: tuple[int, int] = DEFAULT_SIZE
    layout: str = "stack"
    game_box: media.Box | None = None  # where the gameplay is; None: the whole frame
    title: str = DEFAULT_TITLE  # fields: {label} {time} {index} {peak} {vod}
    max_seconds: float = 60.0
    loudness: float | None = -14.0  # LUFS; None leaves the sound as it is
    preset: str = "veryfast"
    crf: int = 21
    jobs: int = field(default_factory=_jobs)

    def to_dict(self) -> dict:
        return asdict(self)


def parse_size(text: str) -> tuple[int, int]:
    """"1080x1920" -> (1080, 1920); both even (H.264 in 4:2:0 needs it) and at least 64."""
    try:
        width, height = (int(v) for v in text.lower().replace("*", "x").split("x"))
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use WIDTHxHEIGHT, e.g. 1080x1920)") from None
    if width < 64 or height < 64 or width % 2 or height % 2:
        raise ValueError(f"size {text!r}: width and height must be even and at least 64")
    return width, height


def check_title(template: str) -> None:
    """AutotosisError for a template with an unknown field or broken braces."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise AutotosisError(f"title {template!r}: {exc} (write a literal brace as {{{{ or }}}})") from None
    unknown = [f for f in fields if f.split(".")[0].split("[")[0] not in TITLE_FIELDS]
    if unknown:
        raise AutotosisError(f"title {template!r}: unknown field {{{unknown[0]}}} "
                             f"(use {', '.join('{' + f + '}' for f in TITLE_FIELDS)})")


def title_text(template: str, item: Highlight, vod: Path) -> str:
    """The caption of a short from its template."""
    check_title(template)
    values = {"label": item.label, "time": format_time(item.segment.start, 0), "index": item.index + 1,
              "peak": f"{item.segment.peak:.2f}", "vod": vod.stem}
    try:
        return template.format(**values)
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise AutotosisError(f"title {template!r}: {exc}") from None


def window(item: Highlight, max_seconds: float) -> Segment:
    """The span a short shows: the whole highlight, or `max_seconds` of it with the peak PEAK_AT in."""
    seg = item.segment
    if seg.duration <= max_seconds:
        return seg
    start = min(max(seg.start, item.peak_time - PEAK_AT * max_seconds), seg.end - max_seconds)
    return Segment(start, start + max_seconds, seg.peak, seg.mean)


def caption_ass(text: str, width: int, height: int) -> str:
    """An ASS file with `text` at the top centre for the whole short, inside the apps' safe area."""
    size = max(10, round(height / 24))
    side = round(width * SIDE_SAFE)
    header = (
        "[Script Info]\nScriptType: v4.00+\nWrapStyle: 0\nScaledBorderAndShadow: yes\n"
        f"PlayResX: {width}\nPlayResY: {height}\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
        "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Title,DejaVu Sans,{size},&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,-1,0,0,0,100,100,0,0,"
        f"1,{max(1, size // 12)},{max(1, size // 20)},8,{side},{side},{round(height * TOP_SAFE)},1\n\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    return header + f"Dialogue: 0,{ass_time(0)},{ass_time(36000)},Title,,0,0,0,,{ass_text(text)}\n"


def _cover(region: media.Rect, aspect: float, focus_x: int | None) -> media.Rect:
    """The largest `aspect` (w/h) rectangle inside `region`, centred on `focus_x` where it can move."""
    x, y, w, h = region
    if w / h > aspect:
        cw = max(2, min(w, round(h * aspect)))
        centre = x + w / 2 if focus_x is None else focus_x
        cx = round(min(max(centre - cw / 2, x), x + w - cw))
        return cx, y, cw, h
    ch = max(2, min(h, round(w / aspect)))
    return x, y + (h - ch) // 2, w, ch


def face_band_height(face: media.Rect, size: tuple[int, int]) -> int:
    """The face-cam band's height: the box's own shape at full width, kept within FACE_BAND."""
    width, height = size
    natural = width * face[3] / face[2]
    band = min(max(natural, FACE_BAND[0] * height), FACE_BAND[1] * height)
    return max(2, round(band / 2) * 2)


def layout_parts(layout: str, size: tuple[int, int], face: media.Rect | None, game: media.Rect,
                 focus_x: int | None = None) -> list[media.Part]:
    """The parts of a short, top to bottom, for `layout` (see the module's docstring)."""
    width, height = size
    if layout not in LAYOUTS:
        raise AutotosisError(f"unknown layout {layout!r} (use {', '.join(LAYOUTS)})")
    if layout == "game":
        return [media.Part(_cover(game, width / height, focus_x), width, height, fit=False)]
    if face is None:
        raise AutotosisError(f"layout {layout} needs the face-cam box: pass --facecam x0,y0,x1,y1")
    if layout == "facecam":
        return [media.Part(face, width, height, fit=True)]
    band = face_band_height(face, size)
    return [media.Part(face, width, band, fit=True),
            media.Part(_cover(game, width / (height - band), focus_x), width, height - band, fit=False)]


def _rect(box: media.Box, info: media.VideoInfo, vod: Path) -> media.Rect:
    return media.pixel_box(box, info.width, info.height, vod)


def action_x(vod: Path, info: media.VideoInfo, span: Segment, peak: float, region: media.Rect,
             crop_width: int, face: media.Rect | None = None) -> int | None:
    """Left edge of the `crop_width` window of `region` with the most motion near the peak.

    Frames 1/4 s apart within ACTION_SECONDS of the peak, small and grey: the columns
    whose pixels change most are where the action is; the face-cam box is left out
    (a talking face is motion too). None when nothing moves enough to choose.
    """
    x, y, w, h = region
    if crop_width >= w:
        return None
    start = max(span.start, peak - ACTION_SECONDS)
    end = min(span.end, peak + ACTION_SECONDS, info.duration)
    columns = 96
    rows = max(2, round(columns * h / w))
    box = (x / info.width, y / info.height, (x + w) / info.width, (y + h) / info.height)
    images = [b.images for b in media.frames(vod, 4.0, box, (columns, rows), start, end, info=info)]
    if not images:
        return None
    grey = np.concatenate(images).astype(np.float32).mean(axis=3)
    if len(grey) < 2:
        return None
    motion = np.abs(np.diff(grey, axis=0)).sum(axis=0)
    if face is not None:
        fx0, fy0 = (face[0] - x) * columns / w, (face[1] - y) * rows / h
        fx1, fy1 = fx0 + face[2] * columns / w, fy0 + face[3] * rows / h
        motion[max(0, int(fy0)):max(0, int(np.ceil(fy1))), max(0, int(fx0)):max(0, int(np.ceil(fx1)))] = 0
    energy = motion.sum(axis=0)
    span_cols = max(1, round(crop_width / w * columns))
    sums = np.convolve(energy, np.ones(span_cols), mode="valid")
    if not len(sums) or sums.max() <= 1.15 * sums.mean():
        return None  # flat: no place is clearly where things happen
    best = int(np.argmax(sums))
    return x + round((best + span_cols / 2) * w / columns)


def output_fps(info: media.VideoInfo) -> str:
    """The VOD's own rate (phones play up to 60), written as ffmpeg reads it."""
    fps = min(info.fps, Fraction(60))
    return str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"


def facecam_for(vod: Path, known: Sequence[float] | None, layout: str) -> tuple[media.Box | None, str | None]:
    """The face-cam box shorts use: the one compile knew (model or --facecam), else detected.

    The `game` layout needs none (a known one still keeps the face out of the action
    search). Returns the box and, when it had to be detected, a note saying so.
    """
    if known is not None:
        x0, y0, x1, y1 = (float(v) for v in known)
        return (x0, y0, x1, y1), None
    if layout == "game":
        return None, None
    from autotosis.learn.facecam import detect_facecam

    guess = detect_facecam(vod)
    return guess.box, (f"{vod}: face-cam for the shorts detected at {list(guess.box)} "
                       f"(a face in {guess.frames_with_face}/{guess.frames_sampled} frames); "
                       "pass --facecam to set it")


@dataclass(frozen=True)
class ShortPlan:
    """One short, decided and not yet encoded."""

    item: Highlight
    span: Segment
    parts: list[media.Part]
    title: str
    path: Path


def plan_shorts(vod: Path, info: media.VideoInfo, items: Sequence[Highlight], folder: Path,
                config: ShortsConfig, facecam: media.Box | None) -> list[ShortPlan]:
    """Where each short goes, what it shows and says: everything but the encoding."""
    check_title(config.title)
    if config.max_seconds <= 0:
        raise AutotosisError(f"--shorts-max must be above 0 seconds, got {config.max_seconds:g}")
    face = _rect(facecam, info, vod) if facecam is not None else None
    game = (_rect(config.game_box, info, vod) if config.game_box is not None
            else (0, 0, info.width, info.height))
    plans = []
    for item in items:
        span = window(item, config.max_seconds)
        rate = float(min(info.fps, Fraction(60)))
        length = max(1, round((min(span.end, info.duration) - span.start) * rate)) / rate
        span = Segment(span.start, span.start + length, span.peak, span.mean)
        parts = layout_parts(config.layout, config.size, face, game)
        if config.layout != "facecam":
            cover = parts[-1].source
            focus = action_x(vod, info, span, item.peak_time, game, cover[2], face) \
                if config.game_box is None else None
            parts = layout_parts(config.layout, config.size, face, game, focus)
        plans.append(ShortPlan(item, span, parts, title_text(config.title, item, vod),
                               folder / f"{item.slug}.mp4"))
    return plans


def make_shorts(vod: Path, items: Sequence[Highlight], folder: Path, config: ShortsConfig = ShortsConfig(),
                facecam: media.Box | None = None, force: bool = False,
                progress: Callable[[int, int], None] | None = None, audio_track: int = 0) -> list[Path]:
    """Write one vertical short per highlight into `folder`; `facecam` is needed by stack and facecam.

    `audio_track` is the VOD's audio stream to keep (the reel's: see --reel-audio).

    An existing short is replaced only with `force`; the folder is locked meanwhile.
    """
    if not items:
        raise AutotosisError(f"{vod}: no highlights to make shorts of")
    info = media.probe(vod)
    with exclusive(folder, "another autotosis shorts run"):
        plans = plan_shorts(vod, info, items, folder, config, facecam)
        existing = [p.path for p in plans if p.path.exists()]
        if existing and not force:
            raise AutotosisError(f"{existing[0]}: already exists; pass --force to replace it")
        encoding = media.ShortEncoding(fps=output_fps(info), preset=config.preset, crf=config.crf,
                                       audio=info.has_audio, audio_track=audio_track,
                                       loudness=config.loudness)
        lead = media.seek_lead(info)
        total = len(plans)
        if progress is not None:
            progress(0, total)
        commands: list[media.Job] = []
        captions: list[Path] = []
        try:
            for plan in plans:
                measured = None
                if encoding.audio and encoding.loudness is not None:
                    measured = media.loudnorm_measure(vod, plan.span.start, plan.span.duration, encoding,
                                                      lead)
                caption = plan.path.with_name(f".{plan.path.stem}.ass")
                atomic_write_text(caption, caption_ass(plan.title, *config.size))
                captions.append(caption)
                part = plan.path.with_name(f".{plan.path.stem}.part.mp4")
                args = media.short_args(vod, plan.span.start, plan.span.duration, part, plan.parts, encoding,
                                        measured, caption, fonts_dir(), lead)
                commands.append((args, part, vod))
            done = 0

            def finished(k: int) -> None:
                nonlocal done
                try:
                    os.replace(commands[k][1], plans[k].path)
                except OSError as exc:
                    raise (write_error(exc, plans[k].path) or exc) from None
                done += 1
                if progress is not None:
                    progress(done, total)

            media.run_all(commands, config.jobs, finished)
        finally:
            for _, part, _ in commands:
                Path(part).unlink(missing_ok=True)
            for caption in captions:
                caption.unlink(missing_ok=True)
    return [p.path for p in plans]
