"""`autotosis demo`: the whole loop on synthetic data, with a bar for every long step."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click
from progress.bar import Bar

from autotosis.cli.compile import ProgressBars
from autotosis.cli.train import TrainBars
from autotosis.core.timecode import format_time
from autotosis.demo.demo import QUICK, DemoConfig, DemoEvents, run_demo

D = DemoConfig()


class DemoBars(TrainBars, ProgressBars, DemoEvents):
    """Training and compile bars as their own commands draw them, plus one for making the data."""

    def __init__(self) -> None:
        ProgressBars.__init__(self)

    def stage(self, name: str) -> None:
        self._close()
        click.echo(f"== {name}", err=True)

    def making(self, done: int, total: int, name: str) -> None:
        if done == 0:
            self.bar = Bar("making", max=total, suffix="%(index)d/%(max)d videos %(elapsed)ds",
                           file=sys.stderr)
        if self.bar is not None:
            self.bar.goto(done)
        if done == total:
            self._close()


def _minutes(seconds: float) -> str:
    return format_time(seconds, 0)


@click.command()
@click.option("--quick", is_flag=True, help="A small, low-resolution run (about a minute), as the tests use.")
@click.option("--folder", type=click.Path(path_type=Path, file_okay=False), default=D.folder,
              show_default=True, help="Where the demo project goes (clips, labels, models, output, vod).")
@click.option("--seed", type=int, default=D.seed, show_default=True, help="Another seed, other data.")
def demo(quick: bool, folder: Path, seed: int) -> None:
    """Make synthetic stream clips and labels, train on the CPU, compile a VOD, score the reel.

    \b
    autotosis demo
    autotosis demo --quick --folder /tmp/demo
    """
    config = dataclasses.replace(QUICK if quick else D, folder=folder, seed=seed)
    result = run_demo(config, DemoBars())
    best, found, compiled = result.train_metrics, result.events, result.compile
    reel_length = sum(s.duration for s in compiled.segments)
    click.echo(f"data:     {config.folder / 'clips'} ({config.clips} clips), {result.data.labels_dir}, "
               f"{result.data.vod} ({_minutes(config.vod_seconds)}, {found.truth} known rage moments)"
               + ("" if result.data.made else " - reused"))
    click.echo(f"model:    {result.model} (validation AP {best['ap']:.3f}, accuracy {best['accuracy']:.3f})")
    click.echo(f"reel:     {compiled.reel} ({len(compiled.segments)} highlights, {_minutes(reel_length)})")
    click.echo(f"outputs:  {compiled.out_dir}/: "
               + ", ".join(sorted(p.name for k, p in compiled.files.items() if k != "reel")))
    click.echo(f"match:    found {found.found}/{found.truth} known moments (recall {found.recall:.2f}); "
               f"{found.hits}/{found.selected} highlights are real (precision {found.precision:.2f}); "
               f"{_minutes(found.non_highlight_seconds)} of the reel is lead-in and tail")
    times = result.seconds
    click.echo(f"time:     data {_minutes(times['data'])}, train {_minutes(times['train'])}, "
               f"compile {_minutes(times['compile'])}, total {_minutes(times['total'])}")
    click.echo(f"next:     autotosis review {compiled.out_dir}   |   autotosis eval {result.data.vod} "
               f"--truth {result.data.truth} --model {result.model} --chat auto")
