"""The live page of `autotosis live --ui`: each highlight as it is cut, pushed with Server-Sent Events.

The live loop tells `LiveFeed` (its LiveEvents) about each clip and status line; the feed
only appends under a condition and wakes the page connections, which write from their own
server threads, so a slow or stalled browser never holds up the stream. A clip event's id
is its line in highlights.jsonl: a page that joins late gets every clip cut so far, and one
that reconnects sends the last id it saw (Last-Event-ID) and gets only the clips after it.
When the stream ends, the review's routes are added to the same server and the page links
to the review of the finished output.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from autotosis.core.errors import AutotosisError
from autotosis.run.live import Clip, LiveEvents, Status, read_log
from autotosis.web.review import mount_review, review_roots
from autotosis.web.server import Request, WebApp

EVENTS = "/api/live/events"
REVIEW = "/review"
KEEPALIVE = 15.0  # seconds between comments on a quiet stream: a closed tab is noticed and let go
RETRY_MS = 1000  # how soon a browser reconnects after a dropped connection


def _event(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n"


def _last_id(text: str) -> int:
    """The clip number a reconnecting browser saw last; 0 (send all) for anything else."""
    return int(text) if text.strip().isdigit() else 0


class LiveFeed(LiveEvents):
    """What the page is told: every clip (numbered as in highlights.jsonl), the latest status,
    and the end of the stream. Written by the live loop, read by the page connections."""

    def __init__(self, app: WebApp, folder: Path):
        self.app = app
        self.folder = folder.resolve()
        self._changed = threading.Condition()
        self._clips = [self._card(number, clip) for number, clip in enumerate(read_log(folder), 1)]
        self._status: dict[str, Any] | None = None
        self._status_number = 0
        self._end: dict[str, Any] | None = None
        self._closed = False
        app.streams[EVENTS] = self.events

    def _card(self, number: int, clip: Clip) -> dict[str, Any]:
        url = "/media/" + quote(self.app.relative(self.folder / clip.file))
        card = {"n": number, "start": clip.start, "end": clip.end, "label": clip.label, "peak": clip.peak,
                "file": clip.file, "url": url, "replaces": list(clip.replaces)}
        if clip.short:  # --shorts: the page links the clip's vertical short
            card["short"] = "/media/" + quote(self.app.relative(self.folder / clip.short))
        return card

    def clip(self, clip: Clip, render_seconds: float) -> None:
        with self._changed:
            self._clips.append(self._card(len(self._clips) + 1, clip))
            self._changed.notify_all()

    def status(self, status: Status) -> None:
        with self._changed:
            self._status = dataclasses.asdict(status)
            self._status_number += 1
            self._changed.notify_all()

    def finish(self, ended: str) -> str | None:
        """The stream is over: add the review of the finished folder and tell the pages where it
        is (None when there is nothing to review, e.g. with --no-reel)."""
        clips = len(self._clips)
        review: str | None = None
        message = f"stream ended ({ended}): {clips} clip(s)"
        if not (self.folder / "segments.json").exists():
            message += "; no reel to review (--no-reel, or no highlight)"
        else:
            try:
                mount_review(self.app, self.folder)
                self.app.pages[REVIEW] = "review.html"
                review = REVIEW
            except AutotosisError as exc:
                message += f"; no review: {exc}"
        with self._changed:
            self._end = {"ended": ended, "clips": clips, "review": review, "message": message}
            self._changed.notify_all()
        return review

    def close(self) -> None:
        """The server is stopping: every page connection ends now."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _news(self, sent: int, seen_status: int) -> bool:
        """Whether a connection that sent `sent` clips and status number `seen_status` has more
        to send (called with the condition held)."""
        return (self._closed or self._end is not None or len(self._clips) > sent
                or self._status_number != seen_status)

    def events(self, request: Request, last_event_id: str) -> Iterator[str]:
        """One page connection: the clips after `last_event_id`, then each new clip and status,
        until the stream ends (the page then stops reconnecting) or the server stops."""
        seen_status = 0
        with self._changed:
            sent = min(_last_id(last_event_id), len(self._clips))
        yield f"retry: {RETRY_MS}\n\n"
        while True:
            with self._changed:
                self._changed.wait_for(functools.partial(self._news, sent, seen_status), KEEPALIVE)
                clips = self._clips[sent:]
                status = self._status if self._status_number != seen_status else None
                seen_status = self._status_number
                end, closed = self._end, self._closed
            for card in clips:
                yield _event("clip", card, card["n"])
            sent += len(clips)
            if status is not None:
                yield _event("status", status)
            if end is not None:
                yield _event("end", end)
                return
            if closed:
                return
            if not clips and status is None:
                yield ": keepalive\n\n"


def live_app(folder: Path) -> tuple[WebApp, LiveFeed]:
    """The live page for the output folder `autotosis live` writes, and the feed to give it.

    In output/<name>/ of a project the page serves what the review page does (and the review
    itself once the stream ends); elsewhere only that folder's files.
    """
    folder = folder.resolve()
    if folder.parent.name == "output":
        project, roots = folder.parent.parent, review_roots(folder.parent.parent)
    else:
        project, roots = folder.parent, [folder]
    app = WebApp(project=project, page="live.html", roots=roots, title="autotosis live")
    return app, LiveFeed(app, folder)
