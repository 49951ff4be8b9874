"""VOD links: download a stream's VOD (and its chat replay when the site offers one) with yt-dlp.

yt-dlp is used as a library: no shell, its progress through our callback, its errors as
one `DownloadError` line. Downloads resume: yt-dlp keeps a `.part` file and continues it
with an HTTP range request, and a VOD already in the folder is not fetched again.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autotosis import media
from autotosis.core.errors import DownloadError

# "<title> [<id>].<ext>": readable, and unique per video even when titles repeat.
OUTPUT_TEMPLATE = "%(title).80B [%(id)s].%(ext)s"
# The chat replays yt-dlp offers as "subtitles": YouTube's live chat, Twitch's rechat.
CHAT_TRACKS = ("live_chat", "rechat")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

Progress = Callable[[int, int | None], None]  # (bytes done, bytes in all or None while unknown)


class _Quiet:
    """yt-dlp's logger: nothing printed (the CLI draws its own bar); errors come back as exceptions."""

    def debug(self, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...


def quiet_logger() -> _Quiet:
    """A logger that keeps yt-dlp silent (for callers outside this module, as live's resolver)."""
    return _Quiet()


def ydl_options(folder: Path, progress: Progress | None) -> dict[str, Any]:
    """yt-dlp's options for every download: quiet, resuming, "<title> [<id>]" names in `folder`."""
    def hook(status: dict) -> None:
        if progress is not None and status.get("status") in ("downloading", "finished"):
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            progress(int(status.get("downloaded_bytes") or 0), int(total) if total else None)

    return {
        "outtmpl": str(folder / OUTPUT_TEMPLATE),
        "continuedl": True,  # resume a .part left by an interrupted run
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": _Quiet(),
        "progress_hooks": [hook],
        "retries": 3,
        "ffmpeg_location": media.ffmpeg_bin(),  # merging separate video and audio streams
        "windowsfilenames": True,  # no characters another OS cannot open
    }


def download_message(url: str, exc: Exception) -> str:
    """yt-dlp's error as one line: "<url>: cannot download (<reason>)"."""
    text = _ANSI.sub("", str(exc)).strip().removeprefix("ERROR:").strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    text = re.sub(r"\s*\(caused by .*\)$", "", text)
    text = re.sub(r"^\[[\w:]+\] [^:\s]+: ", "", text)  # yt-dlp's "[generic] <id>: " prefix
    return f"{url}: cannot download ({text})"


def download_vod(url: str, folder: Path, progress: Progress | None = None) -> Path:
    """Download the VOD at `url` into `folder` (resuming a partial download) and return its path.

    A VOD already downloaded there is returned without fetching it again.
    """
    import yt_dlp

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with yt_dlp.YoutubeDL(ydl_options(folder, progress)) as ydl:
            info = ydl.extract_info(url, download=True)
            if info is None:
                raise DownloadError(f"{url}: yt-dlp found no video there")
            if info.get("_type") == "playlist":
                raise DownloadError(f"{url}: a playlist or channel, not one VOD; pass the VOD's own link")
            downloads = info.get("requested_downloads") or [{}]
            path = Path(downloads[-1].get("filepath") or ydl.prepare_filename(info))
    except yt_dlp.utils.YoutubeDLError as exc:
        raise DownloadError(download_message(url, exc)) from None
    if not path.is_file():
        raise DownloadError(f"{url}: yt-dlp reported {path} but it is not there")
    return path


def download_chat(url: str, folder: Path) -> Path | None:
    """The chat replay of the VOD at `url`, saved next to it in `folder`; None when the site offers none.

    Saved as `<vod stem>.live_chat.json` (YouTube) or `.rechat.json` (Twitch), which is where
    `--chat auto` looks.
    """
    import yt_dlp

    options = {**ydl_options(Path(folder), None), "skip_download": True}
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=False)
            offered = {**(info or {}).get("automatic_captions", {}), **(info or {}).get("subtitles", {})}
            track = next((name for name in CHAT_TRACKS if name in offered), None)
            if info is None or track is None:
                return None
            options.update(writesubtitles=True, subtitleslangs=[track])
            with yt_dlp.YoutubeDL(options) as chat_ydl:
                chat_ydl.process_ie_result(info, download=True)
            stem = Path(ydl.prepare_filename(info)).with_suffix("")
    except yt_dlp.utils.YoutubeDLError as exc:
        message = download_message(url, exc).replace("cannot download", "cannot download the chat")
        raise DownloadError(message) from None
    found = [p for p in Path(folder).glob(f"{glob.escape(stem.name)}.{track}.*") if p.is_file()]
    return found[0] if found else None
