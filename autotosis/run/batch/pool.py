"""Running a batch here: one VOD's compile as a job, and the worker processes that run them.

Apart because this is the part that deals with processes, pipes and signals: a worker per
few VODs, sized to its share of the cores, that can die without taking the batch down.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from autotosis.core.errors import AutotosisError
from autotosis.core.hardware import cores
from autotosis.core.paths import VODS_DIR, cache_dir, source_root
from autotosis.media.runner import interrupts_held
from autotosis.run.batch.inputs import Job, folder_name, plan
from autotosis.run.batch.state import (
    DONE,
    FAILED,
    INTERRUPTED,
    SKIPPED,
    BatchReport,
    Manifest,
    VodResult,
    _fill_figures,
    already_complete,
    completeness,
)
from autotosis.run.compile import CompileEvents, CompileOptions, compile_vod, default_model

# Seconds a child gets to remove its partial files after an interrupt before it is killed.
STOP_GRACE = 20.0


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
    package_root = str(source_root())
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
