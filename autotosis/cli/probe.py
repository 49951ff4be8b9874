"""`autotosis probe FILE`: what a video holds, as compile will read it, audio tracks included."""

from __future__ import annotations

from pathlib import Path

import click

from autotosis import media
from autotosis.core.timecode import format_time
from autotosis.signals.loudness import choose_track


def probe_lines(info: media.VideoInfo) -> list[str]:
    """The video's facts, then one line per audio track with the one loudness would use by default."""
    size_mb = info.size_bytes / 1e6
    lines = [
        f"{info.path}: {info.container or '?'}, {size_mb:.1f} MB, {format_time(info.duration, 1)}",
        f"video: {info.codec} {info.width}x{info.height} at {float(info.fps):g} fps"
        + (f", rotated {info.rotation}" if info.rotation else ""),
    ]
    if not info.audio_tracks:
        return [*lines, "audio: none (only a model can score this video)"]
    auto, why = choose_track(info, "auto")
    lines.append(f"audio: {len(info.audio_tracks)} track(s)")
    lines.append("  track  codec   channels  rate    title")
    for track in info.audio_tracks:
        rate = f"{track.sample_rate}" if track.sample_rate else "?"
        title = track.title or "(untitled)"
        language = f" [{track.language}]" if track.language else ""
        mark = "  <- --audio-track auto" if track.index == auto.index and len(info.audio_tracks) > 1 else ""
        lines.append(f"  {track.index:>5}  {track.codec:<6}  {track.channels:>8}  {rate:<6}  "
                     f"{title}{language}{mark}")
    if len(info.audio_tracks) > 1:
        lines.append(f"loudness uses track {auto.index} by default ({why}); "
                     "the reel keeps track 0 (--reel-audio)")
    return lines


@click.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def probe(path: Path) -> None:
    """Show a video's facts and every audio track (index, codec, channels, title).

    \b
    autotosis probe vod.mkv
    """
    click.echo("\n".join(probe_lines(media.probe(path))))
