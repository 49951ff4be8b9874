"""Community clips: download a channel's clips, or any list of clip links, into clips/.

yt-dlp is used as a library, with the options of VOD downloads (`run.download`): quiet, its
progress through our callback, its errors as one line, resuming `.part` files. Each link is
read first without downloading: a channel's clips page comes back as a flat listing (id,
title, views per entry, no media yet), from which the most viewed are picked; a clip already
in the folder (same id) is skipped before any byte of it is fetched. Each new clip is saved as
"<title> [<id>].<ext>" with a sidecar (`run.clipinfo`).

The VOD a clip was cut from is known where yt-dlp says it: a YouTube clip is the section
`section_start`..`section_end` of a video (`youtube.com/clip/...` resolves to that video's
link), so its VOD is that video and its offset `section_start`. yt-dlp's Twitch clips
extractor gives the broadcaster (`channel`), the clipper (`uploader`), views and the creation
time, but not the VOD or the offset: Twitch clips get `"vod": null`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotosis import media
from autotosis.core.errors import AutotosisError, DownloadError, MediaError
from autotosis.core.paths import CLIPS_DIR
from autotosis.run.batch.inputs import is_url
from autotosis.run.clipinfo import SIDECAR_SUFFIX, ClipInfo, ClipVod, read_sidecar, write_sidecar
from autotosis.run.download import Progress, download_message, ydl_options

DEFAULT_LIMIT = 50  # a channel's clips: the 50 most viewed are a few minutes of download and plenty to label
LISTING_SCAN = 4  # of a listing, read at most LISTING_SCAN x limit entries to find the most viewed
NEW, THERE, FAILED, FEW_VIEWS = "new", "already there", "failed", "below --min-views"


@dataclass(frozen=True)
class ClipOutcome:
    """What happened to one clip link: NEW (downloaded), THERE, FEW_VIEWS or FAILED (with `problem`)."""

    url: str
    status: str
    clip: ClipInfo | None = None
    problem: str | None = None


class ClipEvents:
    """Progress callbacks of `download_clips`; the CLI draws them, tests may record them."""

    def listing(self, index: int, total: int, url: str) -> None:
        """Reading link `index` of `total` given: a clip listing or one clip (no media yet)."""

    def planned(self, total: int) -> None:
        """`total` clip links to fetch, all listings read."""

    def progress(self, done: int, total: int | None) -> None:
        """Bytes of the current clip."""

    def finished(self, index: int, outcome: ClipOutcome) -> None:
        """Clip `index` (0-based) is done, downloaded or not."""


@dataclass
class _Job:
    url: str  # what the user or the listing gave, as the outcome names it
    known: dict[str, Any]  # a listing's entry (id, title, views), or the link's unprocessed result
    from_listing: bool
    problem: str | None = None  # the link could not even be read


def read_links(inputs: Sequence[str]) -> list[str]:
    """URLs from the command line: each a URL, or a text file with one URL a line (blank lines
    and # comments skipped). Anything else is a one-line error; a URL given twice comes once."""
    urls: list[str] = []
    for text in inputs:
        if is_url(text):
            lines = [text]
        else:
            path = Path(text)
            if not path.is_file():
                raise AutotosisError(f"{text}: neither a URL nor a list file of URLs")
            try:
                raw_lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise AutotosisError(f"{path}: cannot read the list ({exc})") from None
            lines = [line.split(" #", 1)[0].strip() for line in raw_lines
                     if not line.lstrip().startswith("#")]
            bad = next((line for line in lines if line and not is_url(line)), None)
            if bad is not None:
                raise AutotosisError(f"{path}: {bad!r} is not a URL (one http(s) link a line)")
        urls += [line for line in lines if line and line not in urls]
    return urls


def pick_entries(entries: Iterable[dict], limit: int, min_views: int) -> list[dict]:
    """The entries of a clip listing to download: at least `min_views` views where the listing
    gives views, the `limit` most viewed first (0: no limit); in listing order when it gives none."""
    chosen = [e for e in entries if isinstance(e, dict) and e.get("url")
              and (e.get("view_count") is None or e["view_count"] >= min_views)]
    if any(e.get("view_count") is not None for e in chosen):
        chosen.sort(key=lambda e: (e.get("view_count") is None, -int(e.get("view_count") or 0)))
    return chosen[:limit] if limit > 0 else chosen


def vod_of(raw: dict) -> ClipVod | None:
    """The VOD a clip was cut from, from yt-dlp's unprocessed result for the clip's link.

    A clip that is a section of another video comes back as a link to that video
    (`_type: url_transparent`) with `section_start`: the VOD is that video, the offset the
    section's start. Anything else: None (yt-dlp does not say).
    """
    start = raw.get("section_start")
    if raw.get("_type") != "url_transparent" or not isinstance(start, int | float) or not raw.get("url"):
        return None
    from yt_dlp.extractor import get_info_extractor

    url = str(raw["url"])
    vod_id = None
    if raw.get("ie_key"):
        try:
            vod_id = get_info_extractor(raw["ie_key"]).get_temp_id(url)
        except (KeyError, AttributeError):  # an extractor we do not know: the link names the VOD
            vod_id = None
    return ClipVod(str(vod_id or url), url, float(start))


def _resolve(ydl: Any, url: str, ie_key: str | None = None) -> dict:
    """yt-dlp's unprocessed result for `url`, following plain redirects (`_type: url`)."""
    raw = ydl.extract_info(url, download=False, process=False, ie_key=ie_key)
    for _ in range(5):
        if not raw or raw.get("_type") != "url":
            break
        raw = ydl.extract_info(raw["url"], download=False, process=False, ie_key=raw.get("ie_key"))
    if not raw:
        raise DownloadError(f"{url}: yt-dlp found no video there")
    return raw


def _existing(folder: Path) -> set[str]:
    """Ids of the clips already in `folder` (a sidecar whose video is there)."""
    return {c.id for c in (read_sidecar(p) for p in folder.glob(f"*{SIDECAR_SUFFIX}")) if c is not None}


def _plan(ydl: Any, urls: Sequence[str], limit: int, min_views: int, events: ClipEvents) -> list[_Job]:
    """The clips to fetch, in the order given: a listing read and picked from, a clip's own link
    as it is; a link yt-dlp cannot read is a job that fails."""
    import yt_dlp

    jobs: list[_Job] = []
    for index, url in enumerate(urls):
        events.listing(index, len(urls), url)
        try:
            raw = _resolve(ydl, url)
        except DownloadError as exc:
            jobs.append(_Job(url, {}, False, str(exc)))
            continue
        except yt_dlp.utils.YoutubeDLError as exc:
            jobs.append(_Job(url, {}, False, download_message(url, exc)))
            continue
        if raw.get("_type") in ("playlist", "multi_video"):
            entries = raw.get("entries") or []
            scan = itertools.islice(entries, limit * LISTING_SCAN) if limit > 0 else entries
            jobs += [_Job(str(e["url"]), e, True) for e in pick_entries(scan, limit, min_views)]
        else:
            jobs.append(_Job(url, raw, False))
    return jobs


def _clip_raw(ydl: Any, job: _Job) -> dict:
    """The unprocessed result for the job's clip. A listing's entry is resolved, and what the
    listing said (title, views) fills in, as yt-dlp does for a `url_transparent` entry."""
    if not job.from_listing:
        return job.known
    raw = _resolve(ydl, job.url, job.known.get("ie_key"))
    if job.known.get("_type") == "url_transparent":
        listed = {k: v for k, v in job.known.items()
                  if v is not None and k not in ("_type", "url", "ie_key", "id")}
        raw = {**raw, **listed}
    return raw


def _fetch(ydl: Any, job: _Job, folder: Path, there: set[str], min_views: int) -> ClipOutcome:
    from yt_dlp.utils import unsmuggle_url

    shown = unsmuggle_url(job.url)[0]  # a listing may smuggle data into its links: not for people
    if job.problem is not None:
        return ClipOutcome(shown, FAILED, problem=job.problem)
    known_id = job.known.get("id")
    if known_id is not None and str(known_id) in there:
        return ClipOutcome(shown, THERE)
    raw = _clip_raw(ydl, job)
    if raw.get("_type") in ("playlist", "multi_video"):
        raise DownloadError(f"{shown}: a listing inside a listing; pass the clips' own links")
    if raw.get("id") is not None and str(raw["id"]) in there:
        return ClipOutcome(shown, THERE)
    views = raw.get("view_count")
    if job.from_listing and views is not None and views < min_views:
        return ClipOutcome(shown, FEW_VIEWS)
    info = ydl.process_ie_result(raw, download=True)
    if not info:
        raise DownloadError(f"{shown}: yt-dlp found no video there")
    downloads = info.get("requested_downloads") or [{}]
    path = Path(downloads[-1].get("filepath") or ydl.prepare_filename(info))
    if not path.is_file():
        raise DownloadError(f"{shown}: yt-dlp reported {path} but it is not there")
    path = folder / path.name  # as the caller named the folder (yt-dlp reports absolute paths)
    try:
        duration: float | None = media.probe(path).duration
    except MediaError:
        duration = info.get("duration")
    twitch = str(info.get("extractor_key") or "").lower().startswith("twitch")
    clip = ClipInfo(
        path=path, url=shown, id=str(info.get("id") or path.stem), title=str(info.get("title") or path.stem),
        view_count=info.get("view_count") if info.get("view_count") is not None else views,
        # Twitch's "uploader" is the viewer who cut the clip (its curator); the streamer is "channel".
        creator=info.get("uploader") if twitch else None,
        uploader=info.get("uploader"), channel=info.get("channel") or info.get("uploader"),
        created=int(info["timestamp"]) if info.get("timestamp") is not None else None,
        duration=round(duration, 3) if duration else None, vod=vod_of(raw))
    write_sidecar(clip)
    there.add(clip.id)
    return ClipOutcome(shown, NEW, clip)


def download_clips(inputs: Sequence[str], folder: Path | str = CLIPS_DIR, limit: int = DEFAULT_LIMIT,
                   min_views: int = 0, events: ClipEvents | None = None) -> list[ClipOutcome]:
    """Download the clips that `inputs` (URLs, list files of URLs) name into `folder`.

    A channel's clips page (any listing yt-dlp reads as a playlist) gives its `limit` most
    viewed clips with at least `min_views` views; a clip's own link is always fetched. Clips
    already in `folder` are not fetched again; one clip that fails does not stop the others:
    every link gets an outcome, in order. A bad input (not a URL, unreadable list) is an error
    before anything is downloaded.
    """
    import yt_dlp

    urls = read_links(inputs)
    events = events or ClipEvents()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    outcomes: list[ClipOutcome] = []
    progress: Progress = events.progress
    with yt_dlp.YoutubeDL(ydl_options(folder, progress)) as ydl:
        jobs = _plan(ydl, urls, limit, min_views, events)
        events.planned(len(jobs))
        there = _existing(folder)
        for index, job in enumerate(jobs):
            try:
                outcome = _fetch(ydl, job, folder, there, min_views)
            except DownloadError as exc:
                outcome = ClipOutcome(job.url, FAILED, problem=str(exc))
            except yt_dlp.utils.YoutubeDLError as exc:
                url = yt_dlp.utils.unsmuggle_url(job.url)[0]
                outcome = ClipOutcome(url, FAILED, problem=download_message(url, exc))
            outcomes.append(outcome)
            events.finished(index, outcome)
    return outcomes
