"""What a live run is given and what it tells: its options, the events it reports (clips,
notes, status lines) and its result; plain values, so the CLI and the live page share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from autotosis import media
from autotosis.core.timeline import Segment
from autotosis.publish import reel as render_lib
from autotosis.publish import shorts as shorts_lib
from autotosis.run.live import clips as clips_lib
from autotosis.signals import chat as chat_lib
from autotosis.signals import fuse as signals_lib
from autotosis.signals import loudness as loudness_lib

# Clips are cut while the stream runs, on the streamer's PC: superfast encodes 1080p60 1.7x as
# fast as veryfast (the reel's default) on 2 cores, so a clip is out seconds sooner; the
# reel at the end keeps --preset.
CLIP_PRESET = "superfast"


@dataclass
class LiveOptions:
    """Everything a live run needs, as plain values; the names mean what compile's mean."""

    source: str  # a recording being written, or a stream URL (see media.URL_SCHEMES)
    out_dir: Path | None = None  # None: output/<source stem>
    idle: float = 30.0  # seconds without growth that end the stream
    follow_dir: bool = False  # a newer recording in the same folder continues the stream (OBS splitting)
    model: Path | None = None  # the face-cam model; None: loudness only
    more_models: tuple[Path, ...] = ()  # --model given again: each scores its own labels, as in compile
    labels: tuple[str, ...] | None = None  # --labels: the heads to score; None: every head of the models
    scorer: str | None = None  # model | loudness | fused (model+loudness); None: see signals.choose_signals
    facecam: media.Box | None = None  # None: the checkpoint's box
    fps: float | None = None  # model samples per second; None: the model's own
    loudness: loudness_lib.LoudnessConfig = field(default_factory=loudness_lib.LoudnessConfig)
    select: dict = field(default_factory=dict)  # SelectConfig overrides; None values are ignored
    fuse_weight: float = signals_lib.LOUDNESS_WEIGHT
    weights: dict = field(default_factory=dict)  # per-signal weights (--weights), over the defaults
    chat: str | None = None  # a chat log being written, or twitch:CHANNEL
    chat_server: str | None = None  # HOST:PORT of Twitch's IRC server; None: Twitch's own
    chat_config: chat_lib.ChatConfig = field(default_factory=chat_lib.ChatConfig)
    render: render_lib.RenderConfig = field(default_factory=render_lib.RenderConfig)  # the reel's
    clip_preset: str = CLIP_PRESET  # x264 preset of the clips (and shorts) cut during the stream
    reel_audio: str = "0"
    buffer_seconds: float = 2.0  # replay buffer pieces: a clip is cut at most this long after it closes
    update_every: float = 0.5  # seconds between selection updates (and status lines), at least
    reel: bool = True  # write the reel and compile's sidecars when the stream ends
    shorts: shorts_lib.ShortsConfig | None = None  # also each clip's vertical short, into shorts/


@dataclass(frozen=True)
class Status:
    """The status line: how far the stream is scored, how far behind, what it costs."""

    edge: float  # stream seconds scored
    delay: float  # seconds the scoring is behind the recording (see Session.status)
    cores: float  # CPU cores used since the last status by the follower, its ffmpegs and the model
    clips: int
    chat: int = -1  # chat messages taken in so far; -1: no chat


class LiveEvents:
    """What the CLI shows; library callers may ignore it."""

    def note(self, message: str) -> None: ...
    def clip(self, clip: clips_lib.Clip, render_seconds: float) -> None: ...
    def status(self, status: Status) -> None: ...


@dataclass
class LiveResult:
    """What a live run produced."""

    folder: Path
    clips: list[clips_lib.Clip]  # every clip on disk, earlier runs' included
    segments: list[Segment]  # the final selection on the whole stream (what segments.json holds)
    ended: str  # idle, interrupted, source ended, ...
    files: dict[str, Path] = field(default_factory=dict)
    follow_cpu: float = 0.0  # CPU seconds of following and scoring
    render_cpu: float = 0.0  # CPU seconds of cutting clips
    wall: float = 0.0
    notes: list[str] = field(default_factory=list)


def source_name(source: str) -> str:
    """What output/<name>/ is called: the file's stem, or the URL's last path part ("stream"
    when it has none, as srt://host:port)."""
    if source.startswith(media.URL_SCHEMES):
        tail = urlsplit(source).path.rstrip("/").rsplit("/", 1)[-1]
        return Path(tail).stem or "stream"
    return Path(source).stem
