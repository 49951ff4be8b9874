"""What the review page reads from a compile's output folder: its segments and its shorts' look.

Apart from the page's routes (review.py) so each stays a page long; both are plain reads
of the files `autotosis compile` wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from autotosis.core.errors import AutotosisError
from autotosis.core.timeline import Segment
from autotosis.publish.shorts import ShortsConfig


def shorts_config(folder: Path) -> ShortsConfig:
    """The shorts compile made (options.json's "shorts"), else the defaults."""
    try:
        saved = json.loads((folder / "options.json").read_text(encoding="utf-8")).get("shorts")
        if isinstance(saved, dict):
            saved = {**saved, "size": tuple(saved["size"])}
            for key in ("game_box", "game_crop"):
                if saved.get(key) is not None:
                    saved[key] = tuple(saved[key])
            return ShortsConfig(**saved)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return ShortsConfig()


@dataclass(frozen=True)
class Sidecars:
    """What the page needs from compile's segments.json: the VOD, its label, the selection."""

    vod: Path
    label: str
    segments: list[Segment]


def read_sidecars(folder: Path) -> Sidecars:
    """segments.json as compile writes it; a clear error when it is unusable."""
    try:
        data = json.loads((folder / "segments.json").read_text(encoding="utf-8"))
        segments = [Segment(float(s["start"]), float(s["end"]), float(s.get("peak", 0)),
                            float(s.get("mean", 0)), label=str(s.get("label") or ""))
                    for s in data["segments"]]
        vod = Path(data["vod"])
        label = str(data.get("label", ""))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AutotosisError(f"{folder / 'segments.json'}: cannot read ({exc})") from None
    # compile writes the VOD's absolute path; a relative one is taken from the project folder.
    return Sidecars(vod if vod.is_absolute() else folder.parent.parent / vod, label, segments)
