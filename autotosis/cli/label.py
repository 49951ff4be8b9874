"""`autotosis label`: write, list and import label files."""

from __future__ import annotations

from pathlib import Path

import click

from autotosis import media
from autotosis.cli.config import several_models
from autotosis.cli.options import facecam_box
from autotosis.core.timecode import format_time
from autotosis.learn import labels as labels_lib
from autotosis.learn import targets as targets_lib


def _segment(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list:
    try:
        return [labels_lib.parse_segment(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _secs(seconds: float) -> str:
    """12.5s below a minute, 1:05.5 (or 1:02:03.4) above: a VOD's hours stay readable."""
    return f"{seconds:.1f}s" if seconds < 60 else format_time(seconds, 1)


def _reviewed(label: labels_lib.LabelFile, duration: float, name: str | None = None) -> float:
    """Seconds looked at, for `name` or for any label: a short clip's whole duration."""
    if not label.partial:
        return duration
    if name is not None:
        return label.reviewed_seconds(name)
    return targets_lib.covered_seconds(targets_lib.all_reviewed(label))


def _print_list(labels_dir: Path) -> None:
    """One row per file: segments, positive and reviewed seconds per label any file names, and
    how much of the file was looked at (all of a short clip; the reviewed spans of a VOD)."""
    rows = labels_lib.survey(labels_dir)
    if not rows:
        click.echo(f"no label files in {labels_dir}/")
        return
    names: list[str] = []
    for row in rows:
        names += [n for n in (row.label.labels if row.label else ()) if n not in names]
    width = max(34, *(len(str(r.path)) + 1 for r in rows))
    head = "".join(f"  {n[:25]:^25}" for n in names)
    click.echo(f"{'label file':<{width}}{head}  {'total':^20}  status")
    sub = f"  {'segs':>4} {'positive':>9} {'reviewed':>9}"
    click.echo(f"{'':<{width}}{sub * len(names)}  {'reviewed of duration':>20}")
    bad = 0
    for row in rows:
        if row.label is None:
            bad += 1
            click.echo(f"{row.path!s:<{width}}{' ' * 27 * len(names)}  {'':>20}  ERROR {row.problem}")
            continue
        spans, duration = row.label.by_label, row.duration or 0.0
        cells = "".join(f"  {len(spans[n]):>4} {_secs(row.label.seconds(n)):>9} "
                        f"{_secs(_reviewed(row.label, duration, n)):>9}" if n in spans
                        else f"  {'-':>4} {'-':>9} {'-':>9}" for n in names)
        total = f"{_secs(_reviewed(row.label, duration))} of {_secs(duration)}"
        click.echo(f"{row.path!s:<{width}}{cells}  {total:>20}  "
                   + ("ok" if row.label.facecam else "ok (no facecam box)"))
    good = [(r.label, r.duration or 0.0) for r in rows if r.label]
    per_label = ", ".join(
        f"{n} {_secs(sum(f.seconds(n) for f, _ in good))} of "
        f"{_secs(sum(_reviewed(f, d, n) for f, d in good if n in f.by_label))}" for n in names)
    looked = sum(_reviewed(f, d) for f, d in good)
    click.echo(f"{len(rows)} files, {bad} with errors; positive of reviewed: {per_label or 'none'}; "
               f"reviewed {_secs(looked)} of {_secs(sum(d for _, d in good))}")
    if bad:
        raise click.exceptions.Exit(1)


def _save_review(folder: Path, labels_dir: Path, facecam: object, label_name: str | None) -> None:
    """`--from-review`: kept highlights -> positive segments, dropped ones -> calm spans."""
    from autotosis.learn.labels import review as review_lib

    box = facecam if isinstance(facecam, tuple) else None
    if facecam == "auto":
        from autotosis.learn.facecam import detect_facecam

        box = detect_facecam(review_lib.read_review(folder).vod).box
    saved = review_lib.save_review_labels(folder, labels_dir, box, label=label_name)
    click.echo(saved.summary())
    if saved.label_file.facecam is None:
        click.echo(f"{saved.path}: no face-cam box yet; add --facecam auto or --facecam x0,y0,x1,y1")


def _print_unlabeled(labels_dir: Path) -> bool:
    """Clips `autotosis clips` downloaded into the project's clips/ that have no label file yet."""
    from autotosis.run.clipinfo import unlabeled_clips

    pending = unlabeled_clips(labels_dir.parent / "clips", labels_dir)
    width = max((len(str(c.path)) for c in pending), default=0)
    for clip in pending:
        views = f"{clip.view_count:,} views" if clip.view_count is not None else "views unknown"
        click.echo(f"{clip.path!s:<{width}}  not yet labeled  {views:>14}  {clip.title}")
    return bool(pending)


@click.command()
@click.argument("clips", nargs=-1, type=click.Path(path_type=Path))
@click.option("-s", "--segment", "segments", multiple=True, callback=_segment,
              help="A positive span START-END, e.g. 0:07.4-0:32.7 or 40.5-47.2 (repeatable).")
@click.option("--calm", "calm", multiple=True, callback=_segment,
              help="A span looked at without the reaction, START-END (repeatable): on a VOD, only "
                   "segments and calm spans are training data, the rest is unknown.")
@click.option("-f", "--facecam", callback=facecam_box,
              help="Face-cam box x0,y0,x1,y1 as fractions of the frame, or 'auto' to detect the face.")
@click.option("--label", "label_name",
              help="Reaction the segments are (default: the file's only label; rage for a new file). "
                   "Other labels in the file are kept.")
@click.option("--replace", is_flag=True,
              help="Replace this label's segments and calm spans instead of adding to them.")
@click.option("--labels-dir", type=click.Path(path_type=Path), default=Path("labels"), show_default=True,
              help="Where label files live.")
@click.option("--list", "list_", is_flag=True,
              help="List every label file with its positive and reviewed seconds per label.")
@click.option("--import", "import_csv", type=click.Path(path_type=Path),
              help="Add eqy/autotosis data.csv rows to the label files as --label segments "
                   "(with --replace, replacing that label's segments).")
@click.option("--from-review", "from_review", type=click.Path(path_type=Path),
              help="Write a reviewed reel's keep/drop decisions (output/<vod>) into the VOD's label file "
                   "(--label renames a one-label reel's reaction, e.g. a loudness reel's 'loud').")
@click.option("--ui", is_flag=True,
              help="Label in the browser instead: CLIPS is a folder (default clips/), or a VOD whose "
                   "suggested moments the page asks you to answer (Y / N).")
@click.option("--model", type=click.Path(path_type=Path),
              help="With --ui on a VOD: the checkpoint whose doubts the suggestions ask about.")
@click.option("--port", type=int, default=0, help="Port for --ui (default: any free one).")
@click.option("--no-browser", is_flag=True, help="With --ui, only print the URL.")
def label(
    clips: tuple[Path, ...],
    segments: list,
    calm: list,
    facecam: object,
    label_name: str | None,
    replace: bool,
    labels_dir: Path,
    list_: bool,
    import_csv: Path | None,
    from_review: Path | None,
    ui: bool,
    model: Path | None,
    port: int,
    no_browser: bool,
) -> None:
    """Mark where the reactions are in CLIPS and where the face-cam sits.

    A short clip is looked at whole: outside its segments is negative. On a VOD
    (over 10 minutes, or once it has --calm spans) only what you mark is data:
    -s spans are the reaction, --calm spans were seen without it, the rest is unknown.

    \b
    autotosis label clips/x.mp4 -s 0:07.4-0:32.7 -s 40.5-47.2 --facecam auto
    autotosis label clips/x.mp4 --label laugh -s 1:02-1:05
    autotosis label vods/stream.mp4 -s 1:02:10-1:02:16 --calm 1:10:00-1:10:30
    autotosis label --list
    autotosis label --import data_pog.csv --label pog
    autotosis label --from-review output/stream
    autotosis label --ui clips/
    autotosis label --ui vods/x.mp4          # answer suggested moments on a VOD
    """
    if from_review is not None:
        _save_review(from_review, labels_dir, facecam, label_name)
        return
    if ui:
        from autotosis.cli.serve import run_app
        from autotosis.web.labeler import labeler_app

        vod = bool(clips) and clips[0].is_file()  # a clips folder asks nothing of a model
        if vod and model is None and (several := several_models()) is not None:  # the profile's list
            from autotosis.run.suggest import model_for_label

            model = model_for_label(several[0], label_name, several[1], "label --ui")

        app = labeler_app(Path.cwd(), clips[0] if clips else None, labels_dir, label=label_name, model=model)
        run_app(app, port, not no_browser)
        return
    if import_csv is not None:
        name = label_name or labels_lib.DEFAULT_LABEL
        for path, status in labels_lib.import_seed_csv(import_csv, labels_dir, name, replace):
            click.echo(f"{path}: {status}")
        return
    if list_:
        if _print_unlabeled(labels_dir) and not labels_dir.is_dir():
            return  # downloaded clips, none labeled yet: nothing more to list
        _print_list(labels_dir)
        return
    if not clips:
        raise click.UsageError("give one or more clips, or --list / --import")
    for clip in clips:
        box = facecam
        if facecam == "auto":
            from autotosis.learn.facecam import detect_facecam

            guess = detect_facecam(clip)
            box = guess.box
            click.echo(
                f"{clip}: face in {guess.frames_with_face}/{guess.frames_sampled} frames at "
                f"{list(guess.face)}; face-cam box {list(guess.box)}"
            )
        result = labels_lib.label_clip(clip, labels_dir, segments, box, label_name, replace,  # type: ignore[arg-type]
                                       calm)
        _report(result, label_name or result.label)


def _report(result: labels_lib.LabelFile, name: str) -> None:
    """One line per labeled file: the label's segments; for a VOD, its calm spans and reviewed time."""
    mine = result.by_label[name]
    spans = ", ".join(f"{format_time(s.start, 1)}-{format_time(s.end, 1)}" for s in mine)
    others = [f"{n} {len(v)}" for n, v in result.by_label.items() if n != name]
    none = "(none yet)" if result.partial else "(none: all negative)"
    line = (f"{result.path}: {name + ': ' if others else ''}{len(mine)} segment(s) "
            f"{spans or none}; {sum(s.duration for s in mine):.1f}s positive")
    if result.partial:
        calm = result.calm_for(name)
        duration = media.probe(result.clip).duration
        line += (f"; {len(calm)} calm span(s), {sum(s.duration for s in calm):.1f}s; "
                 f"reviewed {_secs(result.reviewed_seconds(name))} of {_secs(duration)}")
    click.echo(line + (f" (other labels kept: {', '.join(others)})" if others else ""))
    if result.facecam is None:
        click.echo(f"{result.path}: no face-cam box yet; add --facecam auto or --facecam x0,y0,x1,y1")
