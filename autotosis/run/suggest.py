"""`suggest`: the moments of a VOD most worth a person's answer, measured and ranked.

The signals are compile's own (`run.compile.score_vod`): loudness on the mic track when
there is one, the chat replay when one is given or lies next to the VOD, and with a model
the face-cam model's (coarse) scan, all cached, so a second round costs almost nothing.
The ranking is `pick.suggest.rank`; spans already answered in labels/<vod stem>.toml
(its segments and calm spans for the label) are left out, so asking again gives new
questions. Notes and progress go through `CompileEvents`, never to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from autotosis import media
from autotosis.core.errors import LabelError, MediaError, ModelError
from autotosis.core.paths import CLIPS_DIR, LABELS_DIR, MODELS_DIR
from autotosis.core.timeline import Segment, Timeline
from autotosis.learn import labels as labels_lib
from autotosis.pick.suggest import Candidate, SuggestConfig, SuggestSignals, rank
from autotosis.run.clipinfo import clipped_moments
from autotosis.run.compile import CompileEvents, CompileOptions, score_vod
from autotosis.signals import chat as chat_lib
from autotosis.signals import loudness as loudness_lib
from autotosis.signals import scan as scan_lib

__all__ = ["Candidate", "SuggestConfig", "SuggestOptions", "answered_spans", "choose_model",
           "clipped_candidates", "suggest"]


@dataclass
class SuggestOptions:
    """What `suggest` is asked; None means "work it out" (see `suggest`)."""

    label: str | None = None  # None: the model's label, else the label file's first, else rage
    # a checkpoint; None: the newest models/*.pt that scores the label (none: no model);
    # "none": suggest without a model even when there is one
    model: Path | Literal["none"] | None = None
    chat: Path | Literal["auto"] | None = "auto"  # a replay file; auto: the one next to the VOD
    loudness: loudness_lib.LoudnessConfig = field(default_factory=loudness_lib.LoudnessConfig)
    facecam: media.Box | Literal["auto"] | None = None  # None: the checkpoint's box, else detected
    scan: scan_lib.ScanConfig = field(default_factory=scan_lib.ScanConfig)
    config: SuggestConfig = field(default_factory=SuggestConfig)
    labels_dir: Path = LABELS_DIR  # where labels/<vod stem>.toml, the answers so far, lives
    models_dir: Path = MODELS_DIR
    cache: Path | None = None  # None: paths.cache_dir()
    extra: Sequence[Candidate] = ()  # candidates made elsewhere, besides the viewers' clips
    clips_dir: Path | None = CLIPS_DIR  # community clips cut from this VOD (`autotosis clips`) are asked too


def answered_spans(vod: Path, label: str, labels_dir: Path = LABELS_DIR) -> list[Segment]:
    """The spans of `vod` already answered for `label`: its label file's segments and calm spans."""
    path = labels_lib.label_path_for(vod, labels_dir)
    if not path.exists():
        return []
    return labels_lib.load_label(path, check_clip=False).reviewed_spans(label)


def clipped_candidates(vod: Path, clips_dir: Path | None, label: str) -> list[Candidate]:
    """"Viewers clipped this": the clips in `clips_dir` cut from `vod`, most viewed first.

    Views rank them (scored against the most viewed one): a moment a hundred people clipped
    is the first thing worth asking about.
    """
    if clips_dir is None or not Path(clips_dir).is_dir():
        return []
    moments = clipped_moments(vod, clips_dir)
    most = max((m.views for m in moments), default=0) or 1
    return [Candidate(m.start, m.end, f"viewers clipped this: '{m.title}' ({m.views:,} views)",
                      m.views / most, label, "clipped") for m in moments if m.end > m.start]


def _file_label(vod: Path, labels_dir: Path) -> str | None:
    path = labels_lib.label_path_for(vod, labels_dir)
    return labels_lib.load_label(path, check_clip=False).label if path.exists() else None


def _heads(path: Path) -> tuple[str, ...]:
    """The labels a checkpoint scores (loads it: torch is imported only when a model is there)."""
    from autotosis.learn.model import load_checkpoint

    _, meta, _ = load_checkpoint(path)
    return meta.heads


def model_for_label(models: Sequence[Path], label: str | None, where: str, command: str) -> Path:
    """The checkpoint of a profile's `model = [...]` that scores `label`, for a command that asks
    about one label with one model (suggest, label --ui); ModelError (one line) saying which
    --model to pass when no label picks one."""
    listed = ", ".join(map(str, models))
    if label is None:
        raise ModelError(f"{where}: model = [{listed}] gives several models; `autotosis {command}` uses one: "
                         f"pass --model {models[0]} (or --label, to use the one that scores it)")
    scores = []
    for model in models:
        if not model.is_file():
            raise ModelError(f"{model}: no such model file ({where})")
        heads = _heads(model)
        if label in heads:
            return model
        scores.append(f"{model} scores {', '.join(heads)}")
    raise ModelError(f"{where}: no model of [{listed}] scores '{label}' ({'; '.join(scores)}): "
                     "pass --model with one that does")


def choose_model(options: SuggestOptions, label: str | None
                 ) -> tuple[Path | None, tuple[str, ...], str | None]:
    """(the checkpoint to score with, the labels it scores, a note saying why when it was not given).

    Given: it must score `label` (ModelError otherwise). Not given: the newest checkpoint in
    models/ that scores `label` (any, when no label is asked), else none.
    """
    if options.model == "none":
        return None, (), None
    if options.model is not None:
        model = Path(options.model)
        if not model.is_file():
            raise ModelError(f"{model}: no such model file")
        heads = _heads(model)
        if label is not None and label not in heads:
            raise ModelError(f"{model}: scores {', '.join(heads)}, not '{label}' (--label)")
        return model, heads, None
    found = sorted((p for p in Path(options.models_dir).glob("*.pt")
                    if p.is_file() and not p.name.endswith(".state.pt")),
                   key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for path in found:
        try:
            heads = _heads(path)
        except ModelError:
            continue
        if label is None or label in heads:
            return path, heads, (f"model: {path} (the newest in {options.models_dir}/ for "
                                 f"{label or heads[0]}; --model none to suggest without it)")
    if found:
        return None, (), (f"no model in {options.models_dir}/ scores '{label}': "
                          "suggesting from loudness and chat")
    return None, (), None


def suggest(vod: Path, options: SuggestOptions | None = None,
            events: CompileEvents | None = None) -> list[Candidate]:
    """The moments of `vod` most worth a person's answer, best first (see pick.suggest).

    Without a model: loudness peaks and chat bursts, plus a few calm stretches. With one:
    its doubts, a few confident positives, loud or chat moments it scores low, a few calm
    stretches. Spans answered in labels/<vod stem>.toml for the label are never asked again.
    MediaError for a file that is not a video, ModelError for a model of another label.
    """
    options = options or SuggestOptions()
    events = events or CompileEvents()
    vod = Path(vod)
    info = media.probe(vod)
    if options.label is not None:
        try:
            labels_lib.check_label_name(options.label)
        except ValueError as exc:
            raise LabelError(f"--label: {exc}") from None
    model, heads, why = choose_model(options, options.label)
    if why:
        events.note(why)
    label = options.label
    if label is None:
        label = (heads[0] if model is not None else _file_label(vod, options.labels_dir)
                 or labels_lib.DEFAULT_LABEL)
    chat = chat_lib.find_chat(vod) if options.chat == "auto" else options.chat
    if options.chat == "auto" and chat is not None:
        events.note(f"chat: using {chat}")
    signals = [name for name, there in (("model", model is not None), ("loudness", info.has_audio),
                                        ("chat", chat is not None)) if there]
    if not signals:
        raise MediaError(f"{vod}: has no audio, no chat replay and there is no model: nothing to "
                         "suggest from (pass --chat FILE or --model PATH)")
    compile_options = CompileOptions(
        vod=vod, model=model, scorer="+".join(signals), facecam=options.facecam, scan=options.scan,
        loudness=options.loudness, chat=Path(chat) if chat is not None else None, cache=options.cache,
        labels=(label,) if model is not None else None)
    scored = score_vod(compile_options, events, info)
    chat_line = scored.chat
    measured = SuggestSignals(
        duration=info.duration,
        loudness=scored.loudness,
        chat=chat_line.timeline if chat_line is not None else None,
        chatters=Timeline(chat_line.times, chat_line.chatters) if chat_line is not None else None,
        chat_usual=Timeline(chat_line.times, chat_line.baseline) if chat_line is not None else None,
        model=scored.model_scores,
        threshold=scored.thresholds.get(label, scored.threshold) if model is not None else None,
    )
    answered = answered_spans(vod, label, options.labels_dir)
    if answered:
        events.note(f"{len(answered)} span(s) already answered for {label} in "
                    f"{labels_lib.label_path_for(vod, options.labels_dir)}: not asked again")
    clipped = clipped_candidates(vod, options.clips_dir, label)
    if clipped:
        events.note(f"clips: {len(clipped)} community clip(s) in {options.clips_dir}/ were cut from this VOD")
    return rank(measured, label, options.config, answered, [*clipped, *options.extra])

