"""Binary-classifier metrics in plain numpy (no scikit-learn at run time).

Ties in scores are handled as one threshold step, as scikit-learn does, so AP and
AUC do not depend on the order of equal scores.
"""

from __future__ import annotations

import numpy as np


def _curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true positives, false positives, threshold) at each distinct score, highest first."""
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    return tp, fp, s[last]


def pr_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds), one point per distinct score."""
    tp, fp, thresholds = _curve(labels, scores)
    positives = max(tp[-1], 1.0) if len(tp) else 1.0
    return tp / np.maximum(tp + fp, 1.0), tp / positives, thresholds


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Step-wise area under the PR curve; nan without positives (undefined, not zero)."""
    if len(labels) == 0 or not labels.any():
        return float("nan")
    precision, recall, _ = pr_curve(labels, scores)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Probability a random positive outscores a random negative; nan unless both exist."""
    pos, neg = int(labels.sum()), int(len(labels) - labels.sum())
    if pos == 0 or neg == 0:
        return float("nan")
    tp, fp, _ = _curve(labels, scores)
    tpr, fpr = np.r_[0.0, tp / pos], np.r_[0.0, fp / neg]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1: the decision point compile uses by default."""
    if not labels.any():
        return 0.5, float("nan")
    precision, recall, thresholds = pr_curve(labels, scores)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1))
    # Midway to the next lower score: the same F1 here, but not on the edge of the
    # positives' scores (a saturated 1.0 would be brittle on new footage).
    lower = thresholds[best + 1] if best + 1 < len(thresholds) else 0.0
    return float((thresholds[best] + lower) / 2), float(f1[best])


def summary(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Accuracy at 0.5 and at the max-F1 threshold, AP, ROC AUC, F1: what a checkpoint keeps."""
    labels = labels.astype(bool)
    threshold, f1 = best_f1_threshold(labels, scores)
    empty = len(labels) == 0
    return {
        "frames": len(labels),
        "positives": int(labels.sum()),
        "ap": average_precision(labels, scores),
        "auc": roc_auc(labels, scores),
        "accuracy": float("nan") if empty else float(np.mean((scores >= 0.5) == labels)),
        "threshold": threshold,
        "f1": f1,
        "accuracy_at_threshold": float("nan") if empty else float(np.mean((scores >= threshold) == labels)),
    }
