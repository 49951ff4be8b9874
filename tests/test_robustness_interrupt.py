"""Ctrl-C and SIGTERM for real: `python -m autotosis` in its own process group, a signal
mid-scan, mid-training and mid-render, then the checks a user cares about: exit 130 with
no traceback, no ffmpeg left running, no partial file where a finished one belongs, and
a re-run that picks up where the first one stopped.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from robustness_support import Run, assert_interrupted_cleanly
from test_train import make_clip

from autotosis import media
from autotosis.core.timeline import Timeline
from autotosis.learn.model import ModelMeta, build_model, load_checkpoint, save_checkpoint
from autotosis.signals import scan as scan_lib

# ---------------------------------------------------------------- scan


SCAN_SECONDS = 150


@pytest.fixture(scope="module")
def scan_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 150 s VOD and a 64 px model: a scan at 15 fps takes seconds even on a fast CPU (60 s
    took 2 s on one), enough to interrupt it mid-way."""
    root = tmp_path_factory.mktemp("scan-int")
    vod = media.make_lavfi_vod(root / "vod.mp4", SCAN_SECONDS, 160, 120, 15)
    save_checkpoint(root / "m.pt", build_model(), ModelMeta(size=64, fps=15.0, threshold=0.0))
    return vod, root / "m.pt"


@pytest.mark.parametrize(("sig", "group"), [
    (signal.SIGTERM, False),
    pytest.param(signal.SIGINT, True, marks=pytest.mark.slow),  # as a terminal's Ctrl-C: ffmpeg gets it too
], ids=["SIGTERM", "Ctrl-C to the group"])
def test_interrupted_scan_resumes(scan_project: tuple[Path, Path], tmp_path: Path, sig: int,
                                  group: bool) -> None:
    vod, model = scan_project
    args = ("compile", str(vod), "--model", str(model), "--facecam", "0,0,0.5,0.5", "--threads", "1",
            "--top", "1", "--no-overlay", "--out", "out", "--scan", "dense")  # coarse: test_scan_coarse
    first = Run(tmp_path, *args)
    first.wait_until(lambda: any("rawvideo" in c for c in first.children()), "scan")
    time.sleep(1.5)
    first.interrupt(sig, group)
    assert_interrupted_cleanly(first, tmp_path)
    scans = tmp_path / "cache" / "scans"
    partial = list(scans.glob("*.partial.npz"))
    assert len(partial) == 1 and not [p for p in scans.glob("*.npz") if p not in partial]
    with np.load(partial[0]) as data:
        done = len(data["times"])
    assert 0 < done < SCAN_SECONDS * 15

    second = Run(tmp_path, *args)
    assert second.finish() == 0, second.output
    assert f"scan: {SCAN_SECONDS * 15 - done} samples" in second.output  # only the rest was decoded
    scores = Timeline.from_csv(tmp_path / "out" / "scores.csv")
    assert np.allclose(scores.times, np.arange(SCAN_SECONDS * 15) / 15, atol=2e-3)  # one grid, resumed
    assert media.probe(tmp_path / "out" / "reel.mp4").duration > 0


@pytest.mark.parametrize(("name", "stops"), [
    ("vod.mp4", (2.1, 4.05)),
    pytest.param("vod.ts", (3.3,), marks=pytest.mark.slow),  # no index: seeks land anywhere
])
def test_resumes_anywhere_keep_one_sampling_grid(tmp_path: Path, name: str, stops: tuple[float, ...]) -> None:
    """However often a scan is cut off, and wherever a seek lands, the resumed timeline is
    sample for sample the uninterrupted one: no gap, no sample twice, no frame one sample
    late. A grid of 1/15 s is the hard case: most of its points fall between milliseconds."""
    vod = media.make_lavfi_vod(tmp_path / name, 6, 160, 120, 15)
    model = tmp_path / "m.pt"
    save_checkpoint(model, build_model(), ModelMeta(size=32, fps=15.0))
    box = (0.0, 0.0, 0.5, 0.5)
    whole = scan_lib.scan(vod, model, box, scan_lib.ScanConfig(mode="dense"), cache=tmp_path / "a",
                          fps=15.0).timeline
    config = scan_lib.ScanConfig(mode="dense", batch_size=8, checkpoint_seconds=1.0)
    for stop in stops:
        def interrupt(position: float, duration: float, stop: float = stop) -> None:
            if position >= stop:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            scan_lib.scan(vod, model, box, config, interrupt, cache=tmp_path / "b", fps=15.0)
    resumed = scan_lib.scan(vod, model, box, config, cache=tmp_path / "b", fps=15.0)
    assert resumed.resumed_from >= stops[-1] and resumed.samples < len(whole)
    assert len(resumed.timeline) == len(whole) == 90
    assert np.allclose(resumed.timeline.times, whole.times, atol=1e-6)
    assert np.allclose(resumed.timeline.values, whole.values, atol=1e-4)


# ---------------------------------------------------------------- render


SR, FPS = 48000, 10
BURSTS = (5.0, 15.0, 25.0, 35.0, 45.0, 55.0)


@pytest.fixture(scope="module")
def loud_vod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 s of dark picture and quiet noise with six 2 s shouts: six pieces to render."""
    path = tmp_path_factory.mktemp("render-int") / "vod.mp4"
    rng = np.random.default_rng(0)
    audio = 0.01 * rng.standard_normal(60 * SR)
    for t in BURSTS:
        a, b = round(t * SR), round((t + 2) * SR)
        audio[a:b] = 0.6 * np.sin(np.arange(b - a) / SR * 2 * np.pi * 440)
    frames = (np.full((240, 320, 3), 40 + i % 20, np.uint8) for i in range(60 * FPS))
    return media.encode_frames(path, frames, FPS, audio=audio, sample_rate=SR, gop=FPS)


def _white_piece(like: Path, folder: Path) -> Path:
    """A piece of plain white picture in the same encoding as `like`, as long as it."""
    duration = media.probe(like).duration
    white = folder / "white.mp4"
    frames = (np.full((240, 320, 3), 255, np.uint8) for _ in range(round(duration * FPS) + FPS))
    media.encode_frames(white, frames, FPS, audio=np.zeros(round((duration + 1) * SR)), sample_rate=SR)
    piece = folder / "white.mkv"
    encoding = media.PieceEncoding(fps=str(FPS), preset="slow")  # what the render below uses
    media.run(media.piece_args(white, 0.0, round(duration * FPS), piece, encoding), piece)
    return piece


def test_interrupted_render_reuses_finished_pieces(loud_vod: Path, tmp_path: Path) -> None:
    args = ("compile", str(loud_vod), "--scorer", "loudness", "--no-overlay", "--jobs", "1",
            "--merge-gap", "1", "--preset", "slow", "--out", "out")
    pieces = tmp_path / "out" / ".reel.pieces"
    first = Run(tmp_path, *args)
    first.wait_until(lambda: len(list(pieces.glob("[!.]*.mkv"))) >= 1, "a finished piece")
    first.interrupt(signal.SIGINT)
    assert_interrupted_cleanly(first, tmp_path)
    assert not (tmp_path / "out" / "reel.mp4").exists()
    finished = sorted(pieces.glob("[!.]*.mkv"))
    assert 1 <= len(finished) < len(BURSTS)
    # Swap a finished piece for a white one: if the re-run re-uses it, the reel shows white.
    os.replace(_white_piece(finished[0], tmp_path), finished[0])

    second = Run(tmp_path, *args)
    assert second.finish() == 0, second.output
    reel = tmp_path / "out" / "reel.mp4"
    segments = json.loads((tmp_path / "out" / "segments.json").read_text())["segments"]
    assert len(segments) == len(BURSTS)
    assert media.probe(reel).duration == pytest.approx(sum(s["duration"] for s in segments), abs=0.3)
    brightness = np.concatenate([b.images.mean(axis=(1, 2, 3)) for b in media.frames(reel, 2, None, 16)])
    assert brightness.max() > 200 and np.median(brightness) < 100  # the re-used piece, and only it
    assert not pieces.exists()  # deleted once the reel is written


# ---------------------------------------------------------------- training


def test_interrupted_training_resumes(tmp_path: Path) -> None:
    for i in range(4):
        make_clip(tmp_path, f"c{i}", 4.0, [(1.0 + i % 2, 2.5 + i % 2)], seed=i)
    args = ("train", "--cpu", "--epochs", "4", "--patience", "4", "--size", "32", "--fps", "4",
            "--batch-size", "4", "--threads", "1")
    state = tmp_path / "models" / "rage.state.pt"
    first = Run(tmp_path, *args)
    first.wait_until(state.exists, "the first epoch's state")
    first.interrupt(signal.SIGTERM)
    assert_interrupted_cleanly(first, tmp_path)
    load_checkpoint(tmp_path / "models" / "rage.pt")  # the best model so far is whole
    import torch

    saved_epoch = torch.load(state, weights_only=True)["epoch"]
    assert 1 <= saved_epoch < 4
    assert not (tmp_path / "models" / "rage.metrics.json").exists()

    second = Run(tmp_path, *args, "--resume")
    assert second.finish() == 0, second.output
    assert second.output.count("train loss") == 4 - saved_epoch  # only the epochs still to do
    report = json.loads((tmp_path / "models" / "rage.metrics.json").read_text())
    assert [r["epoch"] for r in report["history"]] == list(range(1, 5))
    assert not state.exists()


def test_an_ffmpeg_stopped_by_ctrl_c_is_an_interruption_not_an_error(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches ffmpeg too; when ffmpeg's "received signal 2" is seen before
    this process's own KeyboardInterrupt, the user still gets the interruption, not an error."""
    out = tmp_path / "long.mkv"
    with media.FFmpegProcess(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=600", "-c:v", "ffv1",
                              str(out)], stdout=False) as ffmpeg:
        time.sleep(0.5)
        ffmpeg.proc.send_signal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            ffmpeg.finish(out)
