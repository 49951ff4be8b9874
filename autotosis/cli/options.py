"""Scoring and selection options shared by `compile` and `eval`, written once.

Both commands must score and select the same way (eval measures what compile would
make), so they take these options from the same decorator stacks; defaults and help
text come from the library's config dataclasses. `scoring_fields` turns the parsed
values back into `CompileOptions` fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from autotosis.core.hardware import PRECISIONS
from autotosis.core.timecode import parse_duration
from autotosis.learn import labels as labels_lib
from autotosis.pick.select import LEAVE_RATIO, SelectConfig
from autotosis.run.compile import FUSE_WEIGHT
from autotosis.signals.chat import DELAY_RANGE, ChatConfig, find_chat, parse_reactions
from autotosis.signals.fuse import CHAT_WEIGHT, LOUDNESS_WEIGHT, MODEL_WEIGHT, parse_weights
from autotosis.signals.loudness import LoudnessConfig
from autotosis.signals.scan import MODES, ScanConfig

F = TypeVar("F", bound=Callable[..., Any])

S, SEL = ScanConfig(), SelectConfig()
SECONDS = click.FloatRange(0)
# CLI option name -> SelectConfig field.
SELECT_FIELDS = {
    "threshold": "enter",
    "leave": "leave",
    "smooth": "smooth",
    "min_event": "min_event",
    "pad_before": "pad_before",
    "pad_after": "pad_after",
    "merge_gap": "merge_gap",
    "max_length": "max_length",
    "top": "top",
}
SCAN_FIELDS = ("fps", "device", "batch_size", "threads", "precision")


def facecam_box(ctx: click.Context, param: click.Parameter, value: str | None) -> object:
    """`--facecam`: "x0,y0,x1,y1" as a checked box, or "auto" (detect it) as given."""
    if value is None or value == "auto":
        return value
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


def labels_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    """`--labels`: "a,b" or a TOML list, each a valid label name."""
    if value is None:
        return None
    names = tuple(n for n in re.split(r"[\s,'\"\[\]()]+", str(value)) if n)  # "a,b" or a TOML list
    try:
        return tuple(labels_lib.check_label_name(n) for n in names) or None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _d(value: object) -> str:
    return f"(default: {value})"


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Apply click options in the order listed, so --help lists them in that order."""

    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


scoring_options = _stack(
    click.option(
        "--model",
        type=click.Path(path_type=Path, dir_okay=False),
        multiple=True,
        help="Checkpoint to score with (default: the newest models/*.pt; none: loudness only). "
        "Repeat it to score several checkpoints, each with its own labels, face-cam box and size, "
        "from one decode of the VOD.",
    ),
    click.option(
        "--labels",
        callback=labels_callback,
        help="Reactions to find, e.g. rage,laugh: heads of the model, each selected with its own "
        "threshold into one reel (default: every label the model knows).",
    ),
    click.option(
        "--scorer",
        metavar="SIGNALS",
        help="What picks the moments: model, loudness, chat, or a +-joined set (model+chat, "
        "loudness+chat, fused = model+loudness, ...). Default: model if there is one, else loudness; "
        "+chat when --chat is given.",
    ),
    click.option(
        "--weights",
        metavar="NAME=W,...",
        help=f"Weights of combined signals, e.g. model=0.6,chat=0.4 (default: model {MODEL_WEIGHT:g}, "
        f"loudness {LOUDNESS_WEIGHT:g}, chat {CHAT_WEIGHT:g}; normalised to sum 1).",
    ),
    click.option(
        "--fuse-weight",
        type=click.FloatRange(0, 1),
        default=FUSE_WEIGHT,
        show_default=True,
        help="Share of loudness next to the model (model+loudness); --weights overrides it.",
    ),
    click.option(
        "--chat",
        metavar="FILE|auto",
        help="Chat replay (TwitchDownloader or chat-downloader JSON, yt-dlp live_chat.json, "
        "'[h:mm:ss] name: text' log); auto: the one downloaded with the VOD or lying next to it.",
    ),
    click.option(
        "--chat-delay",
        type=click.FloatRange(0),
        help="Seconds chat lags the stream (default: estimated within "
        f"{DELAY_RANGE[0]:g}-{DELAY_RANGE[1]:g} s against the model or loudness).",
    ),
    click.option(
        "--chat-reactions",
        metavar="LIST",
        help="Replace the reaction emotes/words chat is weighted by: comma-separated, /regex/ allowed "
        "(default: KEKW, OMEGALUL, LUL, Pog, ?????, ALL CAPS, ...).",
    ),
    click.option(
        "--audio-track",
        default=LoudnessConfig().track,
        show_default=True,
        metavar="N|NAME|auto",
        help="Audio track loudness is measured on: its number as `autotosis probe` lists it, its "
        "title, or auto (a track titled like mic/voice, else the first).",
    ),
    click.option(
        "-f",
        "--facecam",
        callback=facecam_box,
        help="Face-cam box x0,y0,x1,y1 as fractions, or 'auto' to find the face on the VOD "
        "(default: the model's box).",
    ),
    click.option(
        "--fps",
        type=click.FloatRange(0, min_open=True),
        help="Samples scored per second (default: the model's).",
    ),
    click.option(
        "--scan",
        "scan_mode",
        type=click.Choice(MODES),
        help="Which frames the model sees: dense (every sample at --fps), coarse (keyframes and "
        "loudness first, then dense only where something happens), keyframes (keyframes only: "
        f"fastest, sparse) {_d(S.mode)}.",
    ),
    click.option("--keyframes", is_flag=True, help="Same as --scan keyframes."),
    click.option("--device", type=click.Choice(["cpu", "cuda"]), default=S.device, show_default=True),
    click.option(
        "--precision",
        type=click.Choice(PRECISIONS),
        default=S.precision,
        show_default=True,
        help="Model arithmetic: auto is bf16 where the CPU/GPU has it (about 2x faster), else fp32.",
    ),
    click.option("--batch-size", type=click.IntRange(1), default=S.batch_size, show_default=True),
    click.option(
        "--threads",
        type=click.IntRange(1),
        default=S.threads,
        show_default=True,
        help="CPU threads for the model.",
    ),
)

selection_options = _stack(
    click.option(
        "--threshold",
        type=click.FloatRange(0, 1),
        help="Score that starts a highlight (default: the model's "
        f"validation threshold; {SEL.enter} for loudness).",
    ),
    click.option(
        "--leave",
        type=click.FloatRange(0, 1),
        help=f"Score that ends it (default: {LEAVE_RATIO:g} x the threshold).",
    ),
    click.option("--smooth", type=SECONDS, help=f"Seconds of score smoothing {_d(SEL.smooth)}."),
    click.option("--min-event", type=SECONDS, help=f"Drop highlights shorter than this {_d(SEL.min_event)}."),
    click.option(
        "--pad-before", type=SECONDS, help=f"Seconds kept before each highlight {_d(SEL.pad_before)}."
    ),
    click.option("--pad-after", type=SECONDS, help=f"Seconds kept after each highlight {_d(SEL.pad_after)}."),
    click.option("--merge-gap", type=SECONDS, help=f"Join highlights closer than this {_d(SEL.merge_gap)}."),
    click.option(
        "--max-length", callback=_duration, help=f"Reel budget, e.g. 10m or 1h30m {_d(SEL.max_length)}."
    ),
    click.option("--top", type=click.IntRange(1), help="Keep only the N best highlights."),
)


def scan_mode(values: dict[str, Any]) -> str:
    """`--scan`, with `--keyframes` as its alias; the two may not disagree."""
    mode, keyframes = values["scan_mode"], values["keyframes"]
    if keyframes and mode not in (None, "keyframes"):
        raise click.BadParameter(f"--keyframes means --scan keyframes, not --scan {mode}",
                                 param_hint="--keyframes")
    return "keyframes" if keyframes else mode or S.mode


def scoring_fields(values: dict[str, Any], vod: Path | None = None) -> dict[str, Any]:
    """`CompileOptions` keyword arguments from what the two stacks parsed.

    `--chat auto` looks for a replay next to `vod` (where `compile URL` saves the one it downloads).
    """
    chat_file = values["chat"]
    if chat_file == "auto":
        chat_file = find_chat(vod) if vod is not None else None
        click.echo(f"chat: using {chat_file}" if chat_file else
                   "chat: --chat auto found no chat replay next to the VOD; scoring without chat", err=True)
    chat = ChatConfig(delay=values["chat_delay"])
    if values["chat_reactions"]:
        chat = ChatConfig(delay=values["chat_delay"], reactions=parse_reactions(values["chat_reactions"]))
    return {
        "weights": parse_weights(values["weights"]),
        "chat": Path(chat_file) if chat_file else None,
        "chat_config": chat,
        "model": values["model"][0] if values["model"] else None,
        "more_models": tuple(values["model"][1:]),
        "labels": values["labels"],
        "scorer": values["scorer"],
        "facecam": values["facecam"],
        "fuse_weight": values["fuse_weight"],
        "loudness": LoudnessConfig(track=values["audio_track"]),
        "scan": ScanConfig(mode=scan_mode(values), **{name: values[name] for name in SCAN_FIELDS}),
        "select": {field: values[option] for option, field in SELECT_FIELDS.items()},
    }
