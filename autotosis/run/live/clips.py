"""Clips as highlights close: cut from the replay buffer (buffer.py), encoded ahead while a
highlight is still open, and listed in the log.

highlights.jsonl is the live run's state: one JSON object a line per clip already on disk
(start, end, label, peak, file; `short` with --shorts; `replaces`, the clips a later moment
joined into this one), appended and flushed as each clip lands. A rerun on the same source
reads it back and cuts (or shortens) nothing it lists again.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import tempfile
import threading
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
from autotosis.run.live.buffer import ReplayBuffer

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
    replaces: tuple[str, ...] = ()  # earlier clips of this highlight, cut before a later moment joined it

    def to_json(self) -> str:
        row = {"start": round(self.start, 3), "end": round(self.end, 3), "label": self.label,
               "peak": round(self.peak, 4), "file": self.file}
        if self.short:
            row["short"] = self.short
        if self.replaces:
            row["replaces"] = list(self.replaces)
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
                              float(row["peak"]), str(row["file"]), str(row.get("short") or ""),
                              tuple(map(str, row.get("replaces", ())))))
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


def rewrite_log(folder: Path, clips: list[Clip]) -> None:
    """Write highlights.jsonl anew with `clips` (a row gained its `short`): to a temporary file,
    flushed, then renamed over the log, so a run killed meanwhile leaves the old log or the new."""
    atomic_write_text(folder / LOG, "".join(clip.to_json() + "\n" for clip in clips))


# A highlight that overlaps clips already cut is cut again only when it reaches this much
# further than they do (a later moment joined it); smaller moves (chat's delay re-estimated
# under a cut clip) leave the clip as it is.
GROWN = 1.0


def overlapping(clips: list[Clip], segment: Segment, label: str) -> list[Clip]:
    """The clips of `label` already cut that share a moment with `segment`."""
    return [c for c in clips if c.label == label and min(segment.end, c.end) > max(segment.start, c.start)]


def grown(segment: Segment, clips: list[Clip]) -> bool:
    """Whether `segment` reaches GROWN seconds past the clips it overlaps: a moment joined it."""
    return (segment.start < min(c.start for c in clips) - GROWN
            or segment.end > max(c.end for c in clips) + GROWN)


def clip_name(number: int, label: str, start: float) -> str:
    """clips/NN-label-m-ss.mp4: in stream order, named so a file manager sorts them right."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", label) or "highlight"
    minutes, seconds = divmod(int(start), 60)
    return f"{number:02d}-{safe}-{minutes}m{seconds:02d}s.mp4"


@dataclass
class Ahead:
    """A highlight still open, encoded ahead in parts as the buffer grows, so that when it
    closes only its last seconds are left to encode. Each part holds the frames shown in its
    span, so parts cut at any times join frame for frame."""

    start: float
    end: float  # where the last part ends, in stream seconds
    parts: list[Path]

    def belongs(self, segment: Segment) -> bool:
        """Whether these parts are of `segment`: they start at its start or later (the start of
        a highlight still open can move earlier as the score around it settles)."""
        return segment.start - 1e-6 <= self.start < segment.end

    def gap(self, segment: Segment) -> Segment | None:
        """The seconds of `segment` before these parts (its start moved earlier since); None: none."""
        return dataclasses.replace(segment, end=self.start) if self.start > segment.start + 1e-6 else None

    def fits(self, segment: Segment) -> bool:
        """Whether these parts can make `segment`'s clip: they are of it and end before it."""
        return bool(self.parts) and self.belongs(segment) and self.end < segment.end - 0.01


Opened = tuple[Segment, str, Timeline]  # an open highlight, its label and the score it is captioned with

# An open highlight is encoded ahead in parts of at least AHEAD_STEP seconds, up to
# AHEAD_MARGIN before where its end stands now (while the score there settles, its end can
# still move a little earlier); once the buffer holds that far, the rest up to there is
# encoded if it is AHEAD_LAST or more (its clip is about to close: less left to encode then).
AHEAD_STEP = 2.0
AHEAD_MARGIN = 1.0
AHEAD_LAST = 0.5


def encode_ahead(buffer: ReplayBuffer, aheads: list[Ahead], opened: list[Opened], covered: float,
                 render: render_lib.RenderConfig) -> None:
    """Encode what the buffer holds (up to `covered`) of each open highlight, a part at a
    time, into `aheads`, so its clip is only its last seconds away when it closes. Parts of a
    highlight no longer open (it joined an earlier clip, or faded) are deleted."""
    for ahead in [a for a in aheads if not any(a.belongs(seg) for seg, _, _ in opened)]:
        aheads.remove(ahead)
        for part in ahead.parts:
            part.unlink(missing_ok=True)
    for seg, label, scores in opened:
        found = next((a for a in aheads if a.belongs(seg)), None)
        if found is not None and found.parts:
            ahead = found
        else:  # nothing encoded yet: from where it starts now
            if found is not None:
                aheads.remove(found)
            ahead = Ahead(seg.start, seg.start, [])
            aheads.append(ahead)
        head = ahead.gap(seg)  # its start moved earlier: the seconds before its parts first
        if head is not None:
            span = head
        else:
            end = min(covered, seg.end - AHEAD_MARGIN)
            if end - ahead.end < (AHEAD_LAST if covered >= seg.end - AHEAD_MARGIN else AHEAD_STEP):
                continue
            span = dataclasses.replace(seg, start=ahead.end, end=end)
        part = buffer.folder / "ahead" / f"{span.start:.3f}-{span.end:.3f}.mkv"
        try:
            part.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise (write_error(exc, part.parent) or exc) from None
        encode_part(buffer, span, part, render, scores, label)
        if head is not None:
            ahead.parts.insert(0, part)
            ahead.start = span.start
        else:
            ahead.parts.append(part)
            ahead.end = span.end


class AheadEncoder:
    """encode_ahead on a thread of its own, so following and scoring never wait for it; a clip
    about to be cut waits for the part in hand (`take`)."""

    def __init__(self, buffer: ReplayBuffer):
        self.buffer = buffer
        self.aheads: list[Ahead] = []  # open highlights' parts
        self._job: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def busy(self) -> bool:
        """A round is still running: a new one waits (asking how far the buffer reaches can too)."""
        return self._job is not None and self._job.is_alive()

    def start(self, opened: list[Opened], covered: float, render: render_lib.RenderConfig) -> None:
        """Encode ahead on what is known now, unless the last round is still running."""
        if self.busy:
            return
        self.wait()

        def run() -> None:
            try:
                encode_ahead(self.buffer, self.aheads, opened, covered, render)
            except BaseException as exc:  # raised on the session's thread, by wait()
                self._error = exc

        self._job = threading.Thread(target=run, daemon=True, name="live-ahead")
        self._job.start()

    def wait(self) -> None:
        """Let the round in hand finish; raise what it failed with."""
        if self._job is not None:
            self._job.join()
            self._job = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def take(self, segment: Segment) -> Ahead | None:
        """The parts encoded ahead for the highlight `segment`, now its clip's to use."""
        self.wait()
        ahead = next((a for a in self.aheads if a.belongs(segment)), None)
        if ahead is not None:
            self.aheads.remove(ahead)
        return ahead


def join_span(buffer: ReplayBuffer, segment: Segment, joined: Path) -> tuple[media.VideoInfo, float, int]:
    """Stream-copy the buffer pieces `segment` spans into `joined`; returns its probe, where
    the segment starts in it, and how many frames it holds: those shown in [start, end), so
    the first is the first frame at or after its start (a cut between two frames would leave
    its first frame slot empty, one frame short), and spans cut at any times join frame for frame."""
    pieces = buffer.span(segment.start, segment.end)
    starts = [buffer.first_timestamp(piece) for piece in pieces]
    listing = joined.with_suffix(".txt")
    listing.write_text(media.join_list([p.path for p in pieces], starts), encoding="utf-8")
    media.run(media.join_args(listing, joined), joined, pieces[0].path, background=True)
    info = media.probe(joined)
    fps = Fraction(info.fps)
    at = buffer.local_time(pieces[0], segment.start, starts[0]) + info.start  # -ss counts from the start
    first = math.ceil((at - info.video_start) * fps - 1e-6)
    last = math.ceil((at + segment.end - segment.start - info.video_start) * fps - 1e-6)
    return info, info.video_start + first / fps - info.start, max(1, last - first)


def encode_part(buffer: ReplayBuffer, segment: Segment, output: Path, render: render_lib.RenderConfig,
                scores: Timeline | None, label: str) -> bool:
    """Encode `segment` (stream seconds) from the replay buffer into the reel piece `output`:
    the buffer pieces it spans are joined by stream copy, then cut to the frame and encoded as a
    reel piece is, with the reel's caption (label, live score, stream time), below the
    priority of following and scoring. Returns whether it has sound."""
    with tempfile.TemporaryDirectory(prefix=".part-", dir=output.parent) as tmp:
        joined = Path(tmp) / "join.mkv"
        info, local, frames = join_span(buffer, segment, joined)
        track = min(render.audio_track, max(0, len(info.audio_tracks) - 1))
        encoding = media.PieceEncoding(fps=str(info.fps), preset=render.preset, crf=render.crf,
                                       audio=info.has_audio, audio_track=track)
        subtitles = None
        if render.overlay and captions_lib.shows_label(render.captions):
            subtitles = Path(tmp) / "caption.ass"
            caption = render_lib.caption_ass(segment, scores, label, info.width, info.height)
            atomic_write_text(subtitles, caption)
        media.run(media.piece_args(joined, local, frames, output, encoding, subtitles, render_lib.fonts_dir(),
                                   media.seek_lead(info)), output, joined, background=True)
    return encoding.audio


def cut_clip(buffer: ReplayBuffer, segment: Segment, target: Path, render: render_lib.RenderConfig,
             scores: Timeline | None, label: str, ahead: Ahead | None = None,
             also: Callable[[Path, Segment], None] | None = None) -> Path:
    """Cut `segment` (stream seconds) from the replay buffer into `target` atomically: what
    `ahead` has not encoded yet is encoded (encode_part), and joined after its parts. `also`
    is then given the buffer pieces of the whole segment, joined, and the segment in their
    seconds (the clip's short is made from them)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise (write_error(exc, target.parent) or exc) from None
    parts = list(ahead.parts) if ahead is not None and ahead.fits(segment) else []
    with tempfile.TemporaryDirectory(prefix=".live-", dir=target.parent) as tmp:
        if parts and ahead is not None:
            if (head := ahead.gap(segment)) is not None:  # it began earlier than its parts
                parts.insert(0, Path(tmp) / "head.mkv")
                encode_part(buffer, head, parts[0], render, scores, label)
            segment_rest = dataclasses.replace(segment, start=ahead.end)
        else:
            segment_rest = segment
        last = Path(tmp) / "last.mkv"
        audio = encode_part(buffer, segment_rest, last, render, scores, label)
        media.concat([*parts, last], target, audio, background=True)  # AAC sound, written atomically
        for part in ahead.parts if ahead is not None else []:
            part.unlink(missing_ok=True)  # used (or not fitting): a long stream keeps no parts behind
        if also is not None:
            joined = Path(tmp) / "whole.mkv"
            _, local, _ = join_span(buffer, segment, joined)
            also(joined, Segment(local, local + segment.end - segment.start, segment.peak, segment.mean))
    return target
