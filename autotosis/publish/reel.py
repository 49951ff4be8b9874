"""Segments -> reel: seek-cut and re-encode each piece in parallel, caption it, join the pieces.

Every piece is cut with input seeking, so a reel costs what its own seconds cost,
not the VOD's length. The live caption (label, score coloured green -> red, VOD
time) is a small ASS subtitle file per piece that ffmpeg burns in: the command line
stays the same size however long the segment or the VOD, and the file holds one
event per score sample or VOD second. All pieces share one encoding, so the concat
demuxer joins them without re-encoding; `crossfade` re-encodes once through xfade.

Pieces are encoded from the calling thread's watch (media.run_all), so Ctrl-C kills
them at once, and kept under names that say what they contain until the reel is
joined: an interrupted or failed render re-uses every piece it already finished.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core import palette
from autotosis.core.errors import AutotosisError, MediaError
from autotosis.core.frames import frame_span, frames_in, snap
from autotosis.core.fsutil import atomic_path, atomic_write_text, exclusive, write_error
from autotosis.core.hardware import cores
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Segment, Timeline
from autotosis.core.transcript import Word, words_in
from autotosis.publish import captions as captions_lib
from autotosis.publish import framing
from autotosis.publish.captions import ass_text, ass_time

FONTS_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
              Path("/usr/local/share/fonts"))
FONT = captions_lib.FONT


def _jobs() -> int:
    return max(1, min(4, cores()))


@dataclass(frozen=True)
class RenderConfig:
    """Reel encoding defaults, written once; `autotosis compile` options read them."""

    preset: str = "veryfast"  # x264 speed/size trade-off: veryfast keeps a reel render in seconds
    crf: int = 20  # visually clean for game footage; lower is bigger and better
    overlay: bool = True  # burn in label, live score and VOD time
    crossfade: float = 0.0  # seconds of xfade/acrossfade between pieces; 0: hard cuts, no re-encode
    jobs: int = field(default_factory=_jobs)  # pieces encoded at once (x264 also threads inside)
    audio_track: int = 0  # the VOD's audio stream the reel keeps: the first, OBS's whole mix
    captions: str = "label"  # label, speech, both or none (publish.captions); the label also needs overlay

    def to_dict(self) -> dict:
        return {"preset": self.preset, "crf": self.crf, "overlay": self.overlay,
                "crossfade": self.crossfade, "jobs": self.jobs, "audio_track": self.audio_track,
                "captions": self.captions}


def score_colour(score: float) -> str:
    """ASS colour (&HBBGGRR&) from green at 0 through yellow to red at 1."""
    s = min(max(float(score), 0.0), 1.0)
    red, green = round(255 * min(1.0, 2 * s)), round(255 * min(1.0, 2 * (1 - s)))
    return f"&H00{green:02X}{red:02X}&"


def label_colours(labels: Sequence[str]) -> dict[str, str]:
    """A caption colour (ASS) per label, in order of first appearance: the palette's, so a
    label looks the same in the reel, timeline.png and the review page."""
    return {name: palette.ass_colour(colour) for name, colour in palette.label_colours(labels).items()}


def speech_style(width: int, height: int, label_size: int, margin: int,
                 face: tuple[int, int, int, int] | None) -> str:
    """The reel's speech caption: centred above the label line, or at the top when the
    face-cam (pixels) sits where it would go."""
    size = max(12, round(height / 14))
    side = round(width * 0.15)
    above = margin + round(label_size * 1.6)
    band = (side, height - above - round(2.6 * size), width - 2 * side, round(2.6 * size))
    top = face is not None and framing.overlaps(face, band)
    return captions_lib.style("Speech", size, 8 if top else 2, side, side, margin if top else above)


def caption_ass(segment: Segment, scores: Timeline | None, label: str, width: int, height: int,
                colour: str | None = None, words: Sequence[Word] | None = None, show_label: bool = True,
                face: tuple[int, int, int, int] | None = None) -> str:
    """An ASS subtitle file for one piece: `label score` in the score's colour (the label in
    its own `colour` when a reel has several), then the VOD time; with `words`, what is said,
    a phrase at a time (publish.captions), off the face-cam box `face` (pixels).

    Events change at every score sample and every VOD second inside the segment;
    times are relative to the piece, which starts at 0.
    """
    size = max(12, round(height / 16))
    margin = max(4, round(height / 40))
    header = (
        "[Script Info]\nScriptType: v4.00+\nWrapStyle: 2\nScaledBorderAndShadow: yes\n"
        f"PlayResX: {width}\nPlayResY: {height}\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
        "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Caption,{FONT},{size},&H00FFFFFF,&H00FFFFFF,&H00000000,&H99000000,-1,0,0,0,100,100,0,0,"
        f"3,{max(1, size // 8)},0,1,{margin},{margin},{margin},1\n"
        f"{speech_style(width, height, size, margin, face)}\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    cuts = np.arange(np.floor(segment.start) + 1, segment.end)
    times = np.zeros(0) if scores is None else scores.times
    inside = times[(times > segment.start) & (times < segment.end)]
    edges = np.unique(np.concatenate([[segment.start], cuts, inside, [segment.end]]))
    name = ass_text(label)
    lines = []
    for a, b in itertools.pairwise(edges if show_label else []):
        text = name
        if scores is not None and len(scores):
            index = max(0, int(np.searchsorted(scores.times, a, side="right")) - 1)
            score = float(scores.values[index])
            named = f"{{\\c{colour}}}{name} {{\\c{score_colour(score)}}}" if colour \
                else f"{{\\c{score_colour(score)}}}{name} "
            text = f"{named}{score:.2f}{{\\c&H00FFFFFF&}}"
        elif colour:
            text = f"{{\\c{colour}}}{name}{{\\c&H00FFFFFF&}}"
        text += f"   {format_time(float(np.floor(a)), 0)}"
        lines.append(f"Dialogue: 0,{ass_time(a - segment.start)},{ass_time(b - segment.start)},"
                     f"Caption,,0,0,0,,{text}\n")
    if words:
        said = words_in(words, segment.start, segment.end)
        lines += captions_lib.speech_events(said, "Speech", segment.start)
    return header + "".join(lines)


def fonts_dir() -> Path | None:
    """Where the caption font lives, so libass finds it without fontconfig set up."""
    return next((d for d in FONTS_DIRS if d.is_dir()), None)


def piece_name(info: media.VideoInfo, first: int, count: int, encoding: media.PieceEncoding,
               caption: str | None) -> str:
    """A piece's file name: changes with anything that changes its pixels or sound, so a
    re-run re-uses exactly the pieces it would encode again and nothing else."""
    raw = f"piece2|{info.identity}|{first}|{count}|{encoding!r}|{caption or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24] + encoding.suffix


def pieces_dir(target: Path) -> Path:
    """Where a reel's finished pieces wait until the reel is joined: a re-run after Ctrl-C,
    a full disk or a failed piece starts from them. Deleted once the reel is written."""
    return target.parent / f".{target.stem}.pieces"


def _check_piece(vod: Path | str, part: Path, segment: Segment, length: float) -> None:
    """A piece much shorter than asked means the VOD's data stops early (a cut-off download
    whose header still claims the full length): say so instead of joining a broken reel."""
    try:
        got = media.probe(part).duration
    except MediaError:
        got = 0.0
    if got < 0.5 * length and length - got > 0.5:
        span = f"{format_time(segment.start)}-{format_time(segment.end)}"
        raise MediaError(f"{vod}: no video to cut at {span}; the file stops early (an incomplete download?)")


def render_reel(
    vod: Path | str,
    segments: Sequence[Segment],
    output: Path | str,
    config: RenderConfig = RenderConfig(),
    scores: Timeline | None = None,
    label: str = "rage",
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    label_scores: dict[str, Timeline] | None = None,
    words: Sequence[Sequence[Word]] | None = None,
    facecam: media.Box | None = None,
) -> Path:
    """Write the reel of `segments` to `output` atomically; pieces encode `config.jobs` at a time.

    `scores` feeds the live caption (the timeline selection used); in a reel of several
    labels, a segment's own label names it, `label_scores` gives its score and each label
    gets its colour. `words` (VOD times, one list per segment) are burnt in when
    `config.captions` shows speech, off the `facecam` box. An existing reel is
    only replaced with `force`. Finished pieces are kept in `pieces_dir(output)` until
    the reel is joined, so an interrupted render resumes; the output folder is locked
    meanwhile, so two runs never write one reel.
    """
    target = Path(output)
    if not segments:
        raise AutotosisError(f"{vod}: no segments to render (nothing scored above the threshold)")
    with exclusive(target.parent):
        if target.exists() and not force:
            raise AutotosisError(f"{target}: already exists; pass --force to replace it")
        info = media.probe(vod)
        encoding = media.PieceEncoding(fps=str(info.fps), preset=config.preset, crf=config.crf,
                                       audio=info.has_audio, audio_track=config.audio_track)
        vod_frames = frames_in(info.duration, info.fps)
        folder = pieces_dir(target)
        several = len({seg.label for seg in segments if seg.label}) > 1 or len(label_scores or {}) > 1
        colours = label_colours([*(label_scores or {}), *(seg.label for seg in segments if seg.label)]) \
            if several else {}
        pieces, todo = [], []
        show_label = config.overlay and captions_lib.shows_label(config.captions)
        said = words if words is not None and captions_lib.shows_speech(config.captions) else None
        face = media.pixel_box(facecam, info.width, info.height, vod) if facecam is not None else None
        for k, seg in enumerate(segments):
            # The frames every output cuts (core.frames), the caption's clock on them; a
            # piece ends where its sound ends, so joins add no drift.
            seg = snap(seg, info.fps, vod_frames)
            first, count = frame_span(seg, info.fps)
            caption = None
            if show_label or (said is not None and said[k]):
                own = seg.label or label
                caption = caption_ass(seg, (label_scores or {}).get(own, scores), own, info.width,
                                      info.height, colours.get(own), said[k] if said is not None else None,
                                      show_label, face)
            piece = folder / piece_name(info, first, count, encoding, caption)
            pieces.append(piece)
            if not piece.exists():
                todo.append((seg, first, count, caption, piece))
        _encode(vod, todo, encoding, media.seek_lead(info), config.jobs, len(pieces), progress)
        if config.crossfade > 0 and len(pieces) > 1:
            durations = [media.probe(p).duration for p in pieces]
            graph = media.crossfade_graph(durations, config.crossfade, encoding.audio)
            script = folder / "crossfade.txt"
            atomic_write_text(script, graph)
            with atomic_path(target) as part:
                media.run(media.crossfade_args(pieces, script, part, encoding), part, vod)
        else:
            media.concat(pieces, target, encoding.audio)
        shutil.rmtree(folder, ignore_errors=True)
    return target


def _encode(vod: Path | str, todo: list[tuple[Segment, int, int, str | None, Path]],
            encoding: media.PieceEncoding, lead: float, jobs: int, total: int,
            progress: Callable[[int, int], None] | None) -> None:
    """Encode the missing pieces; each appears under its final name only once it is whole."""
    done = total - len(todo)
    if progress is not None:
        progress(done, total)
    if not todo:
        return
    folder = todo[0][4].parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise (write_error(exc, folder) or exc) from None
    fps = Fraction(encoding.fps)
    commands: list[media.Job] = []
    for _, first, count, caption, piece in todo:
        subtitles = None
        if caption is not None:
            subtitles = piece.with_suffix(".ass")
            atomic_write_text(subtitles, caption)
        part = piece.with_name(f".{piece.stem}.part{piece.suffix}")
        args = media.piece_args(vod, float(first / fps), count, part, encoding, subtitles, fonts_dir(), lead)
        commands.append((args, part, vod))

    def finished(k: int) -> None:
        nonlocal done
        seg, _, count, _, piece = todo[k]
        part = commands[k][1]
        _check_piece(vod, part, seg, float(count / fps))
        os.replace(part, piece)
        done += 1
        if progress is not None:
            progress(done, total)

    try:
        media.run_all(commands, jobs, finished)
    finally:
        for _, part, _ in commands:
            part.unlink(missing_ok=True)
