"""The labeler page's routes for answering suggestions on a VOD, beside the clip routes.

A VOD is never sent whole: the page gets the candidates, then for the one on screen the
label file's spans in its window (`/api/spans`) and, when the browser cannot play the
file, a preview of that window (`/api/preview`, files under `/span/`). Each answer is
written at once through `labels.merge_review`, one at a time, so quick key presses never
lose an answer and the newest answer for a moment wins.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autotosis import media
from autotosis.core.errors import LabelError
from autotosis.core.timeline import Segment
from autotosis.learn import labels as labels_lib
from autotosis.web.proxy import SpanPreviews
from autotosis.web.server import HttpError, Request
from autotosis.web.suggestions import LEAD_IN, SuggestionJobs, answer_of, answer_spans, spans_in, view_of

if TYPE_CHECKING:
    from autotosis.web.labeler import Labeler


def _number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            value = None
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"{key} must be a number of seconds")
    return float(value)


def _span(value: object, duration: float, what: str) -> Segment:
    """[start, end] from the page, inside the VOD."""
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise HttpError(HTTPStatus.BAD_REQUEST, f"{what} must be [start, end]")
    start, end = (_number({"t": v}, "t") for v in value)
    start, end = max(0.0, round(start, 3)), min(duration, round(end, 3))
    try:
        return Segment(start, end)
    except ValueError:
        message = f"{what} {start:g}-{end:g} is not a span of the video"
        raise HttpError(HTTPStatus.BAD_REQUEST, message) from None


class AnswerRoutes:
    """Suggestions, answers, windowed spans and span previews for the VODs of one labeler run."""

    def __init__(self, labeler: Labeler, jobs: SuggestionJobs, previews: SpanPreviews,
                 label: str | None = None, focus: Path | None = None):
        self.labeler = labeler
        self.jobs = jobs
        self.previews = previews
        self.label = label  # the label answered by default (`label --ui --label`)
        self.focus = focus.resolve() if focus is not None else None
        self._write = threading.Lock()  # merge_review reads, merges and writes: one at a time
        app = labeler.app
        app.get("/api/suggest")(self.suggest_status)
        app.post("/api/suggest")(self.suggest_start)
        app.post("/api/answer")(self.answer)
        app.get("/api/spans")(self.spans)
        app.get("/api/preview")(self.preview_status)
        app.post("/api/preview")(self.preview_start)
        app.post("/api/facecam")(self.facecam)
        app.file_routes["/span/"] = self.preview_file

    # ------------------------------------------------------------ what the clip route adds

    def describe(self, path: Path, info: media.VideoInfo, parsed: labels_lib.LabelFile | None,
                 unreadable: bool) -> dict[str, Any]:
        """Whether the page answers suggestions on this video, and for which label.

        A VOD is a file whose label file is partly reviewed, or one without a label file that
        is long (over labels.LONG_CLIP) or was named on the command line. A clip labeled
        whole stays in the ordinary labeler: answering would make its unmarked time unknown.
        """
        if unreadable:
            vod = False
        elif parsed is not None:
            vod = parsed.partial
        else:
            vod = info.duration > labels_lib.LONG_CLIP or path.resolve() == self.focus
        label = self.label or (parsed.label if parsed is not None else labels_lib.DEFAULT_LABEL)
        return {"vod": vod, "answer_label": label}

    # ------------------------------------------------------------ helpers

    def _clip(self, request: Request) -> tuple[Path, media.VideoInfo]:
        path = self.labeler._clip_path(request)
        return path, self.labeler.probe(path)

    def _label(self, request: Request) -> str:
        text = (request.body or request.query).get("label") or self.label or labels_lib.DEFAULT_LABEL
        try:
            return labels_lib.check_label_name(str(text))
        except ValueError as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from None

    def _label_file(self, path: Path) -> labels_lib.LabelFile | None:
        label_path = labels_lib.label_path_for(path, self.labeler.labels_dir)
        if not label_path.exists():
            return None
        try:
            return labels_lib.load_label(label_path, check_clip=False)
        except LabelError as exc:
            raise HttpError(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)) from None

    # ------------------------------------------------------------ suggestions

    def suggest_start(self, request: Request) -> dict[str, Any]:
        """Begin finding moments on the VOD for a label (or join the scan under way)."""
        path, info = self._clip(request)
        label = self._label(request)
        self.jobs.start(info, label)
        return self._status(path, info, label)

    def suggest_status(self, request: Request) -> dict[str, Any]:
        path, info = self._clip(request)
        return self._status(path, info, self._label(request))

    def _status(self, path: Path, info: media.VideoInfo, label: str) -> dict[str, Any]:
        """The scan's state; once ready, the candidates with the answer the file holds for each."""
        job = self.jobs.get(info, label)
        if job is None:
            return {"state": "absent", "label": label, "candidates": []}
        out = {**job.json(), "label": label, "duration": info.duration, "lead_in": LEAD_IN, "candidates": []}
        if job.state == "ready":
            parsed = self._label_file(path)
            rows = []
            for row in job.candidates:
                window = Segment(row["start"], row["end"])
                rows.append({**row, "view": list(view_of(window, info.duration)),
                             "answer": answer_of(parsed, label, window)})
            out["candidates"] = rows
            out["reviewed"] = round(parsed.reviewed_seconds(label), 3) if parsed is not None else 0.0
        return out

    # ------------------------------------------------------------ answers

    def answer(self, request: Request) -> dict[str, Any]:
        """Write one answer: yes (with the reaction's span) or no, for a candidate's window."""
        path, info = self._clip(request)
        body = request.body
        label = self._label(request)
        window = _span([body.get("start"), body.get("end")], info.duration, "the candidate")
        positive = _span(body["positive"], info.duration, "the reaction") if body.get("positive") else None
        try:
            positives, calm = answer_spans(window, str(body.get("answer")), positive)
        except ValueError as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        with self._write:
            updated = labels_lib.merge_review(path, self.labeler.labels_dir, label, positives, calm)
        seen = Segment(min(window.start, positives[0].start if positives else window.start),
                       max(window.end, positives[0].end if positives else window.end))
        start, end = view_of(seen, info.duration)
        label_path = labels_lib.label_path_for(path, self.labeler.labels_dir)
        return {"answer": answer_of(updated, label, window), "spans": spans_in(updated, start, end),
                "reviewed": round(updated.reviewed_seconds(label), 3),
                "counts": {n: len(v) for n, v in updated.by_label.items()},
                "label_file": self.labeler.app.relative(label_path), "row": self.labeler._row(path)}

    def spans(self, request: Request) -> dict[str, Any]:
        """Every label's segments and calm spans touching [start, end] of the VOD."""
        path, _ = self._clip(request)
        start, end = _number(request.query, "start"), _number(request.query, "end")
        return {"spans": spans_in(self._label_file(path), start, end)}

    def facecam(self, request: Request) -> dict[str, Any]:
        """Save the face-cam box of a VOD's label file (keeping every answer in it)."""
        path, _ = self._clip(request)
        try:
            box = labels_lib.validate_box(request.body.get("facecam"))
        except (ValueError, TypeError) as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        with self._write:
            updated = labels_lib.merge_review(path, self.labeler.labels_dir, self._label(request),
                                              facecam=box)
        return {"facecam": list(updated.facecam or ())}

    # ------------------------------------------------------------ previews of one window

    def _preview_span(self, request: Request) -> tuple[media.VideoInfo, float, float]:
        _, info = self._clip(request)
        body = request.body or request.query
        span = _span([body.get("start"), body.get("end")], info.duration, "the preview")
        return info, span.start, span.end

    def _preview_json(self, status: dict[str, str | None]) -> dict[str, Any]:
        return {**status, "url": "/span/" + str(status["name"])}

    def preview_status(self, request: Request) -> dict[str, Any]:
        return self._preview_json(self.previews.status(*self._preview_span(request)))

    def preview_start(self, request: Request) -> dict[str, Any]:
        """Make the preview of a window (first in line, or after the others with first=false)."""
        info, start, end = self._preview_span(request)
        first = request.body.get("first", True) is not False
        return self._preview_json(self.previews.start(info, start, end, first=first))

    def preview_file(self, name: str) -> Path:
        path = self.previews.file(name)
        if path is None:
            raise HttpError(HTTPStatus.NOT_FOUND, "preview not ready yet")
        return path
