"""Face-cam data set, clip-level split, training, checkpoints: real ffmpeg, real torch."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.errors import DataError, ModelError
from autotosis.core.metrics import average_precision
from autotosis.core.timeline import Segment
from autotosis.learn import dataset as ds
from autotosis.learn.labels import LabelFile, load_label
from autotosis.learn.model import ModelMeta, build_model, load_checkpoint, load_classifier, save_checkpoint
from autotosis.learn.train import TrainConfig, train

BOX = (0.6, 0.1, 0.95, 0.7)
W, H, FPS = 160, 96, 8


def _frame(rng: np.random.Generator, rage: bool) -> np.ndarray:
    """Noisy "gameplay" with a face-cam whose face turns red and opens its mouth in rage."""
    img = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    x0, y0, x1, y1 = (round(BOX[0] * W), round(BOX[1] * H), round(BOX[2] * W), round(BOX[3] * H))
    img[y0:y1, x0:x1] = (40, 60, 110)
    cx, cy = (x0 + x1) // 2 + int(rng.integers(-3, 4)), (y0 + y1) // 2 + int(rng.integers(-3, 4))
    img[cy - 14:cy + 14, cx - 10:cx + 10] = (220, 60, 50) if rage else (200, 170, 150)
    if rage:
        img[cy + 3:cy + 11, cx - 6:cx + 6] = 10
    return img


def make_clip(root: Path, name: str, seconds: float, segments: list[tuple[float, float]], seed: int) -> Path:
    """clips/<name>.mp4 + labels/<name>.toml under root; returns the label path."""
    rng = np.random.default_rng(seed)
    clip = root / "clips" / f"{name}.mp4"
    clip.parent.mkdir(parents=True, exist_ok=True)
    frames = (_frame(rng, any(a <= k / FPS < b for a, b in segments)) for k in range(round(seconds * FPS)))
    media.encode_frames(clip, frames, FPS, crf=18)
    label = root / "labels" / f"{name}.toml"
    label.parent.mkdir(parents=True, exist_ok=True)
    segs = ", ".join(f"[{a}, {b}]" for a, b in segments)
    label.write_text(f'clip = "clips/{name}.mp4"\nfacecam = {list(BOX)}\nsegments = [{segs}]\n')
    return label


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight 6 s clips, each with one 2 s rage segment at a different place."""
    root = tmp_path_factory.mktemp("proj")
    for i in range(8):
        start = 0.5 + (i % 4)
        make_clip(root, f"c{i}", 6.0, [(start, start + 2.0)], seed=i)
    return root


def test_extraction_shapes_and_labels_at_edges(tmp_path: Path) -> None:
    label = load_label(make_clip(tmp_path, "edge", 4.0, [(1.0, 2.0)], seed=1))
    data = ds.build_dataset([label], fps=4.0, size=48, edge_guard=0.0, cache=tmp_path / "cache")
    assert data.images.shape == (16, 48, 48, 3) and data.images.dtype == np.uint8
    np.testing.assert_allclose(data.times, np.arange(16) / 4.0, atol=1e-3)
    assert data.targets[:, 0].tolist() == [0, 0, 0, 0, 1, 1, 1, 1] + [0] * 8  # [1.0, 2.0): start in, end out
    assert data.known.all() and data.label_names == ("rage",)
    face = data.images[:, 14:34, 14:34].astype(int)  # the middle of the crop is the face
    red = face[..., 0] - face[..., 2]
    assert red[data.targets[:, 0] == 1].mean() > red[data.targets[:, 0] == 0].mean() + 50
    guarded = ds.build_dataset([label], fps=4.0, size=48, edge_guard=0.2, cache=tmp_path / "cache")
    assert not np.any(np.isin(np.round(guarded.times, 2), [1.0, 2.0]))
    assert len(guarded.times) == 14 and guarded.decode_seconds == 0.0


def test_cache_hits_and_invalidation(tmp_path: Path) -> None:
    paths = [make_clip(tmp_path, f"k{i}", 2.0, [(0.5, 1.5)], seed=i) for i in range(2)]
    cache = tmp_path / "cache"
    first = ds.build_dataset([load_label(p) for p in paths], fps=4.0, size=32, cache=cache)
    assert first.decoded_clip_seconds == pytest.approx(4.0, abs=0.2)
    again = ds.build_dataset([load_label(p) for p in paths], fps=4.0, size=32, cache=cache)
    assert again.decode_seconds == 0.0 and np.array_equal(again.images, first.images)
    # New segments: labels change, nothing is decoded.
    paths[0].write_text(paths[0].read_text().replace("[0.5, 1.5]", "[0.0, 2.0]"))
    relabeled = ds.build_dataset([load_label(p) for p in paths], fps=4.0, size=32, cache=cache, edge_guard=0)
    assert relabeled.decode_seconds == 0.0 and relabeled.targets[relabeled.clip == 0].all()
    # A replaced clip, another fps, another box: only what changed is decoded again.
    make_clip(tmp_path, "k1", 2.0, [(0.5, 1.5)], seed=9)
    redo = ds.build_dataset([load_label(p) for p in paths], fps=4.0, size=32, cache=cache)
    assert redo.decoded_clip_seconds == pytest.approx(2.0, abs=0.1)
    other = ds.build_dataset([load_label(p) for p in paths], fps=2.0, size=32, cache=cache)
    assert other.decoded_clip_seconds == pytest.approx(4.0, abs=0.2) and len(other.times) < len(redo.times)
    moved = LabelFile(clip=load_label(paths[0]).clip, facecam=(0.0, 0.0, 0.5, 0.5), segments=(Segment(0, 1),))
    assert ds.build_dataset([moved], fps=4.0, size=32, cache=cache).decode_seconds > 0


def test_split_is_by_clip_and_deterministic(project: Path, tmp_path: Path) -> None:
    files, names = ds.select_labels(project / "labels")
    assert names == ("rage",)
    data = ds.build_dataset(files, fps=2.0, size=32, cache=tmp_path, label_names=names)
    for seed in range(5):
        train_ids, val_ids = ds.split_by_clip(data, 0.25, seed)
        assert not set(train_ids) & set(val_ids) and sorted(train_ids + val_ids) == list(range(8))
        assert len(val_ids) == 2 and (train_ids, val_ids) == ds.split_by_clip(data, 0.25, seed)
        val = data.subset(val_ids)
        assert set(np.unique(val.clip)) == set(val_ids)
    no_pos = ds.Dataset(data.images, np.zeros_like(data.targets), data.known, data.times, data.clip,
                        data.names, None, ("rage",), 0.0, 0.0)
    warnings: list[str] = []
    ds.split_by_clip(no_pos, 0.25, 0, warnings.append)
    assert any("no validation clip has a positive" in w for w in warnings)


def test_short_training_run_learns_on_held_out_clips(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "models" / "rage.pt"
    cfg = TrainConfig(labels_dir=project / "labels", out=out, size=64, fps=4.0, epochs=3, patience=3,
                      batch_size=16, lr=2e-3, warmup_steps=5, val_fraction=0.25, cpu=True,
                      cache=tmp_path / "cache")
    result = train(cfg)
    assert result.best["ap"] >= 0.8 and result.best["accuracy_at_threshold"] >= 0.75
    report = json.loads(result.metrics_path.read_text())
    assert not set(report["data"]["train_clips"]) & set(report["data"]["val_clips"])
    assert len(report["history"]) == 3 and result.plot_path.read_bytes()[:4] == b"\x89PNG"
    assert not out.with_suffix(".state.pt").exists()
    # The saved model scores the held-out clips as well as the training run said.
    clf = load_classifier(out)
    assert clf.meta.size == 64 and clf.meta.facecam == BOX and clf.meta.threshold == result.best["threshold"]
    val = [load_label(project / "labels" / f"{n}.toml") for n in report["data"]["val_clips"]]
    data = ds.build_dataset(val, fps=4.0, size=64, cache=tmp_path / "cache")
    assert average_precision(data.targets[:, 0].astype(bool), clf.predict(data.images)) == pytest.approx(
        result.best["ap"], abs=0.02)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = build_model()
    meta = ModelMeta(size=32, facecam=(0.1, 0.2, 0.3, 0.4), fps=2.0, threshold=0.3, metrics={"ap": 0.9},
                     config={"lr": 0.001})
    save_checkpoint(tmp_path / "m.pt", model, meta, {"epoch": 3})
    state, loaded, extra = load_checkpoint(tmp_path / "m.pt")
    assert loaded == meta and extra == {"epoch": 3}
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    images = np.random.default_rng(0).integers(0, 255, (5, 32, 32, 3), dtype=np.uint8)
    probs = load_classifier(tmp_path / "m.pt").predict(images)
    assert probs.shape == (5,) and probs.dtype == np.float32 and ((probs >= 0) & (probs <= 1)).all()
    with pytest.raises(ModelError, match="expects 32x32"):
        load_classifier(tmp_path / "m.pt").predict(np.zeros((1, 64, 64, 3), np.uint8))


def test_weights_file_loads_trunk_and_replaces_head(tmp_path: Path) -> None:
    import torchvision

    imagenet_like = torchvision.models.resnet18(weights=None)  # 1000-class head, like torchvision's file
    torch.save(imagenet_like.state_dict(), tmp_path / "resnet18.pth")
    model = build_model(weights=str(tmp_path / "resnet18.pth"))
    assert torch.equal(model.conv1.weight, imagenet_like.conv1.weight) and model.fc.out_features == 1
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(ModelError, match="not a resnet18 state dict"):
        build_model(weights=str(tmp_path / "other.pth"))


@pytest.mark.parametrize("content, message", [
    (b"not a checkpoint", "not a readable checkpoint"),
    (None, "no such checkpoint"),
])
def test_bad_checkpoints_one_line(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "bad.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=message) as err:
        load_classifier(path)
    assert "\n" not in str(err.value)


def test_checkpoint_with_unfit_metadata_is_refused(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "m.pt", build_model(), ModelMeta(arch="vit_b_16"))
    with pytest.raises(ModelError, match="architecture 'vit_b_16' is not supported"):
        load_classifier(tmp_path / "m.pt")
    torch.save(build_model().state_dict(), tmp_path / "bare.pt")
    with pytest.raises(ModelError, match="no metadata"):
        load_classifier(tmp_path / "bare.pt")


def _run_train(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["train", "--cpu", "--labels-dir", str(root / "labels"), *args],
                                env={"AUTOTOSIS_CACHE": str(root / "cache"), "AUTOTOSIS_DEBUG": ""})
    return result.exit_code, result.output


def test_cli_bad_inputs_give_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    code, out = _run_train(tmp_path)
    assert code == 1 and out.startswith("Error: no label files") and out.count("\n") == 1
    make_clip(tmp_path, "calm", 2.0, [], seed=0)
    code, out = _run_train(tmp_path)
    assert code == 1 and "no positive segments" in out and out.count("\n") == 1
    (tmp_path / "labels" / "gone.toml").write_text('clip = "clips/gone.mp4"\nsegments = [[0, 1]]\n')
    code, out = _run_train(tmp_path)
    assert code == 1 and "gone.toml:1: clip 'clips/gone.mp4' not found" in out and out.count("\n") == 1
    with pytest.raises(DataError, match="no label files to build"):
        ds.build_dataset([])


def test_cli_train_writes_model_metrics_plot(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "m" / "rage.pt"
    code, text = _run_train(project, "--out", str(out), "--size", "32", "--epochs", "1", "--fps", "2",
                            "--batch-size", "16")
    assert code == 0, text
    assert f"model:   {out}" in text and "val AP" in text
    assert out.exists() and out.with_suffix(".metrics.json").exists() and out.with_suffix(".png").exists()
    assert not [p for p in os.listdir(out.parent) if ".part" in p]


def test_metrics_match_hand_computed_values() -> None:
    from autotosis.core.metrics import best_f1_threshold, roc_auc

    y = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=bool)
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    assert average_precision(y, s) == pytest.approx((1 + 2 / 3 + 3 / 4 + 4 / 7) / 4)
    assert roc_auc(y, s) == pytest.approx(11 / 16)
    assert best_f1_threshold(y, s) == pytest.approx((0.55, 0.75))  # midway between 0.6 and 0.5
    assert np.isnan(average_precision(np.zeros(3, bool), s[:3]))


@pytest.mark.parametrize(("stale", "epoch", "epochs", "patience", "stop"), [
    (3, 4, 10, 3, False),  # three stale epochs, but the learning rate is still high
    (3, 6, 10, 3, True),  # past the middle of the schedule: a plateau now
    (2, 8, 10, 3, False),  # not stale long enough
    (1, 3, 4, 1, True),
])
def test_early_stopping_waits_for_the_second_half(stale, epoch, epochs, patience, stop):
    from autotosis.learn.train import stop_early

    assert stop_early(stale, epoch, TrainConfig(epochs=epochs, patience=patience)) is stop


def _three_label_project(root: Path) -> Path:
    """Six synthetic 10 s clips, each with a rage and a laugh; calm talk is the rest (0.5 s clear of both)."""
    from autotosis.demo import synth
    from autotosis.learn.labels import make_label_file, save_label

    for i in range(6):
        spec = synth.scripted(10.0, seed=i, rages=1, hypes=1, rage_length=(2.0, 2.5), hype_length=(2.0, 2.5),
                              width=256, height=144, fps=8, streamer=synth.Streamer.from_seed(i % 3))
        clip = synth.make_stream(root / "clips" / f"m{i}.mp4", spec, preset="ultrafast")
        busy = sorted([*spec.rage, *spec.hype])
        calm, at = [], 0.0
        for seg in [*busy, Segment(10.5, 11.0)]:
            if seg.start - 0.5 > at + 0.5:
                calm.append(Segment(round(at, 2), round(min(seg.start - 0.5, 10.0), 2)))
            at = seg.end + 0.5
        by_label = {"rage": spec.rage, "laugh": spec.hype, "calm": tuple(calm)}
        save_label(make_label_file(clip, spec.facecam, by_label), root / "labels" / f"m{i}.toml")
    return root


@pytest.mark.slow
def test_three_labels_one_backbone_separate_them(tmp_path: Path) -> None:
    """rage, laugh and calm talk from one extraction and one model with three heads: each head
    ranks its own reaction first on held-out clips, and the checkpoint keeps a threshold each."""
    root = _three_label_project(tmp_path)
    out = tmp_path / "models" / "reactions.pt"
    code, text = _run_train(root, "--size", "48", "--fps", "3", "--epochs", "5", "--batch-size", "16",
                            "--lr", "2e-3", "--val-fraction", "0.34", "--out", str(out))
    assert code == 0, text
    assert "reactions.pt" in text and all(f"  {n} " in text for n in ("rage", "laugh", "calm"))
    clf = load_classifier(out)
    assert clf.labels == ("calm", "laugh", "rage") and set(clf.meta.thresholds) == set(clf.labels)
    report = json.loads(out.with_suffix(".metrics.json").read_text())
    assert report["data"]["clips"] == 6 and report["data"]["decoded_clip_seconds"] == pytest.approx(60, abs=1)
    assert set(report["best"]["labels"]) == {"calm", "laugh", "rage"}
    val = [load_label(root / "labels" / f"{n}.toml") for n in report["data"]["val_clips"]]
    data = ds.build_dataset(val, fps=4.0, size=48, cache=root / "cache", label_names=clf.labels,
                            edge_guard=0.5)
    scores = clf.predict_all(data.images)
    single = data.known.all(axis=1) & (data.targets.sum(axis=1) == 1)  # frames of exactly one of the three
    for i, name in enumerate(clf.labels):
        ap = average_precision(data.targets[single, i].astype(bool), scores[single, i])
        assert ap >= 0.9, (name, ap)  # its head ranks its own frames above the other two kinds
    # A label's head alone: the same numbers as the column of the three.
    np.testing.assert_allclose(clf.predict(data.images[:8], "laugh"), scores[:8, 1], atol=1e-5)
    _compile_two_labels_with_one_decode(root, out)
    _compile_two_checkpoints_with_one_decode(root, out)


def _compile_two_labels_with_one_decode(root: Path, model: Path) -> None:
    """`compile --labels rage,laugh` on a generated VOD: one decode feeds both heads, one reel
    in time order holds both kinds, labelled. (Whether each segment is the right kind is for
    a real model: this one is 48 px and five epochs on six clips.)"""
    from autotosis.demo import synth

    spec = synth.scripted(36.0, seed=40, rages=2, hypes=2, rage_length=(2.5, 3.0), hype_length=(2.5, 3.0),
                          width=256, height=144, fps=8, streamer=synth.Streamer.from_seed(1))
    vod = synth.make_stream(root / "vod.mp4", spec, preset="ultrafast")
    decodes: list[dict] = []
    real_frames = media.frames

    def counted(*args, **kwargs):
        decodes.append(kwargs)
        return real_frames(*args, **kwargs)

    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(media, "frames", counted)
        args = ["compile", str(vod), "--model", str(model), "--labels", "rage,laugh",
                "--out", str(root / "out"), "--preset", "ultrafast", "--scorer", "model"]
        result = runner.invoke(cli, args, env={"AUTOTOSIS_CACHE": str(root / "cache"), "AUTOTOSIS_DEBUG": ""})
    assert result.exit_code == 0, result.output
    assert len(decodes) == 1  # one ffmpeg decode of the VOD for both labels
    data = json.loads((root / "out" / "segments.json").read_text())
    found = [(s["label"], Segment(s["start"], s["end"])) for s in data["segments"]]
    assert {label for label, _ in found} == {"rage", "laugh"}
    assert [s for _, s in found] == sorted(s for _, s in found)  # one reel in time order
    assert all(a.end <= b.start for (_, a), (_, b) in itertools.pairwise(found))  # no second twice
    assert (root / "out" / "scores.csv").read_text().splitlines()[0] == "time,rage,laugh"
    chapters = (root / "out" / "chapters.txt").read_text()
    assert "rage #" in chapters and "laugh #" in chapters


def _compile_two_checkpoints_with_one_decode(root: Path, reactions: Path) -> None:
    """Two separately trained checkpoints (rage at 40 px on the labelled box, laugh at 48 px on
    a wider box) scored by one compile: one decode, each model on its own crop, both labels in
    the reel. A label two checkpoints score is a one-line error."""
    from autotosis.learn.labels import save_label

    wide = root / "labels-wide"
    for path in sorted((root / "labels").glob("*.toml")):
        label = load_label(path)
        x0, y0, x1, y1 = label.facecam or (0.0, 0.0, 1.0, 1.0)
        box = (max(0.0, x0 - 0.1), max(0.0, y0 - 0.05), min(1.0, x1 + 0.05), min(1.0, y1 + 0.1))
        save_label(dataclasses.replace(label, facecam=box), wide / path.name)
    rage, laugh = root / "models" / "rage.pt", root / "models" / "laugh.pt"
    common = ("--fps", "3", "--epochs", "5", "--batch-size", "16", "--lr", "2e-3", "--val-fraction", "0.34")
    for out, size, labels in ((rage, "40", "labels"), (laugh, "48", "labels-wide")):
        code, text = _run_train(root, "--labels-dir", str(root / labels), "--label", out.stem, "--size", size,
                                *common, "--out", str(out))
        assert code == 0, text

    decodes: list[dict] = []
    real_frames = media.frames

    def counted(*args, **kwargs):
        decodes.append(kwargs)
        return real_frames(*args, **kwargs)

    env = {"AUTOTOSIS_CACHE": str(root / "cache"), "AUTOTOSIS_DEBUG": ""}
    # Short pads: the VOD's first laugh sits 1.5 s after a rage, which the default pads and
    # merge gap would fold into the rage's highlight.
    base = ["compile", str(root / "vod.mp4"), "--preset", "ultrafast", "--scorer", "model",
            "--pad-before", "0.5", "--pad-after", "0.5", "--merge-gap", "0.5"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(media, "frames", counted)
        result = CliRunner().invoke(cli, [*base, "--model", str(rage), "--model", str(laugh),
                                          "--out", str(root / "out2")], env=env)
    assert result.exit_code == 0, result.output
    assert len(decodes) == 1  # one ffmpeg decode for both checkpoints
    options = json.loads((root / "out2" / "options.json").read_text())
    assert [m["labels"] for m in options["models"]] == [["rage"], ["laugh"]]
    assert options["models"][0]["facecam"] != options["models"][1]["facecam"]
    segments = json.loads((root / "out2" / "segments.json").read_text())["segments"]
    assert {s["label"] for s in segments} == {"rage", "laugh"}
    assert (root / "out2" / "scores.csv").read_text().splitlines()[0] == "time,rage,laugh"

    twice = CliRunner().invoke(cli, [*base, "--model", str(reactions), "--model", str(rage),
                                     "--out", str(root / "out3")], env=env)
    assert twice.exit_code == 1 and twice.output.count("\n") == 1
    assert twice.output.startswith(f"Error: {rage}: scores 'rage', as {reactions} does")
