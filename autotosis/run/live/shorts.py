"""`autotosis live --shorts`: each clip's vertical short, made as soon as the clip is cut.

The short is publish.shorts' own (`make_shorts`: same layouts, framing, caption, loudness),
made from the buffer pieces the clip was just cut from, so the recording being written is
never read twice. That file starts at the clip's first piece, not at the stream's start, so
the caption's {time} and {vod} are filled in here with the stream's values, and the short is
moved into shorts/ under the name compile gives it (shorts/01-loud-5s.mp4 for
clips/01-loud-0m05s.mp4) once it is whole. At the end of the stream live does not render
them again (see end.py).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.fsutil import write_error
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Segment
from autotosis.pick.highlights import Highlight
from autotosis.publish import shorts as shorts_lib
from autotosis.run.live.buffer import ReplayBuffer
from autotosis.run.live.clips import Clip, join_span

FOLDER = "shorts"


def short_name(number: int, segment: Segment, label: str, peak: float) -> str:
    """shorts/NN-label-Ns.mp4 for clip `number`: the name compile gives the same highlight's short."""
    return f"{FOLDER}/{Highlight(number - 1, segment, label, peak).slug}.mp4"


def check(config: shorts_lib.ShortsConfig) -> None:
    """A bad --title fails before the stream is followed; words said are not heard live."""
    shorts_lib.check_title(config.title)
    if shorts_lib.needs_words(config):
        raise AutotosisError("live shorts show no words said (--captions speech/both, {words}); use "
                             "--captions label or none, then `autotosis shorts output/<name> --captions "
                             "both --force` after the stream")


class ShortMaker:
    """Makes the short of each clip; keeps the face-cam box once one was found."""

    def __init__(self, config: shorts_lib.ShortsConfig, facecam: media.Box | None, source: str,
                 audio_track: int):
        self.config, self.facecam, self.source, self.audio_track = config, facecam, source, audio_track

    def __call__(self, joined: Path, local: Segment, stream_start: float, number: int, label: str,
                 peak_time: float, target: Path) -> list[str]:
        """Write the short of `local` (seconds of `joined`) to `target` atomically; notes to show."""
        notes = []
        try:
            box, detected = shorts_lib.facecam_for(joined, self.facecam, self.config.layout)
        except AutotosisError as exc:  # said of the clip, not of the temporary file it was found in
            raise AutotosisError(str(exc).replace(f"{joined}: ", "")) from None
        if detected:  # found on this clip's pieces: the next clips use the same box
            self.facecam = box
            notes.append(detected.replace(str(joined), f"clip {number:02d}"))
        title = (self.config.title.replace("{time}", format_time(stream_start, 0))
                 .replace("{vod}", self.source.replace("{", "{{").replace("}", "}}")))
        config = dataclasses.replace(self.config, title=title, jobs=1)
        item = Highlight(number - 1, local, label, peak_time)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a full or read-only disk, or a file where the folder should be
            raise (write_error(exc, target.parent)
                   or AutotosisError(f"{target.parent}: cannot write ({exc.strerror or exc})")) from None
        with tempfile.TemporaryDirectory(prefix=".live-", dir=target.parent) as tmp:
            tracks = len(media.probe(joined).audio_tracks)
            [made] = shorts_lib.make_shorts(joined, [item], Path(tmp), config, box, force=True,
                                            audio_track=min(self.audio_track, max(0, tracks - 1)))
            try:
                os.replace(made, target)
            except OSError as exc:
                raise (write_error(exc, target) or exc) from None
        return notes

    def again(self, folder: Path, buffer: ReplayBuffer | None, clip: Clip, number: int,
              peak: float) -> tuple[str, list[str]]:
        """The short of a clip an earlier run cut without one, from `buffer` when given (it holds
        the clip's span again: the stream's own picture), else from the clip file. Returns its
        name (relative to `folder`) and the notes to show."""
        seg = Segment(clip.start, clip.end, clip.peak)
        own = short_name(number, seg, clip.label, peak)
        with tempfile.TemporaryDirectory(prefix=".live-", dir=folder) as tmp:
            if buffer is not None:
                joined = Path(tmp) / "whole.mkv"
                _, local, _ = join_span(buffer, seg, joined)
            else:
                joined, local = folder / clip.file, 0.0
            notes = self(joined, Segment(local, local + clip.end - clip.start, clip.peak), clip.start, number,
                         clip.label, peak - clip.start + local, folder / own)
        return own, notes
