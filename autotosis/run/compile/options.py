"""What a compile is asked to do: the options, the progress hooks, where the model and output go.

Apart because both halves take them (scoring reads the options before the pipeline renders)
and so do the CLI, the batch and the demo: they must not need the scoring or rendering code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from autotosis import media
from autotosis.core.paths import MODELS_DIR, OUTPUT_DIR
from autotosis.publish import reel as render_lib
from autotosis.publish import shorts as shorts_lib
from autotosis.signals import chat as chat_lib
from autotosis.signals import fuse as signals_lib
from autotosis.signals import loudness as loudness_lib
from autotosis.signals import scan as scan_lib
from autotosis.signals import speech as speech_lib

SCORERS = ("model", "loudness", "chat", "fused")  # and any +-joined set: see signals/fuse.py
# Loudness's share next to the model in model+loudness (`--fuse-weight`): see signals/fuse.py.
FUSE_WEIGHT = signals_lib.LOUDNESS_WEIGHT


class CompileEvents:
    """Progress hooks; the CLI draws bars, library callers may ignore them."""

    def note(self, message: str) -> None: ...
    def scan_stage(self, name: str) -> None: ...
    def scan_progress(self, position: float, duration: float) -> None: ...
    def loudness_progress(self, position: float, duration: float) -> None: ...
    def render_progress(self, done: int, total: int) -> None: ...
    def shorts_progress(self, done: int, total: int) -> None: ...


@dataclass
class CompileOptions:
    """Everything compile needs, as plain values; None means "work it out" (see compile_vod)."""

    vod: Path
    out_dir: Path | None = None  # None: output/<vod stem>
    model: Path | None = None  # None: the newest models/*.pt, else loudness only
    scorer: str | None = None  # +-joined model, loudness, chat (or fused); None: see signals.choose_signals
    facecam: media.Box | Literal["auto"] | None = None  # None: the checkpoint's box, else detected
    scan: scan_lib.ScanConfig = field(default_factory=scan_lib.ScanConfig)
    loudness: loudness_lib.LoudnessConfig = field(default_factory=loudness_lib.LoudnessConfig)
    select: dict = field(default_factory=dict)  # SelectConfig overrides; None values are ignored
    fuse_weight: float = FUSE_WEIGHT  # share of loudness next to the model
    weights: dict = field(default_factory=dict)  # per-signal weights (--weights), over the defaults
    chat: Path | None = None  # chat replay file
    chat_config: chat_lib.ChatConfig = field(default_factory=chat_lib.ChatConfig)
    render: render_lib.RenderConfig = field(default_factory=render_lib.RenderConfig)
    reel_audio: str = "0"  # the audio track the reel keeps: a number or a title (see loudness.choose_track)
    url: str | None = None  # VOD page, for ?t= links in the sidecars
    shorts: shorts_lib.ShortsConfig | None = None  # also make a vertical short per highlight
    force: bool = False  # replace an existing reel
    cache: Path | None = None  # None: paths.cache_dir()
    profile: str | None = None  # the autotosis.toml profile the options came from, for options.json
    labels: tuple[str, ...] | None = None  # the model's heads to select on; None: every one it has
    more_models: tuple[Path, ...] = ()  # --model given again: checkpoints scored from the same decode
    speech: speech_lib.SpeechConfig = field(default_factory=speech_lib.SpeechConfig)  # --asr-model


def default_model(models_dir: Path = MODELS_DIR) -> Path | None:
    """The newest checkpoint in models/, which is what `autotosis train` just wrote."""
    found = [p for p in models_dir.glob("*.pt") if p.is_file() and not p.name.endswith(".state.pt")]
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


def output_dir(vod: Path, out_dir: Path | None = None) -> Path:
    return out_dir if out_dir is not None else OUTPUT_DIR / vod.stem
