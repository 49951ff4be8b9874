"""A batch's inputs: files, folders, list files and URLs turned into jobs, and each VOD's folder name.

Apart because it is pure bookkeeping on paths that runs before anything is compiled (and is what
`autotosis compile` asks to tell a batch from one VOD), with no compile or worker code in it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from autotosis.core.errors import AutotosisError
from autotosis.core.paths import VODS_DIR

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mkv", ".mov", ".webm", ".flv", ".ts", ".m4v", ".avi", ".wmv", ".mpg", ".mpeg"})
LIST_EXTENSIONS = frozenset({".txt", ".list", ".lst"})
URL_SCHEMES = ("http://", "https://")


def is_url(text: str) -> bool:
    return text.lower().startswith(URL_SCHEMES)


def is_batch_input(text: str) -> bool:
    """Whether one command-line input means a batch: a folder, a list file or a URL."""
    path = Path(text)
    return is_url(text) or _is_folder(path) or path.suffix.lower() in LIST_EXTENSIONS


def _is_folder(path: Path) -> bool:
    """A folder of VODs; one named like a video ("x.mp4/") is a mistaken VOD, reported as one."""
    return path.is_dir() and path.suffix.lower() not in VIDEO_EXTENSIONS


@dataclass(frozen=True)
class Job:
    """One VOD of a batch: a local file, or a URL to download first."""

    source: str  # as the user wrote it (a path or a URL): what the summary shows
    vod: Path | None  # absolute; None for a URL until it is downloaded
    url: str | None = None
    downloads: Path | None = None  # where a URL's VOD goes (absolute: vods/, as `compile URL` does)
    chat_auto: bool = False  # `--chat auto`: this VOD's own chat replay, found (or downloaded) beside it


def _list_file(path: Path) -> list[str]:
    """The entries of a list file: one path or URL a line, blank lines and # comments skipped;
    relative paths are relative to the list file's folder (so the list can travel with its VODs)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AutotosisError(f"{path}: cannot read the list ({exc})") from None
    entries = []
    for line in lines:
        entry = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if entry:
            entries.append(entry if is_url(entry) or Path(entry).is_absolute() else str(path.parent / entry))
    return entries


def expand_inputs(inputs: Sequence[str]) -> list[Job]:
    """Files, folders (their video files, not recursing), list files and URLs -> jobs in order,
    each VOD once. A missing file becomes a job that fails (reported with the others);
    a folder without videos or an unreadable list is an error at once."""
    jobs: list[Job] = []
    seen: set[str] = set()

    def add(entry: str) -> None:
        if is_url(entry):
            job = Job(entry, None, entry, VODS_DIR.absolute())
            key = entry
        else:
            job = Job(entry, Path(os.path.abspath(entry)))  # .. folded, so each VOD comes once
            key = str(job.vod)
        if key not in seen:
            seen.add(key)
            jobs.append(job)

    for text in inputs:
        path = Path(text)
        if is_url(text):
            add(text)
        elif _is_folder(path):
            videos = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_EXTENSIONS
                            and not p.name.startswith(".") and p.is_file())
            if not videos:
                raise AutotosisError(f"{path}: no video files in this folder "
                                     f"({', '.join(sorted(VIDEO_EXTENSIONS))})")
            for video in videos:
                add(str(video))
        elif path.suffix.lower() in LIST_EXTENSIONS and path.is_file():
            entries = _list_file(path)
            if not entries:
                raise AutotosisError(f"{path}: the list names no VOD")
            for entry in entries:
                add(entry)
        else:
            add(text)
    return jobs


def _hashed(stem: str, vod: Path) -> str:
    return f"{stem}-{hashlib.sha1(str(vod).encode()).hexdigest()[:8]}"


def _recorded_vod(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / "options.json").read_text(encoding="utf-8"))["vod"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def folder_name(vod: Path, out_root: Path, shared_stems: set[str]) -> str:
    """`vod`'s folder under `out_root`: its stem, or stem-<hash> when that name is taken (see above)."""
    if vod.stem in shared_stems:
        return _hashed(vod.stem, vod)
    recorded = _recorded_vod(out_root / vod.stem)
    return vod.stem if recorded in (None, str(vod)) else _hashed(vod.stem, vod)


def shared_stems(jobs: Iterable[Job]) -> set[str]:
    stems: dict[str, int] = {}
    for job in jobs:
        if job.vod is not None:
            stems[job.vod.stem] = stems.get(job.vod.stem, 0) + 1
    return {stem for stem, count in stems.items() if count > 1}


def plan(jobs: Sequence[Job], out_root: Path) -> list[str | None]:
    """Each job's folder name under out_root (None for URLs: known after the download)."""
    shared = shared_stems(jobs)
    return [folder_name(job.vod, out_root, shared) if job.vod is not None else None for job in jobs]
