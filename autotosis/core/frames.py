"""Seconds to frames: the one rule by which the reel, the shorts and every editor file cut.

A highlight is a span of seconds; every output shows whole frames of the VOD. A span
covers the frames from the frame boundary nearest its start to the one nearest its end
(`frame_span`). Nearest, not rounded down: a time written to the millisecond, as
segments.json and review.json write it, still names the frame it was snapped to, at any
rate up to 1000 fps. `snap` moves a span onto those boundaries, so its seconds say
exactly what every output shows.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

from autotosis.core.timeline import Segment

# The frame rates editors' timelines use; a VOD at any other rate (a variable-rate capture,
# whose average ffprobe reports, or an odd one) is cut at the nearest of these.
STANDARD_RATES = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                  Fraction(48), Fraction(50), Fraction(60000, 1001), Fraction(60), Fraction(120))


def timeline_rate(fps: Fraction) -> Fraction:
    """The VOD's rate when editors know it, else the nearest one they do (see STANDARD_RATES)."""
    return min(STANDARD_RATES, key=lambda rate: (abs(rate - fps), rate.denominator))


def frames_in(duration: float, fps: Fraction) -> int:
    """The frames a video of `duration` seconds holds at `fps`: those that start inside it."""
    return math.floor(Fraction(duration) * fps + Fraction(1, 10**6))


def frame_span(segment: Segment, fps: Fraction, limit: int | None = None) -> tuple[int, int]:
    """(first frame, frame count) of a segment at `fps`: from the boundary nearest its start
    to the one nearest its end, at least one frame, and none past frame `limit` (the VOD's
    `frames_in`: a span that ends with the VOD ends with its last frame)."""
    first = round(Fraction(segment.start) * fps)
    last = round(Fraction(segment.end) * fps)
    if limit is not None:
        first, last = min(first, limit - 1), min(last, limit)
    return first, max(1, last - first)


def snap(segment: Segment, fps: Fraction, limit: int | None = None) -> Segment:
    """The segment moved onto its frames' boundaries (scores, label and cores kept)."""
    first, count = frame_span(segment, fps, limit)
    return dataclasses.replace(segment, start=float(first / fps), end=float((first + count) / fps))


def rate_text(fps: Fraction | float) -> str:
    """A rate as ffmpeg reads it: a Fraction exactly ("30", "30000/1001"; the float 29.97
    would be 2997/100, not what cameras and OBS record), a float as typed ("29.97")."""
    if isinstance(fps, Fraction):
        return str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"
    return f"{fps:g}"
