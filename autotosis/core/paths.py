"""Where autotosis keeps its files by default, relative to the project folder (cwd)."""

from __future__ import annotations

import os
from pathlib import Path

LABELS_DIR = Path("labels")
MODELS_DIR = Path("models")
OUTPUT_DIR = Path("output")
VODS_DIR = Path("vods")  # where `autotosis compile URL` downloads VODs (and their chat)
CLIPS_DIR = Path("clips")  # short clips to label; `autotosis clips` downloads community clips here


def cache_dir() -> Path:
    """Decoded crops and scan results; safe to delete. AUTOTOSIS_CACHE moves it."""
    return Path(os.environ.get("AUTOTOSIS_CACHE", ".autotosis-cache"))


def source_root() -> Path:
    """The folder holding the `autotosis` package: what a worker process or Ray task puts on
    PYTHONPATH to import this very copy of it."""
    return Path(__file__).resolve().parents[2]
