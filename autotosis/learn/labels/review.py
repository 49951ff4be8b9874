"""Every review teaches: a compiled reel's keep/drop decisions become answers in the VOD's label file.

The review page (`autotosis review output/<vod>`) saves each highlight's decision and edited
edges in review.json; compile's segments.json holds each highlight's padded span and its
cores, the reactions themselves before padding and merging. `save_review_labels` writes them
into labels/<vod stem>.toml through `merge_review`, one label at a time (a reel may hold
several), so saving again updates the same spans instead of adding new ones:

- a kept highlight: its cores are positive segments of its label, moved with the edges the
  person set (`kept_positives`): an edge moved inward trims the lead-in or tail first and cuts
  the reaction only where it passes it; the end moved later extends the last core by as much
  (the reaction ran on past compile's cut); the start moved earlier adds build-up, not
  reaction, and leaves the cores where they were. The pads themselves stay unknown;
- a dropped highlight: its whole span as the person left it is calm for its label (the model
  was wrong there), cut around any positive of the same label from this review.

segments.json files written before cores were kept get them from scores.csv (`events` with
compile's own options.json settings), else from the span minus compile's pads.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from autotosis.core.errors import AutotosisError
from autotosis.core.paths import MODELS_DIR
from autotosis.core.timeline import Segment, Timeline, union_spans
from autotosis.learn.labels.edits import merge_review
from autotosis.learn.labels.reading import Box, LabelFile, label_path_for, load_label, validate_box
from autotosis.pick import select as select_lib
from autotosis.pick.highlights import REVIEW_FILE

Span = tuple[float, float]
# A core cut shorter than this by an edited edge is a sliver of the reaction, not a moment to learn.
MIN_CORE = 0.5


@dataclass(frozen=True)
class ReviewedHighlight:
    """One highlight of a reviewed reel: what compile chose and what the person decided."""

    index: int
    label: str
    keep: bool
    original: Segment  # compile's padded span
    edited: Segment  # the span as the person left it (compile's when not nudged)
    cores: tuple[Span, ...]  # the reactions inside `original`, before padding

    def positives(self) -> list[Segment]:
        return kept_positives(self.cores, self.original, self.edited) if self.keep else []

    def calm(self) -> list[Segment]:
        return [] if self.keep else [Segment(self.edited.start, self.edited.end)]


@dataclass(frozen=True)
class Review:
    """A compile output folder's highlights with the review page's decisions."""

    folder: Path
    vod: Path
    highlights: list[ReviewedHighlight]
    options: dict  # compile's options.json; {} when missing


@dataclass(frozen=True)
class LabelCount:
    """What saving one label's answers changed in the file."""

    label: str
    segments: int  # positive segments added
    calm: int  # calm spans added
    replaced: int  # earlier spans of this label the new ones replaced


@dataclass(frozen=True)
class ReviewSaved:
    """The label file written, per-label counts, and where its face-cam box came from."""

    path: Path
    label_file: LabelFile
    counts: list[LabelCount]
    facecam_from: str | None  # "the label file", "options.json", a checkpoint path; None: no box known

    def summary(self, name: str | None = None) -> str:
        """"labels/x.toml: rage +3 segments, +2 calm; laugh +1 segment, +0 calm" (`name`: the file's)."""
        parts = []
        for c in self.counts:
            text = f"{c.label} +{c.segments} segment{'' if c.segments == 1 else 's'}, +{c.calm} calm"
            if c.replaced:
                text += f" ({c.replaced} earlier span{'' if c.replaced == 1 else 's'} replaced)"
            parts.append(text)
        return f"{name or self.path}: {'; '.join(parts)}"


# ---------------------------------------------------------------- spans (pure)


def _rounded(start: float, end: float) -> Segment:
    """Milliseconds, as label files write them: saving again finds the very same spans."""
    return Segment(round(start, 3), round(end, 3))


def kept_positives(cores: Iterable[Span], original: Segment, edited: Segment,
                   min_core: float = MIN_CORE) -> list[Segment]:
    """The positive segments of a kept highlight: its cores moved with the edited edges.

    Inward edges cut the cores (the pads go first); the end moved later extends the last core
    by as much; the start moved earlier changes nothing. A core cut under `min_core` is dropped.
    """
    spans = [list(core) for core in sorted(cores)]
    if spans and edited.end > original.end:
        spans[-1][1] += edited.end - original.end
    out = []
    for a, b in spans:
        a, b = max(a, edited.start), min(b, edited.end)
        if b - a >= min_core - 1e-9:
            out.append(_rounded(a, b))
    return union_spans(out)



def subtract(spans: Iterable[Segment], holes: Sequence[Segment], min_span: float = MIN_CORE) -> list[Segment]:
    """`spans` with `holes` cut out; pieces under `min_span` are dropped."""
    pieces = union_spans(spans)
    for hole in holes:
        cut = []
        for s in pieces:
            if hole.end <= s.start or hole.start >= s.end:
                cut.append(s)
                continue
            cut += [Segment(a, b) for a, b in ((s.start, hole.start), (hole.end, s.end)) if b - a >= min_span]
        pieces = cut
    return pieces


def answers(highlights: Iterable[ReviewedHighlight]) -> dict[str, tuple[list[Segment], list[Segment]]]:
    """label -> (positive segments, calm spans) of a review, in time order, never overlapping."""
    by_label: dict[str, tuple[list[Segment], list[Segment]]] = {}
    for item in highlights:
        positives, calm = by_label.setdefault(item.label, ([], []))
        positives += item.positives()
        calm += item.calm()
    out = {}
    for label, (positives, calm) in by_label.items():
        merged = union_spans(positives)
        out[label] = (merged, [_rounded(s.start, s.end) for s in subtract(calm, merged)])
    return out


# ---------------------------------------------------------------- cores of older segments.json


def _select_config(options: dict, label: str) -> select_lib.SelectConfig:
    """The selection settings compile used (options.json), the label's own threshold for a
    reel of several model labels."""
    names = {f.name for f in dataclasses.fields(select_lib.SelectConfig)}
    saved = {k: v for k, v in (options.get("select") or {}).items() if k in names}
    try:
        config = select_lib.SelectConfig(**saved)
    except TypeError:
        config = select_lib.SelectConfig()
    thresholds = options.get("thresholds") or {}
    if label in thresholds and len(thresholds) > 1:
        config = dataclasses.replace(config, enter=float(thresholds[label]))
    return config


def derived_cores(span: Segment, label: str, columns: dict[str, Timeline], options: dict,
                  duration: float | None = None) -> tuple[Span, ...]:
    """Cores for a highlight from a segments.json without them: the moments compile's selection
    finds on scores.csv inside the span, else the span minus compile's pads (else its middle)."""
    config = _select_config(options, label)
    score = columns.get(label, next(iter(columns.values()), None))
    if score is not None and len(score):
        found = [e for e in select_lib.events(score, config, duration)
                 if e.duration >= config.min_event - 1e-9]
        inside = select_lib.clip_cores(tuple((e.start, e.end) for e in found), span.start, span.end)
        if inside:
            return inside
    start, end = span.start + config.pad_before, span.end - config.pad_after
    if end - start >= MIN_CORE:
        return ((start, end),)
    middle = (span.start + span.end) / 2
    half = min(MIN_CORE, span.duration) / 2
    return ((middle - half, middle + half),)


# ---------------------------------------------------------------- reading an output folder


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AutotosisError(f"{path}: cannot read ({exc})") from None


def read_review(folder: Path | str) -> Review:
    """The highlights of output/<vod>/ with the review page's decisions (review.json).

    AutotosisError when compile or the review has not been run there, or a file is damaged.
    """
    folder = Path(folder)
    segments_path, review_path = folder / "segments.json", folder / REVIEW_FILE
    if not segments_path.exists():
        raise AutotosisError(f"{folder}: no segments.json here; run `autotosis compile` first")
    if not review_path.exists():
        raise AutotosisError(f"{folder}: not reviewed yet (no {REVIEW_FILE}); open `autotosis review "
                             f"{folder}`, keep or drop the highlights and save or render")
    data = _read_json(segments_path)
    options = _read_json(folder / "options.json") if (folder / "options.json").exists() else {}
    decided = _read_json(review_path)
    try:
        if not (isinstance(data, dict) and isinstance(decided, dict) and isinstance(options, dict)):
            raise TypeError("not a JSON object")
        vod, reel_label, rows = Path(data["vod"]), str(data.get("label") or "highlight"), data["segments"]
        decisions = {int(r["index"]): r for r in decided["segments"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise AutotosisError(f"{folder}: segments.json or {REVIEW_FILE} is malformed ({exc!r})") from None
    scores_path = folder / "scores.csv"
    columns = Timeline.columns_from_csv(scores_path) if scores_path.exists() else {}
    items = []
    for k, row in enumerate(rows):
        try:
            label = str(row.get("label") or reel_label)
            original = Segment(float(row["start"]), float(row["end"]))
            decision = decisions.get(k, {"keep": True, "start": original.start, "end": original.end})
            edited = Segment(float(decision["start"]), float(decision["end"]))
            keep = bool(decision["keep"])
            cores = tuple((float(a), float(b)) for a, b in row.get("cores") or ())
        except (KeyError, TypeError, ValueError) as exc:
            raise AutotosisError(f"{folder}: highlight {k + 1}: malformed ({exc})") from None
        if not cores:
            cores = derived_cores(original, label, columns, options)
        items.append(ReviewedHighlight(k, label, keep, original, edited, cores))
    vod = vod if vod.is_absolute() else folder.parent.parent / vod
    return Review(folder, vod, items, options)


# ---------------------------------------------------------------- face-cam box


def review_facecam(review: Review, models_dir: Path = MODELS_DIR) -> tuple[Box | None, str | None]:
    """(box, where it came from) for a new label file: compile's options.json, else the
    default box of the checkpoint compile used or of models/<label>.pt or the newest model."""
    saved = review.options.get("facecam")
    if saved is not None:
        try:
            return validate_box(saved), "options.json"
        except ValueError:
            pass
    labels = [h.label for h in review.highlights]
    candidates = [Path(review.options["model"])] if review.options.get("model") else []
    candidates += [models_dir / f"{name}.pt" for name in dict.fromkeys(labels)]
    candidates += sorted((p for p in models_dir.glob("*.pt") if not p.name.endswith(".state.pt")),
                         key=lambda p: -p.stat().st_mtime_ns) if models_dir.is_dir() else []
    for path in dict.fromkeys(candidates):
        if not path.is_file():
            continue
        from autotosis.core.errors import ModelError
        from autotosis.learn.model import load_checkpoint  # torch loads only for this fallback

        try:
            box = load_checkpoint(path)[1].facecam
        except ModelError:
            continue
        if box is not None:
            return box, str(path)
    return None, None


# ---------------------------------------------------------------- writing


def _spans(label_file: LabelFile | None, label: str) -> tuple[set[Span], set[Span]]:
    """(segments, calm spans) of `label` to the millisecond: the file's text holds no more."""
    if label_file is None:
        return set(), set()

    def ms(spans: Iterable[Segment]) -> set[Span]:
        return {(round(s.start, 3), round(s.end, 3)) for s in spans}

    return ms(label_file.by_label.get(label, ())), ms(label_file.calm_for(label))


def save_review_labels(folder: Path | str, labels_dir: Path | str = "labels", facecam: Box | None = None,
                       models_dir: Path = MODELS_DIR, label: str | None = None) -> ReviewSaved:
    """Write the review of output/<vod>/ into labels/<vod stem>.toml (see the module docstring).

    `facecam` overrides the box; without it a file's own box is kept and a new file takes
    `review_facecam`'s. `label` names the reaction of a one-label reel (a reel scored on
    loudness alone is "loud": its kept highlights may be rage). Saving the same review twice
    leaves the file as it was.
    """
    review = read_review(folder)
    if label is not None:
        names = sorted({h.label for h in review.highlights})
        if len(names) > 1:
            raise AutotosisError(f"{folder}: the reel holds several labels ({', '.join(names)}); "
                                 "--label names the reaction of a one-label reel only")
        review = dataclasses.replace(review, highlights=[dataclasses.replace(h, label=label)
                                                         for h in review.highlights])
    path = label_path_for(review.vod, labels_dir)
    previous = load_label(path, check_clip=False) if path.exists() else None
    source: str | None = "--facecam" if facecam is not None else None
    if facecam is None and previous is not None and previous.facecam is not None:
        source = "the label file"
    elif facecam is None:
        facecam, source = review_facecam(review, models_dir)
    counts = []
    result = previous
    for label, (positives, calm) in answers(review.highlights).items():
        if not positives and not calm:  # every core of its highlights cut away: nothing to say
            counts.append(LabelCount(label, 0, 0, 0))
            continue
        before = _spans(result, label)
        result = merge_review(review.vod, labels_dir, label, positives, calm, facecam)
        after = _spans(result, label)
        counts.append(LabelCount(label, len(after[0] - before[0]), len(after[1] - before[1]),
                                 len((before[0] | before[1]) - (after[0] | after[1]))))
    if result is None:
        raise AutotosisError(f"{folder}: nothing to learn from: no highlight dropped, and none kept "
                             "with its reaction left inside its edges")
    return ReviewSaved(path, result, counts, source)
