"""`autotosis label`: write, list and import label files."""

from __future__ import annotations

from pathlib import Path

import click

from autotosis import labels as labels_lib
from autotosis.cli.options import facecam_box
from autotosis.timecode import format_time


def _segment(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list:
    try:
        return [labels_lib.parse_segment(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _print_list(labels_dir: Path) -> None:
    rows = labels_lib.survey(labels_dir)
    if not rows:
        click.echo(f"no label files in {labels_dir}/")
        return
    bad = 0
    click.echo(f"{'label file':<34} {'label':<8} {'segs':>4} {'positive':>9} {'total':>9}  status")
    for row in rows:
        if row.label is None:
            bad += 1
            click.echo(f"{row.path!s:<34} {'':<8} {'':>4} {'':>9} {'':>9}  ERROR {row.problem}")
            continue
        click.echo(
            f"{row.path!s:<34} {row.label.label:<8} {len(row.label.segments):>4} "
            f"{row.label.positive_seconds:>8.1f}s {row.duration or 0:>8.1f}s  "
            + ("ok" if row.label.facecam else "ok (no facecam box)")
        )
    total_pos = sum(r.label.positive_seconds for r in rows if r.label)
    total = sum(r.duration or 0 for r in rows if r.label)
    click.echo(f"{len(rows)} files, {bad} with errors; {total_pos:.1f}s positive of {total:.1f}s")
    if bad:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("clips", nargs=-1, type=click.Path(path_type=Path))
@click.option("-s", "--segment", "segments", multiple=True, callback=_segment,
              help="A positive span START-END, e.g. 0:07.4-0:32.7 or 40.5-47.2 (repeatable).")
@click.option("-f", "--facecam", callback=facecam_box,
              help="Face-cam box x0,y0,x1,y1 as fractions of the frame, or 'auto' to detect the face.")
@click.option("--label", "label_name", help="Reaction name stored in the file (default: rage).")
@click.option("--replace", is_flag=True, help="Replace the file's segments instead of adding to them.")
@click.option("--labels-dir", type=click.Path(path_type=Path), default=Path("labels"), show_default=True,
              help="Where label files live.")
@click.option("--list", "list_", is_flag=True, help="List every label file with its positive/total seconds.")
@click.option("--import", "import_csv", type=click.Path(path_type=Path),
              help="Convert eqy/autotosis data.csv rows into label files.")
@click.option("--ui", is_flag=True, help="Label in the browser instead: CLIPS is a folder (default clips/).")
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
    port: int,
    no_browser: bool,
) -> None:
    """Mark where the reactions are in CLIPS and where the face-cam sits.

    \b
    autotosis label clips/x.mp4 -s 0:07.4-0:32.7 -s 40.5-47.2 --facecam auto
    autotosis label --list
    autotosis label --import data.csv
    autotosis label --ui clips/
    """
    if ui:
        from autotosis.cli.serve import run_app
        from autotosis.web.labeler import labeler_app

        run_app(labeler_app(Path.cwd(), clips[0] if clips else None, labels_dir), port, not no_browser)
        return
    if import_csv is not None:
        for path, status in labels_lib.import_seed_csv(import_csv, labels_dir):
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
            from autotosis.facecam import detect_facecam

            guess = detect_facecam(clip)
            box = guess.box
            click.echo(
                f"{clip}: face in {guess.frames_with_face}/{guess.frames_sampled} frames at "
                f"{list(guess.face)}; face-cam box {list(guess.box)}"
            )
        result = labels_lib.label_clip(clip, labels_dir, segments, box, label_name, replace)  # type: ignore[arg-type]
        spans = ", ".join(f"{format_time(s.start, 1)}-{format_time(s.end, 1)}" for s in result.segments)
        click.echo(
            f"{result.path}: {len(result.segments)} segment(s) {spans or '(none: all negative)'}; "
            f"{result.positive_seconds:.1f}s positive"
        )
        if result.facecam is None:
            click.echo(f"{result.path}: no face-cam box yet; add --facecam auto or --facecam x0,y0,x1,y1")
