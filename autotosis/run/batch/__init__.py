"""Many VODs in one command (one module for now; split along its seams next)."""

from autotosis.run.batch.pool import (
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
from autotosis.run.batch.pool import (
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
