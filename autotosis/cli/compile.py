"""`autotosis compile VOD`: scan, select and render a highlight reel into output/<vod>/.

Option defaults come from the library's config dataclasses; torch is imported only
when a model is actually used.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from progress.bar import Bar

from autotosis import labels as labels_lib
from autotosis.compile import SCORERS, CompileEvents, CompileOptions, compile_vod
from autotosis.loudness import LoudnessConfig
from autotosis.render import RenderConfig
from autotosis.scan import ScanConfig
from autotosis.select import LEAVE_RATIO, SelectConfig
from autotosis.timecode import format_time, parse_duration

S, R, L = ScanConfig(), RenderConfig(), LoudnessConfig()
SEL = SelectConfig()


class _Bars(CompileEvents):
    """Bars on stderr: VOD position with speed (x real time) and ETA, then pieces rendered."""

    def __init__(self) -> None:
        self.bar: Bar | None = None
        self.kind = ""
        self.started = 0.0
        self.first = 0.0

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

    def scan_progress(self, position: float, duration: float) -> None:
        self._position("scan", position, duration)

    def loudness_progress(self, position: float, duration: float) -> None:
        self._position("loudness", position, duration)

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


def _facecam(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    if value is None:
        return None
    try:
        return labels_lib.parse_box(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _d(value: object) -> str:
    return f"(default: {value})"


SECONDS = click.FloatRange(0)


@click.command(name="compile")
@click.argument("vod", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--model",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Checkpoint to score with (default: the newest models/*.pt; none: loudness only).",
)
@click.option(
    "--scorer",
    type=click.Choice(SCORERS),
    help="What picks the moments: the model, audio loudness, or both fused "
    "(default: model if there is one, else loudness).",
)
@click.option(
    "--fuse-weight",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Share of loudness in the fused score.",
)
@click.option(
    "-f",
    "--facecam",
    callback=_facecam,
    help="Face-cam box x0,y0,x1,y1 as fractions (default: the model's, else detected).",
)
@click.option(
    "--fps", type=click.FloatRange(0, min_open=True), help="Samples scored per second (default: the model's)."
)
@click.option(
    "--keyframes", is_flag=True, help="Decode keyframes only: several times faster, sparser scores."
)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=S.device, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=S.batch_size, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(1),
    default=S.threads,
    show_default=True,
    help="CPU threads for the model.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    help="Score that starts a highlight (default: the model's "
    f"validation threshold; {SEL.enter} for loudness).",
)
@click.option(
    "--leave",
    type=click.FloatRange(0, 1),
    help=f"Score that ends it (default: {LEAVE_RATIO:g} x the threshold).",
)
@click.option("--smooth", type=SECONDS, help=f"Seconds of score smoothing {_d(SEL.smooth)}.")
@click.option("--min-event", type=SECONDS, help=f"Drop highlights shorter than this {_d(SEL.min_event)}.")
@click.option("--pad-before", type=SECONDS, help=f"Seconds kept before each highlight {_d(SEL.pad_before)}.")
@click.option("--pad-after", type=SECONDS, help=f"Seconds kept after each highlight {_d(SEL.pad_after)}.")
@click.option("--merge-gap", type=SECONDS, help=f"Join highlights closer than this {_d(SEL.merge_gap)}.")
@click.option(
    "--max-length", callback=_duration, help=f"Reel budget, e.g. 10m or 1h30m {_d(SEL.max_length)}."
)
@click.option("--top", type=click.IntRange(1), help="Keep only the N best highlights.")
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
@click.option("--url", help="The VOD's page; segments.json and chapters.txt get ?t=1h2m3s links.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (default: output/<vod name>/).",
)
@click.option("--force", is_flag=True, help="Replace an existing reel.")
def compile_command(
    vod: Path,
    model: Path | None,
    scorer: str | None,
    fuse_weight: float,
    facecam: object,
    fps: float | None,
    keyframes: bool,
    device: str,
    batch_size: int,
    threads: int,
    threshold: float | None,
    leave: float | None,
    smooth: float | None,
    min_event: float | None,
    pad_before: float | None,
    pad_after: float | None,
    merge_gap: float | None,
    max_length: float | None,
    top: int | None,
    preset: str,
    crf: int,
    no_overlay: bool,
    crossfade: float,
    jobs: int,
    url: str | None,
    out_dir: Path | None,
    force: bool,
) -> None:
    """Turn VOD into a highlight reel in output/<vod>/ (reel.mp4 and sidecars).

    \b
    autotosis compile vod.mp4
    autotosis compile vod.mp4 --threshold 0.7 --max-length 10m --force
    autotosis compile vod.mp4 --scorer loudness --top 5 --crossfade 0.5
    """
    options = CompileOptions(
        vod=vod,
        out_dir=out_dir,
        model=model,
        scorer=scorer,
        facecam=facecam,  # type: ignore[arg-type]
        scan=ScanConfig(fps=fps, keyframes=keyframes, device=device, batch_size=batch_size, threads=threads),
        select={
            "enter": threshold,
            "leave": leave,
            "smooth": smooth,
            "min_event": min_event,
            "pad_before": pad_before,
            "pad_after": pad_after,
            "merge_gap": merge_gap,
            "max_length": max_length,
            "top": top,
        },
        fuse_weight=fuse_weight,
        render=RenderConfig(preset=preset, crf=crf, overlay=not no_overlay, crossfade=crossfade, jobs=jobs),
        url=url,
        force=force,
    )
    result = compile_vod(options, _Bars())
    total = sum(s.duration for s in result.segments)
    scan = result.scan
    if scan is not None and not scan.cached:
        click.echo(f"scan: {scan.samples} samples in {scan.wall_seconds:.0f}s", err=True)
    click.echo(f"{len(result.segments)} highlight(s), {format_time(total, 1)} by {result.scorer}")
    for seg in result.segments:
        click.echo(f"  {format_time(seg.start, 1)} - {format_time(seg.end, 1)}  peak {seg.peak:.2f}")
    click.echo(f"reel: {result.reel}")
    click.echo(f"sidecars: {', '.join(p.name for k, p in result.files.items() if k != 'reel')}")
