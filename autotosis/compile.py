"""The compile pipeline: VOD -> scores -> segments -> reel + sidecars, as one function.

`compile_vod` takes plain values (a `CompileOptions`) and returns a `CompileResult`;
the CLI and the demo call it the same way. Its first half, `score_vod` (scorer, scan,
loudness, score) plus `selection_config`, is what `autotosis eval` reuses without
rendering. Progress and notes go through a `CompileEvents` object, never to the terminal.

Output folder (default output/<vod stem>/): reel.mp4, scores.csv (the score the
segments were chosen on), loudness.csv, segments.json, chapters.txt, reel.edl,
reel.otio / reel.fcpxml / reel.xml (editor timelines), timeline.png and options.json
(every resolved option, enough to render again).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from autotosis import editors, media
from autotosis import highlights as highlights_lib
from autotosis import loudness as loudness_lib
from autotosis import render as render_lib
from autotosis import scan as scan_lib
from autotosis import select as select_lib
from autotosis import sidecars as sidecars_lib
from autotosis.errors import AutotosisError, MediaError, ModelError
from autotosis.fsutil import atomic_write_text, exclusive
from autotosis.paths import MODELS_DIR, OUTPUT_DIR
from autotosis.timeline import Segment, Timeline

SCORERS = ("model", "loudness", "fused")
# Fused score = (1 - w) x model + w x loudness: even weight, since neither is known to be
# the better judge on a new channel until eval says so.
FUSE_WEIGHT = 0.5


class CompileEvents:
    """Progress hooks; the CLI draws bars, library callers may ignore them."""

    def note(self, message: str) -> None: ...
    def scan_progress(self, position: float, duration: float) -> None: ...
    def loudness_progress(self, position: float, duration: float) -> None: ...
    def render_progress(self, done: int, total: int) -> None: ...


@dataclass
class CompileOptions:
    """Everything compile needs, as plain values; None means "work it out" (see compile_vod)."""

    vod: Path
    out_dir: Path | None = None  # None: output/<vod stem>
    model: Path | None = None  # None: the newest models/*.pt, else loudness only
    scorer: str | None = None  # model | loudness | fused; None: model if there is one, else loudness
    facecam: media.Box | Literal["auto"] | None = None  # None: the checkpoint's box, else detected
    scan: scan_lib.ScanConfig = field(default_factory=scan_lib.ScanConfig)
    loudness: loudness_lib.LoudnessConfig = field(default_factory=loudness_lib.LoudnessConfig)
    select: dict = field(default_factory=dict)  # SelectConfig overrides; None values are ignored
    fuse_weight: float = FUSE_WEIGHT  # share of loudness in the fused score
    render: render_lib.RenderConfig = field(default_factory=render_lib.RenderConfig)
    reel_audio: str = "0"  # the audio track the reel keeps: a number or a title (see loudness.choose_track)
    url: str | None = None  # VOD page, for ?t= links in the sidecars
    force: bool = False  # replace an existing reel
    cache: Path | None = None  # None: paths.cache_dir()


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


def default_model(models_dir: Path = MODELS_DIR) -> Path | None:
    """The newest checkpoint in models/, which is what `autotosis train` just wrote."""
    found = [p for p in models_dir.glob("*.pt") if p.is_file() and not p.name.endswith(".state.pt")]
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


def output_dir(vod: Path, out_dir: Path | None = None) -> Path:
    return out_dir if out_dir is not None else OUTPUT_DIR / vod.stem


@dataclass(frozen=True)
class Scored:
    """A VOD scored and ready for selection: what compile, eval and the demo share.

    Nothing is rendered or written; `write_scores` saves the timelines when wanted.
    """

    info: media.VideoInfo
    score: Timeline  # the 0..1 score segments are chosen on
    loudness: Timeline | None  # dBFS per window; None without audio
    model_scores: Timeline | None  # the model's probabilities; None for the loudness scorer
    scorer: str  # model | loudness | fused, after falling back (fused without audio is model)
    model: Path | None
    label: str  # what a highlight is called: the model's label, "loud" for loudness
    threshold: float | None  # the checkpoint's validation threshold, when a model was loaded
    scan: scan_lib.ScanResult | None
    resolved: dict  # every resolved scoring option, the start of options.json
    notes: tuple[str, ...]

    @property
    def default_enter(self) -> float:
        """The entry threshold when none is given: the model's own for the model score."""
        if self.scorer == "model" and self.threshold is not None:
            return self.threshold
        return select_lib.SelectConfig().enter


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
    scorer = options.scorer or ("model" if model_path is not None else "loudness")
    if scorer not in SCORERS:
        raise AutotosisError(f"unknown scorer {scorer!r} (use {', '.join(SCORERS)})")
    if scorer == "loudness" and options.scorer is None:
        note(f"no trained model in {MODELS_DIR}/: choosing highlights by loudness alone "
             "(train one with `autotosis train`, or pass --model)")
    if scorer != "loudness" and model_path is None:
        raise ModelError(f"--scorer {scorer} needs a model: pass --model PATH or run `autotosis train`")
    if not info.has_audio:
        if scorer == "loudness":
            raise MediaError(f"{vod}: has no audio, so loudness cannot pick highlights; train a model first")
        if scorer == "fused":
            note(f"{vod}: no audio; using the model score alone")
            scorer = "model"

    resolved: dict = {"vod": str(vod.absolute()), "scorer": scorer, "url": options.url,
                      "loudness": dataclasses.asdict(options.loudness)}
    label, threshold, model_scores, scan_result = "loud", None, None, None
    if scorer != "loudness":
        assert model_path is not None
        from autotosis.model import load_checkpoint, read_checkpoint

        model_data = read_checkpoint(model_path)  # metadata and weights from one version of the file
        _, meta, _ = load_checkpoint(model_path, model_data)
        label, threshold = meta.label, float(meta.threshold)
        box = meta.facecam if options.facecam is None else options.facecam
        if box is None or box == "auto":
            from autotosis.facecam import detect_facecam

            guess = detect_facecam(vod)
            why = "as asked" if box == "auto" else "no box given or in the model"
            box = guess.box
            note(f"{vod}: face-cam detected ({why}) at {list(box)}, a face in "
                 f"{guess.frames_with_face}/{guess.frames_sampled} sampled frames")
        fps = options.scan.fps or float(meta.fps)
        scan_result = scan_lib.scan(vod, model_path, box, options.scan, events.scan_progress,
                                    options.cache, fps, model_data)
        if scan_result.cached:
            note("scan: reused the cached scores for this VOD, model, fps and box")
        model_scores = scan_result.timeline
        resolved.update(model=str(Path(model_path).absolute()), facecam=list(box), fps=fps, label=label,
                        scan={**dataclasses.asdict(options.scan), "fps": fps})

    loud = None
    if info.has_audio:
        track, why = loudness_lib.choose_track(info, options.loudness.track)
        resolved["loudness"]["track_index"] = track.index
        if len(info.audio_tracks) > 1:
            note(f"loudness: measured on {loudness_lib.describe_track(track)} ({why}) "
                 f"of {len(info.audio_tracks)} audio tracks")
        loud, _ = loudness_lib.loudness(vod, options.loudness, events.loudness_progress, options.cache)

    if scorer == "model":
        assert model_scores is not None
        score = model_scores
    elif scorer == "loudness":
        assert loud is not None
        score = select_lib.loudness_score(loud)
    else:
        assert model_scores is not None and loud is not None
        score = select_lib.fuse(model_scores, loud, options.fuse_weight)
    return Scored(info, score, loud, model_scores, scorer, model_path, label, threshold, scan_result,
                  resolved, tuple(notes))


def write_scores(folder: Path, scored: Scored) -> dict[str, Path]:
    """loudness.csv, model_scores.csv (fused only: the part the model gave) and scores.csv."""
    files: dict[str, Path] = {}
    if scored.loudness is not None:
        files["loudness"] = folder / "loudness.csv"
        scored.loudness.to_csv(files["loudness"], column="loudness_db")
    if scored.scorer == "fused" and scored.model_scores is not None:
        files["model_scores"] = folder / "model_scores.csv"
        scored.model_scores.to_csv(files["model_scores"], column="probability")
    files["scores"] = folder / "scores.csv"
    scored.score.to_csv(files["scores"], column="score")
    return files


def selection_config(select: dict, scored: Scored) -> select_lib.SelectConfig:
    """SelectConfig from the user's overrides (None: not given) over the scorer's defaults."""
    overrides = {k: v for k, v in select.items() if v is not None}
    overrides.setdefault("enter", scored.default_enter)
    return dataclasses.replace(select_lib.SelectConfig(), **overrides)


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
    vod = options.vod
    folder = output_dir(vod, options.out_dir)
    reel = folder / "reel.mp4"
    if reel.exists() and not options.force:
        raise AutotosisError(f"{reel}: already exists; pass --force to replace it")

    if info.has_audio:
        reel_track, _ = loudness_lib.choose_track(info, options.reel_audio)
        options = dataclasses.replace(options, render=dataclasses.replace(options.render,
                                                                          audio_track=reel_track.index))
    scored = score_vod(options, events, info)
    files = write_scores(folder, scored)
    config = selection_config(options.select, scored)
    segments = select_lib.select_segments(scored.score, config, info.duration)
    resolved = {**scored.resolved, "select": dataclasses.asdict(config), "fuse_weight": options.fuse_weight,
                "render": options.render.to_dict()}
    atomic_write_text(folder / "options.json", json.dumps(resolved, indent=2, default=str) + "\n")
    files["options"] = folder / "options.json"

    from autotosis.plot import plot_timeline

    files["plot"] = plot_timeline(folder / "timeline.png", info.duration, segments, scored.score,
                                  scored.loudness, config.enter,
                                  f"{vod.name}: {len(segments)} segment(s) by {scored.scorer}")
    if not segments:
        why = select_lib.explain_empty(scored.score, config, info.duration)
        raise AutotosisError(f"{vod}: no highlights: {why} (see {files['plot']})")
    render_lib.render_reel(vod, segments, reel, options.render, scored.score, scored.label, options.force,
                           events.render_progress)
    files["reel"] = reel
    files.update(sidecars_lib.write_sidecars(folder, vod.absolute(), segments, scored.label,
                                             editors.timeline_rate(info.fps),
                                             options.render.crossfade, options.url))
    items = highlights_lib.highlights(segments, scored.label, scored.score)
    files.update(editors.write_editor_files(folder, vod, info, items, f"{vod.stem} {scored.label} reel"))
    return CompileResult(folder, reel, segments, files, scored.scorer, scored.model, scored.scan,
                         list(scored.notes))


def rerender(folder: Path, segments: list[Segment], events: CompileEvents | None = None) -> Path:
    """Render a compiled folder's reel again from edited `segments` (the review page's button).

    Only the reel is replaced: segments.json keeps compile's own selection.
    """
    events = events or CompileEvents()
    try:
        resolved = json.loads((folder / "options.json").read_text(encoding="utf-8"))
        config = render_lib.RenderConfig(**resolved["render"])
        vod = Path(resolved["vod"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AutotosisError(f"{folder / 'options.json'}: cannot read ({exc})") from None
    scores_path = folder / "scores.csv"
    score = Timeline.from_csv(scores_path) if scores_path.exists() else None
    label = resolved.get("label", "loud")
    return render_lib.render_reel(vod, segments, folder / "reel.mp4", config, score, label, True,
                                  events.render_progress)
