"""`autotosis compile VOD...`: scan, select and render a highlight reel into output/<vod>/.

One VOD file compiles in this process, as always. Several, a folder, a list file or a
URL make a batch (autotosis.batch): each VOD in its own worker, a few at a time or on
a Ray cluster, then one summary table. Option defaults come from the library's config
dataclasses; torch is imported only when a model is actually used.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
from progress.bar import Bar

from autotosis.cli.batch import run_batch_command
from autotosis.cli.config import profile_used
from autotosis.cli.options import SECONDS, scoring_fields, scoring_options, selection_options
from autotosis.cli.shorts import ShortsBar, shorts_config, shorts_options
from autotosis.core.errors import AutotosisError
from autotosis.core.paths import VODS_DIR
from autotosis.core.timecode import format_time
from autotosis.publish.reel import RenderConfig
from autotosis.publish.thumbs import CONTACT_SHEET
from autotosis.run.batch import default_parallel, is_batch_input, is_url
from autotosis.run.compile import CompileEvents, CompileOptions, compile_vod
from autotosis.signals.speech import SpeechConfig

R = RenderConfig()


class ProgressBars(CompileEvents):
    """Bars on stderr: VOD position with speed (x real time) and ETA, then pieces rendered."""

    def __init__(self) -> None:
        self.bar: Bar | None = None
        self.kind = ""
        self.scan_kind = "scan"
        self.started = 0.0
        self.first = 0.0
        self.shorts_bar = ShortsBar()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None

    def note(self, message: str) -> None:
        self._close()
        click.echo(message, err=True)

    def _position(self, kind: str, position: float, duration: float) -> None:
        if self.kind != kind or self.bar is None:
            self._close()
            self.kind, self.started, self.first = kind, time.perf_counter(), position
            self.bar = Bar(
                kind,
                max=max(1, round(duration)),
                file=sys.stderr,
                suffix="%(where)s / %(total)s  %(speed).1fx real time  ETA %(left)s",
            )
            self.bar.where, self.bar.total = format_time(0, 0), format_time(duration, 0)
            self.bar.speed, self.bar.left = 0.0, "?"
        elapsed = time.perf_counter() - self.started
        speed = (position - self.first) / elapsed if elapsed > 0 else 0.0
        self.bar.where, self.bar.speed = format_time(position, 0), speed
        self.bar.left = format_time((duration - position) / speed, 0) if speed > 0 else "?"
        self.bar.goto(min(round(position), self.bar.max))
        if position >= duration:
            self._close()

    def scan_stage(self, name: str) -> None:
        self._close()
        self.scan_kind = name

    def scan_progress(self, position: float, duration: float) -> None:
        self._position(self.scan_kind, position, duration)

    def loudness_progress(self, position: float, duration: float) -> None:
        self._position("loudness", position, duration)

    def shorts_progress(self, done: int, total: int) -> None:
        if done == 0:
            self._close()
        self.shorts_bar(done, total)

    def render_progress(self, done: int, total: int) -> None:
        if done == 0:
            self._close()
            self.kind = "render"
            self.bar = Bar(
                "render", max=total, suffix="%(index)d/%(max)d pieces %(elapsed)ds", file=sys.stderr
            )
        if self.bar is not None:
            self.bar.goto(done)
        if done == total:
            self._close()


class DownloadBar:
    """Bytes downloaded, on stderr, once the size is known."""

    def __init__(self) -> None:
        self.bar: Bar | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if total is None:
            return
        if self.bar is None:
            self.bar = Bar("download", max=max(1, total), file=sys.stderr,
                           suffix="%(mb).1f / %(total_mb).1f MB  ETA %(eta_td)s")
        self.bar.max = max(1, total)
        self.bar.mb, self.bar.total_mb = done / 1e6, total / 1e6
        self.bar.goto(min(done, self.bar.max))

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.finish()


def fetch(url: str, folder: Path, chat: bool) -> Path:
    """Download a VOD link into `folder` with a progress bar, and its chat replay when `chat`."""
    from autotosis.run.download import download_chat, download_vod

    bar = DownloadBar()
    try:
        path = download_vod(url, folder, bar)
    finally:
        bar.finish()
    click.echo(f"downloaded: {path}", err=True)
    if chat:
        replay = download_chat(url, folder)
        click.echo(f"chat: saved {replay}" if replay else f"chat: {url} offers no chat replay", err=True)
    return path


@click.command(name="compile")
@click.argument("vods", nargs=-1, required=True)
@scoring_options
@selection_options
@click.option("--preset", default=R.preset, show_default=True, help="x264 preset for the reel.")
@click.option(
    "--crf",
    type=click.IntRange(0, 51),
    default=R.crf,
    show_default=True,
    help="x264 quality (lower: better).",
)
@click.option("--no-overlay", is_flag=True, help="No caption (label, live score, VOD time).")
@click.option(
    "--crossfade",
    type=SECONDS,
    default=R.crossfade,
    show_default=True,
    help="Seconds of cross-fade between highlights (0: hard cuts).",
)
@click.option(
    "--jobs", type=click.IntRange(1), default=R.jobs, show_default=True, help="Pieces encoded at once."
)
@click.option(
    "--reel-audio",
    default="0",
    show_default=True,
    metavar="N|NAME",
    help="Audio track the reel keeps (number or title; 0 is the first, OBS's whole mix).",
)
@click.option("--shorts", "make_shorts", is_flag=True,
              help="Also make a vertical short of every highlight (output/<vod>/shorts/).")
@shorts_options
@click.option("--url", help="The VOD's page; segments.json and chapters.txt get ?t=1h2m3s links.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (default: output/<vod name>/).",
)
@click.option("--force", is_flag=True, help="Replace an existing reel.")
@click.option(
    "--parallel",
    type=click.IntRange(1),
    help="Batches: VODs compiled at once, the cores shared between them "
    f"(default: {default_parallel()} here).",
)
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="auto",
    help="Batches: run each VOD as a Ray task; alone or 'auto': start or join a local Ray, "
    "else the cluster's ADDRESS (pip install 'autotosis[ray]'). Put it after the VODs.",
)
def compile_command(
    vods: tuple[str, ...],
    preset: str,
    crf: int,
    no_overlay: bool,
    crossfade: float,
    jobs: int,
    reel_audio: str,
    url: str | None,
    out_dir: Path | None,
    force: bool,
    parallel: int | None,
    ray_address: str | None,
    make_shorts: bool,
    **scoring: Any,
) -> None:
    """Turn each VOD into a highlight reel in output/<vod>/ (reel.mp4 and sidecars).

    VODs are video files, folders of them, text files listing paths or URLs (one a
    line, # comments), or URLs. Several make a batch: a summary table and
    output/batch.json; a re-run skips finished VODs and resumes interrupted ones.

    \b
    autotosis compile vod.mp4
    autotosis compile vod.mp4 --threshold 0.7 --max-length 10m --force
    autotosis compile vod.mp4 --scorer loudness --top 5 --crossfade 0.5
    autotosis compile vods/ more.mkv list.txt --parallel 2
    autotosis compile vods/ --ray 10.0.0.5:6379
    autotosis compile vod.mp4 --shorts --layout stack --shorts-max 45
    autotosis compile vod.mp4 --shorts --captions both
    """
    if len(vods) == 1 and is_url(vods[0]) and parallel is None and ray_address is None:
        url = url or vods[0]  # the VOD's page: segments.json and chapters.txt link into it
        vods = (str(fetch(vods[0], VODS_DIR, chat=scoring["chat"] == "auto")),)
    batch = len(vods) > 1 or is_batch_input(vods[0]) or parallel is not None or ray_address is not None
    chat_auto = batch and scoring["chat"] == "auto"
    if chat_auto:
        scoring["chat"] = None  # each VOD of the batch finds its own (autotosis.batch)
    elif batch and scoring["chat"] is not None:
        raise AutotosisError("--chat FILE is one VOD's chat replay; in a batch use --chat auto "
                             "(each VOD's replay beside it)")
    shorts = shorts_config(scoring, jobs, preset)  # takes the shorts options out of `scoring`
    asr_model = scoring.pop("asr_model")
    options = CompileOptions(
        vod=Path(vods[0]),
        out_dir=out_dir,
        render=RenderConfig(preset=preset, crf=crf, overlay=not no_overlay, crossfade=crossfade, jobs=jobs,
                            captions=shorts.captions),
        speech=SpeechConfig(model=asr_model),
        url=url,
        reel_audio=reel_audio,
        force=force,
        shorts=shorts if make_shorts else None,
        profile=profile_used(),
        **scoring_fields(scoring, Path(vods[0])),
    )
    if batch:
        ctx = click.get_current_context()
        explicit = {name for name in ("threads", "jobs")
                    if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT}
        run_batch_command(vods, options, out_dir, parallel, ray_address, explicit, chat_auto)
        return
    result = compile_vod(options, ProgressBars())
    total = sum(s.duration for s in result.segments)
    click.echo(f"{len(result.segments)} highlight(s), {format_time(total, 1)} by {result.scorer}")
    for seg in result.segments:
        click.echo(f"  {format_time(seg.start, 1)} - {format_time(seg.end, 1)}  peak {seg.peak:.2f}")
    click.echo(f"reel: {result.reel}")
    names = [p.name for k, p in result.files.items() if k not in ("reel", "contact_sheet", "shorts")]
    click.echo(f"sidecars: {', '.join(names)}")
    click.echo(f"thumbnails: {result.files['contact_sheet'].parent}/ (contact sheet: {CONTACT_SHEET})")
    if "shorts" in result.files:
        made = sorted(result.files["shorts"].glob("[0-9][0-9]-*.mp4"))
        click.echo(f"shorts: {result.files['shorts']}/ ({len(made)} x {shorts.size[0]}x{shorts.size[1]}, "
                   f"{shorts.layout})")
