"""Channel and page URLs: ask yt-dlp where the live stream is, then follow that stream.

A `http(s)://` URL that is not itself a playlist or a media file (a Twitch or YouTube
channel, a page with a player) goes through yt-dlp as a library, as `download` uses it,
but without downloading: it names the stream (an HLS playlist, preferred) and the HTTP
headers the site wants, and ffmpeg records that stream as for any other URL. A page whose
video is not live (a VOD, an upcoming stream) or that yt-dlp cannot read is one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from autotosis.core.errors import DownloadError
from autotosis.run.download import download_message, quiet_logger

# What ffmpeg reads directly over http(s): playlists and media files.
DIRECT_SUFFIXES = (".m3u8", ".m3u", ".ts", ".flv", ".mkv", ".mp4", ".mov", ".m2ts", ".webm", ".mpd")
# A live HLS stream when the site offers one; else whatever yt-dlp thinks best (then checked).
FORMAT = "best[protocol^=m3u8]/best"
NOT_LIVE = {"not_live": "not live", "was_live": "a past stream (use download or compile)",
            "is_upcoming": "not live yet", "post_live": "a stream that just ended"}


@dataclass(frozen=True)
class LiveStream:
    """Where yt-dlp says a page's live stream is."""

    url: str  # what ffmpeg records (an .m3u8, usually)
    title: str
    headers: dict[str, str] = field(default_factory=dict)  # the site's User-Agent, Referer, ...


def needs_resolving(source: str) -> bool:
    """An http(s) URL that is a page or a channel, not a stream ffmpeg reads itself."""
    if not source.startswith(("http://", "https://")):
        return False
    return PurePosixPath(urlsplit(source).path).suffix.lower() not in DIRECT_SUFFIXES


def resolve_live(url: str) -> LiveStream:
    """The live stream behind `url`; DownloadError (one line) when there is none."""
    import yt_dlp

    options = {"quiet": True, "no_warnings": True, "noplaylist": True, "logger": quiet_logger(),
               "format": FORMAT, "skip_download": True}
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=False)
    except yt_dlp.utils.YoutubeDLError as exc:
        message = download_message(url, exc).replace("cannot download", "no live stream", 1)
        raise DownloadError(message) from exc
    status = info.get("live_status")
    if status in NOT_LIVE:
        raise DownloadError(f"{url}: {NOT_LIVE[status]}")
    protocol = str(info.get("protocol") or "")
    if not info.get("is_live") and not protocol.startswith("m3u8"):
        kind = info.get("ext") or "video"
        raise DownloadError(f"{url}: not a live stream (yt-dlp found {kind} video, not live HLS; "
                            "for a VOD use download or compile)")
    stream = info.get("url") or info.get("manifest_url")
    if not stream:
        raise DownloadError(f"{url}: no live stream (yt-dlp found no stream URL)")
    headers = {k: str(v) for k, v in (info.get("http_headers") or {}).items()}
    return LiveStream(stream, str(info.get("title") or ""), headers)
