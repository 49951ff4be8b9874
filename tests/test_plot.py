"""timeline.png with several labels: a line, a threshold and shading per label, in the
colours the captions use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from autotosis.core import palette
from autotosis.core.timeline import Segment, Timeline
from autotosis.publish import reel as render
from autotosis.publish.plot import plot_timeline


def _pixels_near(image: np.ndarray, colour: str, tolerance: int = 40) -> int:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image.astype(int) - rgb).max(axis=2) <= tolerance).sum())


def test_timeline_draws_each_label_in_its_caption_colour(tmp_path: Path) -> None:
    times = np.arange(0, 60, 0.25)
    rage = Timeline(times, np.where((times > 10) & (times < 15), 0.9, 0.1))
    laugh = Timeline(times, np.where((times > 40) & (times < 44), 0.8, 0.2))
    segments = [Segment(9, 16, 0.9, 0.8, label="rage"), Segment(39, 45, 0.8, 0.7, label="laugh")]
    colours = palette.label_colours(["rage", "laugh"])

    one = plot_timeline(tmp_path / "one.png", 60.0, segments[:1], rage, threshold=0.5)
    both = plot_timeline(tmp_path / "both.png", 60.0, segments, rage, threshold=0.5,
                         label_scores={"rage": rage, "laugh": laugh}, thresholds={"rage": 0.6, "laugh": 0.4})

    single, several = np.asarray(Image.open(one).convert("RGB")), np.asarray(Image.open(both).convert("RGB"))
    for name, colour in colours.items():
        assert _pixels_near(several, colour) > 500, name  # its line, dashed threshold and legend
        assert _pixels_near(single, colour) < 50, name  # one label: the plain blue score
    # The captions take the same colours, in the same order.
    assert render.label_colours(["rage", "laugh"]) == {k: palette.ass_colour(v) for k, v in colours.items()}
    assert palette.ass_colour("#00D0FF") == "&H00FFD000&"  # ASS is blue, green, red
