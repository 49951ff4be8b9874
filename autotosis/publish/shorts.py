"""Vertical shorts: one phone-shaped MP4 per highlight, ready for TikTok, YouTube Shorts, Reels.

Layouts (`framing.LAYOUTS`): `stack` puts the face-cam box on top and the gameplay
below, the face-cam band as tall as the box's shape asks (within a quarter and half of
the frame), the gameplay cropped to fill the rest around where the action is (or around
`game_box`, or exactly `game_crop`); `game` is the gameplay alone, cropped the same way;
`facecam` the face-cam alone. The gameplay's crop never shows the face-cam box (see
framing.py). A face-cam that does not fill its band sits on a blurred, darkened copy of
itself. The caption (label and VOD time, or a `title` template) sits in the area the
apps leave uncovered, clear of the face, which Haar finds in the face-cam near the
peak (learn.facecam); with `captions` speech or both, the words said follow a phrase
at a time below it (publish.captions), and an .srt of them lies beside the short.
A highlight longer than `max_seconds` is trimmed around its
peak, which lands two thirds of the way in: a reaction needs the moment that caused it
more than its tail. A short shows exactly the frames the reel shows of its span
(core.frames).

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
from autotosis.core.frames import frame_span, frames_in, rate_text, snap
from autotosis.core.fsutil import atomic_write_text, exclusive, write_error
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Segment
from autotosis.core.transcript import Word, first_words, words_in
from autotosis.pick.highlights import Highlight
from autotosis.publish import captions as captions_lib
from autotosis.publish import framing
from autotosis.publish.reel import fonts_dir

DEFAULT_SIZE = (1080, 1920)
DEFAULT_TITLE = "{label} \u00b7 {time}"
TITLE_FIELDS = ("label", "time", "index", "peak", "vod", "words")  # words: the first ones said
PEAK_AT = 2 / 3  # where the peak lands in a trimmed short
ACTION_SECONDS = 3.0  # seconds either side of the peak looked at to find the action and the face
FACE_WIDTH = 320  # the face-cam is looked at this wide for the face: Haar needs 24 px faces


def _jobs() -> int:
    from autotosis.core.hardware import cores

    return max(1, min(4, cores()))


@dataclass(frozen=True)
class ShortsConfig:
    """How shorts look and are encoded; `autotosis compile --shorts` and `autotosis shorts` fill it."""

    size: tuple[int, int] = DEFAULT_SIZE
    layout: str = "stack"
    game_box: media.Box | None = None  # where the gameplay is; None: the whole frame
    game_crop: media.Box | None = None  # the gameplay's crop, set by hand; None: chosen around the action
    title: str = DEFAULT_TITLE  # fields: {label} {time} {index} {peak} {vod} {words}
    captions: str = "label"  # label, speech, both or none (publish.captions.CAPTIONS)
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


def _fields(template: str) -> list[str]:
    return [name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template)
            if name is not None]


def needs_words(config: ShortsConfig) -> bool:
    """Whether these shorts show what is said: speech captions, or `{words}` in the title."""
    if captions_lib.shows_speech(config.captions):
        return True
    try:
        return captions_lib.shows_label(config.captions) and "words" in _fields(config.title)
    except ValueError:
        return False


def title_text(template: str, item: Highlight, vod: Path, words: Sequence[Word] = ()) -> str:
    """The caption of a short from its template; `{words}` is the first words said, if any."""
    check_title(template)
    values = {"label": item.label, "time": format_time(item.segment.start, 0), "index": item.index + 1,
              "peak": f"{item.segment.peak:.2f}", "vod": vod.stem, "words": first_words(words)}
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


def find_face(vod: Path, info: media.VideoInfo, span: Segment, peak: float,
              facecam: media.Rect) -> media.Rect | None:
    """Where the face is in the face-cam box near the peak (VOD pixels), or None when Haar
    sees none: frames 1/2 s apart within ACTION_SECONDS of it, the box FACE_WIDTH wide."""
    from autotosis.learn.facecam import locate_face

    x, y, w, h = facecam
    size = (FACE_WIDTH, max(2, round(FACE_WIDTH * h / w / 2) * 2))
    start = max(span.start, peak - ACTION_SECONDS)
    end = min(span.end, peak + ACTION_SECONDS, info.duration)
    box = (x / info.width, y / info.height, (x + w) / info.width, (y + h) / info.height)
    images = (image for batch in media.frames(vod, 2.0, box, size, start, end, info=info)
              for image in batch.images)
    found = locate_face(images)
    if found is None:
        return None
    x0, y0, x1, y1 = found
    return x + round(x0 * w), y + round(y0 * h), round((x1 - x0) * w), round((y1 - y0) * h)


def output_fps(info: media.VideoInfo) -> Fraction:
    """The VOD's own rate (phones play up to 60)."""
    return min(info.fps, Fraction(60))


def facecam_for(vod: Path, known: Sequence[float] | None, layout: str) -> tuple[media.Box | None, str | None]:
    """The face-cam box shorts use: the one compile knew (model or --facecam), else detected.

    Every layout wants it: `stack` and `facecam` show it, `game` keeps its crop off it
    (and makes do without one when no face is found). Returns the box and, when it had
    to be detected, a note saying so.
    """
    if known is not None:
        x0, y0, x1, y1 = (float(v) for v in known)
        return (x0, y0, x1, y1), None
    from autotosis.learn.facecam import detect_facecam

    try:
        guess = detect_facecam(vod)
    except AutotosisError:
        if layout != "game":
            raise
        return None, f"{vod}: no face-cam found for the game shorts to keep off; pass --facecam to set it"
    return guess.box, (f"{vod}: face-cam for the shorts detected at {list(guess.box)} "
                       f"(a face in {guess.frames_with_face}/{guess.frames_sampled} frames); "
                       "pass --facecam to set it")


@dataclass(frozen=True)
class ShortPlan:
    """One short, decided and not yet encoded."""

    item: Highlight
    span: Segment  # on the VOD's frame boundaries
    frames: int  # how many frames the short has, at output_fps
    parts: list[media.Part]
    avoid: tuple[media.Rect, ...]  # where the captions must not go: the face, in the short's pixels
    path: Path


def _parts(vod: Path, info: media.VideoInfo, config: ShortsConfig, span: Segment, peak: float,
           face: media.Rect | None) -> list[media.Part]:
    """The short's parts, the gameplay cropped around the action near the peak (unless a
    --game-box or --game-crop says where)."""
    frame = (info.width, info.height)
    game = _rect(config.game_box, info, vod) if config.game_box is not None else (0, 0, *frame)
    hand = _rect(config.game_crop, info, vod) if config.game_crop is not None else None
    parts = framing.layout_parts(config.layout, config.size, frame, face, game, None, hand)
    if config.layout == "facecam" or config.game_box is not None or hand is not None:
        return parts
    band = parts[-1]
    width = framing.cover(game, band.width / band.height, None)[2]
    focus = action_x(vod, info, span, peak, game, width, face)
    return framing.layout_parts(config.layout, config.size, frame, face, game, focus)


def plan_shorts(vod: Path, info: media.VideoInfo, items: Sequence[Highlight], folder: Path,
                config: ShortsConfig, facecam: media.Box | None) -> list[ShortPlan]:
    """Where each short goes, what it shows and says: everything but the encoding."""
    check_title(config.title)
    captions_lib.check_captions(config.captions)
    if config.max_seconds <= 0:
        raise AutotosisError(f"--shorts-max must be above 0 seconds, got {config.max_seconds:g}")
    face = _rect(facecam, info, vod) if facecam is not None else None
    limit = frames_in(info.duration, info.fps)
    plans = []
    for item in items:
        span = snap(window(item, config.max_seconds), info.fps, limit)
        count = frame_span(span, info.fps)[1]
        frames = max(1, round(count * output_fps(info) / info.fps))
        parts = _parts(vod, info, config, span, item.peak_time, face)
        avoid = []
        if config.layout != "game" and face is not None:  # the face part is the first, at the top
            found = find_face(vod, info, span, item.peak_time, face)
            avoid.append(framing.shown(parts[0], 0, framing.head(found, face) if found else face))
        plans.append(ShortPlan(item, span, frames, parts, tuple(avoid), folder / f"{item.slug}.mp4"))
    return plans


def caption_file(plan: ShortPlan, vod: Path, config: ShortsConfig,
                 words: Sequence[Word] | None) -> str | None:
    """The short's ASS captions (title and what is said, placed by framing.caption_top), or None
    when it shows none."""
    title = title_text(config.title, plan.item, vod, words or ()) \
        if captions_lib.shows_label(config.captions) else None
    said = words if captions_lib.shows_speech(config.captions) and words else None
    if title is None and said is None:
        return None
    title_top, speech_top = captions_lib.places(config.size, title, said is not None, plan.avoid)
    return captions_lib.short_ass(config.size, title, title_top, said, speech_top, plan.span.start)


def short_subtitles(plan: ShortPlan, words: Sequence[Word]) -> str:
    """The short's words as SubRip on its own clock (it starts at 0)."""
    cues = captions_lib.shifted(captions_lib.cues(words), -plan.span.start, 0.0, plan.span.duration)
    return captions_lib.srt_text(cues)


def make_shorts(vod: Path, items: Sequence[Highlight], folder: Path, config: ShortsConfig = ShortsConfig(),
                facecam: media.Box | None = None, force: bool = False,
                progress: Callable[[int, int], None] | None = None, audio_track: int = 0,
                words: Callable[[], Sequence[Sequence[Word]] | None] | None = None) -> list[Path]:
    """Write one vertical short per highlight into `folder`; `facecam` is needed by stack and facecam.

    `audio_track` is the VOD's audio stream to keep (the reel's: see --reel-audio).
    `words` gives the words said in each highlight (VOD times), or None when there are none;
    it is called once the shorts are planned, so a transcription can run meanwhile.

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
        encoding = media.ShortEncoding(fps=rate_text(output_fps(info)), preset=config.preset, crf=config.crf,
                                       audio=info.has_audio, audio_track=audio_track,
                                       loudness=config.loudness)
        lead = media.seek_lead(info)
        total = len(plans)
        if progress is not None:
            progress(0, total)
        commands: list[media.Job] = []
        captions: list[Path] = []
        try:
            said = words() if words is not None else None
            for k, plan in enumerate(plans):
                measured = None
                if encoding.audio and encoding.loudness is not None:
                    measured = media.loudnorm_measure(vod, plan.span.start, plan.span.duration, encoding,
                                                      lead)
                own = words_in(said[k], plan.span.start, plan.span.end) if said is not None else None
                caption = None
                text = caption_file(plan, vod, config, own)
                if text is not None:
                    caption = plan.path.with_name(f".{plan.path.stem}.ass")
                    atomic_write_text(caption, text)
                    captions.append(caption)
                if own is not None:
                    atomic_write_text(plan.path.with_suffix(".srt"), short_subtitles(plan, own))
                part = plan.path.with_name(f".{plan.path.stem}.part.mp4")
                args = media.short_args(vod, plan.span.start, plan.frames, part, plan.parts, encoding,
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
