"""The words said in a compile's highlights, transcribed beside the render when captions want them.

Apart from the pipeline because three callers share it: compile (in a thread while the
plot, the reel and the shorts' planning go on), the review page's Render button and its
short. Whatever keeps the words from coming (no faster-whisper, no model, no network, no
sound) is said once, in one line, and everything else is still published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from autotosis.core.errors import SpeechError
from autotosis.core.timeline import Segment
from autotosis.core.transcript import Word
from autotosis.publish import captions as captions_lib
from autotosis.publish import shorts as shorts_lib
from autotosis.publish.reel import RenderConfig
from autotosis.signals import speech as speech_lib


def wanted(render: RenderConfig, shorts: shorts_lib.ShortsConfig | None) -> bool:
    """Whether any output shows what is said: speech captions on the reel or the shorts, or {words}."""
    shown = captions_lib.shows_speech(render.captions)
    return shown or (shorts is not None and shorts_lib.needs_words(shorts))


class Words:
    """The words of each highlight, once a background transcription has them.

    Calling it waits for them; the first call that finds none notes why (one line).
    """

    def __init__(self, future: Future[speech_lib.Transcribed] | None, note: Callable[[str], None],
                 why_not: str = ""):
        self.future = future
        self.note = note
        self.why_not = why_not
        self.model = ""
        self._told = False

    def __call__(self) -> list[list[Word]] | None:
        words = None
        if self.future is not None:
            done = self.future.result()
            words, self.model = done.words, done.model
            self.why_not = self.why_not or done.why_not
        if words is None and self.why_not and not self._told:
            self._told = True
            self.note(self.why_not)
        return words


def start_words(vod: Path, segments: Sequence[Segment], track: int | None, config: speech_lib.SpeechConfig,
                cache: Path | None, note: Callable[[str], None]) -> Words:
    """Start transcribing `segments` on audio `track` (None: the VOD has no sound) in a thread."""
    if track is None:
        return Words(None, note, f"no speech captions: {vod} has no sound")
    spans = [(seg.start, seg.end) for seg in segments]
    return Words(speech_lib.start_transcription(vod, spans, track, config, cache, note), note)


def words_now(vod: Path, segments: Sequence[Segment], track: int, config: speech_lib.SpeechConfig,
              cache: Path | None = None) -> tuple[list[list[Word]] | None, str]:
    """(the words of each segment, or None; why there are none): for a re-render, mostly from the cache."""
    try:
        spans = [(s.start, s.end) for s in segments]
        words, _ = speech_lib.transcribe_spans(vod, spans, track, config, cache)
        return words, ""
    except SpeechError as exc:
        return None, str(exc)


def speech_config(resolved: dict) -> speech_lib.SpeechConfig:
    """The SpeechConfig a compile saved in options.json ("speech"), else the defaults."""
    saved = resolved.get("speech")
    try:
        return speech_lib.SpeechConfig(**saved) if isinstance(saved, dict) else speech_lib.SpeechConfig()
    except TypeError:
        return speech_lib.SpeechConfig()


def speech_track(resolved: dict) -> int:
    """The audio track a compile measured loudness on (--audio-track: the mic when there is one)."""
    try:
        return int((resolved.get("loudness") or {}).get("track_index", 0))
    except (TypeError, ValueError):
        return 0
