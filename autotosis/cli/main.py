"""The `autotosis` command group and the edge where library errors become one-line messages."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import click

from autotosis import __version__
from autotosis.cli.clips import clips
from autotosis.cli.compile import compile_command
from autotosis.cli.config import add_profile_option, config_command
from autotosis.cli.demo import demo
from autotosis.cli.eval import eval_command
from autotosis.cli.label import label
from autotosis.cli.live import live_command
from autotosis.cli.probe import probe
from autotosis.cli.review import review
from autotosis.cli.shorts import shorts
from autotosis.cli.suggest import suggest_command
from autotosis.cli.train import train
from autotosis.core.errors import AutotosisError


class _Group(click.Group):
    """Turns AutotosisError and OSError into `Error: ...` and exit 1, Ctrl-C/SIGTERM into exit 130.

    Set AUTOTOSIS_DEBUG=1 to get the traceback instead.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AutotosisError as exc:
            if os.environ.get("AUTOTOSIS_DEBUG"):
                raise
            raise click.ClickException(str(exc)) from None
        except BrokenPipeError:  # the reader went away (`| head`, a closed pager): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            sys.exit(141)  # what a shell reports for a program ended by SIGPIPE
        except OSError as exc:  # the disk or the system said no: name the file, skip the traceback
            if os.environ.get("AUTOTOSIS_DEBUG"):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None
        except KeyboardInterrupt:
            if os.environ.get("AUTOTOSIS_DEBUG"):
                raise
            click.echo("\nInterrupted; finished files are kept, partial ones removed.", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="autotosis")
def cli() -> None:
    """Turn stream VODs into highlight reels of the streamer's big reactions.

    \b
    autotosis label clips/x.mp4 --segment 0:07-0:32 --facecam auto
    autotosis train --cpu
    autotosis compile vod.mp4
    """


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so every `finally` removes partial files and children."""
    raise KeyboardInterrupt


def main() -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    cli(prog_name="autotosis")


for _command in (label, suggest_command, train, compile_command, live_command, eval_command, review, shorts,
                 clips, demo, probe, config_command):
    cli.add_command(_command)
# Last: every command, whoever added it, takes --profile and the defaults of autotosis.toml.
for _command in cli.commands.values():
    add_profile_option(_command)
