"""timeline.png: the score (and loudness) over the whole VOD with the chosen segments shaded.

One look tells whether the threshold sits right: peaks outside shading are missed
moments, shading without a peak is padding or merging at work.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from autotosis.fsutil import atomic_path
from autotosis.timeline import Segment, Timeline


def plot_timeline(
    path: Path, duration: float, segments: Sequence[Segment], score: Timeline | None = None,
    loudness: Timeline | None = None, threshold: float | None = None, title: str = "",
) -> Path:
    """Write the plot atomically; matplotlib (Agg) is imported only here, so the CLI starts fast."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = 60.0 if duration > 600 else 1.0
    unit = "min" if minutes > 1 else "s"
    fig, ax = plt.subplots(figsize=(14, 3.6), dpi=100)
    try:
        for seg in segments:
            ax.axvspan(seg.start / minutes, seg.end / minutes, color="tab:orange", alpha=0.3, lw=0)
        if score is not None and len(score):
            ax.plot(score.times / minutes, score.values, color="tab:blue", lw=0.8, label="score")
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("score")
        if threshold is not None:
            ax.axhline(threshold, color="tab:red", lw=0.8, ls="--", label=f"threshold {threshold:.2f}")
        if loudness is not None and len(loudness):
            other = ax.twinx() if score is not None else ax
            other.plot(loudness.times / minutes, loudness.values, color="tab:green", lw=0.6, alpha=0.7,
                       label="loudness (dBFS)")
            other.set_ylabel("loudness (dBFS)")
            other.legend(loc="upper right", fontsize=8)
        ax.set_xlim(0, duration / minutes)
        ax.set_xlabel(f"VOD time ({unit})")
        ax.set_title(title or f"{len(segments)} segment(s)", fontsize=10)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return path
