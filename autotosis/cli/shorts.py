"""`autotosis shorts output/<vod>`: vertical shorts from a compiled (and maybe reviewed) selection.

The same options make shorts inside `autotosis compile --shorts`; both commands take
them from `shorts_options` and turn them into a `ShortsConfig` with `shorts_config`.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from progress.bar import Bar

from autotosis.cli.options import facecam_box
from autotosis.core.timecode import format_time
from autotosis.learn import labels as labels_lib
from autotosis.publish.captions import CAPTIONS
from autotosis.publish.framing import LAYOUTS
from autotosis.publish.shorts import ShortsConfig, parse_size

F = TypeVar("F", bound=Callable[..., Any])
SC = ShortsConfig()


def _size(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _box(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    if value is None:
        return None
    try:
        return labels_lib.parse_box(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: give x0,y0,x1,y1 as fractions of the frame ({exc})") from None


def shorts_options(function: F) -> F:
    """The look of the shorts, shared by `compile --shorts` and `shorts`."""
    decorators = [
        click.option("--layout", type=click.Choice(LAYOUTS), default=SC.layout, show_default=True,
                     help="stack: face-cam over gameplay; game: gameplay only; facecam: face-cam only."),
        click.option("--shorts-size", "shorts_size", default="x".join(map(str, SC.size)), show_default=True,
                     callback=_size, help="Width x height of the shorts."),
        click.option("--game-box", callback=_box,
                     help="Where the gameplay is, x0,y0,x1,y1 as fractions (default: the whole frame, "
                     "cropped around the action)."),
        click.option("--game-crop", callback=_box,
                     help="The gameplay's crop, x0,y0,x1,y1 as fractions, shown whole (default: chosen "
                     "around the action, clear of the face-cam)."),
        click.option("--title", default=SC.title, show_default=True,
                     help="Caption template: {label} {time} {index} {peak} {vod} {words} (the first "
                     "words said)."),
        click.option("--captions", type=click.Choice(CAPTIONS), default=SC.captions, show_default=True,
                     help="What is burnt in: the label and time, the words said (speech, word by word), "
                     "both, or none."),
        click.option("--asr-model", "asr_model", metavar="NAME|FOLDER",
                     help="Speech model for --captions speech: a CTranslate2 folder or a faster-whisper "
                     "name such as small.en (fetched once; needs internet). Default: the bundled tiny.en."),
        click.option("--shorts-max", "shorts_max", type=click.FloatRange(1), default=SC.max_seconds,
                     show_default=True, help="Longest short in seconds; longer highlights are trimmed "
                     "around their peak."),
        click.option("--shorts-loudness", "shorts_loudness", type=click.FloatRange(-40, -5),
                     default=SC.loudness, show_default=True,
                     help="Loudness of the shorts in LUFS (EBU R128; the apps play at about -14)."),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def shorts_config(values: dict[str, Any], jobs: int, preset: str | None = None,
                  crf: int | None = None) -> ShortsConfig:
    """A ShortsConfig from what `shorts_options` parsed (the keys are removed from `values`)."""
    config = ShortsConfig(size=values.pop("shorts_size"), layout=values.pop("layout"),
                          game_box=values.pop("game_box"), game_crop=values.pop("game_crop"),
                          title=values.pop("title"), captions=values.pop("captions"),
                          max_seconds=values.pop("shorts_max"), loudness=values.pop("shorts_loudness"),
                          jobs=jobs)
    if preset is not None:
        config = dataclasses.replace(config, preset=preset)
    if crf is not None:
        config = dataclasses.replace(config, crf=crf)
    return config


class ShortsBar:
    """A bar on stderr counting finished shorts."""

    def __init__(self) -> None:
        self.bar: Bar | None = None

    def __call__(self, done: int, total: int) -> None:
        if done == 0:
            self.bar = Bar("shorts", max=total, suffix="%(index)d/%(max)d %(elapsed)ds", file=sys.stderr)
        if self.bar is not None:
            self.bar.goto(done)
            if done == total:
                self.bar.finish()
                self.bar = None


@click.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@shorts_options
@click.option("-f", "--facecam", callback=facecam_box,
              help="Face-cam box x0,y0,x1,y1 as fractions, or 'auto' (default: the one compile used).")
@click.option("--all", "everything", is_flag=True,
              help="Use compile's selection even when the review page saved kept segments.")
@click.option("--jobs", type=click.IntRange(1), default=SC.jobs, show_default=True,
              help="Shorts encoded at once.")
@click.option("--force", is_flag=True, help="Replace shorts that already exist.")
def shorts(folder: Path, facecam: Any, everything: bool, jobs: int, force: bool, asr_model: str | None,
           **values: Any) -> None:
    """Make a vertical short of every highlight of a compiled VOD, into FOLDER/shorts/.

    \b
    autotosis shorts output/my-vod
    autotosis shorts output/my-vod --layout game --shorts-max 30 --force
    autotosis shorts output/my-vod --title "{label} at {time} | my channel"
    autotosis shorts output/my-vod --captions both --force
    """
    from autotosis.pick.highlights import load_selection
    from autotosis.publish.shorts import check_title, facecam_for, make_shorts, needs_words, window

    selection = load_selection(folder, reviewed=not everything)
    config = shorts_config(values, jobs)
    check_title(config.title)
    known = selection.options.get("facecam") if facecam is None else None if facecam == "auto" else facecam
    box, detected = facecam_for(selection.vod, known, config.layout)
    if detected:
        click.echo(detected, err=True)
    source = "the review page's kept segments" if selection.reviewed else "compile's selection"
    click.echo(f"{len(selection.highlights)} highlight(s) from {source}", err=True)
    track = int((selection.options.get("render") or {}).get("audio_track", 0))  # the reel's sound
    words = None
    if needs_words(config):  # heard in a thread while the shorts are planned
        from autotosis.run.compile.speech import speech_config, speech_track, start_words
        from autotosis.signals.speech import SpeechConfig

        speech = SpeechConfig(model=asr_model) if asr_model else speech_config(selection.options)
        words = start_words(selection.vod, [h.segment for h in selection.highlights],
                            speech_track(selection.options), speech, None,
                            lambda line: click.echo(line, err=True))
    paths = make_shorts(selection.vod, selection.highlights, folder / "shorts", config, box, force,
                        ShortsBar(), track, words)
    for item, path in zip(selection.highlights, paths, strict=True):
        span = window(item, config.max_seconds)
        click.echo(f"{path}  VOD {format_time(span.start, 1)} - {format_time(span.end, 1)} "
                   f"({span.duration:.1f} s)")
