"""The face-cam model's scan of a VOD (one module for now; split along its seams next)."""

from autotosis.signals.scan.scanner import CACHE_VERSION, scan_key
from autotosis.signals.scan.scanner import (
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
from autotosis.signals.scan.scanner import SharedCrop, cut, shared_crop
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
