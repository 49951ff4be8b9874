"""Where autotosis keeps its files by default, relative to the project folder (cwd)."""

from __future__ import annotations

import os
from pathlib import Path

LABELS_DIR = Path("labels")
MODELS_DIR = Path("models")
OUTPUT_DIR = Path("output")
VODS_DIR = Path("vods")  # where `autotosis compile URL` downloads VODs (and their chat)


def cache_dir() -> Path:
    """Decoded crops and scan results; safe to delete. AUTOTOSIS_CACHE moves it."""
    return Path(os.environ.get("AUTOTOSIS_CACHE", ".autotosis-cache"))
