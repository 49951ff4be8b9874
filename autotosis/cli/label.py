"""`autotosis label`: write, list and import label files."""

from __future__ import annotations

from pathlib import Path

import click

from autotosis.cli.options import facecam_box
from autotosis.core.timecode import format_time
from autotosis.learn import labels as labels_lib


def _segment(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list:
    try:
        return [labels_lib.parse_segment(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _print_list(labels_dir: Path) -> None:
    """One row per file, two columns (segments, positive seconds) per label any file names."""
    rows = labels_lib.survey(labels_dir)
    if not rows:
        click.echo(f"no label files in {labels_dir}/")
        return
    names: list[str] = []
    for row in rows:
        names += [n for n in (row.label.labels if row.label else ()) if n not in names]
    width = max(34, *(len(str(r.path)) + 1 for r in rows))
    head = "".join(f" {n[:15]:>15}" for n in names)
    click.echo(f"{'label file':<{width}}{head} {'total':>9}  status")
    sub = f" {'segs':>4} {'positive':>10}"
    click.echo(f"{'':<{width}}{sub * len(names)}")
    bad = 0
    for row in rows:
        if row.label is None:
            bad += 1
            click.echo(f"{row.path!s:<{width}}{' ' * 16 * len(names)} {'':>9}  ERROR {row.problem}")
            continue
        spans = row.label.by_label
        cells = "".join(f" {len(spans[n]):>4} {row.label.seconds(n):>9.1f}s" if n in spans
                        else f" {'-':>4} {'-':>10}" for n in names)
        click.echo(f"{row.path!s:<{width}}{cells} {row.duration or 0:>8.1f}s  "
                   + ("ok" if row.label.facecam else "ok (no facecam box)"))
    good = [r.label for r in rows if r.label]
    total = sum(r.duration or 0 for r in rows if r.label)
    per_label = ", ".join(f"{n} {sum(f.seconds(n) for f in good):.1f}s" for n in names)
    click.echo(f"{len(rows)} files, {bad} with errors; positive: {per_label or 'none'} of {total:.1f}s")
    if bad:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("clips", nargs=-1, type=click.Path(path_type=Path))
@click.option("-s", "--segment", "segments", multiple=True, callback=_segment,
              help="A positive span START-END, e.g. 0:07.4-0:32.7 or 40.5-47.2 (repeatable).")
@click.option("-f", "--facecam", callback=facecam_box,
              help="Face-cam box x0,y0,x1,y1 as fractions of the frame, or 'auto' to detect the face.")
@click.option("--label", "label_name",
              help="Reaction the segments are (default: the file's only label; rage for a new file). "
                   "Other labels in the file are kept.")
@click.option("--replace", is_flag=True, help="Replace this label's segments instead of adding to them.")
@click.option("--labels-dir", type=click.Path(path_type=Path), default=Path("labels"), show_default=True,
              help="Where label files live.")
@click.option("--list", "list_", is_flag=True, help="List every label file with its positive/total seconds.")
@click.option("--import", "import_csv", type=click.Path(path_type=Path),
              help="Add eqy/autotosis data.csv rows to the label files as --label segments "
                   "(with --replace, replacing that label's segments).")
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
    facecam: object,
    label_name: str | None,
    replace: bool,
    labels_dir: Path,
    list_: bool,
    import_csv: Path | None,
    ui: bool,
    model: Path | None,
    port: int,
    no_browser: bool,
) -> None:
    """Mark where the reactions are in CLIPS and where the face-cam sits.

    \b
    autotosis label clips/x.mp4 -s 0:07.4-0:32.7 -s 40.5-47.2 --facecam auto
    autotosis label clips/x.mp4 --label laugh -s 1:02-1:05
    autotosis label --list
    autotosis label --import data_pog.csv --label pog
    autotosis label --ui clips/
    autotosis label --ui vods/x.mp4          # answer suggested moments on a VOD
    """
    if ui:
        from autotosis.cli.serve import run_app
        from autotosis.web.labeler import labeler_app

        app = labeler_app(Path.cwd(), clips[0] if clips else None, labels_dir, label=label_name, model=model)
        run_app(app, port, not no_browser)
        return
    if import_csv is not None:
        name = label_name or labels_lib.DEFAULT_LABEL
        for path, status in labels_lib.import_seed_csv(import_csv, labels_dir, name, replace):
            click.echo(f"{path}: {status}")
        return
    if list_:
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
        result = labels_lib.label_clip(clip, labels_dir, segments, box, label_name, replace)  # type: ignore[arg-type]
        name = label_name or result.label
        mine = result.by_label[name]
        spans = ", ".join(f"{format_time(s.start, 1)}-{format_time(s.end, 1)}" for s in mine)
        others = [f"{n} {len(v)}" for n, v in result.by_label.items() if n != name]
        click.echo(
            f"{result.path}: {name + ': ' if others else ''}{len(mine)} segment(s) "
            f"{spans or '(none: all negative)'}; {sum(s.duration for s in mine):.1f}s positive"
            + (f" (other labels kept: {', '.join(others)})" if others else "")
        )
        if result.facecam is None:
            click.echo(f"{result.path}: no face-cam box yet; add --facecam auto or --facecam x0,y0,x1,y1")
