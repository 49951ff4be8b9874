"""Many VODs in one command: expand the inputs, compile each VOD on its own, summarise.

Every VOD goes through the unchanged single-VOD `compile_vod` into its own
`<out>/<name>/`, exactly as `autotosis compile VOD` would make it; the batch adds only
`<out>/batch.json`. Locally the VODs run in worker processes (a few at once, each
compiling one VOD after another), so a crash, an out-of-memory kill or a bad file takes
down that VOD and never the batch, and every worker is sized to its share of the
machine: torch threads and render jobs are divided between the VODs running at once
instead of each taking all the cores. `autotosis.raybatch` runs the same `compile_job`
as Ray tasks.

Naming: a VOD's folder is its file's stem, as for a single compile. When two VODs of
one batch share a stem (`a/stream.mp4`, `b/stream.mp4`), or `<out>/<stem>/` already
holds the reel of another VOD, that VOD's folder is `<stem>-<8 hex digits of its
absolute path>` instead: stable whatever the order of the inputs, so re-runs find it.

Re-runs: a VOD whose folder is complete (reel.mp4, options.json and a segments.json
written after that options.json, all for this VOD, made with the options and every
--model asked now and newer than the VOD and each model) is skipped; one that was interrupted starts again and
reuses the scan and render caches (finished pieces are kept); one that is complete but
made with other options is left alone and reported, unless `force`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from autotosis.core.errors import AutotosisError
from autotosis.core.fsutil import atomic_write_text
from autotosis.core.hardware import cores
from autotosis.core.paths import VODS_DIR, cache_dir
from autotosis.media.runner import interrupts_held
from autotosis.run.compile import CompileEvents, CompileOptions, compile_vod, default_model

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mkv", ".mov", ".webm", ".flv", ".ts", ".m4v", ".avi", ".wmv", ".mpg", ".mpeg"})
LIST_EXTENSIONS = frozenset({".txt", ".list", ".lst"})
URL_SCHEMES = ("http://", "https://")
DONE, SKIPPED, FAILED, INTERRUPTED = "done", "skipped", "failed", "interrupted"
# Seconds a child gets to remove its partial files after an interrupt before it is killed.
STOP_GRACE = 20.0


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


@dataclass(frozen=True)
class Sizing:
    """What each VOD of a batch may use: torch threads for the scan, pieces encoded at once."""

    threads: int
    render_jobs: int


def sizing(parallel: int, available: int | None = None) -> Sizing:
    """The machine's cores shared between `parallel` VODs: half of a VOD's share to torch
    (the decoder takes the rest, as for one VOD), all of it to render jobs, at least one each."""
    share = max(1, (available or cores()) // max(1, parallel))
    return Sizing(threads=max(1, share // 2), render_jobs=max(1, min(4, share)))


def default_parallel(available: int | None = None) -> int:
    """VODs compiled at once by default: one per four cores. One VOD's scan already keeps two
    cores busy (decoder and model); on two cores one VOD at a time was the fastest setting,
    with 2 and 4 at once 1.2-1.3x slower (bench/batch_throughput.py, docs/scale.md)."""
    return max(1, (available or cores()) // 4)


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


class _Forward(CompileEvents):
    """A compile's progress, handed to `send(kind, *values)` (a pipe to the parent, a Ray queue)."""

    def __init__(self, send: Callable[..., None]) -> None:
        self.send = send
        self.last = 0.0

    def position(self, kind: str, position: float, duration: float) -> None:
        if duration <= 0:  # a download's size not known yet
            return
        now = time.monotonic()
        if now - self.last >= 0.5 or position >= duration:  # a few messages a second at most
            self.last = now
            self.send("progress", kind, position, duration)

    def note(self, message: str) -> None:
        self.send("note", message)

    def scan_progress(self, position: float, duration: float) -> None:
        self.position("scan", position, duration)

    def loudness_progress(self, position: float, duration: float) -> None:
        self.position("loudness", position, duration)

    def render_progress(self, done: int, total: int) -> None:
        self.send("progress", "render", float(done), float(total))


def compile_job(job: Job, base: CompileOptions, out_root: Path, name: str | None,
                send: Callable[..., None]) -> VodResult:
    """Download (a URL), then compile one VOD into out_root/<name>, or skip it when complete.

    Errors that are the input's become a failed result; Ctrl-C propagates. `name` None:
    work it out after the download (a URL's file name is known only then).
    """
    started = time.perf_counter()
    result = VodResult(job.source, FAILED)
    events = _Forward(send)
    try:
        vod, url = job.vod, base.url
        if vod is None:
            from autotosis.run.download import download_vod

            assert job.url is not None
            events.note(f"downloading {job.url}")
            vod = download_vod(job.url, job.downloads or VODS_DIR.absolute(),
                               lambda done, total: events.position("download", done, total or 0))
            vod, url = vod.absolute(), job.url
            name = name or folder_name(vod, out_root, set())
            if job.chat_auto:
                from autotosis.run.download import download_chat

                download_chat(job.url, vod.parent)
        assert name is not None
        folder = out_root / name
        result.out_dir = str(folder)
        options = dataclasses.replace(base, vod=vod, out_dir=folder, url=url)
        if job.chat_auto:
            from autotosis.signals.chat import find_chat

            options = dataclasses.replace(options, chat=find_chat(vod))
            events.note(f"chat: using {options.chat}" if options.chat else
                        f"chat: no chat replay next to {job.source}; scoring without chat")
        state = completeness(options, folder) if vod.exists() else "missing"
        if state is None and not base.force:
            result.status = SKIPPED
        else:
            if state not in (None, "missing", "incomplete") and not base.force:
                raise AutotosisError(f"{folder / 'reel.mp4'}: {state}; pass --force to replace it")
            # An incomplete folder is this batch's own interrupted run: its reel may be replaced.
            options = dataclasses.replace(options, force=base.force or state == "incomplete")
            compile_vod(options, events)
            result.status = DONE
        _fill_figures(result, folder, options)
    except AutotosisError as exc:
        message = str(exc).replace(str(job.vod), job.source) if job.vod is not None else str(exc)
        result.error = message if job.source in message else f"{job.source}: {message}"
    except Exception as exc:  # a bug, not the input: still one VOD, not the batch
        result.error = f"{job.source}: {type(exc).__name__}: {exc}"
    result.wall_seconds = time.perf_counter() - started
    return result


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


def resolve_base(base: CompileOptions) -> tuple[CompileOptions, str | None]:
    """`base` with everything a worker elsewhere needs made absolute and decided once:
    the model (the newest in models/ here, not in the worker's folder), the cache.

    Returns it and a note for the user when no model means loudness alone."""
    note = None
    model = base.model if base.model is not None else default_model()
    scorer = base.scorer
    if model is None and scorer is None:
        scorer = "loudness"
        note = "no trained model in models/: choosing highlights by loudness alone " \
               "(train one with `autotosis train`, or pass --model)"
    cache = (base.cache or cache_dir()).absolute()
    more = tuple(path.absolute() for path in base.more_models)
    return dataclasses.replace(base, model=model.absolute() if model else None, more_models=more,
                               scorer=scorer, cache=cache), note


class BatchEvents:
    """Progress of a batch; the CLI prints it, library callers may ignore it."""

    def started(self, index: int, job: Job) -> None: ...
    def note(self, index: int, message: str) -> None: ...
    def progress(self, index: int, stage: str, position: float, duration: float) -> None: ...
    def finished(self, index: int, result: VodResult) -> None: ...


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


def plan(jobs: Sequence[Job], out_root: Path) -> list[str | None]:
    """Each job's folder name under out_root (None for URLs: known after the download)."""
    shared = shared_stems(jobs)
    return [folder_name(job.vod, out_root, shared) if job.vod is not None else None for job in jobs]


def worker_main() -> None:
    """A worker process (`python -c "...worker_main()" FD THREADS`): VODs one after the other,
    each sent as (job, base, out_root, name) through the pipe on FD, its progress and result
    sent back; ends when the parent closes the pipe. One worker compiles many VODs, so
    Python, torch and the model load once per worker, not once per VOD."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise_interrupt)
    conn = Connection(int(sys.argv[1]))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before torch is imported
        os.environ[var] = sys.argv[2]
    try:
        while True:
            try:
                job, base, out_root, name = conn.recv()
            except EOFError:  # no more VODs
                return
            result = compile_job(job, base, Path(out_root), name, lambda *msg: conn.send(msg))
            conn.send(("result", result))
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        conn.close()


def _raise_interrupt(signum: int, frame: object) -> None:
    """The first Ctrl-C or SIGTERM unwinds the worker; later ones (a terminal's Ctrl-C reaches the
    worker and the parent, which then sends SIGTERM) are ignored, so they cannot cut its cleanup short."""
    for sig in (signal.SIGINT, signal.SIGTERM):  # a handler that does nothing, not SIG_IGN: a signal
        signal.signal(sig, _ignore)  # already pending would then be reported as a "race condition"
    raise KeyboardInterrupt


def _ignore(signum: int, frame: object) -> None:
    """Signals after the first, while the worker cleans up."""


@dataclass
class _Worker:
    proc: subprocess.Popen
    conn: Connection
    job: int | None = None  # the VOD it is compiling


def run_local(jobs: Sequence[Job], base: CompileOptions, out_root: Path, parallel: int,
              events: BatchEvents | None = None, threads: int | None = None,
              render_jobs: int | None = None) -> BatchReport:
    """Compile `jobs` `parallel` at a time in worker processes sized to their share of the cores.

    `threads`/`render_jobs` None: sized by `sizing`. A worker that dies fails its VOD and
    is replaced. Ctrl-C or SIGTERM stops every worker (each removes its partial files),
    records the batch so far and re-raises.
    """
    events = events or BatchEvents()
    started = time.perf_counter()
    size = sizing(parallel)
    threads = threads or size.threads
    base = dataclasses.replace(base, scan=dataclasses.replace(base.scan, threads=threads),
                               render=dataclasses.replace(base.render, jobs=render_jobs or size.render_jobs))
    names = plan(jobs, out_root)
    manifest = Manifest(out_root / "batch.json", jobs, base,
                        {"kind": "local", "parallel": parallel, "threads": threads,
                         "render_jobs": base.render.jobs, "cores": cores()})
    workers: list[_Worker] = []
    results: dict[int, VodResult] = {}

    def finish(k: int, result: VodResult) -> None:
        results[k] = result
        manifest.set(k, result)
        events.finished(k, result)

    for k, job in enumerate(jobs):  # a re-run of a finished archive starts no worker at all
        skipped = already_complete(job, base, out_root, names[k])
        if skipped is not None:
            finish(k, skipped)
    waiting = [k for k in range(len(jobs)) if k not in results][::-1]
    try:
        while waiting or any(w.job is not None for w in workers):
            for worker in workers:
                if worker.job is None and waiting:
                    k = waiting.pop()
                    try:
                        worker.conn.send((jobs[k], base, str(out_root), names[k]))
                    except OSError:  # it died while idle: the VOD waits for another worker
                        waiting.append(k)
                        continue
                    worker.job = k
                    events.started(k, jobs[k])
            for worker in [w for w in workers if w.job is None and w.proc.poll() is not None]:
                worker.conn.close()
                workers.remove(worker)
            if waiting and len(workers) < parallel:
                workers.append(_start_worker(threads))
                continue
            busy = [w for w in workers if w.job is not None]
            ready = wait([w.conn for w in busy], timeout=1.0)
            for worker in busy:
                if worker.conn not in ready or worker.job is None:
                    continue
                try:
                    kind, *values = worker.conn.recv()
                except (EOFError, OSError):  # the worker died mid-VOD (killed, out of memory, a crash)
                    worker.proc.wait()
                    worker.conn.close()
                    workers.remove(worker)
                    finish(worker.job, _died(jobs[worker.job], worker.proc.returncode))
                    continue
                if kind == "result":
                    finish(worker.job, values[0])
                    worker.job = None
                elif kind == "note":
                    events.note(worker.job, values[0])
                elif kind == "progress":
                    events.progress(worker.job, *values)
    except KeyboardInterrupt:
        _stop(workers)
        for worker in workers:
            if worker.job is not None and worker.job not in results:
                manifest.set(worker.job, VodResult(jobs[worker.job].source, INTERRUPTED))
        raise
    finally:
        for worker in workers:
            worker.conn.close()  # an idle worker ends at once
    for worker in workers:
        worker.proc.wait()
    manifest.write(finished=True)
    return BatchReport([results[k] for k in range(len(jobs))], time.perf_counter() - started,
                       manifest.path)


def _died(job: Job, code: int | None) -> VodResult:
    why = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    hint = " (out of memory?)" if code == -signal.SIGKILL else ""
    return VodResult(job.source, FAILED, error=f"{job.source}: the worker died ({why}){hint}")


def _start_worker(threads: int) -> _Worker:
    """A fresh Python for compiling VODs, in this process group (a terminal's Ctrl-C reaches it
    too), talking through a pipe of its own."""
    parent_end, child_end = multiprocessing.Pipe()
    package_root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    with interrupts_held():  # the child is started and tracked, or neither
        proc = subprocess.Popen(
            [sys.executable, "-c", "from autotosis.run.batch import worker_main; worker_main()",
             str(child_end.fileno()), str(threads)], pass_fds=[child_end.fileno()], env=env,
            stdin=subprocess.DEVNULL)
    child_end.close()
    return _Worker(proc, parent_end)


def _stop(workers: list[_Worker]) -> None:
    """Ask every worker to stop (it unwinds and removes its partial files), then make sure."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip this
    try:
        for worker in workers:
            if worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for worker in workers:
            try:
                worker.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
