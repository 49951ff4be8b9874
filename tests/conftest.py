"""Fixtures shared by several test modules (pytest needs them here to share one instance)."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_support import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole run (launching costs about a second)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A fresh project folder as the working directory, with its own cache (a test module may
    define its own `project` with more in it)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    return tmp_path
