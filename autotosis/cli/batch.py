"""The batch half of `autotosis compile`: progress lines while VODs run, a summary table at the end."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from autotosis.core.errors import AutotosisError
from autotosis.core.paths import OUTPUT_DIR
from autotosis.core.timecode import format_time
from autotosis.run import batch as batch_lib
from autotosis.run.compile import CompileOptions


class BatchPrinter(batch_lib.BatchEvents):
    """One line per VOD started, noted and finished on stderr; on a terminal, a live status line
    of what is running (stage and percentage per VOD), redrawn at most twice a second."""

    def __init__(self, jobs: Sequence[batch_lib.Job]) -> None:
        self.jobs = jobs
        self.width = len(str(len(jobs)))
        self.stages: dict[int, str] = {}
        self.live = sys.stderr.isatty()
        self.drawn = 0.0
        self.shown = False

    def _tag(self, index: int) -> str:
        return f"[{index + 1:>{self.width}}/{len(self.jobs)}]"

    def _say(self, line: str) -> None:
        if self.shown:
            click.echo("\r\033[K", nl=False, err=True)
            self.shown = False
        click.echo(line, err=True)

    def started(self, index: int, job: batch_lib.Job) -> None:
        self.stages[index] = "starting"
        self._say(f"{self._tag(index)} {job.source}")

    def note(self, index: int, message: str) -> None:
        self._say(f"{self._tag(index)} {message}")

    def progress(self, index: int, stage: str, position: float, duration: float) -> None:
        share = position / duration if duration > 0 else 1.0
        self.stages[index] = f"{stage} {share:.0%}"
        now = time.monotonic()
        if self.live and now - self.drawn >= 0.5:
            self.drawn = now
            status = "  ".join(f"{Path(self.jobs[k].source).name}: {s}" for k, s in self.stages.items())
            click.echo(f"\r\033[K{status}"[:200], nl=False, err=True)
            self.shown = True

    def finished(self, index: int, result: batch_lib.VodResult) -> None:
        self.stages.pop(index, None)
        if result.status == batch_lib.FAILED:
            self._say(f"{self._tag(index)} failed: {result.error}")
        elif result.status == batch_lib.SKIPPED:
            self._say(f"{self._tag(index)} {result.source}: already complete, skipped")
        else:
            self._say(f"{self._tag(index)} {result.source}: {result.highlights} highlight(s), "
                      f"{format_time(result.reel_seconds or 0, 1)} reel, {result.wall_seconds:.0f}s")


def summary_table(results: Sequence[batch_lib.VodResult]) -> list[str]:
    """The table printed at the end: VOD, duration, highlights, reel length, wall time, status."""
    rows = [("VOD", "duration", "highlights", "reel", "wall", "status")]
    for r in results:
        rows.append((r.source, format_time(r.duration, 0) if r.duration is not None else "-",
                     str(r.highlights) if r.highlights is not None else "-",
                     format_time(r.reel_seconds, 1) if r.reel_seconds is not None else "-",
                     f"{r.wall_seconds:.0f}s", r.status))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    return ["  ".join(cell.ljust(w) if i in (0, 5) else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
            for row in rows]


def run_batch_command(inputs: Sequence[str], options: CompileOptions, out_root: Path | None,
                      parallel: int | None, ray_address: str | None, explicit: set[str],
                      chat_auto: bool = False) -> None:
    """Expand, run locally or on Ray, print the summary; exit 1 when any VOD failed."""
    jobs = [dataclasses.replace(job, chat_auto=chat_auto) for job in batch_lib.expand_inputs(inputs)]
    if options.url is not None and len(jobs) > 1:
        raise AutotosisError("--url names one VOD's page; list each VOD's URL in a list file instead")
    if ray_address is not None and parallel is not None:
        raise AutotosisError("--parallel is for this machine; with --ray the cluster's CPUs decide")
    if ray_address is not None and Path(ray_address).exists():
        raise AutotosisError(f"--ray {ray_address}: that is a file, not a Ray address; put --ray "
                             "after the VODs, or write --ray auto")
    base, note = batch_lib.resolve_base(options)
    if note:
        click.echo(note, err=True)
    root = (out_root if out_root is not None else OUTPUT_DIR).absolute()
    printer = BatchPrinter(jobs)
    threads = options.scan.threads if "threads" in explicit else None
    render_jobs = options.render.jobs if "jobs" in explicit else None
    if ray_address is not None:
        from autotosis.run.raybatch import run_on_ray

        report = run_on_ray(jobs, base, root, ray_address, printer, threads, render_jobs)
        how = f"on Ray: {report.runner}"
    else:
        parallel = parallel or batch_lib.default_parallel()
        report = batch_lib.run_local(jobs, base, root, min(parallel, len(jobs)), printer, threads,
                                     render_jobs)
        how = f"{min(parallel, len(jobs))} at a time"
    for line in summary_table(report.results):
        click.echo(line)
    counts = {s: sum(r.status == s for r in report.results)
              for s in (batch_lib.DONE, batch_lib.SKIPPED, batch_lib.FAILED)}
    hours = sum(r.duration or 0 for r in report.results if r.status == batch_lib.DONE) / 3600
    rate = f"; {hours / (report.wall_seconds / 3600):.1f} VOD-hours per hour" if hours else ""
    click.echo(f"{counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed in "
               f"{format_time(report.wall_seconds, 0)} ({how}){rate}")
    click.echo(f"batch.json: {_shown(report.manifest)}")
    if report.failed:
        names = ", ".join(r.source for r in report.failed)
        raise AutotosisError(f"{len(report.failed)} of {len(report.results)} VOD(s) failed: {names}")


def _shown(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
