"""A batch's state: whether a VOD's folder is already done, its result, and batch.json.

Apart because a re-run is decided from what is on disk, the same way wherever the VODs run
(worker processes here, Ray tasks elsewhere): the folder's options against the ones asked now.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotosis.core.errors import AutotosisError
from autotosis.core.fsutil import atomic_write_text
from autotosis.run.batch.inputs import Job
from autotosis.run.compile import CompileOptions

DONE, SKIPPED, FAILED, INTERRUPTED = "done", "skipped", "failed", "interrupted"


@dataclass
class VodResult:
    """One VOD's line of the summary and of batch.json."""

    source: str
    status: str  # done | skipped | failed | interrupted
    out_dir: str | None = None
    duration: float | None = None  # the VOD's, in seconds
    highlights: int | None = None
    reel_seconds: float | None = None
    wall_seconds: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _reel_seconds(segments: list[dict], crossfade: float) -> float:
    total = sum(float(s["end"]) - float(s["start"]) for s in segments)
    return max(0.0, total - crossfade * max(0, len(segments) - 1))


def _signals(scorer: object) -> set[str]:
    """The signals a recorded scorer used: "fused" is model and loudness, else the +-joined names."""
    text = str(scorer or "")
    return {"model", "loudness"} if text == "fused" else set(text.split("+"))


def _expected(options: CompileOptions, recorded_scorer: object) -> dict[str, Any]:
    """The options.json values that the asked options pin down; per-machine ones (threads,
    render jobs), the scorer when not given (see completeness) and the model's own threshold
    (when not given) are left out."""
    from autotosis.pick.select import SelectConfig

    want: dict[str, Any] = {"vod": str(options.vod.absolute()), "url": options.url,
                            "fuse_weight": options.fuse_weight}
    if options.scorer is not None:
        want["scorer"] = options.scorer
    render = options.render.to_dict()
    render.pop("jobs")  # how fast, not what: a batch sizes it to the machine
    want["render"] = render
    select = dataclasses.asdict(SelectConfig())
    select.pop("enter")
    select.pop("leave")
    want["select"] = {**select, **{k: v for k, v in options.select.items() if v is not None}}
    if "model" in _signals(recorded_scorer):
        scan = dataclasses.asdict(options.scan)
        want["scan"] = {k: scan[k] for k in ("mode", "device", "precision")}
        if options.scan.fps is not None:
            want["scan"]["fps"] = options.scan.fps
        if options.facecam not in (None, "auto"):
            want["facecam"] = list(options.facecam)  # type: ignore[arg-type]
    return want


def _asked_models(options: CompileOptions) -> list[str]:
    """Every --model asked, absolute, each once, in order (the first names the reel's label)."""
    paths = [options.model, *options.more_models] if options.model is not None else []
    return list(dict.fromkeys(str(path.absolute()) for path in paths))


def _other_models(options: CompileOptions, recorded: dict) -> str | None:
    """Why the checkpoints recorded in options.json are not the ones asked now, or None.

    Each --model counts, not only the first: a second model changed means other labels.
    With --labels a model none of those labels needs was not run, so it is not recorded.
    """
    runs = recorded.get("models")
    have = [str(m.get("model")) for m in runs if isinstance(m, dict)] if isinstance(runs, list) \
        else [str(recorded.get("model"))]
    asked = _asked_models(options)
    asked_labels = list(dict.fromkeys(options.labels)) if options.labels else None
    if "asked_labels" in recorded and recorded["asked_labels"] != asked_labels:
        return f"made with --labels {','.join(recorded['asked_labels'])}" if recorded["asked_labels"] \
            else "made without --labels"
    if options.labels:
        labels = recorded.get("labels") or [recorded.get("label")]
        if asked_labels != labels:
            return f"made with other labels ({', '.join(map(str, labels))})"
        asked = [path for path in asked if path in have]
    if have == asked:
        return None
    return f"made with another model ({have[0]})" if len(have) == 1 and len(asked) <= 1 else \
        f"made with other models ({', '.join(have)})"


def completeness(options: CompileOptions, folder: Path) -> str | None:
    """None when `folder` holds a complete reel of `options.vod` made with these options,
    else why not ("missing" when there is no reel at all, "incomplete" when a run stopped
    before its sidecars, else what differs)."""
    reel, opts, segs = folder / "reel.mp4", folder / "options.json", folder / "segments.json"
    if not reel.exists():
        return "missing"
    try:
        recorded = json.loads(opts.read_text(encoding="utf-8"))
        json.loads(segs.read_text(encoding="utf-8"))["segments"]
        if segs.stat().st_mtime_ns < opts.stat().st_mtime_ns:
            return "incomplete"
    except (OSError, ValueError, KeyError, TypeError):
        return "incomplete"
    used_model = "model" in _signals(recorded.get("scorer"))
    if options.scorer is None and used_model != (options.model is not None):
        # The scorer was left to choose: a model trained (or removed) since changes its choice.
        return f"made with another scorer ({recorded.get('scorer')})"
    for key, value in _expected(options, recorded.get("scorer")).items():
        have = recorded.get(key)
        if isinstance(value, dict):
            have = have if isinstance(have, dict) else {}
            diff = [k for k, v in value.items() if have.get(k) != v]
            if diff:
                return f"made with other {key} options ({', '.join(diff)})"
        elif have != value and not (key == "scorer" and value == "fused" and have == "model"):
            return f"made with another {key} ({have})"
    if used_model:
        why = _other_models(options, recorded)
        if why is not None:
            return why
    reel_time = reel.stat().st_mtime_ns
    if options.vod.stat().st_mtime_ns > reel_time:
        return "the VOD changed since"
    models = _asked_models(options) if used_model else []
    for model in models:
        if Path(model).exists() and Path(model).stat().st_mtime_ns > reel_time:
            return "the model changed since" if len(models) == 1 else f"the model {model} changed since"
    return None


def already_complete(job: Job, base: CompileOptions, out_root: Path, name: str | None) -> VodResult | None:
    """The skipped result when a local VOD's folder is complete, checked where the batch runs
    (a re-run of a big archive then starts no worker for what is done); None otherwise."""
    if job.vod is None or name is None or base.force or not job.vod.is_file():
        return None
    folder = out_root / name
    options = dataclasses.replace(base, vod=job.vod, out_dir=folder)
    if completeness(options, folder) is not None:
        return None
    result = VodResult(job.source, SKIPPED, str(folder))
    try:
        _fill_figures(result, folder, options)
    except (AutotosisError, OSError, ValueError, KeyError):
        return None  # let the worker look again and report what is wrong
    return result


def _fill_figures(result: VodResult, folder: Path, options: CompileOptions) -> None:
    from autotosis import media

    segments = json.loads((folder / "segments.json").read_text(encoding="utf-8"))["segments"]
    result.highlights = len(segments)
    result.reel_seconds = round(_reel_seconds(segments, options.render.crossfade), 3)
    result.duration = round(media.probe(options.vod).duration, 3)


@dataclass
class BatchReport:
    results: list[VodResult]
    wall_seconds: float
    manifest: Path
    runner: str = "local"  # how the VODs ran, for the summary line

    @property
    def failed(self) -> list[VodResult]:
        return [r for r in self.results if r.status in (FAILED, INTERRUPTED)]


class Manifest:
    """batch.json: the options, every VOD's result so far; rewritten atomically as VODs finish."""

    def __init__(self, path: Path, jobs: Sequence[Job], base: CompileOptions, runner: dict) -> None:
        self.path = path
        self.started = time.time()
        self.results: list[VodResult | None] = [None] * len(jobs)
        self.jobs = jobs
        self.head = {"runner": runner,
                     "options": json.loads(json.dumps(dataclasses.asdict(base), default=str))}
        self.head["options"].pop("vod", None)

    def set(self, index: int, result: VodResult) -> None:
        self.results[index] = result
        self.write()

    def write(self, finished: bool = False) -> None:
        rows = [r.to_dict() if r is not None else {"source": job.source, "status": "pending"}
                for job, r in zip(self.jobs, self.results, strict=True)]
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        data = {"started": _iso(self.started), "finished": _iso(time.time()) if finished else None,
                "wall_seconds": round(time.time() - self.started, 1), "counts": counts, **self.head,
                "vods": rows}
        atomic_write_text(self.path, json.dumps(data, indent=2) + "\n")


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
