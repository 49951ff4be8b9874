"""Live sources: the commands behind `autotosis live`'s replay buffer and stream recorder.

A recording still being written reaches ffmpeg through its stdin (`STDIN`), fed by the
follower in run/live as the file grows; a stream URL is first recorded to a growing
Matroska file, so both kinds of source are then followed the same way.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from autotosis.media.runner import arg_path, ffprobe_bin

STDIN = "pipe:0"
# Stream URLs ffmpeg reads itself; anything else is a file (or a folder, with --follow-dir).
URL_SCHEMES = ("http://", "https://", "srt://", "rtmp://", "rtmps://", "udp://", "tcp://")


@dataclass(frozen=True)
class BufferPiece:
    """One finished piece of the replay buffer: its file and the stream seconds it holds."""

    path: Path
    start: float
    end: float


def buffer_args(folder: Path, first: int, list_file: Path, seconds: float, source: str = STDIN) -> list[str]:
    """Stream-copy `source` into pieces of about `seconds` (split on keyframes, so each decodes
    alone) named NNNNNN.mkv from `first`, listing each finished piece in the CSV `list_file`.

    Timestamps are kept as in the recording, so the list says which stream seconds each
    piece holds. Copying costs next to nothing: no decode, no encode.

    A piece is finished only when the next keyframe arrives (2 s later from OBS), so the
    piece still being written is read too (`written_until`): its Matroska clusters are cut
    every 0.2 s (not at its one keyframe) and each reaches the disk as it closes.
    """
    return ["-i", arg_path(source), "-map", "0:v:0?", "-map", "0:a?", "-c", "copy", "-f", "segment",
            "-segment_time", f"{seconds:g}", "-reset_timestamps", "0", "-segment_start_number", str(first),
            "-segment_list", arg_path(list_file), "-segment_list_type", "csv",
            "-segment_format_options", "cluster_time_limit=200:flush_packets=1",
            arg_path(folder / "%06d.mkv")]


def written_until(path: Path) -> float | None:
    """How far (its own timestamps) every stream of a buffer piece still being written has
    reached on disk; None when it holds no packet yet or cannot be read. Told by decode
    timestamps: a frame shown before the last one decoded is on disk, B-frames or not.
    ffprobe reads packet headers only: a few milliseconds for a 2 s piece."""
    done = subprocess.run([ffprobe_bin(), "-v", "error", "-show_entries",
                           "packet=stream_index,dts_time,duration_time", "-of", "csv=p=0", arg_path(path)],
                          capture_output=True, text=True, errors="replace")
    reached: dict[str, float] = {}
    for line in done.stdout.splitlines():
        parts = line.strip().split(",")
        try:
            end = float(parts[1]) + float(parts[2])
        except (IndexError, ValueError):
            continue  # no timestamp (N/A), or a line cut short
        reached[parts[0]] = max(reached.get(parts[0], end), end)
    return min(reached.values()) if reached else None


def read_buffer_list(list_file: Path, offset: float = 0.0) -> list[BufferPiece]:
    """The finished pieces a `buffer_args` list names (none yet: []), moved by `offset` seconds
    (the stream time where this recording file began)."""
    try:
        text = list_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    pieces = []
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 3:
            try:
                pieces.append(BufferPiece(list_file.parent / row[0], float(row[1]) + offset,
                                          float(row[2]) + offset))
            except ValueError:
                continue  # a line caught half-written
    return pieces


def join_list(paths: Sequence[Path], starts: Sequence[float]) -> str:
    """A concat-demuxer list of consecutive buffer pieces, each piece's `starts` its first
    timestamp (ffprobe's format start_time). The demuxer places a file at the previous one's
    place plus its `duration`: given as the distance between their first timestamps, every
    packet keeps its distance from the first piece's start, so sound and picture stay together
    (a piece's sound starts before its first keyframe: other durations slip them apart)."""
    lines = []
    for k, path in enumerate(paths):
        quoted = str(Path(path).absolute()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        if k + 1 < len(paths):
            lines.append(f"duration {starts[k + 1] - starts[k]:.6f}")
    return "\n".join(lines) + "\n"


def join_args(list_file: Path, output: Path) -> list[str]:
    """Stream-copy consecutive buffer pieces into one file whose 0 is the first piece's start."""
    return ["-f", "concat", "-safe", "0", "-i", arg_path(list_file), "-map", "0", "-c", "copy",
            arg_path(output)]


def is_playlist(url: str) -> bool:
    """An HLS playlist URL (path ending .m3u8, whatever the query says)."""
    return urlsplit(url).path.lower().endswith((".m3u8", ".m3u"))


def record_args(url: str, output: Path, headers: dict[str, str] | None = None) -> list[str]:
    """Record a stream URL to a Matroska file that grows as it plays, flushed packet by packet
    so a follower sees it at once. `rtmp://` is listened on (the encoder connects to us);
    an `srt://` URL says listener or caller itself (`?mode=listener`). An HLS playlist that is
    still growing is read from its first listed segment (ffmpeg's default starts 3 from the
    end, as a player does) and re-read until #EXT-X-ENDLIST. `headers` (the site's User-Agent,
    Referer, ... as yt-dlp gives them) go with every http request, the playlist's segments too."""
    before = ["-listen", "1"] if url.startswith(("rtmp://", "rtmps://")) else []
    if headers and url.startswith(("http://", "https://")):
        before = ["-headers", "".join(f"{k}: {v}\r\n" for k, v in headers.items())]
    if is_playlist(url):
        before.extend(["-live_start_index", "0"])
    # A Matroska cluster reaches the file only when the next one starts: 0.2 s clusters (not
    # 5 s, nor a GOP) keep the follower close behind the stream, and lose at most 0.2 s when a
    # stalled stream is cut off.
    return [*before, "-i", url, "-map", "0:v:0?", "-map", "0:a?", "-c", "copy", "-flush_packets", "1",
            "-cluster_time_limit", "200", "-f", "matroska", arg_path(output)]


def close_args(recording: Path, output: Path) -> list[str]:
    """Stream-copy a recording whose writer was killed (no length, no index written) into a
    proper file: compile and the review can then seek in it like in any other."""
    return ["-i", arg_path(recording), "-map", "0", "-c", "copy", arg_path(output)]


# ffmpeg's words for an http URL that answers 404: a playlist or stream not published yet.
_NOT_THERE = re.compile(r"HTTP error 404|Server returned 404")


def not_there_yet(url: str, stderr: str) -> bool:
    """Whether a recorder of `url` stopped because the http(s) server has no such stream yet
    (404: the streamer has not gone live), rather than for a reason waiting will not fix."""
    return url.startswith(("http://", "https://")) and bool(_NOT_THERE.search(stderr))
