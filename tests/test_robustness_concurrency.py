"""Runs side by side: two compiles at once, and compile while `autotosis train` rewrites the model.

Caches are keyed by content and written atomically, output folders are locked, and a
scan hashes and loads the very same model bytes: nothing one run writes can end up
in another run's cache or output.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from robustness_support import Run

from autotosis import media, scan
from autotosis.cli.main import cli
from autotosis.model import ModelMeta, build_model, save_checkpoint

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


WRITER = """
import sys
import time
from pathlib import Path
from autotosis.fsutil import atomic_write_bytes
target, versions = Path(sys.argv[1]), [Path(p).read_bytes() for p in sys.argv[2:]]
while True:
    for data in versions:
        atomic_write_bytes(target, data)
        time.sleep(0.2)  # about as often as a short epoch; easier on a shared disk
"""


def test_compile_while_train_rewrites_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer replaces models/rage.pt with two different checkpoints as fast as it can, the
    way train saves each better epoch. Every compile meanwhile uses one whole checkpoint, and
    each cached scan holds the scores of the very model its key names."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    vod = shout_vod(tmp_path / "vod.mp4", 2.0, seconds=5.0)
    box = (0.0, 0.0, 0.5, 0.5)
    versions = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        path = tmp_path / f"version{seed}.pt"
        save_checkpoint(path, build_model(), ModelMeta(size=32, fps=4.0, threshold=0.0, facecam=box))
        versions.append(path)
    (tmp_path / "models").mkdir()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, "models/rage.pt", *map(str, versions)],
                              cwd=tmp_path)
    try:
        while not (tmp_path / "models" / "rage.pt").exists():
            time.sleep(0.01)
        for _ in range(4):
            result = CliRunner().invoke(cli, ["compile", str(vod), "--top", "1", "--no-overlay", "--force"])
            assert result.exit_code == 0, result.output
    finally:
        writer.kill()
        writer.wait()

    info = media.probe(vod)
    expected = {}
    for path in versions:
        key = scan.scan_key(info, hashlib.sha256(path.read_bytes()).hexdigest(), 4.0, box, False)
        expected[key] = scan.scan(vod, path, box, cache=tmp_path / "fresh", fps=4.0).timeline.values
    cached = sorted((tmp_path / "cache" / "scans").glob("*.npz"))
    assert cached and not [p for p in cached if "partial" in p.name]
    for entry in cached:
        assert entry.stem in expected, entry.name  # keyed by one of the two checkpoints' bytes
        with np.load(entry) as data:
            assert np.allclose(data["values"], expected[entry.stem], atol=1e-5), entry.name
    assert not [p for p in tmp_path.rglob(".*") if ".part" in p.name and "models" not in str(p)]
