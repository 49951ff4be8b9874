"""The two values every stage passes along: a score timeline and highlight segments.

Scanning produces a `Timeline`; selection turns it into `Segment`s; every output
(reel, sidecars, EDL, plot, review page, eval) reads those two types and nothing else.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autotosis.core.fsutil import atomic_write_text


@dataclass(frozen=True, order=True)
class Segment:
    """A half-open span [start, end) of seconds in a video, with optional scores."""

    start: float
    end: float
    peak: float = field(default=0.0, compare=False)
    mean: float = field(default=0.0, compare=False)
    label: str = field(default="", compare=False)  # which reaction, in a reel of several; "" otherwise
    # A highlight's reactions themselves, before selection padded and merged them: (start, end)
    # spans inside it, one per merged moment; () when not known (a label span, an edited one).
    cores: tuple[tuple[float, float], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.end > self.start >= 0:
            raise ValueError(f"segment needs 0 <= start < end, got {self.start}..{self.end}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    def overlap(self, other: Segment) -> float:
        return max(0.0, min(self.end, other.end) - max(self.start, other.start))


def union_spans(spans: Iterable[Segment]) -> list[Segment]:
    """Overlapping or touching spans joined into one, in time order (scores and labels dropped)."""
    out: list[Segment] = []
    for s in sorted(spans):
        if out and s.start <= out[-1].end:
            out[-1] = Segment(out[-1].start, max(out[-1].end, s.end))
        else:
            out.append(Segment(s.start, s.end))
    return out


@dataclass(frozen=True)
class Timeline:
    """Scores sampled over time: `times` (seconds, increasing) and `values` of equal length."""

    times: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        if self.times.shape != self.values.shape or self.times.ndim != 1:
            raise ValueError("timeline times and values must be 1-D arrays of equal length")

    def __len__(self) -> int:
        return len(self.times)

    @property
    def step(self) -> float:
        """The median sampling interval (1 / sampling fps)."""
        if len(self.times) < 2:
            return 1.0
        return float(np.median(np.diff(self.times)))

    def to_csv(self, path: Path, column: str = "score") -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["time", column])
        for t, v in zip(self.times.tolist(), self.values.tolist(), strict=False):
            writer.writerow([f"{t:.3f}", f"{v:.5f}"])
        atomic_write_text(path, buffer.getvalue())

    @classmethod
    def from_csv(cls, path: Path) -> Timeline:
        data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
        if data.size == 0:
            return cls(np.zeros(0), np.zeros(0))
        return cls(data[:, 0].copy(), data[:, 1].copy())

    @classmethod
    def columns_from_csv(cls, path: Path) -> dict[str, Timeline]:
        """Every column of a CSV with a column per label (time, rage, laugh, ...), by name."""
        with open(path, encoding="utf-8") as handle:
            names = handle.readline().strip().split(",")[1:]
        data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
        if data.size == 0:
            return {name: cls(np.zeros(0), np.zeros(0)) for name in names}
        return {name: cls(data[:, 0].copy(), data[:, k + 1].copy()) for k, name in enumerate(names)}
