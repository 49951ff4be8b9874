"""The one place where times are parsed and formatted.

Times are plain float seconds everywhere in the library; text forms are
"h:mm:ss.s", "m:ss.s" or bare seconds, as users type them.
"""

from __future__ import annotations

import math
import re

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d*)?)$")
_SECONDS = re.compile(r"^\d+(?:\.\d*)?$|^\.\d+$")


def parse_time(value: str | float | int) -> float:
    """Seconds from "h:mm:ss.s", "m:ss.s", "12.5" or a number; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"not a time: {value!r} (must be a finite number >= 0)")
        return float(value)
    text = str(value).strip()
    if _SECONDS.match(text):
        return float(text)
    match = _CLOCK.match(text)
    if not match:
        raise ValueError(f"not a time: {value!r} (use h:mm:ss.s, m:ss.s or seconds)")
    hours, minutes, seconds = match.groups()
    if hours is not None and int(minutes) >= 60:
        raise ValueError(f"not a time: {value!r} (minutes must be < 60)")
    if float(seconds) >= 60:
        raise ValueError(f"not a time: {value!r} (seconds must be < 60)")
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def format_time(seconds: float, decimals: int = 3) -> str:
    """ "m:ss.sss" below an hour, "h:mm:ss.sss" above; stable for round trips."""
    scale = 10**decimals
    total = round(seconds * scale)
    hours, rest = divmod(total, 3600 * scale)
    minutes, rest = divmod(rest, 60 * scale)
    whole, frac = divmod(rest, scale)
    sec = f"{whole:02d}" + (f".{frac:0{decimals}d}" if decimals else "")
    if hours:
        return f"{hours}:{minutes:02d}:{sec}"
    return f"{minutes}:{sec}"


def parse_duration(value: str) -> float:
    """Durations as users write them for budgets: "90", "90s", "10m", "1h30m", "1:30"."""
    text = value.strip().lower()
    parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?", text)
    if text and parts and any(parts.groups()):
        hours, minutes, seconds = (float(g) if g else 0.0 for g in parts.groups())
        return hours * 3600 + minutes * 60 + seconds
    return parse_time(text)


def youtube_offset(seconds: float) -> str:
    """The `t=` value of a VOD link: "1h2m3s"."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return out + f"{secs}s"
