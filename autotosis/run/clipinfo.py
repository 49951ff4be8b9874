"""Community clips on disk: the sidecar next to each downloaded clip, and what reads them.

`autotosis clips` saves `clips/<title> [<id>].mp4` and beside it `clips/<title> [<id>].clip.json`:

    {"url": ..., "id": ..., "file": "<title> [<id>].mp4", "title": ..., "view_count": 1234,
     "creator": <who cut the clip, when the site says>, "uploader": ..., "channel": ...,
     "created": <unix time the clip was made>, "duration": <seconds, probed from the file>,
     "vod": {"id": ..., "url": ..., "offset": <seconds into the VOD where the clip starts>} or null}

Readers: `label --list` (downloaded clips with no label file yet) and `clipped_moments`, the
spans viewers clipped on a VOD of the project ("viewers clipped this" suggestions).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from autotosis.core.fsutil import atomic_write_text
from autotosis.learn import labels as labels_lib

SIDECAR_SUFFIX = ".clip.json"


@dataclass(frozen=True)
class ClipVod:
    """The VOD a clip was cut from: its id on the site, its link, and where the clip starts in it."""

    id: str
    url: str | None
    offset: float | None


@dataclass(frozen=True)
class ClipInfo:
    """One downloaded clip: the video file and what its sidecar says about it."""

    path: Path
    url: str
    id: str
    title: str
    view_count: int | None = None
    creator: str | None = None
    uploader: str | None = None
    channel: str | None = None
    created: int | None = None
    duration: float | None = None
    vod: ClipVod | None = None

    @property
    def sidecar(self) -> Path:
        return sidecar_path(self.path)

    def to_json(self) -> dict[str, Any]:
        vod = self.vod and {"id": self.vod.id, "url": self.vod.url, "offset": self.vod.offset}
        return {"url": self.url, "id": self.id, "file": self.path.name, "title": self.title,
                "view_count": self.view_count, "creator": self.creator, "uploader": self.uploader,
                "channel": self.channel, "created": self.created, "duration": self.duration, "vod": vod}


class ClippedMoment(NamedTuple):
    """A span of a VOD that viewers clipped: (start, end) on the VOD, the clip's views and title."""

    start: float
    end: float
    views: int
    title: str
    clip: Path


def sidecar_path(video: Path) -> Path:
    """clips/<stem>.clip.json beside clips/<stem>.<ext>."""
    return video.with_name(video.stem + SIDECAR_SUFFIX)


def write_sidecar(clip: ClipInfo) -> Path:
    """Write the clip's sidecar atomically (a crash never leaves half a file) and return its path."""
    atomic_write_text(clip.sidecar, json.dumps(clip.to_json(), indent=2, ensure_ascii=False) + "\n")
    return clip.sidecar


def _number(value: Any, kind: type) -> Any:
    return kind(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def read_sidecar(path: Path) -> ClipInfo | None:
    """The clip a sidecar describes; None when it is unreadable or names no video file that exists.

    Hand-written sidecars are welcome: only "id" (or the file name) is needed; "file" defaults to
    the sidecar's stem with .mp4.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    stem = Path(path).name.removesuffix(SIDECAR_SUFFIX)
    video = Path(path).with_name(Path(str(data.get("file") or f"{stem}.mp4")).name)
    if not video.is_file():
        return None
    vod: dict = data["vod"] if isinstance(data.get("vod"), dict) else {}
    vod_id = _text(vod.get("id"))
    offset = _number(vod.get("offset"), float)
    return ClipInfo(
        path=video,
        url=_text(data.get("url")) or "",
        id=_text(data.get("id")) or stem,
        title=_text(data.get("title")) or stem,
        view_count=_number(data.get("view_count"), int),
        creator=_text(data.get("creator")),
        uploader=_text(data.get("uploader")),
        channel=_text(data.get("channel")),
        created=_number(data.get("created"), int),
        duration=_number(data.get("duration"), float),
        vod=None if vod_id is None else ClipVod(vod_id, _text(vod.get("url")), offset),
    )


def downloaded_clips(clips_dir: Path | str) -> list[ClipInfo]:
    """Every clip in `clips_dir` with a readable sidecar, most viewed first."""
    folder = Path(clips_dir)
    if not folder.is_dir():
        return []
    found = [read_sidecar(p) for p in sorted(folder.glob(f"*{SIDECAR_SUFFIX}"))]
    return sorted((c for c in found if c is not None), key=lambda c: -(c.view_count or 0))


def unlabeled_clips(clips_dir: Path | str, labels_dir: Path | str) -> list[ClipInfo]:
    """Downloaded clips that have no label file yet (labels/<clip stem>.toml, as `label` writes)."""
    return [c for c in downloaded_clips(clips_dir)
            if not labels_lib.label_path_for(c.path, labels_dir).exists()]


def _vod_ids(name: str) -> set[str]:
    """The ids a VOD file name carries as "[<id>]" (the name `compile URL` gives a download)."""
    return set(re.findall(r"\[([^\[\]]+)\]", Path(name).stem))


def _same_vod(clip_vod_id: str, ids: set[str]) -> bool:
    # Twitch names a VOD "v123" in its links and downloads, and 123 in its API: both are one VOD.
    bare = clip_vod_id.removeprefix("v")
    return clip_vod_id in ids or (bare.isdigit() and (bare in ids or f"v{bare}" in ids))


def clipped_moments(vod: Path | str, clips_dir: Path | str) -> list[ClippedMoment]:
    """The spans of `vod` that viewers clipped, most viewed first.

    A clip belongs to the VOD when its sidecar's vod id is one of the "[<id>]" in the VOD's
    file name; its span is offset .. offset + duration. Clips without an offset or duration
    cannot be placed and are left out.
    """
    ids = _vod_ids(Path(vod).name)
    moments = []
    for clip in downloaded_clips(clips_dir):
        if clip.vod is None or clip.vod.offset is None or not clip.duration:
            continue
        if not _same_vod(clip.vod.id, ids):
            continue
        start = max(0.0, clip.vod.offset)
        moments.append(ClippedMoment(start, clip.vod.offset + clip.duration, clip.view_count or 0,
                                     clip.title, clip.path))
    return sorted(moments, key=lambda m: (-m.views, m.start))
