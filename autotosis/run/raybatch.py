"""A batch on Ray: each VOD one Ray task running the same `batch.compile_job` as a local worker.

Ray (the optional extra `autotosis[ray]`) schedules the tasks over its cluster by their
declared resources: CPUs for the decoder and the model (and a share of a GPU with
`--device cuda`). Every node must see the VODs, the model and the output folder at the
same paths (shared storage: NFS, EFS, GCS-fuse...), since only paths travel with a task;
the driver checks what is already complete, gathers progress from a small actor, and
writes the same summary and batch.json as a local batch.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autotosis.core.errors import AutotosisError
from autotosis.core.paths import source_root
from autotosis.run.batch import (
    INTERRUPTED,
    STOP_GRACE,
    BatchEvents,
    BatchReport,
    Job,
    Manifest,
    VodResult,
    already_complete,
    compile_job,
    plan,
)
from autotosis.run.compile import CompileOptions

# A task's CPUs by default: one for the decoder, one for the model (and render jobs).
CPUS_PER_VOD = 2
# A ResNet-18 at 128 px keeps a GPU busy for a fraction of the time the CPU takes to decode
# its samples, so a few VODs share one.
GPUS_PER_VOD = 0.25


def _import_ray() -> Any:
    try:
        import ray  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise AutotosisError("--ray needs Ray, an optional extra: pip install 'autotosis[ray]'") from None
    return ray


def _compile_task(index: int, job: Job, base: CompileOptions, out_root: str, name: str | None,
                  progress: Any) -> VodResult:
    """One VOD on a Ray worker; progress goes to the driver's actor without waiting for it."""
    return compile_job(job, base, Path(out_root), name, lambda *msg: progress.push.remote(index, msg))


class _Progress:
    """Messages from the tasks, drained by the driver a few times a second."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, tuple]] = []

    def push(self, index: int, message: tuple) -> None:
        self.messages.append((index, message))

    def drain(self) -> list[tuple[int, tuple]]:
        messages, self.messages = self.messages, []
        return messages


def run_on_ray(jobs: Sequence[Job], base: CompileOptions, out_root: Path, address: str,
               events: BatchEvents | None = None, threads: int | None = None,
               render_jobs: int | None = None) -> BatchReport:
    """Compile `jobs` as Ray tasks on the cluster at `address` ("auto": join or start a local one).

    A Ray already initialised in this process is used as it is. Ctrl-C cancels every
    task (each removes its partial files), records the batch so far and re-raises.
    """
    ray = _import_ray()
    events = events or BatchEvents()
    started = time.perf_counter()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing sent anywhere unasked
    package_root = str(source_root())
    own = not ray.is_initialized()
    if own:
        try:
            ray.init(address=None if address == "auto" else address, log_to_driver=False,
                     logging_level=logging.WARNING, include_dashboard=False,
                     runtime_env={"env_vars": {"PYTHONPATH": package_root}})
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise AutotosisError(f"--ray {address}: cannot join the Ray cluster ({exc})") from None
    try:
        threads = threads or 1
        cpus = max(CPUS_PER_VOD, 2 * threads)
        base = dataclasses.replace(base, scan=dataclasses.replace(base.scan, threads=threads),
                                   render=dataclasses.replace(base.render, jobs=render_jobs or cpus))
        gpus = GPUS_PER_VOD if base.scan.device.startswith("cuda") else 0
        resources = ray.cluster_resources()
        runner = f"{len(ray.nodes())} node(s), {resources.get('CPU', 0):g} CPUs"
        names = plan(jobs, out_root)
        manifest = Manifest(out_root / "batch.json", jobs, base,
                            {"kind": "ray", "address": address, "cluster": runner, "cpus_per_vod": cpus,
                             "gpus_per_vod": gpus, "threads": threads, "render_jobs": base.render.jobs})
        results: dict[int, VodResult] = {}
        for k, job in enumerate(jobs):
            skipped = already_complete(job, base, out_root, names[k])
            if skipped is not None:
                results[k] = skipped
                manifest.set(k, skipped)
                events.finished(k, skipped)
        progress = ray.remote(num_cpus=0)(_Progress).remote()
        task = ray.remote(_compile_task).options(num_cpus=cpus, num_gpus=gpus, max_retries=0)
        pending = {}
        for k, job in enumerate(jobs):
            if k not in results:
                pending[task.remote(k, job, base, str(out_root), names[k], progress)] = k
                events.started(k, job)
        try:
            _gather(ray, pending, progress, jobs, results, manifest, events)
        except KeyboardInterrupt:
            _cancel(ray, list(pending))
            for k in pending.values():
                manifest.set(k, VodResult(jobs[k].source, INTERRUPTED))
            raise
        manifest.write(finished=True)
        return BatchReport([results[k] for k in range(len(jobs))], time.perf_counter() - started,
                           manifest.path, runner)
    finally:
        if own:
            ray.shutdown()


def _gather(ray: Any, pending: dict, progress: Any, jobs: Sequence[Job], results: dict[int, VodResult],
            manifest: Manifest, events: BatchEvents) -> None:
    """Wait for the tasks, relaying their progress; a task that died is that VOD's failure."""
    while pending:
        done, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.5)
        for index, (kind, *values) in ray.get(progress.drain.remote()):
            if kind == "note":
                events.note(index, values[0])
            elif kind == "progress":
                events.progress(index, *values)
        for ref in done:
            k = pending.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayError as exc:
                cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                result = VodResult(jobs[k].source, "failed", error=f"{jobs[k].source}: the Ray task failed "
                                   f"({type(exc).__name__}: {cause[:200]})")
            results[k] = result
            manifest.set(k, result)
            events.finished(k, result)


def _cancel(ray: Any, refs: list) -> None:
    """Interrupt the running tasks (they unwind and remove their partial files), then make sure."""
    for ref in refs:
        ray.cancel(ref, force=False)
    _, left = ray.wait(refs, num_returns=len(refs), timeout=STOP_GRACE) if refs else ([], [])
    for ref in left:
        ray.cancel(ref, force=True)
