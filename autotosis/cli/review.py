"""`autotosis review output/<vod>`: look over a compiled reel in the browser and render it again."""

from __future__ import annotations

from pathlib import Path

import click

from autotosis.cli.serve import run_app


@click.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--port", type=int, default=0, help="Port to listen on (default: any free one).")
@click.option("--no-browser", is_flag=True, help="Only print the URL.")
def review(folder: Path, port: int, no_browser: bool) -> None:
    """Keep or drop the reel's segments, nudge their edges, and re-render.

    \b
    autotosis review output/my-vod
    """
    from autotosis.web.review import review_app

    resolved = folder.resolve()
    project = resolved.parent.parent if resolved.parent.name == "output" else Path.cwd()
    run_app(review_app(project, resolved), port, not no_browser)
