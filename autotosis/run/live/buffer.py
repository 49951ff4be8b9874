"""The replay buffer live clips are cut from.

It is the stream stream-copied into pieces of a few seconds on disk (media.buffer_args);
pieces behind the live edge that no highlight can still need are deleted, so the buffer
stays a minute or so whatever the stream's length, and a clip is cut from a few small files
instead of the recording still being written. A piece is finished when the next keyframe
arrives; the one still being written is read too, as far as it is on disk (`writing`).
"""

from __future__ import annotations

from pathlib import Path

from autotosis import media
from autotosis.core.errors import AutotosisError

FILE_NUMBERS = 100000  # piece numbers of a recording file never meet the next file's

# A clip cut from the piece still being written ends this far before what is on disk: its
# last frame lasts past the clip's end (a frame at 4 fps), and its sound with it.
WRITING_MARGIN = 0.25


class ReplayBuffer:
    """The buffer pieces of each recording file this run follows, in stream order.

    The pieces' own clock starts where the recording's does, or later: a stream copy of a
    B-frame stream is shifted so that its first packet does not decode before 0. So each
    file's first piece's first timestamp is read once (`origins`): it is that file's first
    stream second, and every piece time is told on the stream's clock from it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.lists: list[tuple[Path, float]] = []  # (CSV list, offset) per recording file
        self.origins: dict[int, float] = {}  # file index -> its pieces' first timestamp
        self._firsts: dict[Path, float] = {}  # a finished piece's first timestamp, probed once
        self.next_number = 0
        self.gone: set[Path] = set()

    def args_for_next_file(self, offset: float, seconds: float) -> list[str]:
        """The buffer's ffmpeg for the next recording file, which starts at `offset` stream seconds."""
        self.folder.mkdir(parents=True, exist_ok=True)
        listing = self.folder / f"list-{len(self.lists):03d}.csv"
        listing.unlink(missing_ok=True)
        self.lists.append((listing, offset))
        first = self.next_number
        self.next_number += FILE_NUMBERS
        return media.buffer_args(self.folder, first, listing, seconds)

    def pieces(self) -> list[media.BufferPiece]:
        """The finished pieces still on disk, their times on the stream's clock."""
        found = []
        for index, (listing, offset) in enumerate(self.lists):
            listed = media.read_buffer_list(listing, offset)
            if listed and index not in self.origins:
                self.origins[index] = self.first_timestamp(listed[0])
            origin = self.origins.get(index, 0.0)
            found += [media.BufferPiece(p.path, p.start - origin, p.end - origin) for p in listed
                      if p.path not in self.gone]
        return found

    def first_timestamp(self, piece: media.BufferPiece) -> float:
        """The piece's first timestamp on its own clock (it never changes, not even while the piece
        is still being written: probed once; every part of a clip encoded ahead joins the same pieces)."""
        if piece.path not in self._firsts:
            self._firsts[piece.path] = media.probe(piece.path, growing=True).start
        return self._firsts[piece.path]

    def local_time(self, piece: media.BufferPiece, stream_seconds: float, piece_start: float) -> float:
        """Where `stream_seconds` falls in `piece` (its first timestamp `piece_start`), in its seconds."""
        index = int(piece.path.stem) // FILE_NUMBERS
        return stream_seconds - self.lists[index][1] + self.origins.get(index, 0.0) - piece_start

    def writing(self) -> media.BufferPiece | None:
        """The piece still being written, as far as every stream of it is on disk, less
        WRITING_MARGIN; None before the recording file's first piece is finished (its clock is
        not known yet)."""
        if not self.lists or len(self.lists) - 1 not in self.origins:
            return None
        listing, offset = self.lists[-1]
        listed = media.read_buffer_list(listing, offset)
        if not listed:
            return None
        path = self.folder / f"{int(listed[-1].path.stem) + 1:06d}.mkv"
        reached = media.written_until(path) if path.exists() else None
        origin = self.origins[len(self.lists) - 1]
        start = listed[-1].end - origin
        if reached is None or reached + offset - origin - WRITING_MARGIN <= start:
            return None
        return media.BufferPiece(path, start, reached + offset - origin - WRITING_MARGIN)

    def covered_until(self, writing: bool = False) -> float:
        """Stream seconds the buffer reaches: a clip ending before this can be cut now. The
        finished pieces, and with `writing` the piece still being written (an ffprobe: asked
        only when a clip waits for it or the ahead encoder can use it)."""
        pieces = self.pieces()
        reach = pieces[-1].end if pieces else 0.0
        piece = self.writing() if writing else None
        return max(reach, piece.end) if piece is not None else reach

    def prune(self, keep_from: float) -> None:
        """Delete the pieces that end before `keep_from`: nothing will be cut from them."""
        for piece in self.pieces():
            if piece.end < keep_from:
                piece.path.unlink(missing_ok=True)
                self.gone.add(piece.path)
                self._firsts.pop(piece.path, None)

    def span(self, start: float, end: float) -> list[media.BufferPiece]:
        """The pieces that hold `start`-`end`: the finished ones, and the one still being written
        when they end before `end`."""
        pieces = [p for p in self.pieces() if p.end > start and p.start < end]
        if (not pieces or pieces[-1].end < end - 0.05) and (piece := self.writing()) is not None:
            pieces.append(piece)  # the last seconds of a clip whose first were encoded ahead: often all in it
        if not pieces or pieces[0].start > start + 0.05 or pieces[-1].end < end - 0.05:
            have = f"{pieces[0].start:.1f}-{pieces[-1].end:.1f}" if pieces else "nothing"
            raise AutotosisError(f"{self.folder}: the replay buffer no longer holds {start:.1f}-{end:.1f}s "
                                 f"(it holds {have})")
        return pieces
