"""The second half of a compile: select, render the reel, write every sidecar; and render again.

Apart from scoring because this is what needs ffmpeg's render stack and the output folder:
`compile_vod` locks the folder, scores, selects and renders; `rerender` is the review page's button.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.frames import frames_in, snap, timeline_rate
from autotosis.core.fsutil import atomic_write_text, exclusive
from autotosis.core.timeline import Segment, Timeline
from autotosis.pick import highlights as highlights_lib
from autotosis.pick import select as select_lib
from autotosis.publish import editors
from autotosis.publish import reel as render_lib
from autotosis.publish import shorts as shorts_lib
from autotosis.publish import sidecars as sidecars_lib
from autotosis.publish import thumbs as thumbs_lib
from autotosis.publish.captions import shows_speech
from autotosis.run.compile.options import CompileEvents, CompileOptions, output_dir
from autotosis.run.compile.scoring import Scored, score_vod, write_scores
from autotosis.run.compile.speech import speech_config, speech_track, start_words, wanted, words_now
from autotosis.signals import loudness as loudness_lib
from autotosis.signals import scan as scan_lib


@dataclass(frozen=True)
class CompileResult:
    """What compile produced and how."""

    out_dir: Path
    reel: Path
    segments: list[Segment]
    files: dict[str, Path]
    scorer: str
    model: Path | None
    scan: scan_lib.ScanResult | None
    notes: list[str]


def selection_config(select: dict, scored: Scored, label: str | None = None) -> select_lib.SelectConfig:
    """SelectConfig from the user's overrides (None: not given) over the scorer's defaults;
    with `label`, that label's own threshold is the default for the model score."""
    overrides = {k: v for k, v in select.items() if v is not None}
    default = scored.default_enter
    if label is not None and scored.scorer == "model" and label in scored.thresholds:
        default = scored.thresholds[label]
    overrides.setdefault("enter", default)
    return dataclasses.replace(select_lib.SelectConfig(), **overrides)


def select_highlights(select: dict, scored: Scored, duration: float) -> list[Segment]:
    """The highlights: on the score, or with several labels on each label's score with its
    own threshold, labelled and in time order under one shared budget."""
    if not scored.label_scores:
        return select_lib.select_segments(scored.score, selection_config(select, scored), duration)
    configs = {name: selection_config(select, scored, name) for name in scored.label_scores}
    return select_lib.select_labelled(scored.label_scores, configs, duration)


def on_frames(segments: Sequence[Segment], info: media.VideoInfo) -> list[Segment]:
    """Segments moved onto the whole frames the reel, the shorts and the editor files cut,
    so that what eval measures is what compile publishes."""
    rate = timeline_rate(info.fps)
    limit = frames_in(info.duration, rate)
    return [snap(seg, rate, limit) for seg in segments]


def compile_vod(options: CompileOptions, events: CompileEvents | None = None) -> CompileResult:
    """Scan (or reuse the cached scan), measure loudness, select, render, write the sidecars.

    The output folder is locked meanwhile: a second compile into it (another VOD with
    the same name) fails at once instead of mixing its files with this run's.
    """
    info = media.probe(options.vod)  # a bad VOD fails before any folder is made
    with exclusive(output_dir(options.vod, options.out_dir), "another autotosis compile"):
        return _compile_vod(options, events, info)


def _compile_vod(options: CompileOptions, events: CompileEvents | None,
                 info: media.VideoInfo) -> CompileResult:
    events = events or CompileEvents()
    reel = output_dir(options.vod, options.out_dir) / "reel.mp4"
    if reel.exists() and not options.force:
        raise AutotosisError(f"{reel}: already exists; pass --force to replace it")

    if info.has_audio:
        reel_track, _ = loudness_lib.choose_track(info, options.reel_audio)
        options = dataclasses.replace(options, render=dataclasses.replace(options.render,
                                                                          audio_track=reel_track.index))
    if options.shorts is not None:
        shorts_lib.check_title(options.shorts.title)  # a typo fails now, not after the scan
    scored = score_vod(options, events, info)
    return publish_scored(options, scored, events)


def publish_scored(options: CompileOptions, scored: Scored,
                   events: CompileEvents | None = None) -> CompileResult:
    """Everything after scoring: select, then the reel, every sidecar, thumbs and shorts.

    Apart from `compile_vod` so `autotosis live` writes the very same outputs at the end of a
    stream from the score it built as the stream went (the caller holds the folder's lock).
    """
    events = events or CompileEvents()
    vod, info = options.vod, scored.info
    folder = output_dir(vod, options.out_dir)
    reel = folder / "reel.mp4"
    files = write_scores(folder, scored)
    config = selection_config(options.select, scored)
    # On whole frames from here on: the reel, every sidecar, editor file and short cut these.
    segments = on_frames(select_highlights(options.select, scored, info.duration), info)
    resolved = {**scored.resolved, "select": dataclasses.asdict(config), "fuse_weight": options.fuse_weight,
                "render": options.render.to_dict(), "profile": options.profile}
    if options.shorts is not None:
        resolved["shorts"] = options.shorts.to_dict()
    words = None
    if wanted(options.render, options.shorts):
        resolved["speech"] = options.speech.to_dict()
        track = scored.resolved["loudness"].get("track_index", 0) if info.has_audio else None
        words = start_words(vod, segments, track, options.speech, options.cache, events.note)
    if "facecam" not in resolved and isinstance(options.facecam, tuple):
        resolved["facecam"] = list(options.facecam)  # given for the shorts: `autotosis shorts` reuses it
    atomic_write_text(folder / "options.json", json.dumps(resolved, indent=2, default=str) + "\n")
    files["options"] = folder / "options.json"

    from autotosis.publish.plot import plot_timeline

    label_thresholds = {name: selection_config(options.select, scored, name).enter
                        for name in scored.label_scores}
    files["plot"] = plot_timeline(folder / "timeline.png", info.duration, segments, scored.score,
                                  scored.loudness, config.enter,
                                  f"{vod.name}: {len(segments)} segment(s) by {scored.scorer}",
                                  chat=scored.chat.timeline if scored.chat is not None else None,
                                  label_scores=scored.label_scores, thresholds=label_thresholds)
    if not segments:
        why = select_lib.explain_empty(scored.score, config, info.duration)
        raise AutotosisError(f"{vod}: no highlights: {why} (see {files['plot']})")
    reel_words = words() if words is not None and shows_speech(options.render.captions) else None
    facecam = scored.resolved.get("facecam")
    render_lib.render_reel(vod, segments, reel, options.render, scored.score, scored.label, options.force,
                           events.render_progress, scored.label_scores, reel_words,
                           tuple(facecam) if facecam else None)
    files["reel"] = reel
    files.update(sidecars_lib.write_sidecars(folder, vod.absolute(), segments, scored.label,
                                             timeline_rate(info.fps),
                                             options.render.crossfade, options.url))
    said = words() if words is not None else None
    if said is not None and words is not None:
        files.update(sidecars_lib.write_speech_sidecars(folder, segments, said, words.model,
                                                        options.render.crossfade))
    items = highlights_lib.highlights(segments, scored.label, scored.score)
    title = f"{vod.stem} {scored.label} reel"
    files.update(editors.write_editor_files(folder, vod, info, items, title, options.render.audio_track))
    thumbs = thumbs_lib.make_thumbs(vod, items, folder / "thumbs", jobs=options.render.jobs)
    sheet = folder / "thumbs" / thumbs_lib.CONTACT_SHEET
    files["contact_sheet"] = thumbs_lib.contact_sheet(items, thumbs, sheet, title)
    notes = list(scored.notes)
    if options.shorts is not None:
        known = scored.resolved.get("facecam")
        if known is None and options.facecam is not None and options.facecam != "auto":
            known = options.facecam
        box, detected = shorts_lib.facecam_for(vod, known, options.shorts.layout)
        if detected:
            notes.append(detected)
            events.note(detected)
        shorts_lib.make_shorts(vod, items, folder / "shorts", options.shorts, box, options.force,
                               events.shorts_progress, options.render.audio_track, words)
        files["shorts"] = folder / "shorts"
    if words is not None and words.why_not:
        notes.append(words.why_not)
    return CompileResult(folder, reel, segments, files, scored.scorer, scored.model, scored.scan, notes)


def rerender(folder: Path, segments: list[Segment], events: CompileEvents | None = None) -> Path:
    """Render a compiled folder's reel again from edited `segments` (the review page's button).

    Only the reel (and with speech captions reel.srt and reel.vtt, the words mostly from the
    cache) is replaced: segments.json keeps compile's own selection. A reel of several
    labels keeps each segment's caption label, colour and own score (scores.csv's columns).
    """
    events = events or CompileEvents()
    try:
        resolved = json.loads((folder / "options.json").read_text(encoding="utf-8"))
        config = render_lib.RenderConfig(**resolved["render"])
        vod = Path(resolved["vod"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AutotosisError(f"{folder / 'options.json'}: cannot read ({exc})") from None
    scores_path = folder / "scores.csv"
    columns = Timeline.columns_from_csv(scores_path) if scores_path.exists() else {}
    score = next(iter(columns.values()), None)
    label = resolved.get("label", "loud")
    words = None
    if shows_speech(config.captions):
        words, why_not = words_now(vod, segments, speech_track(resolved), speech_config(resolved))
        if why_not:
            events.note(why_not)
    facecam = resolved.get("facecam")
    reel = render_lib.render_reel(vod, segments, folder / "reel.mp4", config, score, label, True,
                                  events.render_progress, columns if len(columns) > 1 else None, words,
                                  tuple(facecam) if facecam else None)
    if words is not None:
        sidecars_lib.write_speech_sidecars(folder, segments, words, "", config.crossfade, transcript=False)
    return reel
