"""`autotosis live SOURCE`: clips of the highlights while the stream is still running.

Thin: parse the options (compile's names where they mean the same), call run.live, print
one line per clip and a status line. The status line redraws in place on a terminal and is
printed every `STATUS_EVERY` seconds otherwise (logs, tests). With --ui the same events also
feed the live page (web.live), served from a thread while the stream runs and kept up for
the review after it ends.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import click

from autotosis.cli.options import SELECT_FIELDS, facecam_box, labels_callback, selection_options
from autotosis.cli.serve import app_in_background, wait_for_ctrl_c
from autotosis.cli.shorts import shorts_config, shorts_options
from autotosis.core.errors import AutotosisError
from autotosis.core.timecode import format_time
from autotosis.publish.reel import RenderConfig
from autotosis.run.compile import FUSE_WEIGHT, default_model
from autotosis.run.live import Clip, LiveEvents, LiveOptions, LiveResult, Status, output_folder, run_live
from autotosis.run.live.options import CLIP_PRESET
from autotosis.signals.chat import DELAY_RANGE, ChatConfig, parse_reactions
from autotosis.signals.fuse import parse_scorer, parse_weights
from autotosis.signals.loudness import LoudnessConfig

R = RenderConfig()
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                "veryslow")
STATUS_EVERY = 10.0


class Terminal(LiveEvents):
    """Clips and notes as lines on stdout/stderr; the status line on stderr."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.shown = 0.0
        self.drawn = False

    def clear(self) -> None:
        if self.drawn:
            click.echo("\r\033[K", nl=False, err=True)
            self.drawn = False

    def note(self, message: str) -> None:
        self.clear()
        click.echo(message, err=True)

    def clip(self, clip: Clip, render_seconds: float) -> None:
        self.clear()
        replaces = f"  replaces {', '.join(Path(f).name for f in clip.replaces)}" if clip.replaces else ""
        click.echo(f"clip {clip.file}  {format_time(clip.start, 1)} - {format_time(clip.end, 1)}  "
                   f"{clip.label} peak {clip.peak:.2f}  (cut in {render_seconds:.1f}s){replaces}"
                   + (f"  short {clip.short}" if clip.short else ""))

    def status(self, status: Status) -> None:
        line = (f"live {format_time(status.edge, 0)}  behind {status.delay:.1f}s  "
                f"cpu {status.cores:.2f} cores  {status.clips} clip(s)"
                + (f"  chat {status.chat} msg" if status.chat >= 0 else ""))
        if self.live:
            click.echo(f"\r\033[K{line}", nl=False, err=True)
            self.drawn = True
        elif time.monotonic() - self.shown >= STATUS_EVERY:
            click.echo(line, err=True)
            self.shown = time.monotonic()


class Both(LiveEvents):
    """The terminal and the live page, told the same things."""

    def __init__(self, *sinks: LiveEvents) -> None:
        self.sinks = sinks

    def note(self, message: str) -> None:
        for sink in self.sinks:
            sink.note(message)

    def clip(self, clip: Clip, render_seconds: float) -> None:
        for sink in self.sinks:
            sink.clip(clip, render_seconds)

    def status(self, status: Status) -> None:
        for sink in self.sinks:
            sink.status(status)


def report(result: LiveResult) -> None:
    """What the stream left: its clips, what following it cost, the reel."""
    wall = max(result.wall, 1e-6)
    shorts = sum(1 for clip in result.clips if clip.short)
    click.echo(f"stream ended ({result.ended}): {len(result.clips)} clip(s) in {result.folder / 'clips'}"
               + (f", {shorts} short(s) in {result.folder / 'shorts'}" if shorts else "")
               + f"; cpu {result.follow_cpu / wall:.2f} cores following, "
               f"{result.render_cpu:.0f}s cutting clips")
    if "reel" in result.files:
        click.echo(f"reel: {result.files['reel']} ({len(result.segments)} highlight(s)); sidecars beside it")


@click.command(name="live")
@click.argument("source")
@click.option("--idle", type=click.FloatRange(0, min_open=True), default=30.0, show_default=True,
              help="Seconds without the recording growing that end the stream (and that a "
              "listener waits for the encoder to connect).")
@click.option("--follow-dir", is_flag=True,
              help="A newer recording in the same folder continues the stream (OBS's file splitting).")
@click.option("--model", type=click.Path(path_type=Path, dir_okay=False), multiple=True,
              help="Checkpoint to score with (default: the newest models/*.pt; none: loudness only). "
              "Repeat it as for compile: each scores its own labels (its own decode of the stream).")
@click.option("--labels", callback=labels_callback,
              help="Reactions to find, e.g. rage,laugh: heads of the model(s), each selected with its own "
              "threshold, clips labelled (default: every label the models know).")
@click.option("--scorer", metavar="SIGNALS",
              help="What picks the moments: model, loudness, fused (both), with +chat to add chat "
              "(default: model if there is one, else loudness; +chat when --chat is given).")
@click.option("--fuse-weight", type=click.FloatRange(0, 1), default=FUSE_WEIGHT, show_default=True,
              help="Share of loudness next to the model (fused); --weights overrides it.")
@click.option("--weights", metavar="NAME=W,...",
              help="Weights of combined signals, e.g. loudness=0.5,chat=0.5 (as compile's).")
@click.option("--chat", metavar="FILE|twitch:CHANNEL",
              help="Chat as the stream runs: a chat log being written ('[h:mm:ss] name: text' lines or "
              "yt-dlp live_chat JSON lines), or a Twitch channel's chat, read anonymously.")
@click.option("--chat-server", metavar="HOST:PORT", envvar="AUTOTOSIS_TWITCH_IRC",
              help="Twitch's IRC server for twitch:CHANNEL (default: irc.chat.twitch.tv:6667; "
              "env AUTOTOSIS_TWITCH_IRC).")
@click.option("--chat-delay", type=click.FloatRange(0), help="Seconds chat lags the stream (default: "
              f"estimated within {DELAY_RANGE[0]:g}-{DELAY_RANGE[1]:g} s as the stream goes).")
@click.option("--chat-reactions", metavar="LIST", help="Replace the reaction emotes/words chat is weighted "
              "by: comma-separated, /regex/ allowed.")
@click.option("--audio-track", default=LoudnessConfig().track, show_default=True, metavar="N|NAME|auto",
              help="Audio track loudness is measured on (number, title, or auto: a mic-titled track).")
@click.option("-f", "--facecam", callback=facecam_box, help="Face-cam box x0,y0,x1,y1 as fractions "
              "(default: the model's box).")
@click.option("--fps", type=click.FloatRange(0, min_open=True), help="Samples scored per second "
              "(default: the model's).")
@selection_options
@click.option("--preset", default=R.preset, show_default=True, help="x264 preset for the reel at the end.")
@click.option("--clip-preset", default=CLIP_PRESET, show_default=True, type=click.Choice(X264_PRESETS),
              help="x264 preset for the clips and shorts cut during the stream (faster: out sooner).")
@click.option("--crf", type=click.IntRange(0, 51), default=R.crf, show_default=True, help="x264 quality.")
@click.option("--no-overlay", is_flag=True, help="No caption (label, live score, stream time).")
@click.option("--reel-audio", default="0", show_default=True, metavar="N|NAME",
              help="Audio track clips and the reel keep.")
@click.option("--shorts", "make_shorts", is_flag=True,
              help="Also make each clip's vertical short as it is cut (output/<name>/shorts/).")
@shorts_options
@click.option("--no-reel", is_flag=True, help="Only clips: no reel and sidecars at the end of the stream.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Output folder (default: output/<source name>/).")
@click.option("--ui", is_flag=True, help="Open a page that shows each clip as it is cut, then links to "
              "the review of the finished output.")
@click.option("--ui-port", type=int, default=0, help="Port for --ui (default: any free one).")
@click.option("--no-browser", is_flag=True, help="With --ui, only print the URL.")
def live_command(source: str, idle: float, follow_dir: bool, model: tuple[Path, ...],
                 labels: tuple[str, ...] | None, scorer: str | None,
                 fuse_weight: float, weights: str | None, chat: str | None, chat_server: str | None,
                 chat_delay: float | None, chat_reactions: str | None, audio_track: str, facecam: Any,
                 fps: float | None, preset: str, clip_preset: str, crf: int, no_overlay: bool,
                 reel_audio: str, no_reel: bool, out_dir: Path | None, ui: bool, ui_port: int,
                 no_browser: bool, make_shorts: bool, asr_model: str | None, **select: Any) -> None:
    """Cut each highlight into output/<name>/clips/ while the stream still runs.

    SOURCE is a recording OBS is still writing (MKV, FLV, MPEG-TS), a stream URL ffmpeg
    reads (an HLS .m3u8 over http, srt://...?mode=listener and rtmp://host:port/app/key to
    listen on for OBS), or a channel or page URL whose live stream yt-dlp finds. Each
    highlight is cut as soon as it is final and listed in highlights.jsonl; when the stream
    ends (the source ends, --idle, Ctrl-C) the reel and compile's sidecars are written. Run it
    again on the same source to resume: no clip is cut twice.

    \b
    autotosis live "recordings/2024-05-01 20-00-00.mkv" --follow-dir
    autotosis live http://127.0.0.1:8080/live/stream.m3u8 --idle 60
    autotosis live rtmp://127.0.0.1:1935/live/key --model models/me.pt
    autotosis live "srt://127.0.0.1:9000?mode=listener"
    autotosis live https://www.twitch.tv/mychannel
    autotosis live "recordings/2024-05-01 20-00-00.mkv" --chat twitch:mychannel
    autotosis live rec/stream.mkv --ui
    autotosis live rec/stream.mkv --shorts --layout stack --shorts-max 30
    """
    if facecam == "auto":
        raise AutotosisError("--facecam auto: live mode cannot look for the face first; give x0,y0,x1,y1 "
                             "or leave it out to use the model's box")
    models = list(model)
    if not models and (scorer is None or "model" in parse_scorer(scorer)):
        models = [found] if (found := default_model()) is not None else []
    shorts = shorts_config(select, 1, clip_preset)  # takes the shorts options out of `select`
    chat_config = ChatConfig(delay=chat_delay)
    if chat_reactions:
        chat_config = ChatConfig(delay=chat_delay, reactions=parse_reactions(chat_reactions))
    options = LiveOptions(
        source=source, out_dir=out_dir, idle=idle, follow_dir=follow_dir, model=models[0] if models else None,
        more_models=tuple(models[1:]), labels=labels, scorer=scorer,
        facecam=facecam, fps=fps, fuse_weight=fuse_weight, weights=parse_weights(weights),
        chat=chat, chat_server=chat_server, chat_config=chat_config,
        loudness=LoudnessConfig(track=audio_track),
        select={field: select[option] for option, field in SELECT_FIELDS.items()},
        render=RenderConfig(preset=preset, crf=crf, overlay=not no_overlay, jobs=1, captions=shorts.captions),
        clip_preset=clip_preset, reel_audio=reel_audio, reel=not no_reel,
        shorts=shorts if make_shorts else None,
    )
    terminal = Terminal()
    with contextlib.ExitStack() as stack:
        events: LiveEvents = terminal
        if ui:
            from autotosis.web.live import live_app

            app, feed = live_app(output_folder(options))
            url = stack.enter_context(app_in_background(app, ui_port, not no_browser,
                                                        "Ctrl-C ends the stream"))
            stack.callback(feed.close)  # before the server stops: the page connections end first
            events = Both(terminal, feed)
        result = run_live(options, events)
        terminal.clear()
        report(result)
        if ui:
            review = feed.finish(result.ended)
            click.echo((f"review: {url.rstrip('/')}{review}" if review else f"live page: {url}")
                       + "  (Ctrl-C to stop)")
            wait_for_ctrl_c()
