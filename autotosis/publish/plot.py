"""timeline.png: the score (and loudness) over the whole VOD with the chosen segments shaded;
pr_curve.png: eval's frame-level precision/recall against truth.

With several labels, each label's score, threshold and segments are drawn in its own
colour (the palette the captions and the review page use).

One look tells whether the threshold sits right: peaks outside shading are missed
moments, shading without a peak is padding or merging at work. With truth (eval),
a band along the bottom shows where the moments really were.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autotosis.core import palette
from autotosis.core.fsutil import atomic_path
from autotosis.core.timeline import Segment, Timeline


def _pyplot() -> ModuleType:
    """matplotlib (Agg) is imported only when a plot is drawn, so the CLI starts fast."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_timeline(
    path: Path, duration: float, segments: Sequence[Segment], score: Timeline | None = None,
    loudness: Timeline | None = None, threshold: float | None = None, title: str = "",
    truth: Sequence[Segment] = (), chat: Timeline | None = None,
    label_scores: dict[str, Timeline] | None = None, thresholds: dict[str, float] | None = None,
) -> Path:
    """Write the plot atomically; `truth` (eval's labeled moments) is drawn as a bottom band,
    `chat` (the chat replay's 0..1 score, already moved by its delay) as a second score line.

    `label_scores` (several labels) replaces `score` with a line per label, each with its
    own threshold from `thresholds` and its segments shaded in its colour.
    """
    plt = _pyplot()
    minutes = 60.0 if duration > 600 else 1.0
    unit = "min" if minutes > 1 else "s"
    several = len(label_scores or {}) > 1
    colours = palette.label_colours([*(label_scores or {}), *(seg.label for seg in segments if seg.label)]) \
        if several else {}
    fig, ax = plt.subplots(figsize=(14, 3.6), dpi=100)
    try:
        for seg in segments:
            shade = colours.get(seg.label or "", "tab:orange")
            ax.axvspan(seg.start / minutes, seg.end / minutes, color=shade, alpha=0.3, lw=0)
        for i, seg in enumerate(truth):
            ax.axvspan(seg.start / minutes, seg.end / minutes, ymin=0, ymax=0.06, color="tab:purple", lw=0,
                       label=None if i else "truth")
        if several:
            for name, line in (label_scores or {}).items():
                ax.plot(line.times / minutes, line.values, color=colours[name], lw=0.9, label=name)
                own = (thresholds or {}).get(name)
                if own is not None:
                    ax.axhline(own, color=colours[name], lw=0.8, ls="--", label=f"{name} threshold {own:.2f}")
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("score")
            threshold = None
        elif score is not None and len(score):
            ax.plot(score.times / minutes, score.values, color="tab:blue", lw=0.8, label="score")
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("score")
        if chat is not None and len(chat):
            ax.plot(chat.times / minutes, chat.values, color="tab:purple", lw=0.8, alpha=0.8, label="chat")
            ax.set_ylim(-0.02, 1.02)
        if threshold is not None:
            ax.axhline(threshold, color="tab:red", lw=0.8, ls="--", label=f"threshold {threshold:.2f}")
        if loudness is not None and len(loudness):
            other = ax.twinx() if score is not None or several else ax
            other.plot(loudness.times / minutes, loudness.values, color="tab:green", lw=0.6, alpha=0.7,
                       label="loudness (dBFS)")
            other.set_ylabel("loudness (dBFS)")
            other.legend(loc="upper right", fontsize=8)
        ax.set_xlim(0, duration / minutes)
        ax.set_xlabel(f"VOD time ({unit})")
        ax.set_title(title or f"{len(segments)} segment(s)", fontsize=10)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize=8)
        return _save(fig, path)
    finally:
        plt.close(fig)


def plot_pr_curve(
    path: Path, labels: np.ndarray, scores: np.ndarray, threshold: float,
    points: dict[str, tuple[float, float]], title: str = "",
) -> Path:
    """Frame-level precision/recall over every threshold, with named (precision, recall) points.

    The dashed line is the share of truth frames: what a score that knows nothing gets.
    """
    from autotosis.core.metrics import pr_curve

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=100)
    try:
        if labels.any():
            precision, recall, _ = pr_curve(labels, scores)
            ax.step(np.r_[0.0, recall], np.r_[precision[0], precision], where="pre", color="tab:blue",
                    lw=1.2, label="score")
            ax.axhline(labels.mean(), color="gray", lw=0.8, ls="--", label="no skill")
        else:
            ax.text(0.5, 0.5, "no truth frames: no curve", ha="center", va="center", transform=ax.transAxes)
        for (name, (p, r)), marker in zip(points.items(), "oD^s", strict=False):
            if not (np.isnan(p) or np.isnan(r)):
                ax.plot([r], [p], marker=marker, ls="", ms=7, label=f"{name}: P {p:.2f} R {r:.2f}")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("recall (truth frames scored above the threshold)")
        ax.set_ylabel("precision")
        ax.set_title(title or f"threshold {threshold:.2f}", fontsize=9)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower left", fontsize=8)
        return _save(fig, path)
    finally:
        plt.close(fig)


def _save(fig: Any, path: Path) -> Path:
    """Lay out and write a figure atomically: a reader never sees half a PNG."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
