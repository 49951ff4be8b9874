"""The review page's JSON API: a compiled reel's segments, keep/drop and nudge them, re-render.

It reads what `autotosis compile` left in output/<vod>/ (segments.json, scores.csv,
timeline.png, options.json, thumbs/) and re-runs only the render step with the segments
the user kept. The decisions are saved to review.json beside them, so the original
selection stays as compile wrote it and reopening the page shows the last choices.
A card's **short** button makes the vertical short of its span as it stands (into
shorts/, as `autotosis shorts` would) and plays it in the page. **Save as labels** writes
the decisions into the VOD's label file (`autotosis label --from-review`), so the next
`train` learns from them.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any

import numpy as np

from autotosis import media
from autotosis.core import palette
from autotosis.core.errors import AutotosisError
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.timeline import Segment, Timeline
from autotosis.core.transcript import TRANSCRIPT_FILE, read_transcript, spoken_between
from autotosis.pick.highlights import Highlight, label_of, peak_time
from autotosis.publish.shorts import ShortsConfig, needs_words
from autotosis.web.labeler import proxy_folder
from autotosis.web.proxy import ProxyCache, browser_playable
from autotosis.web.review_files import read_sidecars, shorts_config
from autotosis.web.server import HttpError, Request, WebApp

REVIEW_FILE = "review.json"


def _score_stats(timeline: Timeline | None, start: float, end: float) -> dict[str, float | None]:
    """Peak and mean score inside [start, end), recomputed so nudged edges show honest numbers."""
    if timeline is None or not len(timeline):
        return {"peak": None, "mean": None}
    inside = (timeline.times >= start) & (timeline.times < end)
    if not inside.any():
        nearest = int(np.argmin(np.abs(timeline.times - (start + end) / 2)))
        value = float(timeline.values[nearest])
        return {"peak": round(value, 4), "mean": round(value, 4)}
    values = timeline.values[inside]
    return {"peak": round(float(values.max()), 4), "mean": round(float(values.mean()), 4)}


def _peak_time(timeline: Timeline | None, start: float, end: float) -> float:
    """Where the card's player waits before play: the highest score of its span, the moment
    compile's thumbnail shows (not the calm first frame of the lead-in)."""
    return round(peak_time(Segment(start, end), timeline), 3)


def _chat_stats(chat: np.ndarray | None, start: float, end: float) -> dict[str, Any] | None:
    """Chat inside [start, end) from chat.csv's rows (time, messages, chatters, baseline, score):
    its peak score and the busiest window's messages; None without a chat replay."""
    if chat is None or not len(chat):
        return None
    inside = chat[(chat[:, 0] >= start) & (chat[:, 0] < end)]
    if not len(inside):
        return {"peak": 0.0, "messages": 0}
    return {"peak": round(float(inside[:, 4].max()), 4), "messages": int(inside[:, 1].max())}


class Review:
    """Routes for `autotosis review output/<vod>`."""

    def __init__(self, app: WebApp, folder: Path, proxies: ProxyCache, shorts: ShortsConfig | None = None):
        self.app = app
        self.folder = folder.resolve()
        self.proxies = proxies
        self.sidecars = read_sidecars(self.folder)
        self.vod = self.sidecars.vod
        self._lock = threading.Lock()
        self._render: dict[str, Any] = {"state": "idle", "error": None}
        self._shorts: dict[int, dict[str, Any]] = {}  # segment index -> state of its short
        self.shorts_config = shorts or shorts_config(self.folder)
        app.get("/api/review")(self.review)
        app.get("/api/stats")(self.stats)
        app.post("/api/render")(self.render)
        app.post("/api/labels")(self.save_labels)
        app.get("/api/render")(self.render_status)
        app.post("/api/short")(self.short_start)
        app.get("/api/short")(self.short_status)
        app.post("/api/proxy")(self.proxy_start)
        app.get("/api/proxy")(self.proxy_status)
        # The VOD usually lives outside the allowed folders: this route serves that one
        # file (named by compile's sidecars, never by the request) and its proxy.
        app.file_routes["/vod/"] = self.vod_file

    def _columns(self) -> dict[str, Timeline]:
        """scores.csv's timelines by column: one ("score"), or one per label of a several-label reel."""
        scores = self.folder / "scores.csv"
        return Timeline.columns_from_csv(scores) if scores.exists() else {}

    def _timeline(self, label: str | None = None,
                  columns: dict[str, Timeline] | None = None) -> Timeline | None:
        """The score a segment of `label` was chosen on (its own column), else the first column;
        from `columns` when the caller read scores.csv already."""
        columns = self._columns() if columns is None else columns
        return columns.get(label or "", next(iter(columns.values()), None))

    def _colours(self, columns: dict[str, Timeline]) -> dict[str, str]:
        """A colour per label when the reel has several, in the order the captions and the plot
        take them (the score columns, then segment labels); none for a one-label reel."""
        names = [*(name for name in columns if name != "score"),
                 *(seg.label for seg in self.sidecars.segments if seg.label)]
        return palette.label_colours(names) if len(set(names)) > 1 else {}

    def _chat(self) -> np.ndarray | None:
        path = self.folder / "chat.csv"
        if not path.exists():
            return None
        return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)

    def stats(self, request: Request) -> dict[str, Any]:
        """Scores of a nudged span, so the card shows what the new edges hold."""
        try:
            start, end = float(request.query["start"]), float(request.query["end"])
        except (KeyError, ValueError):
            raise HttpError(HTTPStatus.BAD_REQUEST, "give start and end in seconds") from None
        timeline = self._timeline(request.query.get("label"))
        return {**_score_stats(timeline, start, end), "chat": _chat_stats(self._chat(), start, end),
                "peak_time": _peak_time(timeline, start, end)}

    def review(self, request: Request) -> dict[str, Any]:
        """Everything the page shows: plot, VOD, segments with scores and the saved decisions."""
        chat = self._chat()
        saved = self._saved_decisions()
        columns = self._columns()  # read once: scores.csv of a five-hour VOD is 72,000 rows
        colours = self._colours(columns)
        said = self._words()
        segments = []
        for i, seg in enumerate(self.sidecars.segments):
            decision = saved.get(i, {"keep": True, "start": seg.start, "end": seg.end})
            label = seg.label or self.sidecars.label
            timeline = self._timeline(label, columns)
            segments.append({
                "index": i, "start": decision["start"], "end": decision["end"], "keep": decision["keep"],
                "label": label, "colour": colours.get(label),
                "original": [seg.start, seg.end], "thumb": self._thumb(i),
                "selected_peak": seg.peak, "selected_mean": seg.mean,
                **_score_stats(timeline, decision["start"], decision["end"]),
                "peak_time": _peak_time(timeline, decision["start"], decision["end"]),
                "chat": _chat_stats(chat, decision["start"], decision["end"]),
                "words": said[i] if i < len(said) else [],
            })
        info = media.probe(self.vod) if self.vod.exists() else None
        plot = self.folder / "timeline.png"
        reel = self.folder / "reel.mp4"
        return {
            "folder": self.app.relative(self.folder),
            "vod": self.vod.name, "vod_exists": info is not None,
            "duration": info.duration if info else None,
            "playable": browser_playable(info) if info else False,
            "plot": "/media/" + self.app.relative(plot) if plot.exists() else None,
            "reel": "/media/" + self.app.relative(reel) if reel.exists() else None,
            "segments": segments,
            "labels": [{"name": name, "colour": colour} for name, colour in colours.items()],
            "render": dict(self._render),
        }

    def _words(self) -> list[list[dict[str, Any]]]:
        """Each highlight's words from compile's transcript.json (none without speech captions)."""
        path = self.folder / TRANSCRIPT_FILE
        try:
            rows = read_transcript(path) if path.exists() else []
        except AutotosisError:
            return []  # a damaged transcript only loses the words under the cards
        return [[w.to_dict() for w in words] for _, _, words in rows]

    def _thumb(self, index: int) -> str | None:
        """URL of compile's peak-frame thumbnail for segment `index` (thumbs/NN-*.jpg), if there is one."""
        found = sorted((self.folder / "thumbs").glob(f"{index + 1:02d}-*.jpg"))
        return "/media/" + self.app.relative(found[0]) if found else None

    def _short_item(self, index: int, start: float, end: float) -> Highlight:
        own = self.sidecars.segments[index].label if 0 <= index < len(self.sidecars.segments) else ""
        scores = self._timeline(own)
        stats = _score_stats(scores, start, end)
        segment = Segment(start, end, stats["peak"] or 0.0, stats["mean"] or 0.0, label=own)
        return Highlight(index, segment, label_of(segment, self.sidecars.label or "highlight"),
                         peak_time(segment, scores))

    def short_start(self, request: Request) -> dict[str, Any]:
        """Make the short of one card's span as it stands now, in the background."""
        body = request.body
        try:
            index, start, end = int(body["index"]), float(body["start"]), float(body["end"])
            item = self._short_item(index, start, end)
        except (KeyError, TypeError, ValueError) as exc:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"give index, start and end ({exc})") from None
        if not 0 <= index < len(self.sidecars.segments):
            raise HttpError(HTTPStatus.BAD_REQUEST, f"no segment {index + 1}")
        with self._lock:
            if self._shorts.get(index, {}).get("state") == "running":
                raise HttpError(HTTPStatus.CONFLICT, "this short is being made already")
            self._shorts[index] = {"state": "running", "error": None, "url": None}
        threading.Thread(target=self._make_short, args=(item,), daemon=True).start()
        return self.short_status_of(index)

    def _make_short(self, item: Highlight) -> None:
        try:
            from autotosis.publish.shorts import (  # the encoder loads on first use only
                facecam_for,
                make_shorts,
            )

            options = self._options()
            box, _ = facecam_for(self.vod, options.get("facecam"), self.shorts_config.layout)
            track = int((options.get("render") or {}).get("audio_track", 0))
            config = dataclasses.replace(self.shorts_config, jobs=1)
            words = self._short_words(item, options) if needs_words(config) else None
            path = make_shorts(self.vod, [item], self.folder / "shorts", config, box, True, None, track,
                               (lambda: [words]) if words is not None else None)[0]
            url = f"/media/{self.app.relative(path)}?v={path.stat().st_mtime_ns}"  # never a cached old one
            result: dict[str, Any] = {"state": "done", "error": None, "url": url}
        except AutotosisError as exc:
            result = {"state": "failed", "error": str(exc), "url": None}
        except Exception as exc:  # a bug must still reach the page, not leave it waiting forever
            result = {"state": "failed", "error": f"internal error: {exc!r}", "url": None}
        with self._lock:
            self._shorts[item.index] = result

    def _short_words(self, item: Highlight, options: dict[str, Any]) -> list[Any] | None:
        """The words of a card's span: compile's transcript when it covers it, else transcribed now
        (cached per span, so asking again is free); None when there is no model."""
        from autotosis.run.compile.speech import speech_config, speech_track, words_now

        seg = item.segment
        known = spoken_between(self.folder / TRANSCRIPT_FILE, seg.start, seg.end)
        if known is not None:
            return known
        found, _ = words_now(self.vod, [seg], speech_track(options), speech_config(options))
        return found[0] if found is not None else None

    def short_status_of(self, index: int) -> dict[str, Any]:
        with self._lock:
            return {"index": index, **self._shorts.get(index, {"state": "idle", "error": None, "url": None})}

    def short_status(self, request: Request) -> dict[str, Any]:
        try:
            index = int(request.query["index"])
        except (KeyError, ValueError):
            raise HttpError(HTTPStatus.BAD_REQUEST, "give the segment's index") from None
        return self.short_status_of(index)

    def _options(self) -> dict[str, Any]:
        try:
            return dict(json.loads((self.folder / "options.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return {}

    def _saved_decisions(self) -> dict[int, dict[str, Any]]:
        path = self.folder / REVIEW_FILE
        if not path.exists():
            return {}
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))["segments"]
            return {int(r["index"]): {"keep": bool(r["keep"]), "start": float(r["start"]),
                                      "end": float(r["end"])} for r in rows}
        except (ValueError, KeyError, TypeError):
            return {}  # a hand-damaged review.json only loses the previous choices

    def _decisions(self, body: dict[str, Any], render: bool = True) -> list[dict[str, Any]]:
        rows = body.get("segments")
        count = len(self.sidecars.segments)
        if not isinstance(rows, list) or len(rows) != count:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"expected decisions for all {count} segments")
        out = []
        for i, row in enumerate(rows):
            try:
                start, end, keep = float(row["start"]), float(row["end"]), bool(row["keep"])
                Segment(start, end)
            except (KeyError, TypeError, ValueError) as exc:
                raise HttpError(HTTPStatus.BAD_REQUEST, f"segment {i + 1}: {exc}") from None
            out.append({"index": i, "keep": keep, "start": round(start, 3), "end": round(end, 3)})
        kept = sorted((r for r in out if r["keep"]), key=lambda r: r["start"])
        for a, b in itertools.pairwise(kept):
            if b["start"] < a["end"]:
                message = f"segments {a['index'] + 1} and {b['index'] + 1} overlap"
                raise HttpError(HTTPStatus.BAD_REQUEST, message)
        if render and not kept:
            raise HttpError(HTTPStatus.BAD_REQUEST, "keep at least one segment to render a reel")
        return out

    def save_labels(self, request: Request) -> dict[str, Any]:
        """Save the decisions and write them into labels/<vod>.toml: kept highlights' reactions
        as positive segments, dropped highlights as calm spans (learn/labels/review.py)."""
        from autotosis.learn.labels.review import save_review_labels

        decisions = self._decisions(request.body, render=False)
        atomic_write_text(self.folder / REVIEW_FILE, json.dumps({"segments": decisions}, indent=1) + "\n")
        saved = save_review_labels(self.folder, self.app.project / "labels",
                                   models_dir=self.app.project / "models")
        return {"message": saved.summary(self.app.relative(saved.path)),
                "facecam": saved.label_file.facecam is not None}

    def render(self, request: Request) -> dict[str, Any]:
        """Save the decisions and re-render the reel from the kept segments, in the background."""
        decisions = self._decisions(request.body)
        with self._lock:
            if self._render["state"] == "running":
                raise HttpError(HTTPStatus.CONFLICT, "a render is already running")
            self._render = {"state": "running", "error": None}
        atomic_write_text(self.folder / REVIEW_FILE, json.dumps({"segments": decisions}, indent=1) + "\n")
        ordered = sorted(decisions, key=lambda r: r["start"])
        labels = [seg.label for seg in self.sidecars.segments]
        kept = [Segment(r["start"], r["end"], label=labels[r["index"]]) for r in ordered if r["keep"]]
        threading.Thread(target=self._run_render, args=(kept,), daemon=True).start()
        return dict(self._render)

    def _run_render(self, kept: list[Segment]) -> None:
        try:
            from autotosis.run.compile import rerender  # the render stack loads on the first render only

            rerender(self.folder, kept)
            result: dict[str, Any] = {"state": "done", "error": None}
        except AutotosisError as exc:
            result = {"state": "failed", "error": str(exc)}
        except Exception as exc:  # a bug must still reach the page, not leave it waiting forever
            result = {"state": "failed", "error": f"internal error: {exc!r}"}
        with self._lock:
            self._render = result

    def render_status(self, request: Request) -> dict[str, Any]:
        with self._lock:
            return dict(self._render)

    def _vod_info(self) -> media.VideoInfo:
        if not self.vod.exists():
            raise HttpError(HTTPStatus.NOT_FOUND, f"the VOD {self.vod} is gone")
        return media.probe(self.vod)

    def proxy_start(self, request: Request) -> dict[str, Any]:
        return dict(self.proxies.start(self._vod_info()))

    def proxy_status(self, request: Request) -> dict[str, Any]:
        return dict(self.proxies.status(self._vod_info()))

    def vod_file(self, text: str) -> Path:
        info = self._vod_info()
        if text == "proxy.mp4":
            target = self.proxies.path_for(info)
            if not target.exists():
                raise HttpError(HTTPStatus.NOT_FOUND, "preview not ready yet")
            return target
        if text != "original" + self.vod.suffix.lower():
            raise HttpError(HTTPStatus.NOT_FOUND, "no such file")
        return self.vod


def review_app(project: Path, folder: Path, shorts: ShortsConfig | None = None) -> WebApp:
    """The review page for one compile output folder (output/<vod>/ inside the project).

    `shorts` sets how the page's short previews look (default: as compile made them).
    """
    project = project.resolve()
    app = WebApp(project=project, page="review.html", roots=review_roots(project), title="autotosis review")
    mount_review(app, folder, shorts)
    return app


def review_roots(project: Path) -> list[Path]:
    """The folders the review page serves files from: outputs, clips and label files."""
    return [project / "output", project / "clips", project / "labels"]


def mount_review(app: WebApp, folder: Path, shorts: ShortsConfig | None = None) -> None:
    """Add the review's routes for `folder` to `app` (whose project holds it in output/): the
    review page's own app, or the live page's once the stream has written segments.json."""
    folder = folder.resolve()
    output = app.project / "output"
    if not folder.is_relative_to(output):
        raise AutotosisError(f"{folder}: give a folder inside {output} (what `autotosis compile` wrote)")
    if not (folder / "segments.json").exists():
        raise AutotosisError(f"{folder}: no segments.json here; run `autotosis compile` first")
    Review(app, folder, ProxyCache(proxy_folder(app.project)), shorts)
