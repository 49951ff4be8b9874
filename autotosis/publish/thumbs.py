"""Thumbnails: the peak frame of each highlight as a JPEG, and a contact sheet of them all.

Each still is one ffmpeg call with input seeking (it decodes from the keyframe before
the peak, nothing else), run `jobs` at a time; the contact sheet is assembled with
Pillow. Everything is written atomically into output/<vod>/thumbs/.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.fsutil import atomic_path, write_error
from autotosis.core.timecode import format_time
from autotosis.pick.highlights import Highlight

THUMB_WIDTH = 640  # what YouTube asks of a custom thumbnail at least, and plenty for a look
SHEET_COLUMNS = 4
SHEET_CELL = 320  # contact sheet cell width
CONTACT_SHEET = "contact.jpg"


def thumb_path(folder: Path, item: Highlight) -> Path:
    return folder / f"{item.slug}.jpg"


def make_thumbs(vod: Path, items: Sequence[Highlight], folder: Path, width: int = THUMB_WIDTH,
                jobs: int = 2) -> list[Path]:
    """The peak frame of each highlight as `folder/NN-label-time.jpg`; returns their paths."""
    info = media.probe(vod)
    lead = media.seek_lead(info)
    width = min(width, info.width) // 2 * 2
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise (write_error(exc, folder) or exc) from None
    paths = [thumb_path(folder, item) for item in items]
    commands: list[media.Job] = []
    for item, path in zip(items, paths, strict=True):
        # The last whole frame at most: a peak sampled at the very end has no frame after it.
        time = min(item.peak_time, max(0.0, info.duration - 2 / float(info.fps)))
        part = path.with_name(f".{path.stem}.part.jpg")
        commands.append((media.still_args(vod, time, part, width, lead), part, vod))

    def finished(k: int) -> None:
        os.replace(commands[k][1], paths[k])

    try:
        media.run_all(commands, jobs, finished)
    finally:
        for _, part, _ in commands:
            Path(part).unlink(missing_ok=True)
    for old in folder.glob("[0-9][0-9]*-*.jpg"):  # an earlier selection's stills
        if old not in paths:
            old.unlink(missing_ok=True)
    return paths


def contact_sheet(items: Sequence[Highlight], thumbs: Sequence[Path], output: Path, title: str) -> Path:
    """One image with every thumbnail in a grid, each captioned with its number, label, time and peak."""
    from PIL import Image, ImageDraw, ImageFont

    if not thumbs:
        raise AutotosisError(f"{output}: no thumbnails to put on a contact sheet")
    images: list[Image.Image] = []
    for path in thumbs:
        with Image.open(path) as opened:
            images.append(opened.convert("RGB"))
    cell_w = SHEET_CELL
    cell_h = max(round(cell_w * im.height / im.width) for im in images)
    text_h, pad = 22, 8
    columns = min(SHEET_COLUMNS, len(images))
    rows = math.ceil(len(images) / columns)
    size = (pad + columns * (cell_w + pad), 34 + rows * (cell_h + text_h + pad))
    sheet = Image.new("RGB", size, (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    big: ImageFont.FreeTypeFont | ImageFont.ImageFont
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 14)
        big = ImageFont.truetype("DejaVuSans-Bold.ttf", 16)
    except OSError:
        font = big = ImageFont.load_default()
    draw.text((pad, 8), title, fill=(240, 240, 240), font=big)
    for k, (item, image) in enumerate(zip(items, images, strict=True)):
        x = pad + (k % columns) * (cell_w + pad)
        y = 34 + (k // columns) * (cell_h + text_h + pad)
        small = image.resize((cell_w, round(cell_w * image.height / image.width)), Image.Resampling.LANCZOS)
        sheet.paste(small, (x, y))
        caption = (f"#{item.index + 1} {item.label}  {format_time(item.segment.start, 0)}"
                   f"  peak {item.segment.peak:.2f}")
        draw.text((x, y + cell_h + 3), caption, fill=(230, 230, 230), font=font)
    with atomic_path(output) as part:
        sheet.save(part, "JPEG", quality=88)
    return output
