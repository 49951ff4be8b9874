"""Files written next to the reel, all read from the same segments: JSON, chapters, links, EDL,
and with speech captions the transcript and the reel's subtitles.

segments.json is for programs (the review page, eval, review -> labels): each highlight's
padded span, scores, label and cores (the reactions before padding); chapters.txt pastes
into a YouTube description; reel.edl is a CMX3600 edit decision list that Premiere,
Resolve, Final Cut (via converters), Kdenlive and Shotcut import to rebuild the cut
from the original VOD.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from autotosis.core.frames import frame_span, rate_text
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timecode import format_time, youtube_offset
from autotosis.core.timeline import Segment
from autotosis.core.transcript import TRANSCRIPT_FILE, Word, write_transcript
from autotosis.publish import captions


def reel_positions(segments: Sequence[Segment], crossfade: float = 0.0) -> list[float]:
    """Where each segment starts in the reel: back to back, overlapped by `crossfade` seconds."""
    positions, at = [], 0.0
    for seg in segments:
        positions.append(at)
        at += seg.duration - min(crossfade, seg.duration)
    return positions


def vod_link(url: str, seconds: float) -> str:
    """`url` pointing at `seconds` into the VOD (`t=1h2m3s`, as YouTube and Twitch read it)."""
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("t="))
    query = (query + "&" if query else "") + f"t={youtube_offset(seconds)}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _chapter_time(seconds: float) -> str:
    """YouTube's chapter stamps: "0:00", "1:05", "1:02:03" (whole seconds, rounded down)."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def segments_json(vod: Path, segments: Sequence[Segment], label: str, crossfade: float = 0.0,
                  url: str | None = None, fps: Fraction | None = None) -> str:
    """The segments with their peak and mean score, their place in the reel and, with `url`, a link.

    With `fps` (the rate the reel and the editor files are cut at), each row also names
    its first and last frame, the ones every output shows (core.frames).
    """
    rows = []
    for k, (seg, at) in enumerate(zip(segments, reel_positions(segments, crossfade), strict=True)):
        row = {"index": k, "start": round(seg.start, 3), "end": round(seg.end, 3),
               "duration": round(seg.duration, 3), "peak": round(seg.peak, 4), "mean": round(seg.mean, 4),
               "reel_start": round(at, 3), "vod_time": format_time(seg.start, 1), "label": seg.label or label}
        if seg.cores:  # the reactions inside the padded span (review -> labels keeps these)
            row["cores"] = [[round(a, 3), round(b, 3)] for a, b in seg.cores]
        if fps is not None:
            first, count = frame_span(seg, fps)
            row.update(first_frame=first, last_frame=first + count - 1)
        if url:
            row["link"] = vod_link(url, seg.start)
        rows.append(row)
    head: dict[str, object] = {"vod": str(vod), "label": label}
    if fps is not None:
        head["fps"] = rate_text(fps)
    return json.dumps({**head, "segments": rows}, indent=2) + "\n"


def chapters_text(segments: Sequence[Segment], label: str, crossfade: float = 0.0,
                  url: str | None = None) -> str:
    """One "m:ss title" line per segment; YouTube turns these into chapters (first must be 0:00)."""
    lines = []
    for k, (seg, at) in enumerate(zip(segments, reel_positions(segments, crossfade), strict=True)):
        title = f"{seg.label or label} #{k + 1} (peak {seg.peak:.2f}, VOD {_chapter_time(seg.start)})"
        if url:
            title += f" {vod_link(url, seg.start)}"
        lines.append(f"{_chapter_time(at)} {title}")
    return "\n".join(lines) + "\n"


def timecode(frames: int, base: int) -> str:
    """HH:MM:SS:FF for a frame count, counting `base` frames to the second (non-drop-frame)."""
    total, ff = divmod(frames, base)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}:{ff:02d}"


def timecode_frames(text: str, base: int) -> int:
    """The frame count of an HH:MM:SS:FF timecode (inverse of `timecode`)."""
    hours, minutes, secs, frames = (int(p) for p in text.split(":"))
    return (hours * 3600 + minutes * 60 + secs) * base + frames


def edl_text(vod: Path, segments: Sequence[Segment], fps: Fraction, title: str, label: str) -> str:
    """A CMX3600 EDL: one cut event per segment, source times in the VOD, record times back to back.

    Times become frame numbers at the VOD's real rate, labelled non-drop-frame with whole
    frames per second (29.97 counts as 30), which is how editors number a file's frames.
    Cross-fades are not written as dissolves: a plain cut list imports everywhere.
    """
    base = max(1, round(float(fps)))
    lines = [f"TITLE: {title[:70]}", "FCM: NON-DROP FRAME", ""]
    record = 0
    for k, seg in enumerate(segments, start=1):
        first, length = frame_span(seg, fps)
        source = f"{timecode(first, base)} {timecode(first + length, base)}"
        lines.append(f"{k:03d}  AX       AA/V  C        {source} {timecode(record, base)} "
                     f"{timecode(record + length, base)}")
        lines.append(f"* FROM CLIP NAME: {vod.name}")
        lines.append(f"* COMMENT: {seg.label or label} peak {seg.peak:.2f} mean {seg.mean:.2f}")
        lines.append("")
        record += length
    return "\n".join(lines)


def write_sidecars(folder: Path, vod: Path, segments: Sequence[Segment], label: str, fps: Fraction,
                   crossfade: float = 0.0, url: str | None = None) -> dict[str, Path]:
    """segments.json, chapters.txt and reel.edl in `folder`, each written atomically."""
    paths = {"segments": folder / "segments.json", "chapters": folder / "chapters.txt",
             "edl": folder / "reel.edl"}
    atomic_write_text(paths["segments"], segments_json(vod, segments, label, crossfade, url, fps))
    atomic_write_text(paths["chapters"], chapters_text(segments, label, crossfade, url))
    atomic_write_text(paths["edl"], edl_text(vod, segments, fps, f"{vod.stem} {label} reel", label))
    return paths


def write_speech_sidecars(folder: Path, segments: Sequence[Segment], words: Sequence[Sequence[Word]],
                          model: str, crossfade: float = 0.0, transcript: bool = True) -> dict[str, Path]:
    """transcript.json (each highlight's words, VOD times; `transcript`: compile's selection only),
    reel.srt and reel.vtt (the phrases on the reel's clock)."""
    spans = [(seg.start, seg.end) for seg in segments]
    cues = captions.reel_cues(spans, words, reel_positions(segments, crossfade))
    paths = {"reel_srt": folder / "reel.srt", "reel_vtt": folder / "reel.vtt"}
    atomic_write_text(paths["reel_srt"], captions.srt_text(cues))
    atomic_write_text(paths["reel_vtt"], captions.vtt_text(cues))
    if transcript:
        paths["transcript"] = write_transcript(folder / TRANSCRIPT_FILE, spans, words, model)
    return paths
