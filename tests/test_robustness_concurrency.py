"""Runs side by side: two compiles at once, and compile while `autotosis train` rewrites the model.

Caches are keyed by content and written atomically under temp names no glob picks up,
output folders are locked, and a scan hashes and loads the very same model bytes:
nothing one run writes can end up in another run's cache or output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from robustness_support import ROOT, Run

from autotosis import media
from autotosis.cli.main import cli
from autotosis.learn import model as model_lib
from autotosis.learn.model import ModelMeta, build_model, save_checkpoint
from autotosis.signals import scan

SR = 48000


def shout_vod(path: Path, shout_at: float, seconds: float = 30.0) -> Path:
    """Quiet noise with one 3 s shout: loudness picks exactly that moment."""
    rng = np.random.default_rng(int(shout_at))
    audio = 0.01 * rng.standard_normal(round(seconds * SR))
    a, b = round(shout_at * SR), round((shout_at + 3) * SR)
    audio[a:b] = 0.6 * np.sin(np.arange(b - a) / SR * 2 * np.pi * 500)
    frames = (np.full((120, 160, 3), 30 + (i % 50), np.uint8) for i in range(round(seconds * 10)))
    path.parent.mkdir(parents=True, exist_ok=True)
    return media.encode_frames(path, frames, 10, audio=audio, sample_rate=SR, gop=10)


def test_two_compiles_at_once(tmp_path: Path) -> None:
    """Different VODs in parallel both finish with their own results; two VODs that share a
    name (so an output folder) cannot mix: the second is refused with one line."""
    a = shout_vod(tmp_path / "day1" / "vod.mp4", 8.0)
    b = shout_vod(tmp_path / "day2" / "stream.mp4", 20.0)
    c = shout_vod(tmp_path / "day3" / "vod.mp4", 14.0)
    args = ("--scorer", "loudness", "--no-overlay", "--jobs", "1")
    first = Run(tmp_path, "compile", str(a), *args)
    second = Run(tmp_path, "compile", str(b), *args)
    first.wait_until(lambda: bool(first.children()), "the first compile's ffmpeg")
    clash = Run(tmp_path, "compile", str(c), *args)  # output/vod is the first run's
    assert clash.finish() == 1, clash.output
    assert "output/vod: another autotosis compile is writing here" in clash.output
    assert "Traceback" not in clash.output
    assert first.finish() == 0, first.output
    assert second.finish() == 0, second.output

    for name, vod, shout in (("vod", a, 8.0), ("stream", b, 20.0)):
        out = tmp_path / "output" / name
        data = json.loads((out / "segments.json").read_text())
        assert data["vod"] == str(vod)
        (seg,) = data["segments"]
        assert seg["start"] <= shout <= seg["end"] <= shout + 6
        assert media.probe(out / "reel.mp4").duration == pytest.approx(seg["duration"], abs=0.15)
        assert json.loads((out / "options.json").read_text())["vod"] == str(vod)
    assert len(list((tmp_path / "cache" / "loudness").glob("*.npz"))) == 2
    assert not [p for p in tmp_path.rglob(".*") if ".part" in p.name]


# `autotosis train` saving a better epoch, frozen (SIGSTOP) just before its rename: the
# new checkpoint lies complete under its temp name, the old one is still models/rage.pt.
SAVER = """
import os, signal, sys
from pathlib import Path
from autotosis.core.fsutil import atomic_write_bytes


def stop_before_rename(frame, event, arg):
    if event == "c_call" and arg is os.replace:
        os.kill(os.getpid(), signal.SIGSTOP)


sys.setprofile(stop_before_rename)
atomic_write_bytes(Path(sys.argv[1]), Path(sys.argv[2]).read_bytes())
"""


def _checkpoints(folder: Path, box: tuple[float, ...]) -> list[Path]:
    """Two checkpoints with different weights, as two epochs of one training run."""
    versions = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        path = folder / f"version{seed}.pt"
        save_checkpoint(path, build_model(), ModelMeta(size=32, fps=4.0, threshold=0.0, facecam=box))
        versions.append(path)
    return versions


def _stopped(proc: subprocess.Popen) -> bool:
    return Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def test_compile_while_train_saves_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """compile picks the newest models/*.pt: never train's temp file, complete or not."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    vod = shout_vod(tmp_path / "vod.mp4", 2.0, seconds=5.0)
    old, new = _checkpoints(tmp_path, (0.0, 0.0, 0.5, 0.5))
    (tmp_path / "models").mkdir()
    shutil.copy(old, tmp_path / "models" / "rage.pt")
    saver = subprocess.Popen([sys.executable, "-c", SAVER, "models/rage.pt", str(new)], cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not _stopped(saver):
            assert saver.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        assert len(list((tmp_path / "models").iterdir())) == 2  # rage.pt and train's temp file
        result = CliRunner().invoke(cli, ["compile", str(vod), "--top", "1", "--no-overlay"])
        assert result.exit_code == 0, result.output
        used = json.loads((tmp_path / "output" / "vod" / "options.json").read_text())["model"]
        assert Path(used) == (tmp_path / "models" / "rage.pt").absolute()
    finally:
        saver.send_signal(signal.SIGCONT)
        saver.wait()
    assert (tmp_path / "models" / "rage.pt").read_bytes() == new.read_bytes()


def test_model_replaced_between_hash_and_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worst moment for train to replace the model: after scan hashed it for the cache key,
    before the weights are loaded. The cached scores must still belong to the key's model."""
    vod = shout_vod(tmp_path / "vod.mp4", 2.0, seconds=5.0)
    box = (0.0, 0.0, 0.5, 0.5)
    old, new = _checkpoints(tmp_path, box)
    target = tmp_path / "rage.pt"
    shutil.copy(old, target)
    real_load = model_lib._torch_load

    def replaced_meanwhile(path: Path, *rest: object) -> object:
        if Path(path) == target and target.read_bytes() == old.read_bytes():
            shutil.copy(new, tmp_path / "incoming.pt")
            os.replace(tmp_path / "incoming.pt", target)  # what train's atomic save does
        return real_load(path, *rest)

    monkeypatch.setattr(model_lib, "_torch_load", replaced_meanwhile)
    scan.scan(vod, target, box, cache=tmp_path / "cache", fps=4.0)
    monkeypatch.undo()
    info = media.probe(vod)
    (entry,) = (tmp_path / "cache" / "scans").glob("*.npz")
    for version in (old, new):
        key = scan.scan_key(info, hashlib.sha256(version.read_bytes()).hexdigest(), 4.0, box, False,
                            scan.resolved_precision(scan.ScanConfig()))
        if entry.stem == key:
            expected = scan.scan(vod, version, box, cache=tmp_path / "fresh", fps=4.0).timeline.values
            with np.load(entry) as data:
                assert np.allclose(data["values"], expected, atol=1e-5)
            return
    pytest.fail(f"{entry.name} is keyed by neither checkpoint")
