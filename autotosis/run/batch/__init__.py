"""Many VODs in one command: expand the inputs, compile each VOD on its own, summarise.

Every VOD goes through the unchanged single-VOD `compile_vod` into its own
`<out>/<name>/`, exactly as `autotosis compile VOD` would make it; the batch adds only
`<out>/batch.json`. Locally the VODs run in worker processes (a few at once, each
compiling one VOD after another), so a crash, an out-of-memory kill or a bad file takes
down that VOD and never the batch, and every worker is sized to its share of the
machine: torch threads and render jobs are divided between the VODs running at once
instead of each taking all the cores. `autotosis.run.raybatch` runs the same `compile_job`
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

One module per part: `inputs` (what the command line names, each VOD's folder), `state`
(what a folder holds, results and batch.json) and `pool` (the worker processes, and the
one-VOD `compile_job` they and Ray run). Callers import the package:
`from autotosis.run import batch`, then `batch.run_local(...)`.
"""

from autotosis.run.batch.inputs import (
    LIST_EXTENSIONS,
    URL_SCHEMES,
    VIDEO_EXTENSIONS,
    Job,
    expand_inputs,
    folder_name,
    is_batch_input,
    is_url,
    plan,
    shared_stems,
)
from autotosis.run.batch.pool import (
    STOP_GRACE,
    BatchEvents,
    Sizing,
    compile_job,
    default_parallel,
    resolve_base,
    run_local,
    sizing,
    worker_main,
)
from autotosis.run.batch.state import (
    DONE,
    FAILED,
    INTERRUPTED,
    SKIPPED,
    BatchReport,
    Manifest,
    VodResult,
    already_complete,
    completeness,
)

__all__ = [
    "DONE", "FAILED", "INTERRUPTED", "LIST_EXTENSIONS", "SKIPPED", "STOP_GRACE", "URL_SCHEMES",
    "VIDEO_EXTENSIONS", "BatchEvents", "BatchReport", "Job", "Manifest", "Sizing", "VodResult",
    "already_complete", "compile_job", "completeness", "default_parallel", "expand_inputs", "folder_name",
    "is_batch_input", "is_url", "plan", "resolve_base", "run_local", "shared_stems", "sizing", "worker_main",
]
