"""Scanning a generated VOD with a real (untrained) checkpoint: timestamps, crop box, cache, resume."""

from pathlib import Path

import numpy as np
import pytest

from autotosis import media
from autotosis.learn.model import ModelMeta, build_model, load_classifier, save_checkpoint
from autotosis.signals import scan

LEFT, RIGHT = (0.0, 0.0, 0.5, 0.5), (0.5, 0.5, 1.0, 1.0)


def _frames(n: int):
    """Top-left quarter a moving gradient, bottom-right a flat blue: two very different crops."""
    ramp = np.linspace(0, 255, 160, dtype=np.float32)
    for i in range(n):
        img = np.zeros((240, 320, 3), np.uint8)
        img[:120, :160] = ((ramp[None, :, None] + i * 7) % 256).astype(np.uint8)
        img[120:, 160:] = (20, 40, 200)
        yield img


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("scan")
    vod = root / "vod.mp4"
    media.encode_frames(vod, _frames(150), fps=15, gop=15)  # 10 s
    model = root / "m.pt"
    import torch

    torch.manual_seed(0)
    save_checkpoint(model, build_model(), ModelMeta(size=32, fps=2.0))
    return vod, model


def test_timeline_length_and_times(setup, tmp_path):
    vod, model = setup
    result = scan.scan(vod, model, LEFT, scan.ScanConfig(batch_size=7), cache=tmp_path, fps=2.0)
    assert not result.cached and result.samples == 20
    assert np.allclose(result.timeline.times, np.arange(20) * 0.5, atol=1e-3)
    values = result.timeline.values
    assert values.dtype == np.float32 and ((values >= 0) & (values <= 1)).all()


def test_crop_uses_given_box(setup, tmp_path):
    vod, model = setup
    classifier = load_classifier(model)
    for box, other in ((LEFT, RIGHT), (RIGHT, LEFT)):
        got = scan.scan(vod, model, box, cache=tmp_path, fps=2.0).timeline.values
        crops = np.concatenate([b.images for b in media.frames(vod, 2.0, box, 32)])
        wrong = np.concatenate([b.images for b in media.frames(vod, 2.0, other, 32)])
        assert np.allclose(got, classifier.predict(crops), atol=1e-4)
        assert not np.allclose(got, classifier.predict(wrong), atol=1e-4)


def test_cache_reuse_and_keys(setup, tmp_path):
    vod, model = setup
    first = scan.scan(vod, model, LEFT, cache=tmp_path, fps=2.0)
    again = scan.scan(vod, model, LEFT, cache=tmp_path, fps=2.0)
    assert again.cached and again.samples == 0
    assert np.array_equal(first.timeline.values, again.timeline.values)
    assert not scan.scan(vod, model, RIGHT, cache=tmp_path, fps=2.0).cached  # other box
    assert len(scan.scan(vod, model, LEFT, cache=tmp_path, fps=1.0).timeline) == 10  # other fps


def test_keyframes_mode(setup, tmp_path):
    vod, model = setup
    result = scan.scan(vod, model, LEFT, scan.ScanConfig(mode="keyframes"), cache=tmp_path)
    assert np.allclose(result.timeline.times, np.arange(10.0), atol=1e-3)  # one keyframe a second


def test_interrupted_scan_resumes(setup, tmp_path):
    vod, model = setup
    whole = scan.scan(vod, model, LEFT, cache=tmp_path / "a", fps=2.0).timeline

    def interrupt(position: float, duration: float) -> None:
        if position >= 4.0:
            raise KeyboardInterrupt

    config = scan.ScanConfig(mode="dense", batch_size=4, checkpoint_seconds=1.0)
    with pytest.raises(KeyboardInterrupt):
        scan.scan(vod, model, LEFT, config, interrupt, cache=tmp_path / "b", fps=2.0)
    assert list((tmp_path / "b" / "scans").glob("*.partial.npz"))
    resumed = scan.scan(vod, model, LEFT, config, cache=tmp_path / "b", fps=2.0)
    assert resumed.resumed_from >= 4.0 and resumed.samples < 20
    assert np.allclose(resumed.timeline.times, whole.times, atol=1e-3)
    assert np.allclose(resumed.timeline.values, whole.values, atol=1e-4)
    assert not list((tmp_path / "b" / "scans").glob("*.partial.npz"))


@pytest.fixture(scope="module")
def second(setup) -> Path:
    """Another checkpoint: its own label and a bigger input size (boxes are given per scan)."""
    import torch

    torch.manual_seed(1)
    path = setup[0].parent / "laugh.pt"
    save_checkpoint(path, build_model(), ModelMeta(size=48, fps=2.0, label="laugh"))
    return path


def test_two_models_with_their_own_boxes_and_sizes_from_one_decode(setup, second, tmp_path, monkeypatch):
    vod, model = setup
    calls: list[dict] = []
    real = media.frames
    monkeypatch.setattr(media, "frames", lambda *a, **k: calls.append(k) or real(*a, **k))
    more = [scan.ScanModel(second, RIGHT)]
    result = scan.scan(vod, model, LEFT, cache=tmp_path, fps=2.0, labels=("rage", "laugh"), more=more)
    assert len(calls) == 1 and list(result.by_label) == ["rage", "laugh"] and result.samples == 20

    # Each model saw its own box at its own size, cut from the one shared decode ...
    info = media.probe(vod)
    shared = scan.shared_crop(info, [LEFT, RIGHT], [32, 48])
    assert shared.size == (128, 96)  # the whole frame at 0.4: the small boxes keep 64x48 px each
    frames = np.concatenate([b.images for b in real(vod, 2.0, shared.box, shared.size)])
    for path, box, other, rect, size, name in ((model, LEFT, RIGHT, shared.rects[0], 32, "rage"),
                                              (second, RIGHT, LEFT, shared.rects[1], 48, "laugh")):
        crops = scan.cut(frames, rect, size)
        own = np.concatenate([b.images for b in real(vod, 2.0, box, size)]).astype(int)
        wrong = np.concatenate([b.images for b in real(vod, 2.0, other, size)]).astype(int)
        assert np.abs(crops - own).mean() < 4 < np.abs(crops - wrong).mean()  # ffmpeg's own crop, near enough
        expected = load_classifier(path).predict(crops)
        np.testing.assert_allclose(result.by_label[name].values, expected, atol=1e-4)

    # ... cached under every model and box; another box for one of them scans again.
    calls.clear()
    assert scan.scan(vod, model, LEFT, cache=tmp_path, fps=2.0, labels=("rage", "laugh"), more=more).cached
    assert not calls
    moved = [scan.ScanModel(second, (0.5, 0.0, 1.0, 0.5))]
    again = scan.scan(vod, model, LEFT, cache=tmp_path, fps=2.0, labels=("rage", "laugh"), more=moved)
    assert not again.cached


def test_a_label_two_checkpoints_score_is_a_one_line_error(setup, tmp_path):
    from click.testing import CliRunner

    from autotosis.cli.main import cli

    vod, model = setup  # its one head is called "rage", as is this one's
    twin = tmp_path / "twin.pt"
    save_checkpoint(twin, build_model(), ModelMeta(size=32, fps=2.0))
    args = ["compile", str(vod), "--model", str(model), "--model", str(twin), "--scorer", "model",
            "--facecam", "0,0,0.5,0.5", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(cli, args, env={"AUTOTOSIS_CACHE": str(tmp_path / "cache"),
                                                "AUTOTOSIS_DEBUG": ""})
    assert result.exit_code == 1
    assert result.output == f"Error: {twin}: scores 'rage', as {model} does: give each label to one --model\n"
