"""Clips as highlights close: the replay buffer they are cut from and the log they are listed in.

The replay buffer is the stream stream-copied into pieces of a few seconds on disk
(media.buffer_args); pieces behind the live edge that no highlight can still need are
deleted, so the buffer stays a minute or so whatever the stream's length, and a clip is cut
from a few small finished files instead of the recording still being written.

highlights.jsonl is the live run's state: one JSON object a line per clip already on disk
(start, end, label, peak, file; short with --shorts), appended and flushed as each clip
lands. A rerun on the same source reads it back and cuts (or shortens) nothing it lists again.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.fsutil import atomic_write_text, write_error
from autotosis.core.timeline import Segment, Timeline
from autotosis.publish import captions as captions_lib
from autotosis.publish import reel as render_lib

LOG = "highlights.jsonl"


@dataclass(frozen=True)
class Clip:
    """One highlight cut during the stream, as highlights.jsonl lists it."""

    start: float
    end: float
    label: str
    peak: float
    file: str  # relative to the output folder: clips/NN-label-m-ss.mp4
    short: str = ""  # its vertical short (--shorts), shorts/NN-label-m-ss.mp4; "" when none

    def to_json(self) -> str:
        row = {"start": round(self.start, 3), "end": round(self.end, 3), "label": self.label,
               "peak": round(self.peak, 4), "file": self.file}
        if self.short:
            row["short"] = self.short
        return json.dumps(row)


def read_log(folder: Path) -> list[Clip]:
    """The clips an earlier run (or this one) already cut; a torn last line (a crash while
    appending) is ignored, and its clip is cut again."""
    path = folder / LOG
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise AutotosisError(f"{path}: cannot read ({exc.strerror or exc})") from None
    clips = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            clips.append(Clip(float(row["start"]), float(row["end"]), str(row["label"]),
                              float(row["peak"]), str(row["file"]), str(row.get("short") or "")))
        except (ValueError, KeyError, TypeError):
            if number == len(lines):
                break
            raise AutotosisError(f"{path}:{number}: not a highlight line") from None
    return clips


def append_log(folder: Path, clip: Clip) -> None:
    """Add `clip` to highlights.jsonl and flush it to disk before anyone is told."""
    path = folder / LOG
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(clip.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise (write_error(exc, path) or exc) from None


def clip_name(number: int, label: str, start: float) -> str:
    """clips/NN-label-m-ss.mp4: in stream order, named so a file manager sorts them right."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", label) or "highlight"
    minutes, seconds = divmod(int(start), 60)
    return f"{number:02d}-{safe}-{minutes}m{seconds:02d}s.mp4"


class ReplayBuffer:
    """The buffer pieces of each recording file this run follows, in stream order."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.lists: list[tuple[Path, float]] = []  # (CSV list, offset) per recording file
        self.next_number = 0
        self.gone: set[Path] = set()

    def args_for_next_file(self, offset: float, seconds: float) -> list[str]:
        """The buffer's ffmpeg for the next recording file, which starts at `offset` stream seconds."""
        self.folder.mkdir(parents=True, exist_ok=True)
        listing = self.folder / f"list-{len(self.lists):03d}.csv"
        listing.unlink(missing_ok=True)
        self.lists.append((listing, offset))
        first = self.next_number
        self.next_number += 100000  # piece numbers of a file never meet the next file's
        return media.buffer_args(self.folder, first, listing, seconds)

    def pieces(self) -> list[media.BufferPiece]:
        found = [p for listing, offset in self.lists for p in media.read_buffer_list(listing, offset)]
        return [p for p in found if p.path not in self.gone]

    def covered_until(self) -> float:
        """Stream seconds the finished pieces reach: a clip ending before this can be cut now."""
        pieces = self.pieces()
        return pieces[-1].end if pieces else 0.0

    def prune(self, keep_from: float) -> None:
        """Delete the pieces that end before `keep_from`: nothing will be cut from them."""
        for piece in self.pieces():
            if piece.end < keep_from:
                piece.path.unlink(missing_ok=True)
                self.gone.add(piece.path)

    def span(self, start: float, end: float) -> list[media.BufferPiece]:
        pieces = [p for p in self.pieces() if p.end > start and p.start < end]
        if not pieces or pieces[0].start > start + 0.05 or pieces[-1].end < end - 0.05:
            have = f"{pieces[0].start:.1f}-{pieces[-1].end:.1f}" if pieces else "nothing"
            raise AutotosisError(f"{self.folder}: the replay buffer no longer holds {start:.1f}-{end:.1f}s "
                                 f"(it holds {have})")
        return pieces


def cut_clip(buffer: ReplayBuffer, segment: Segment, target: Path, render: render_lib.RenderConfig,
             scores: Timeline | None, label: str,
             also: Callable[[Path, Segment], None] | None = None) -> Path:
    """Cut `segment` (stream seconds) from the replay buffer into `target` atomically: the
    buffer pieces it spans are joined by stream copy, then cut to the frame and encoded as a
    reel piece is, with the reel's caption (label, live score, stream time). `also` is then
    given the joined pieces and the segment in their seconds (the clip's short is made from them)."""
    pieces = buffer.span(segment.start, segment.end)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise (write_error(exc, target.parent) or exc) from None
    with tempfile.TemporaryDirectory(prefix=".live-", dir=target.parent) as tmp:
        listing, joined = Path(tmp) / "join.txt", Path(tmp) / "join.mkv"
        listing.write_text(media.join_list(pieces), encoding="utf-8")
        media.run(media.join_args(listing, joined), joined, pieces[0].path)
        info = media.probe(joined)
        track = min(render.audio_track, max(0, len(info.audio_tracks) - 1))
        encoding = media.PieceEncoding(fps=str(info.fps), preset=render.preset, crf=render.crf,
                                       audio=info.has_audio, audio_track=track)
        local = segment.start - pieces[0].start
        fps = Fraction(info.fps)
        frames = max(1, round((segment.end - segment.start) * fps))
        subtitles = None
        if render.overlay and captions_lib.shows_label(render.captions):
            subtitles = Path(tmp) / "caption.ass"
            caption = render_lib.caption_ass(segment, scores, label, info.width, info.height)
            atomic_write_text(subtitles, caption)
        piece = Path(tmp) / "piece.mkv"
        media.run(media.piece_args(joined, local, frames, piece, encoding, subtitles, render_lib.fonts_dir(),
                                   media.seek_lead(info)), piece, pieces[0].path)
        media.concat([piece], target, encoding.audio)  # AAC sound, written atomically
        if also is not None:
            also(joined, Segment(local, local + segment.end - segment.start, segment.peak, segment.mean))
    return target
