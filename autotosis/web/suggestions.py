"""Suggestions on a VOD for the labeler page: found in the background, then answered one by one.

A scan of a long VOD takes a while, so `SuggestionJobs` runs `run.suggest` in a worker
thread (one at a time, like the proxies) and the page polls its progress. The answer
rules are pure functions here so they are tested without a browser: what a Y or an N
writes (`answer_spans`), and what the label file already says about a candidate's window
(`answer_of`), which is how a reloaded page shows the answers given so far.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.timeline import Segment
from autotosis.learn import labels as labels_lib
from autotosis.run.compile import CompileEvents

# Seconds played before a candidate when the person asks to see it: what led up to a
# reaction is what tells a reaction from a loud game moment.
LEAD_IN = 2.0
# Seconds of VOD shown (and, for a VOD the browser cannot play, previewed) either side of
# a candidate, beyond the lead-in: room to drag an edge out when the reaction runs long.
CONTEXT = 6.0
# A calm remainder shorter than this beside a Y answer is edge slop, not a look at the VOD.
MIN_CALM = 0.25

# (fraction 0..1 of the stage, or -1 for a note; the stage's name or the note's text)
Progress = Callable[[float, str], None]
Suggester = Callable[[Path, str, Progress], Sequence[Any]]  # (vod, label, progress) -> candidates


class _Events(CompileEvents):
    """suggest's progress (compile's scoring half) as one Progress callback for the page."""

    def __init__(self, progress: Progress):
        self._progress = progress

    def note(self, message: str) -> None:
        self._progress(-1.0, message)

    def scan_stage(self, name: str) -> None:
        self._progress(0.0, f"face-cam scan: {name}")

    def scan_progress(self, position: float, duration: float) -> None:
        self._progress(position / duration if duration > 0 else 0.0, "face-cam scan")

    def loudness_progress(self, position: float, duration: float) -> None:
        self._progress(position / duration if duration > 0 else 0.0, "loudness")


def default_suggester(model: Path | None = None, labels_dir: Path | None = None) -> Suggester:
    """`run.suggest` with its defaults: the newest model in models/ for the label, the chat
    replay beside the VOD; `model` when the page was opened with `--model`."""

    def run(vod: Path, label: str, progress: Progress) -> Sequence[Any]:
        from autotosis.run.suggest import SuggestOptions, suggest

        options = SuggestOptions(label=label, model=model)
        if labels_dir is not None:
            options.labels_dir = labels_dir
        if vod.is_absolute() and vod.is_relative_to(Path.cwd().resolve()):
            vod = vod.relative_to(Path.cwd().resolve())  # notes name files as the person typed them
        return suggest(vod, options, events=_Events(progress))

    return run


def candidate_json(candidate: Any, index: int) -> dict[str, Any]:
    """A Candidate as the page reads it (the fields it needs; numbers rounded for the wire)."""
    def text(name: str) -> str:
        return str(getattr(candidate, name, "") or "")

    peak = getattr(candidate, "peak", None)
    return {
        "index": index, "start": round(float(candidate.start), 3), "end": round(float(candidate.end), 3),
        "peak": round(float(peak), 3) if peak is not None else None,
        "score": round(float(getattr(candidate, "score", 0.0)), 4),
        "reason": text("reason"), "kind": text("kind"), "label": text("label"),
    }


# ---------------------------------------------------------------- answers


def answer_spans(window: Segment, answer: str, positive: Segment | None = None
                 ) -> tuple[list[Segment], list[Segment]]:
    """(positives, calm) that answering a candidate writes through `labels.merge_review`.

    N: the whole candidate window is calm. Y: the reaction (`positive`, default the whole
    window) is the positive segment, and what else of the window the person looked at is
    calm; a reaction dragged past the window's edges widens what was looked at.
    """
    if answer == "no":
        return [], [window]
    if answer != "yes":
        raise ValueError(f"an answer is yes or no, not {answer!r}")
    reaction = positive or window
    low, high = min(window.start, reaction.start), max(window.end, reaction.end)
    calm = [Segment(a, b) for a, b in ((low, reaction.start), (reaction.end, high)) if b - a >= MIN_CALM]
    return [reaction], calm


def answer_of(label_file: labels_lib.LabelFile | None, label: str, window: Segment) -> dict[str, Any] | None:
    """What the label file says about a candidate's window: yes (with the reaction), no, or None.

    A positive segment of `label` overlapping the window means yes (the newest answer
    replaced any other there); otherwise calm over most of the window means no.
    """
    if label_file is None:
        return None
    hits = [s for s in label_file.by_label.get(label, ()) if s.overlap(window) > 0]
    if hits:
        reaction = max(hits, key=window.overlap)
        return {"answer": "yes", "positive": [reaction.start, reaction.end]}
    seen = sum(s.overlap(window) for s in label_file.calm_for(label))
    if label_file.partial and seen >= 0.5 * window.duration:
        return {"answer": "no", "positive": None}
    return None


def spans_in(label_file: labels_lib.LabelFile | None, start: float, end: float) -> dict[str, Any]:
    """Each label's segments and calm spans that touch [start, end]: what a window on a long
    VOD draws, never the whole file's."""
    out: dict[str, Any] = {}
    if label_file is None:
        return out
    for name, segments in label_file.by_label.items():
        out[name] = {
            "segments": [[s.start, s.end] for s in segments if s.start < end and s.end > start],
            "calm": [[s.start, s.end] for s in label_file.calm_for(name) if s.start < end and s.end > start],
        }
    return out


def view_of(window: Segment, duration: float) -> tuple[float, float]:
    """The stretch of VOD the page shows (and previews) for a candidate: lead-in and context."""
    return max(0.0, window.start - LEAD_IN - CONTEXT), min(duration, window.end + CONTEXT)


# ---------------------------------------------------------------- background scans


@dataclasses.dataclass
class Job:
    """One VOD's suggestions for one label, as the page polls them."""

    state: str = "running"  # running | ready | failed
    progress: float = 0.0  # 0..1 through the current stage
    stage: str = "queued"
    candidates: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    error: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)  # what suggest said (the model used, ...)

    def json(self) -> dict[str, Any]:
        return {"state": self.state, "progress": round(self.progress, 3), "stage": self.stage,
                "error": self.error, "count": len(self.candidates), "notes": list(self.notes)}


class SuggestionJobs:
    """Suggestions per (VOD identity, label), found once per run of the page in a worker thread.

    One scan at a time, so opening several VODs never floods the CPU; a failed scan is
    tried again when the page asks again; a VOD replaced on disk gets a new scan.
    """

    def __init__(self, suggester: Suggester):
        self.suggester = suggester
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, str], Job] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autotosis-suggest")

    def get(self, info: media.VideoInfo, label: str) -> Job | None:
        with self._lock:
            return self._jobs.get((info.identity, label))

    def start(self, info: media.VideoInfo, label: str) -> Job:
        """The job for this VOD and label, begun now unless it is under way or done."""
        key = (info.identity, label)
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state != "failed":
                return job
            job = self._jobs[key] = Job()
        self._pool.submit(self._run, info.path, label, job)
        return job

    def _run(self, vod: Path, label: str, job: Job) -> None:
        def progress(fraction: float, text: str) -> None:
            with self._lock:
                if fraction < 0:
                    job.notes.append(text)
                else:
                    job.stage, job.progress = text, min(1.0, fraction)

        progress(0.0, "starting")
        try:
            found = self.suggester(vod, label, progress)
            rows = [candidate_json(c, k) for k, c in enumerate(found)]
        except AutotosisError as exc:
            with self._lock:
                job.state, job.error = "failed", str(exc)
            return
        except Exception as exc:  # a bug must reach the page, not die silently in a thread
            with self._lock:
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            return
        with self._lock:
            job.candidates, job.progress, job.stage, job.state = rows, 1.0, "done", "ready"

    def wait(self) -> None:
        """Block until queued scans are done (tests)."""
        self._pool.submit(lambda: None).result()
