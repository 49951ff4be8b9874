"""`autotosis clips URL|LIST...`: download community clips into clips/, each with a sidecar."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from progress.bar import Bar

from autotosis.core.paths import CLIPS_DIR
from autotosis.core.timecode import format_time
from autotosis.run import clips as clips_lib


class ClipsBar(clips_lib.ClipEvents):
    """On stderr: links read, then clips fetched, with the current clip's megabytes."""

    def __init__(self) -> None:
        self.bar: Bar | None = None

    def _open(self, name: str, total: int) -> None:
        self.finish()
        self.bar = Bar(name, max=max(1, total), file=sys.stderr, suffix="%(index)d/%(max)d %(mb)s")
        self.bar.mb = ""

    def listing(self, index: int, total: int, url: str) -> None:
        if index == 0:
            self._open("links", total)
        if self.bar is not None:
            self.bar.goto(index)

    def planned(self, total: int) -> None:
        if self.bar is not None:
            self.bar.goto(self.bar.max)  # every link read
        self._open("clips", total)

    def progress(self, done: int, total: int | None) -> None:
        if self.bar is not None:
            self.bar.mb = f" {done / 1e6:.1f}" + (f" / {total / 1e6:.1f} MB" if total else " MB")
            self.bar.update()

    def finished(self, index: int, outcome: clips_lib.ClipOutcome) -> None:
        if self.bar is not None:
            self.bar.mb = ""
            self.bar.goto(index + 1)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None


def _describe(clip: clips_lib.ClipInfo) -> str:
    facts = [f"{clip.view_count:,} views" if clip.view_count is not None else "views unknown"]
    if clip.duration:
        facts.append(format_time(clip.duration, 0))
    if clip.vod is not None and clip.vod.offset is not None:
        facts.append(f"from VOD {clip.vod.id} at {format_time(clip.vod.offset, 0)}")
    return f"{clip.path} ({', '.join(facts)})"


@click.command(name="clips")
@click.argument("sources", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(0), default=clips_lib.DEFAULT_LIMIT, show_default=True,
              help="From a channel's clips page: this many, the most viewed first (0: all it lists).")
@click.option("--min-views", type=click.IntRange(0), default=0, show_default=True,
              help="From a channel's clips page: skip clips with fewer views.")
@click.option("--clips-dir", type=click.Path(path_type=Path, file_okay=False), default=CLIPS_DIR,
              show_default=True, help="Where the clips go.")
def clips(sources: tuple[str, ...], limit: int, min_views: int, clips_dir: Path) -> None:
    """Download community clips (a channel's clips page, clip links, or text files listing
    one link a line) into clips/, named "<title> [<id>].mp4", each with a <stem>.clip.json
    sidecar: title, views, clipper, channel, date, and the VOD and offset it was cut from
    where the site says. Clips already there are skipped; `autotosis label --list` shows
    the ones not labeled yet.

    \b
    autotosis clips "https://www.twitch.tv/STREAMER/clips?range=all" --limit 30
    autotosis clips https://clips.twitch.tv/SomeClipSlug https://www.youtube.com/clip/Ugk...
    autotosis clips my-clips.txt --min-views 100
    """
    bar = ClipsBar()
    try:
        outcomes = clips_lib.download_clips(sources, clips_dir, limit, min_views, bar)
    finally:
        bar.finish()
    count = {status: [o for o in outcomes if o.status == status]
             for status in (clips_lib.NEW, clips_lib.THERE, clips_lib.FEW_VIEWS, clips_lib.FAILED)}
    for outcome in count[clips_lib.NEW]:
        if outcome.clip is not None:
            click.echo(f"new: {_describe(outcome.clip)}")
    failed = count[clips_lib.FAILED]
    if len(failed) > 1:
        for outcome in failed:
            click.echo(f"failed: {outcome.problem}")
    parts = [f"{len(count[clips_lib.NEW])} new", f"{len(count[clips_lib.THERE])} already there"]
    if count[clips_lib.FEW_VIEWS]:
        parts.append(f"{len(count[clips_lib.FEW_VIEWS])} below --min-views {min_views}")
    if failed:
        parts.append(f"{len(failed)} failed" + (f": {failed[0].problem}" if len(failed) == 1 else " (above)"))
    click.echo(f"{clips_dir.as_posix().rstrip('/')}/: {', '.join(parts)}")
    if failed:
        raise click.exceptions.Exit(1)
