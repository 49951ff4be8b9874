"""One colour per label, shared by everything that tells labels apart: the reel's captions,
timeline.png and the review page. A label keeps its colour across them because each takes
the labels in the same order (the scores' columns, then any other segment label)."""

from __future__ import annotations

from collections.abc import Iterable

# Bright enough for a caption over video, dark enough for a line on white: cyan, magenta,
# orange, lime, violet, yellow.
LABEL_COLOURS = ("#00D0FF", "#FF40FF", "#FF9000", "#80FF40", "#8060FF", "#E0C000")


def label_colours(labels: Iterable[str]) -> dict[str, str]:
    """A colour ("#RRGGBB") per label, in order of first appearance."""
    names = list(dict.fromkeys(labels))
    return {name: LABEL_COLOURS[k % len(LABEL_COLOURS)] for k, name in enumerate(names)}


def ass_colour(colour: str) -> str:
    """"#RRGGBB" as an ASS subtitle colour (&HBBGGRR&)."""
    red, green, blue = colour[1:3], colour[3:5], colour[5:7]
    return f"&H00{blue}{green}{red}&".upper()
