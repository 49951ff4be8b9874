"""The labeler page's JSON API: list clips, open one, save its label file, detect the face-cam.

Saving goes through `labels.save_label`, so the page writes exactly the TOML files the
CLI writes (atomic, comments kept) and refuses to overwrite a file edited on disk since
the page read it unless the user says so. A VOD opens in answer mode instead: its routes
(suggestions, answers, span previews) live in `answers`.
"""

from __future__ import annotations

import contextlib
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from autotosis import media
from autotosis.core import palette, paths
from autotosis.core.errors import AutotosisError, LabelError
from autotosis.core.timecode import parse_time
from autotosis.core.timeline import Segment
from autotosis.learn import labels as labels_lib
from autotosis.web.answers import AnswerRoutes
from autotosis.web.proxy import ProxyCache, SpanPreviews, browser_playable
from autotosis.web.server import HttpError, Request, WebApp
from autotosis.web.suggestions import Suggester, SuggestionJobs, default_suggester

VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".mov", ".webm", ".flv", ".ts", ".m4v", ".avi"})


def proxy_folder(project: Path) -> Path:
    """paths.cache_dir() is relative to the project folder unless AUTOTOSIS_CACHE is absolute."""
    return project / paths.cache_dir() / "proxy"


class Labeler:
    """Routes for one run of `autotosis label --ui` over the clips in `clips_dir`."""

    def __init__(self, app: WebApp, clips_dir: Path, labels_dir: Path, proxies: ProxyCache):
        self.app = app
        self.clips_dir = clips_dir.resolve()
        self.labels_dir = labels_dir.resolve()
        self.proxies = proxies
        self.answers: AnswerRoutes | None = None  # set by labeler_app: the VOD routes
        self._probed: dict[tuple[str, int, int], media.VideoInfo] = {}
        self._probe_lock = threading.Lock()
        app.get("/api/clips")(self.clips)
        app.get("/api/clip")(self.clip)
        app.post("/api/save")(self.save)
        app.post("/api/detect")(self.detect)
        app.get("/api/proxy")(self.proxy_status)
        app.post("/api/proxy")(self.proxy_start)
        app.file_routes["/proxy/"] = self.proxy_file

    # ------------------------------------------------------------ helpers

    def _clip_path(self, request: Request) -> Path:
        text = request.body.get("clip") if request.body else request.query.get("clip")
        if not isinstance(text, str):
            raise HttpError(HTTPStatus.BAD_REQUEST, "which clip? (clip=clips/x.mp4)")
        path = self.app.project_file(text)
        if not path.is_relative_to(self.clips_dir) or path.suffix.lower() not in VIDEO_SUFFIXES:
            folder = self.app.relative(self.clips_dir)
            raise HttpError(HTTPStatus.FORBIDDEN, f"not a clip in {folder}/: {text}")
        return path

    def _label_path(self, clip: Path) -> Path:
        return labels_lib.label_path_for(clip, self.labels_dir)

    def probe(self, path: Path) -> media.VideoInfo:
        """ffprobe once per file version: the page polls, and a VOD's probe is not free."""
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._probe_lock:
            info = self._probed.get(key)
        if info is None:
            info = media.probe(path)
            with self._probe_lock:
                self._probed[key] = info
        return info

    def _row(self, clip: Path) -> dict[str, Any]:
        label_path = self._label_path(clip)
        row: dict[str, Any] = {
            "clip": self.app.relative(clip), "label_file": self.app.relative(label_path),
            "status": "unlabeled", "segments": 0, "positive": 0.0, "facecam": False, "problem": None,
        }
        if label_path.exists():
            try:
                parsed = labels_lib.load_label(label_path, check_clip=False)
            except LabelError as exc:
                row.update(status="error", problem=str(exc))
            else:
                row.update(status="labeled", segments=sum(len(v) for v in parsed.by_label.values()),
                           positive=round(sum(map(parsed.seconds, parsed.labels)), 3),
                           facecam=parsed.facecam is not None, partial=parsed.partial,
                           reviewed=round(sum(map(parsed.reviewed_seconds, parsed.labels)), 3),
                           labels={n: len(v) for n, v in parsed.by_label.items()})
        return row

    # ------------------------------------------------------------ routes

    def clips(self, request: Request) -> dict[str, Any]:
        """Every video in the clips folder with its label status, sorted by name, and the label
        colours: the captions', timeline.png's and the review page's (palette.py), given to the
        project's labels in the order `train` gives a model's heads (sorted), so a label looks
        the same here as in its reel; a label new to the project takes the next of `palette`."""
        found = sorted(p for p in self.clips_dir.rglob("*")
                       if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file() and not p.name.startswith("."))
        rows = [self._row(p) for p in found if p.resolve().is_relative_to(self.clips_dir)]
        names = sorted({name for row in rows for name in row.get("labels", {})})
        focus = self.answers.focus if self.answers is not None else None
        return {"clips": rows, "colours": palette.label_colours(names),
                "palette": list(palette.LABEL_COLOURS), "focus": self.app.relative(focus) if focus else None}

    def clip(self, request: Request) -> dict[str, Any]:
        """One clip: what the player needs, its current label and the file's digest for saving."""
        path = self._clip_path(request)
        info = self.probe(path)
        label_path = self._label_path(path)
        rel = self.app.relative(path)
        playable = browser_playable(info)
        out: dict[str, Any] = {
            **self._row(path),
            "duration": info.duration, "width": info.width, "height": info.height,
            "fps": float(info.fps), "codec": info.codec, "playable": playable,
            "video": "/media/" + quote(rel) if playable else None,
            "proxy": None if playable else {**self.proxies.status(info), "url": "/proxy/" + quote(rel)},
            "label": None, "digest": labels_lib.digest(label_path),
        }
        parsed, unreadable = None, False
        if label_path.exists():
            try:
                parsed = labels_lib.load_label(label_path, check_clip=False)
            except LabelError:
                unreadable = True
        if self.answers is not None:
            out.update(self.answers.describe(path, info, parsed, unreadable))
        if parsed is None:
            return out
        # A VOD's spans come a window at a time (/api/spans): its file may hold hours of answers.
        vod = out.get("vod", False)
        out["label"] = {
            "label": parsed.label,
            "facecam": list(parsed.facecam) if parsed.facecam else None,
            "segments": [] if vod else [[s.start, s.end] for s in parsed.segments],
            "labels": {n: [] if vod else [[s.start, s.end] for s in v] for n, v in parsed.by_label.items()},
            "counts": {n: len(v) for n, v in parsed.by_label.items()},
        }
        return out

    def save(self, request: Request) -> dict[str, Any]:
        """Validate against the clip, then write the label file unless it changed on disk meanwhile."""
        path = self._clip_path(request)
        body = request.body
        label_path = self._label_path(path)
        duration = self.probe(path).duration
        raw = body.get("labels")
        if raw is None:  # one label's segments: the file's other labels stay as they are
            raw = {body.get("label") or labels_lib.DEFAULT_LABEL: body.get("segments") or []}
        if not isinstance(raw, dict) or not raw:
            raise HttpError(HTTPStatus.BAD_REQUEST, "labels must map each label to its [start, end] pairs")
        try:
            box = labels_lib.validate_box(body["facecam"]) if body.get("facecam") is not None else None
            by_label = {labels_lib.check_label_name(name): self._segments(pairs, duration, name)
                        for name, pairs in raw.items()}
        except (ValueError, TypeError) as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        on_disk = labels_lib.digest(label_path)
        if not body.get("force") and on_disk != body.get("digest"):
            raise HttpError(
                HTTPStatus.CONFLICT,
                f"{self.app.relative(label_path)} changed on disk since it was opened; "
                "reload it, or save again to overwrite",
                conflict=True,
            )
        previous = None
        if on_disk is not None:
            with contextlib.suppress(LabelError):  # an unreadable file is replaced by what the page holds
                previous = labels_lib.load_label(label_path, check_clip=False)
        if body.get("labels") is None and previous is not None:
            by_label = {**previous.by_label, **by_label}
        calm = self._kept_calm(previous, by_label)
        updated = labels_lib.make_label_file(path, box, by_label, calm=calm)
        labels_lib.save_label(updated, label_path, expect_digest=on_disk)
        return self.clip(Request(request.path, {"clip": self.app.relative(path)}, {}))

    @staticmethod
    def _kept_calm(previous: labels_lib.LabelFile | None,
                   by_label: dict[str, tuple[Segment, ...]]) -> dict[str, tuple[Segment, ...]] | None:
        """A partly reviewed file stays so: its calm spans are kept, less any that the page's
        segments now overlap (the newest answer wins, as in `labels.merge_review`)."""
        if previous is None or not previous.partial:
            return None
        return {name: tuple(c for c in previous.calm_for(name)
                            if not any(c.start < s.end and s.start < c.end for s in spans))
                for name, spans in by_label.items()}

    @staticmethod
    def _segments(pairs: object, duration: float, name: str) -> tuple[Segment, ...]:
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise ValueError(f"{name}: segments must be a list of [start, end] pairs")
        try:
            return tuple(labels_lib.check_segments(
                [Segment(parse_time(round(a, 3)), parse_time(round(b, 3))) for a, b in pairs], duration))
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None

    def detect(self, request: Request) -> dict[str, Any]:
        """Propose the face-cam box with the same detector as `--facecam auto`."""
        from autotosis.learn.facecam import detect_facecam

        guess = detect_facecam(self._clip_path(request))
        return {"box": list(guess.box), "face": list(guess.face),
                "frames_with_face": guess.frames_with_face, "frames_sampled": guess.frames_sampled}

    def proxy_status(self, request: Request) -> dict[str, Any]:
        return dict(self.proxies.status(self.probe(self._clip_path(request))))

    def proxy_start(self, request: Request) -> dict[str, Any]:
        """Begin the browser preview of a clip (made once, cached under the cache folder)."""
        return dict(self.proxies.start(self.probe(self._clip_path(request))))

    def proxy_file(self, text: str) -> Path:
        path = self._clip_path(Request("/proxy/", {"clip": text}, {}))
        target = self.proxies.path_for(self.probe(path))
        if not target.exists():
            raise HttpError(HTTPStatus.NOT_FOUND, "preview not ready yet")
        return target


def labeler_app(project: Path, clips_dir: Path | None = None, labels_dir: Path | None = None, *,
                label: str | None = None, model: Path | None = None,
                suggester: Suggester | None = None) -> WebApp:
    """The labeler page over `clips_dir` (default project/clips); it must lie inside the project.

    `clips_dir` may name one video: the page opens on it, in the folder around it, and
    answers suggestions on it (see AnswerRoutes.describe). `label` is the reaction asked
    about on VODs; `model` the checkpoint `suggest` uses; `suggester` replaces `suggest`.
    """
    project = project.resolve()
    focus = None
    if clips_dir is not None and clips_dir.suffix.lower() in VIDEO_SUFFIXES and not clips_dir.exists():
        raise AutotosisError(f"{clips_dir}: no such file")
    if clips_dir is not None and clips_dir.is_file():
        if clips_dir.suffix.lower() not in VIDEO_SUFFIXES:
            kinds = ", ".join(sorted(VIDEO_SUFFIXES))
            raise AutotosisError(f"{clips_dir}: not a video (expected one of {kinds})")
        focus, clips_dir = clips_dir.resolve(), clips_dir.resolve().parent
    clips = (clips_dir or project / "clips").resolve()
    label_folder = (labels_dir or project / "labels").resolve()
    for folder, what in ((clips, "clips"), (label_folder, "labels")):
        if not folder.is_relative_to(project):
            raise AutotosisError(f"{folder}: the {what} folder must be inside the project folder {project}")
    if not clips.is_dir():
        raise AutotosisError(f"{clips}: no such clips folder")
    app = WebApp(project=project, page="labeler.html", roots=[clips, label_folder, project / "output"],
                 title="autotosis label")
    labeler = Labeler(app, clips, label_folder, ProxyCache(proxy_folder(project)))
    jobs = SuggestionJobs(suggester or default_suggester(model, label_folder))
    labeler.answers = AnswerRoutes(labeler, jobs, SpanPreviews(proxy_folder(project) / "spans"), label, focus)
    if focus is not None:
        app.title = f"autotosis label {app.relative(focus)}"
    return app
