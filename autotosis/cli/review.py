"""`autotosis review output/<vod>`: look over a compiled reel in the browser and render it again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from autotosis.cli.serve import run_app
from autotosis.publish.captions import CAPTIONS


@click.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--port", type=int, default=0, help="Port to listen on (default: any free one).")
@click.option("--no-browser", is_flag=True, help="Only print the URL.")
@click.option("--captions", type=click.Choice(CAPTIONS),
              help="What the cards' shorts burn in: label, speech (the words said), both or none "
              "(default: as compile made the shorts).")
def review(folder: Path, port: int, no_browser: bool, captions: str | None) -> None:
    """Keep or drop the reel's segments, nudge their edges, and re-render.

    \b
    autotosis review output/my-vod
    autotosis review output/my-vod --captions both
    """
    from autotosis.web.review import review_app
    from autotosis.web.review_files import shorts_config

    resolved = folder.resolve()
    project = resolved.parent.parent if resolved.parent.name == "output" else Path.cwd()
    shorts = dataclasses.replace(shorts_config(resolved), captions=captions) if captions else None
    run_app(review_app(project, resolved, shorts), port, not no_browser)
