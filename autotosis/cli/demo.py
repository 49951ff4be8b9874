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
from autotosis.demo.learn import QUICK_LEARN, LearnConfig, LearnResult, run_learn_demo

D = DemoConfig()
L = LearnConfig()


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
@click.option("--folder", type=click.Path(path_type=Path, file_okay=False),
              help=f"Where the demo project goes (clips, labels, models, output, vod) [default: {D.folder}].")
@click.option("--seed", type=int, default=D.seed, show_default=True, help="Another seed, other data.")
@click.option("--learn", is_flag=True,
              help="Start from no clips: answer suggestions on one VOD, train, compile the next "
                   "(default folder demo-learn/).")
def demo(quick: bool, folder: Path | None, seed: int, learn: bool) -> None:
    """Make synthetic stream clips and labels, train on the CPU, compile a VOD, score the reel.

    \b
    autotosis demo
    autotosis demo --quick --folder /tmp/demo
    autotosis demo --learn
    """
    if learn:
        learn_config = dataclasses.replace(QUICK_LEARN if quick else L, folder=folder or L.folder, seed=seed)
        _report_learning(learn_config, run_learn_demo(learn_config, DemoBars()))
        return
    config = dataclasses.replace(QUICK if quick else D, folder=folder or D.folder, seed=seed)
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


def _report_learning(config: LearnConfig, result: LearnResult) -> None:
    first, second = result.vods
    positives = sum(len(a.positives) for a in result.answers)
    reacted = sum(1 for a in result.answers if a.positives)
    reviewed = sum(s.duration for a in result.answers for s in (*a.positives, *a.calm))
    for number, given in enumerate(result.answers, 1):
        c = given.candidate
        marked = ", ".join(f"-s {format_time(s.start, 1)}-{format_time(s.end, 1)}" for s in given.positives)
        click.echo(f"answer {number:>2}: {format_time(c.start, 1)}-{format_time(c.end, 1)} {c.kind:<7} "
                   f"{'Y ' + marked if marked else 'N (calm)'}")
    best, found, compiled = result.train_metrics, result.events, result.compile
    click.echo(f"data:     {first} and {second} ({_minutes(config.vod_seconds)} each, the same streamer; "
               f"{config.moments} rages, laughs, bangs and red flashes in each); no clips")
    click.echo(f"answers:  {len(result.answers)} suggestions answered: {reacted} with a rage ({positives} "
               f"segment(s)), {len(result.answers) - reacted} calm; {_minutes(reviewed)} reviewed "
               f"-> {result.label_file}")
    click.echo(f"model:    {result.model} (validation AP {best['ap']:.3f}, accuracy {best['accuracy']:.3f})")
    click.echo(f"reel:     {compiled.reel} ({len(compiled.segments)} highlights of {second.name})")
    click.echo(f"match:    found {found.found}/{found.truth} known moments of the next VOD "
               f"(recall {found.recall:.2f}); {found.hits}/{found.selected} highlights are real "
               f"(precision {found.precision:.2f})")
    times = result.seconds
    click.echo(f"time:     data {_minutes(times['data'])}, suggest {_minutes(times['suggest'])}, "
               f"train {_minutes(times['train'])}, compile {_minutes(times['compile'])}, "
               f"total {_minutes(times['total'])}")
    click.echo(f"next:     autotosis suggest {first} --labels-dir {result.label_file.parent} --model "
               f"{result.model}   |   autotosis label --ui {first}")
