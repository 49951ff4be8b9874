"""`autotosis suggest VOD`: the moments most worth an answer, with the exact lines to give it.

Plain output: a table (rank, span, kind, score, reason) and, per candidate, the
`autotosis label` line that accepts it (`-s`: a reaction there) and the one that rejects it
(`--calm`: looked at, no reaction). `--json`: the candidates as a list of objects.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from autotosis.cli.compile import ProgressBars
from autotosis.cli.config import several_models
from autotosis.cli.options import facecam_box
from autotosis.core.paths import LABELS_DIR
from autotosis.core.timecode import format_time
from autotosis.learn import labels as labels_lib
from autotosis.pick.suggest import Candidate, SuggestConfig
from autotosis.run.compile import CompileEvents
from autotosis.run.suggest import SuggestOptions, model_for_label, suggest
from autotosis.signals.loudness import LoudnessConfig
from autotosis.signals.scan import MODES, ScanConfig

C = SuggestConfig()


def span_text(c: Candidate) -> str:
    """"1:02:03-1:02:13": the span as `autotosis label -s` and `--calm` take it."""
    return f"{format_time(c.start, 0)}-{format_time(c.end, 0)}"


def answer_lines(vod: str, c: Candidate, labels_dir: Path = LABELS_DIR) -> tuple[str, str]:
    """(accept, reject): the `autotosis label` lines that answer a candidate."""
    where = "" if labels_dir == LABELS_DIR else f" --labels-dir {shlex.quote(str(labels_dir))}"
    head = f"autotosis label {shlex.quote(vod)}{where} --label {c.label}"
    return f"{head} -s {span_text(c)}", f"{head} --calm {span_text(c)}"


class _Quiet(CompileEvents):
    """--json: notes on stderr, no bars (stdout stays one JSON document)."""

    def note(self, message: str) -> None:
        click.echo(message, err=True)


@click.command(name="suggest")
@click.argument("vod", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--model", metavar="PATH|none",
              help="Checkpoint whose doubts to ask about (default: the newest models/*.pt that scores "
              "the label; none: loudness and chat only).")
@click.option("--label", "label_name", help="Reaction to ask about (default: the model's, else the label "
              f"file's, else {labels_lib.DEFAULT_LABEL}).")
@click.option("-n", "--count", type=click.IntRange(1), default=C.count, show_default=True,
              help="How many moments to suggest.")
@click.option("--dense", is_flag=True, help=f"Allow candidates closer than {C.spread:g} s apart "
              "(they never overlap).")
@click.option("--chat", default="auto", show_default=True, metavar="auto|FILE|none",
              help="Chat replay: auto is the one downloaded with the VOD or lying next to it.")
@click.option("--audio-track", default=LoudnessConfig().track, show_default=True, metavar="N|NAME|auto",
              help="Audio track loudness is measured on: its number, its title, or auto (a track "
              "titled like mic/voice, else the first).")
@click.option("-f", "--facecam", callback=facecam_box,
              help="Face-cam box x0,y0,x1,y1 as fractions, or 'auto' (default: the model's box).")
@click.option("--scan", "scan_mode", type=click.Choice(MODES), default=ScanConfig().mode, show_default=True,
              help="How the model looks at the VOD (coarse: keyframes, then dense where loud or chatty).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=ScanConfig().device, show_default=True)
@click.option("--labels-dir", type=click.Path(path_type=Path, file_okay=False), default=LABELS_DIR,
              show_default=True, help="Where the label files (the answers so far) live.")
@click.option("--json", "as_json", is_flag=True, help="Print the candidates as JSON.")
def suggest_command(vod: Path, model: str | None, label_name: str | None, count: int, dense: bool, chat: str,
                    audio_track: str, facecam: object, scan_mode: str, device: str, labels_dir: Path,
                    as_json: bool) -> None:
    """Ask about the moments of VOD most worth an answer: loud, chatty, calm, or the model's doubts.

    Answer each with the printed `autotosis label` line: -s marks the reaction (tighten the
    span to the reaction itself), --calm marks the window as looked at, nothing there.
    Spans already answered in labels/<vod>.toml are not asked again.

    \b
    autotosis suggest vods/stream.mp4
    autotosis suggest vods/stream.mp4 --label laugh --count 10
    autotosis suggest vods/stream.mp4 --model none --json
    """
    if model is None and (several := several_models()) is not None:  # the profile's list: the label's one
        model = str(model_for_label(several[0], label_name, several[1], "suggest"))
    options = SuggestOptions(
        label=label_name,
        model="none" if model is not None and model.lower() == "none" else (Path(model) if model else None),
        chat=None if chat.lower() == "none" else ("auto" if chat.lower() == "auto" else Path(chat)),
        loudness=LoudnessConfig(track=audio_track),
        facecam=facecam,  # type: ignore[arg-type]
        scan=ScanConfig(mode=scan_mode, device=device),
        config=SuggestConfig(count=count, dense=dense),
        labels_dir=labels_dir,
    )
    if options.chat not in (None, "auto") and not Path(options.chat).is_file():  # type: ignore[arg-type]
        raise click.ClickException(f"{chat}: no such chat replay (--chat auto|FILE|none)")
    found = suggest(vod, options, _Quiet() if as_json else ProgressBars())
    shown = str(vod)
    if as_json:
        rows = []
        for c in found:
            accept, reject = answer_lines(shown, c, labels_dir)
            rows.append({**c.to_dict(), "accept": accept, "reject": reject})
        click.echo(json.dumps(rows, indent=2))
        return
    if not found:
        click.echo(f"nothing to ask about in {vod}: every moment found is answered already"
                   + ("" if dense else " or too close to another (--dense)"))
        return
    width = max(len(span_text(c)) for c in found)
    click.echo(f"{'#':>3}  {'span':<{width}}  {'kind':<8} {'score':>5}  reason")
    for k, c in enumerate(found, 1):
        click.echo(f"{k:>3}  {span_text(c):<{width}}  {c.kind:<8} {c.score:>5.2f}  {c.reason}")
    if len(found) < count:
        click.echo(f"({len(found)} of {count}: " + ("no more moments that do not overlap" if dense else
                   f"no more moments {C.spread:g} s apart; --dense for ones closer together") + ")")
    click.echo("\nAnswer each: Y marks the reaction (tighten -s to the reaction itself), "
               "N marks the window calm.")
    for k, c in enumerate(found, 1):
        accept, reject = answer_lines(shown, c, labels_dir)
        click.echo(f"{k:>3}  Y: {accept}\n     N: {reject}")
