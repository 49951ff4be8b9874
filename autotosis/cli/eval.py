"""`autotosis eval VOD --truth labels/VOD.toml`: how good compile's selection is, and at which settings."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from autotosis.cli.compile import ProgressBars
from autotosis.cli.options import scoring_fields, scoring_options, selection_options
from autotosis.core.timecode import format_time
from autotosis.core.timeline import Segment
from autotosis.run.compile import CompileOptions
from autotosis.run.evaluate import MIN_OVERLAP, Evaluation, EventMetrics, FrameMetrics, SweepRow, evaluate_vod


def _n(value: float, pattern: str = "{:.2f}") -> str:
    return "n/a" if math.isnan(value) else pattern.format(value)


def _report(result: Evaluation) -> list[str]:
    """The human-readable report: the metrics at the settings given, then the sweep table;
    with several labels, that for each label (its truth against its own segments)."""
    if not result.labels:
        return [*_measures(result.vod.name, result.truth_file, result.truth, result.scorer,
                           result.config.enter, result.frames, result.events, result.sweep,
                           result.min_overlap), _wrote(result)]
    lines = []
    for one in result.labels:
        lines += _measures(f"{result.vod.name} {one.label}", result.truth_file, one.truth, result.scorer,
                           one.config.enter, one.frames, one.events, one.sweep, result.min_overlap)
        lines.append("")
    return [*lines, _wrote(result)]


def _wrote(result: Evaluation) -> str:
    return f"wrote {', '.join(p.name for p in result.files.values())} to {result.files['json'].parent}"


def _measures(what: str, truth_file: Path, truth: Sequence[Segment], scorer: str, threshold: float,
              f: FrameMetrics, e: EventMetrics, sweep: Sequence[SweepRow], min_overlap: float) -> list[str]:
    """One label's (or the only score's) metrics and sweep table."""
    truth_seconds = sum(t.duration for t in truth)
    lines = [
        f"{what} against {truth_file}: {len(truth)} truth event(s), "
        f"{format_time(truth_seconds, 1)}; scored by {scorer}, threshold {threshold:.2f}",
        f"frames  AP {_n(f.ap)}  ROC AUC {_n(f.auc)}  ({f.samples} samples, {f.positives} in truth events)",
        f"events  precision {_n(e.precision)} ({e.hits}/{e.selected} segments find a truth event)  "
        f"recall {_n(e.recall)} ({e.found}/{e.truth} found at >= {min_overlap:.0%} overlap)  "
        f"F1 {_n(e.f1)}",
        f"        mean IoU {_n(e.mean_iou)} (padding lowers it by design)",
        f"reel    {format_time(e.reel_seconds, 1)}, of which {format_time(e.non_highlight_seconds, 1)} "
        f"({_n(e.non_highlight_share, '{:.0%}')}) not highlights",
        "",
        "threshold  segments     reel  not highlight  precision  recall    F1",
    ]
    for row in sweep:
        m = row.events
        mark = "*" if math.isclose(row.threshold, threshold, abs_tol=1e-6) else " "
        lines.append(
            f"{mark} {row.threshold:7.2f}  {m.selected:8d}  {format_time(m.reel_seconds, 1):>7}  "
            f"{format_time(m.non_highlight_seconds, 1):>13}  {_n(m.precision):>9}  {_n(m.recall):>6}  "
            f"{_n(m.f1):>4}"
        )
    lines.append("(* the threshold in use)")
    return lines


@click.command(name="eval")
@click.argument("vod", type=click.Path(path_type=Path))
@click.option(
    "--truth",
    "truth_file",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Label file of the VOD's real highlights (its clip must name the VOD).",
)
@click.option(
    "--min-overlap",
    type=click.FloatRange(0, 1),
    default=MIN_OVERLAP,
    show_default=True,
    help="Share of a truth event one segment must cover to find it (0: any overlap).",
)
@scoring_options
@selection_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output folder (default: output/<vod name>/eval/).",
)
@click.option("--json", "as_json", is_flag=True, help="Print only JSON (what eval.json holds) to stdout.")
def eval_command(
    vod: Path, truth_file: Path, min_overlap: float, out_dir: Path | None, as_json: bool, **scoring: Any
) -> None:
    """Measure compile's selection on VOD against hand-labeled truth.

    Frame-level AP/ROC AUC of the score, event precision/recall/F1, mean IoU,
    reel seconds that are not highlights, and a threshold sweep to choose
    --threshold and --max-length from. Writes eval.json, pr_curve.png and
    timeline.png. Uses the same options as compile, and its cached scans.

    \b
    autotosis eval vod.mp4 --truth labels/vod.toml
    autotosis eval vod.mp4 --truth labels/vod.toml --max-length 10m --json
    """
    options = CompileOptions(vod=vod, out_dir=out_dir, **scoring_fields(scoring, vod))
    result = evaluate_vod(options, truth_file, min_overlap, ProgressBars())
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo("\n".join(_report(result)))
