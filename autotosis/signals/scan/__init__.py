"""The face-cam model's scan of a VOD: ffmpeg decodes and crops while the model scores.

One module per concern: `scanner` (the `scan` entry point, its defaults and its result),
`coarse` (which frames a coarse scan looks at closely), `passes` (one decode-and-score
pass: the decode thread and the model scorer) and `cache` (the keys and files that let a
second compile skip the scan). Callers import the package: `from autotosis.signals import
scan`, then `scan.scan(...)`; the names below are its public ones.
"""

from autotosis.signals.scan.cache import CACHE_VERSION, scan_key
from autotosis.signals.scan.coarse import (
    HINT_MARGIN,
    MAX_KEYFRAME_GAP,
    MERGE_GAP,
    MIN_COARSE_SECONDS,
    MODEL_MARGIN,
    PROPOSE_RATIO,
    FirstPass,
    Hint,
    merge_passes,
    plan_first_pass,
    propose_windows,
)
from autotosis.signals.scan.passes import SharedCrop, cut, shared_crop
from autotosis.signals.scan.scanner import (
    MODES,
    ProgressFn,
    ScanConfig,
    ScanModel,
    ScanResult,
    StageFn,
    by_label,
    resolved_precision,
    scan,
)

__all__ = [
    "CACHE_VERSION", "HINT_MARGIN", "MAX_KEYFRAME_GAP", "MERGE_GAP", "MIN_COARSE_SECONDS", "MODEL_MARGIN",
    "MODES", "PROPOSE_RATIO", "FirstPass", "Hint", "ProgressFn", "ScanConfig", "ScanModel", "ScanResult",
    "SharedCrop", "StageFn", "by_label", "cut", "merge_passes", "plan_first_pass", "propose_windows",
    "resolved_precision", "scan", "scan_key", "shared_crop",
]
