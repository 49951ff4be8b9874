"""The first half of a compile: a VOD scored and ready for selection, nothing rendered.

Apart because `autotosis eval`, the bench and the demo score VODs without rendering a reel:
choosing the signals, the coarse scan's hints, the models' labels and boxes, chat's delay.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from autotosis import media
from autotosis.core.errors import ModelError
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timeline import Timeline
from autotosis.pick import select as select_lib
from autotosis.run.compile.options import CompileEvents, CompileOptions, default_model
from autotosis.signals import chat as chat_lib
from autotosis.signals import fuse as signals_lib
from autotosis.signals import loudness as loudness_lib
from autotosis.signals import scan as scan_lib

if TYPE_CHECKING:
    from autotosis.learn.model import ModelMeta


@dataclass(frozen=True)
class Scored:
    """A VOD scored and ready for selection: what compile, eval and the demo share.

    Nothing is rendered or written; `write_scores` saves the timelines when wanted.
    """

    info: media.VideoInfo
    score: Timeline  # the 0..1 score segments are chosen on
    loudness: Timeline | None  # dBFS per window; None without audio
    model_scores: Timeline | None  # the model's probabilities; None for the loudness scorer
    scorer: str  # model | loudness | fused | chat or a +-joined set, after falling back (see signals)
    model: Path | None
    label: str  # what a highlight is called: the model's label, "loud" for loudness
    threshold: float | None  # the checkpoint's validation threshold, when a model was loaded
    scan: scan_lib.ScanResult | None
    resolved: dict  # every resolved scoring option, the start of options.json
    notes: tuple[str, ...]
    chat: chat_lib.ChatTimeline | None = None  # the chat replay's timeline, moved by its delay
    label_scores: dict[str, Timeline] = field(default_factory=dict)  # several labels: the score of each
    thresholds: dict[str, float] = field(default_factory=dict)  # the checkpoint's threshold per label

    @property
    def default_enter(self) -> float:
        """The entry threshold when none is given: the model's own for the model score."""
        if self.scorer == "model" and self.threshold is not None:
            return self.threshold
        return select_lib.SelectConfig().enter


# A coarse scan looks densely wherever the loudness score reaches this: recall first,
# well under the 0.5 that selection calls loud (a few dB under the VOD's own loud point).
LOUDNESS_HINT = 0.3
# ... and wherever chat's score does: a burst of chatters well under what selection calls one.
CHAT_HINT = 0.3
# Chat's delay measured against the loudness before the scan may differ from the one the
# model's scores give after it (by 1-1.5 s on the bench streams): the chat hint's windows widen by this.
CHAT_DELAY_SLACK = 3.0


def scan_hints(loud: Timeline | None, chat: chat_lib.ChatTimeline | None = None,
               chat_config: chat_lib.ChatConfig | None = None) -> list[scan_lib.Hint]:
    """The cheap timelines that propose windows to a coarse scan: loudness, and chat when given.

    Chat lags the moment by a delay that the scan's result measures best, so before the scan
    chat is moved by `--chat-delay`, else by the delay measured against the loudness (with
    CHAT_DELAY_SLACK seconds either side for the difference), else not at all, with the whole
    delay range as lead-in: 24 s looked at per chat burst, most of a chatty stream.
    """
    hints = []
    loud_score = select_lib.loudness_score(loud) if loud is not None else None
    if loud_score is not None:
        hints.append(scan_lib.Hint("loudness", loud_score, LOUDNESS_HINT))
    if chat is not None:
        config = chat_config or chat_lib.ChatConfig()
        delay, lead, slack = config.delay or 0.0, 0.0, 0.0
        if config.delay is None:
            delay, correlation = (chat_lib.estimate_delay(chat, loud_score) if loud_score is not None
                                  else (0.0, 0.0))
            if correlation >= chat_lib.MIN_DELAY_CORRELATION:
                slack = CHAT_DELAY_SLACK
            else:
                delay, lead = 0.0, chat_lib.DELAY_RANGE[1]
        hints.append(scan_lib.Hint("chat", chat.shifted(delay).timeline, CHAT_HINT,
                                   (scan_lib.HINT_MARGIN[0] + lead + slack, scan_lib.HINT_MARGIN[1] + slack)))
    return hints


def score_vod(options: CompileOptions, events: CompileEvents | None = None,
              info: media.VideoInfo | None = None) -> Scored:
    """Probe, pick the scorer, scan (or reuse the cached scan), measure loudness, build the score.

    `info` saves a second probe when the caller has probed already.
    """
    events = events or CompileEvents()
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        events.note(message)

    vod = options.vod
    info = info if info is not None else media.probe(vod)
    model_path = options.model if options.model is not None else default_model()
    if info.has_audio:
        # before any scan: a bad --audio-track fails at once
        track, track_why = loudness_lib.choose_track(info, options.loudness.track)
    replay = chat_lib.read_chat(options.chat) if options.chat is not None else None
    # read once: it proposes scan windows and, moved by its delay, becomes the chat signal
    raw_chat = (chat_lib.chat_timeline(replay.messages, info.duration, options.chat_config)
                if replay is not None else None)
    signals, signal_notes = signals_lib.choose_signals(options.scorer, model_path is not None,
                                                       replay is not None, info.has_audio, vod)
    for message in signal_notes:
        note(message)
    scorer = signals_lib.scorer_name(signals)

    resolved: dict = {"vod": str(vod.absolute()), "scorer": scorer, "url": options.url,
                      "loudness": dataclasses.asdict(options.loudness),
                      "asked_labels": list(dict.fromkeys(options.labels)) if options.labels else None}
    label, threshold, model_scores, scan_result = "loud", None, None, None
    loud: Timeline | None = None  # before the scan: a coarse scan looks densely where it is loud
    if info.has_audio:
        resolved["loudness"]["track_index"] = track.index
        if len(info.audio_tracks) > 1:
            note(f"loudness: measured on {loudness_lib.describe_track(track)} ({track_why}) "
                 f"of {len(info.audio_tracks)} audio tracks")
        loud, _ = loudness_lib.loudness(vod, options.loudness, events.loudness_progress, options.cache)
    head_scores: dict[str, Timeline] = {}
    thresholds: dict[str, float] = {}
    if "model" in signals:
        assert model_path is not None
        used = read_models([model_path, *options.more_models])
        chosen = chosen_labels(model_path if len(used) == 1 else "--model",
                                tuple(h for _, _, meta in used for h in meta.heads), options.labels)
        used = [m for m in used if set(m[2].heads) & set(chosen)]  # a model no chosen label needs is not run
        model_path = used[0][0]
        thresholds = {name: meta.threshold_for(name) for _, _, meta in used for name in meta.heads
                      if name in chosen}
        label, threshold = chosen[0], thresholds[chosen[0]]
        boxes = [_facecam(vod, options.facecam, meta.facecam, note) for _, _, meta in used]
        box = boxes[0]
        fps = options.scan.fps or max(float(meta.fps) for _, _, meta in used)
        scan_config = options.scan
        enter = options.select.get("enter")
        if scan_config.mode == "coarse" and scan_config.propose is None and enter is not None \
                and signals == ("model",):
            # a lower --threshold than the model's must find its moments in pass 1 too
            scan_config = dataclasses.replace(scan_config,
                                              propose=scan_lib.PROPOSE_RATIO * min(enter, threshold))
        hints = scan_hints(loud, raw_chat, options.chat_config)
        more = [scan_lib.ScanModel(path, own, data)
                for (path, data, _), own in zip(used[1:], boxes[1:], strict=True)]
        scan_result = scan_lib.scan(vod, model_path, box, scan_config, events.scan_progress, options.cache,
                                    fps, used[0][1], hints, events.scan_stage, note,
                                    [h for _, _, meta in used for h in meta.heads], more)
        note(scan_result.summary())
        head_scores = {name: scan_result.by_label.get(name, scan_result.timeline) for name in chosen}
        model_scores = head_scores[label]
        resolved.update(model=str(Path(model_path).absolute()), facecam=list(box), fps=fps, label=label,
                        scan={**dataclasses.asdict(scan_config), "fps": fps})
        if len(chosen) > 1:
            resolved.update(labels=list(chosen), thresholds=thresholds)
        if len(used) > 1:
            resolved["models"] = [{"model": str(Path(path).absolute()), "facecam": list(own),
                                   "labels": list(meta.heads)}
                                  for (path, _, meta), own in zip(used, boxes, strict=True)]
    elif "chat" in signals and "loudness" not in signals:
        label = "chat"

    parts: dict[str, Timeline] = {}
    if model_scores is not None:
        parts["model"] = model_scores if signals == ("model",) else signals_lib.model_signal(
            model_scores, threshold if threshold is not None else 0.5)
    if loud is not None:
        parts["loudness"] = select_lib.loudness_score(loud)
    chat = None
    if replay is not None and raw_chat is not None:
        chat, chat_note = _chat(replay, raw_chat, options.chat_config, parts)
        note(chat_note)
        parts["chat"] = chat.timeline
        resolved["chat"] = {**options.chat_config.to_dict(), "file": str(replay.path.absolute()),
                            "format": replay.format, "delay": chat.delay}
    weights = signals_lib.resolve_weights(signals, options.fuse_weight, options.weights)
    score = parts[signals[0]] if len(signals) == 1 else signals_lib.combine(
        {name: parts[name] for name in signals}, weights)
    label_scores: dict[str, Timeline] = {}
    if len(head_scores) > 1:  # the same signals per label, with that label's model score
        for name, head in head_scores.items():
            own = {**parts, "model": head if signals == ("model",) else signals_lib.model_signal(
                head, thresholds[name])}
            label_scores[name] = own[signals[0]] if len(signals) == 1 else signals_lib.combine(
                {k: own[k] for k in signals}, weights)
    resolved["weights"] = weights
    note("signals: " + " + ".join(f"{name} {weights[name]:.2f}" if len(signals) > 1 else name
                                  for name in signals))
    return Scored(info, score, loud, model_scores, scorer, model_path, label, threshold, scan_result,
                  resolved, tuple(notes), chat, label_scores, thresholds)


def read_models(paths: list[Path]) -> list[tuple[Path, bytes, ModelMeta]]:
    """(path, bytes, metadata) of each checkpoint, read once; ModelError when two score one label."""
    from autotosis.learn.model import load_checkpoint, read_checkpoint

    out: list[tuple[Path, bytes, ModelMeta]] = []
    owner: dict[str, Path] = {}
    for path in dict.fromkeys(paths):
        data = read_checkpoint(path)  # metadata and weights from one version of the file
        _, meta, _ = load_checkpoint(path, data)
        for name in meta.heads:
            if name in owner:
                raise ModelError(f"{path}: scores '{name}', as {owner[name]} does: give each label "
                                 "to one --model")
            owner[name] = path
        out.append((path, data, meta))
    return out


def _facecam(vod: Path, given: media.Box | Literal["auto"] | None, own: media.Box | None,
             note: Callable[[str], None]) -> media.Box:
    """A model's box: --facecam, else the checkpoint's, else detected on the VOD."""
    box = own if given is None else given
    if box is not None and box != "auto":
        return box
    from autotosis.learn.facecam import detect_facecam

    guess = detect_facecam(vod)
    why = "as asked" if box == "auto" else "no box given or in the model"
    note(f"{vod}: face-cam detected ({why}) at {list(guess.box)}, a face in "
         f"{guess.frames_with_face}/{guess.frames_sampled} sampled frames")
    return guess.box


def chosen_labels(model: Path | str, heads: tuple[str, ...],
                   asked: tuple[str, ...] | None) -> tuple[str, ...]:
    """The heads `--labels` asks for, in the order asked; every head when not asked."""
    if not asked:
        return heads
    unknown = [name for name in asked if name not in heads]
    if unknown:
        raise ModelError(f"{model}: scores {', '.join(heads)}; not {', '.join(unknown)} (--labels)")
    return tuple(dict.fromkeys(asked))


def _chat(replay: chat_lib.ChatReplay, raw: chat_lib.ChatTimeline, config: chat_lib.ChatConfig,
          parts: dict[str, Timeline]) -> tuple[chat_lib.ChatTimeline, str]:
    """The chat timeline `raw` moved by its delay (given, or estimated against the model, else loudness)."""
    head = f"chat: {len(replay.messages)} messages ({replay.format}) from {replay.path.name}"
    if config.delay is not None:
        return raw.shifted(config.delay), f"{head}; delay {config.delay:g}s (--chat-delay)"
    reference = next((name for name in ("model", "loudness") if name in parts), None)
    if reference is None:
        return (raw.shifted(chat_lib.DEFAULT_DELAY),
                f"{head}; delay {chat_lib.DEFAULT_DELAY:g}s assumed (no other signal to measure it against)")
    delay, correlation = chat_lib.estimate_delay(raw, parts[reference])
    if correlation < chat_lib.MIN_DELAY_CORRELATION:
        return raw.shifted(delay), (f"{head}; delay {delay:g}s assumed ({reference} and chat do not agree "
                                    f"enough to measure it; --chat-delay to set it)")
    return raw.shifted(delay), (f"{head}; delay {delay:g}s (estimated against {reference}, correlation "
                                f"{correlation:.2f}; --chat-delay to set it)")


def write_scores(folder: Path, scored: Scored) -> dict[str, Path]:
    """loudness.csv, chat.csv, model_scores.csv (combinations: the model's part) and scores.csv."""
    files: dict[str, Path] = {}
    if scored.chat is not None:
        files["chat"] = scored.chat.to_csv(folder / "chat.csv")
    if scored.loudness is not None:
        files["loudness"] = folder / "loudness.csv"
        scored.loudness.to_csv(files["loudness"], column="loudness_db")
    if scored.scorer != "model" and scored.model_scores is not None:
        files["model_scores"] = folder / "model_scores.csv"
        scored.model_scores.to_csv(files["model_scores"], column="probability")
    files["scores"] = folder / "scores.csv"
    if scored.label_scores:
        write_columns(files["scores"], scored.label_scores)
    else:
        scored.score.to_csv(files["scores"], column="score")
    return files


def write_columns(path: Path, timelines: dict[str, Timeline]) -> None:
    """One CSV with a column per label (time, rage, laugh, ...): the first is what one-label
    readers take as the score. The timelines share their sample times (one scan)."""
    first = next(iter(timelines.values()))
    rows = ["time," + ",".join(timelines)]
    columns = [t.values for t in timelines.values()]
    for i, t in enumerate(first.times.tolist()):
        rows.append(f"{t:.3f}," + ",".join(f"{float(c[i]):.5f}" for c in columns))
    atomic_write_text(path, "\n".join(rows) + "\n")
