"""Quick retraining after a round of answers: warm start when the labels only grew, scratch
(with the reason) otherwise; real ffmpeg and real torch on tiny clips (32 px, 2 fps)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from test_train import make_clip

from autotosis.cli.main import cli
from autotosis.core.timeline import Segment
from autotosis.learn import dataset as ds
from autotosis.learn import record as record_lib
from autotosis.learn import warm
from autotosis.learn.labels import LabelFile, load_all
from autotosis.learn.model import ModelMeta, build_model, load_checkpoint, save_checkpoint
from autotosis.learn.trainconfig import TrainConfig

# One thread: on tiny batches a second one mostly waits, and on a busy machine it waits for a core.
SMALL = ("--size", "32", "--fps", "2", "--batch-size", "8", "--val-fraction", "0.34", "--lr", "2e-3",
         "--threads", "1")
CFG = TrainConfig(size=32, fps=2.0)
SETTINGS = record_lib.record_settings("resnet18", 2.0, 32, "others", CFG.edge_guard)


def _train(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["train", "--cpu", "--labels-dir", str(root / "labels"), *SMALL,
                                      "--out", str(root / "models" / "rage.pt"), *args],
                                env={"AUTOTOSIS_CACHE": str(root / "cache"), "AUTOTOSIS_DEBUG": ""})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six 4 s clips (a rage in four of them) and a model trained on them: the round before."""
    root = tmp_path_factory.mktemp("round0")
    for i in range(6):
        make_clip(root, f"c{i}", 4.0, [(0.5 + i % 3 * 0.5, 2.5 + i % 3 * 0.5)] if i % 3 else [], seed=i)
    code, text = _train(root, "--epochs", "2")
    assert code == 0 and "warm start" not in text and "from scratch" not in text, text
    return root


def _copy(base: Path, tmp: Path) -> Path:
    """The project as it stood after round 0 (clips keep their mtime, so they are the same clips)."""
    root = tmp / "p"
    shutil.copytree(base, root, ignore=shutil.ignore_patterns("cache"))
    return root


def _model(root: Path) -> Path:
    return root / "models" / "rage.pt"


def test_grown_labels_start_warm_from_the_checkpoint(base: Path, tmp_path: Path) -> None:
    root = _copy(base, tmp_path)
    make_clip(root, "n0", 4.0, [(1.0, 3.0)], seed=10)  # two answers: a reaction, and a calm clip
    make_clip(root, "n1", 4.0, [], seed=11)
    before, _, before_extra = load_checkpoint(_model(root))
    code, text = _train(root, "--epochs", "4")
    assert code == 0, text
    line = re.search(r"warm start from (\S+): 2 new clips \(\+(\d+) s\), replaying (\d+) of (\d+) old "
                     r"frames; --scratch to start over", text)
    assert line and line[1] == str(_model(root)), text
    report = json.loads(_model(root).with_suffix(".metrics.json").read_text())
    assert report["start"]["warm"] and len(report["history"]) == TrainConfig().warm_epochs < 4  # fewer epochs
    assert 0 < int(line[3]) == int(line[4])  # fewer old frames than the replay minimum: all of them again
    # The old validation clips are validation again, so the AP compares with round 0's.
    assert set(before_extra["val_clips"]) <= set(report["data"]["val_clips"])
    # Started from the checkpoint: a few small steps away from it, far from a fresh init.
    after, _, extra = load_checkpoint(_model(root))
    torch.manual_seed(1)
    fresh = build_model().state_dict()["conv1.weight"]
    moved = float((after["conv1.weight"] - before["conv1.weight"]).norm())
    assert 0 < moved < 0.2 * float((fresh - before["conv1.weight"]).norm())
    assert set(extra[record_lib.RECORD_KEY]["files"]) == {*(f"c{i}" for i in range(6)), "n0", "n1"}


def test_scratch_from_and_an_old_checkpoint(base: Path, tmp_path: Path) -> None:
    root = _copy(base, tmp_path)
    make_clip(root, "n0", 4.0, [(1.0, 3.0)], seed=10)
    code, text = _train(root, "--epochs", "1", "--scratch")
    assert code == 0 and "training from scratch (--scratch)" in text and "warm start" not in text, text
    assert not json.loads(_model(root).with_suffix(".metrics.json").read_text())["start"]["warm"]

    # --from another checkpoint into a new --out: that checkpoint is the start, and stays as it was.
    make_clip(root, "n1", 4.0, [], seed=11)
    other = root / "models" / "other.pt"
    stamp = os.stat(_model(root)).st_mtime_ns
    result = CliRunner().invoke(cli, ["train", "--cpu", "--labels-dir", str(root / "labels"), *SMALL,
                                      "--from", str(_model(root)), "--out", str(other)],
                                env={"AUTOTOSIS_CACHE": str(root / "cache"), "AUTOTOSIS_DEBUG": ""})
    assert result.exit_code == 0, result.output
    assert f"warm start from {_model(root)}: 1 new clip (+" in result.output
    assert other.exists() and os.stat(_model(root)).st_mtime_ns == stamp
    code, text = _train(root, "--scratch", "--from", str(other))
    assert code == 2 and "--from starts from a checkpoint: not with --scratch" in text

    # A checkpoint from before the record: scratch, with the reason, no traceback.
    meta = ModelMeta(size=32, fps=2.0, labels=("rage",))
    save_checkpoint(_model(root), build_model(), meta, {"epoch": 1, "clips": ["c0"]})
    code, text = _train(root, "--epochs", "1")
    assert code == 0 and "Traceback" not in text, text
    assert (f"training from scratch, not from {_model(root)}: it has no record of the data it learned "
            "from (written by an older autotosis)") in text
    assert record_lib.RECORD_KEY in load_checkpoint(_model(root))[2]
    # (Each other reason for a start from scratch: test_each_change_gives_its_reason.)


def test_from_a_checkpoint_that_does_not_fit_is_one_line(base: Path, tmp_path: Path) -> None:
    code, text = _train(_copy(base, tmp_path), "--size", "48", "--from", str(_model(base)))
    assert code == 1 and text == (f"Error: {_model(base)}: cannot start from it: it was trained with "
                                  "--size 32, not 48\n")


def _decide(base: Path, files: list[LabelFile], cfg: TrainConfig = CFG, names: tuple[str, ...] = ("rage",),
            forced: bool = False) -> warm.Decision:
    data = ds.build_dataset(files, cfg.fps, cfg.size, cfg.edge_guard, base / "cache", label_names=names)
    settings = record_lib.record_settings("resnet18", cfg.fps, cfg.size, cfg.negatives, cfg.edge_guard)
    if forced:
        cfg = dataclasses.replace(cfg, init_from=_model(base))
    return warm.decide(cfg, _model(base), files, names, data, settings, warm.open_from(cfg, names))


def test_each_change_gives_its_reason(base: Path) -> None:
    files = load_all(base / "labels")
    by = {f.path.stem: f for f in files if f.path is not None}

    def swap(stem: str, **change: object) -> list[LabelFile]:
        return [dataclasses.replace(f, **change) if f is by[stem] else f for f in files]

    grown = _decide(base, [*files, dataclasses.replace(by["c1"], path=base / "labels" / "again.toml")])
    assert grown.warm and grown.growth == record_lib.Growth(("again",), 1, 0) and grown.new is not None
    assert _decide(base, files).why == "the labels have not changed since it was trained (a full retrain)"
    cases = [
        (swap("c1", segments=(Segment(1.5, 3.5),)),
         "c1.toml: segment rage 0:01.0-0:03.0 was moved or removed"),
        ([f for f in files if f is not by["c2"]], "labels shrank: 1 label file gone (c2.toml)"),
        (swap("c4", facecam=(0.5, 0.1, 0.95, 0.7)), "c4.toml: the face-cam box changed"),
        # A segment added to a clip labelled whole: spans only grew, but its frames were negatives.
        (swap("c0", segments=(Segment(1.0, 3.0),)),
         "c0.toml: rage frames it learned as negative are positive now"),
    ]
    for changed, why in cases:
        decision = _decide(base, changed)
        assert not decision.warm and decision.why is not None and decision.why.startswith(why), decision.why
    assert _decide(base, files, dataclasses.replace(CFG, edge_guard=0.5)).why == (
        "it was trained with --edge-guard 0.25, not 0.5")
    assert _decide(base, files, names=("laugh", "rage")).why == (
        "it scores rage, the labels now are laugh, rage")
    # --from forces the start even so, and trains on every frame.
    forced = _decide(base, swap("c1", segments=(Segment(1.5, 3.5),)), forced=True)
    assert forced.warm and forced.new is None and forced.state is not None
    data = ds.build_dataset(files, 2.0, 32, CFG.edge_guard, base / "cache")
    rows, line = warm.training_rows(forced, data, list(range(6)), CFG, _model(base))
    assert rows is not None and len(rows) == len(data.times)
    assert line == (f"start from {_model(base)} (--from), training on all {len(rows)} frames: "
                    "c1.toml: segment rage 0:01.0-0:03.0 was moved or removed")


def test_a_replaced_clip_is_a_change(base: Path, tmp_path: Path) -> None:
    files = load_all(base / "labels")
    record = load_checkpoint(_model(base))[2][record_lib.RECORD_KEY]
    clip = tmp_path / "c3.mp4"
    shutil.copy(files[3].clip, clip)  # same bytes, another file: its mtime differs
    moved = [dataclasses.replace(f, clip=clip) if i == 3 else f for i, f in enumerate(files)]
    why = record_lib.compare(record, moved, ("rage",), SETTINGS)
    assert isinstance(why, str) and why.startswith("c3.toml: its clip ") and why.endswith(
        " is not the file it was trained on")


def test_answers_on_a_partly_reviewed_vod_grow_it() -> None:
    """Span by span: new calm spans and segments, and old ones made longer, are growth; a calm
    span moved is a change."""
    vod = Path("/nowhere/vod.mp4")
    old = LabelFile(vod, None, "rage", (Segment(10, 20),), calm={"rage": (Segment(30, 40),)})
    record = {**SETTINGS, "version": 1, "labels": ["rage"], "files": {"vod": record_lib.file_record(old)}}
    more = dataclasses.replace(old, segments=(Segment(10, 20), Segment(50, 55)),
                               calm={"rage": (Segment(30, 40), Segment(60, 70))})
    assert record_lib.compare(record, [more], ("rage",), SETTINGS) == record_lib.Growth((), 0, 2)
    # An answer next to an old calm span is joined to it: the old span grew, it did not move.
    joined = dataclasses.replace(old, calm={"rage": (Segment(30, 50),)})
    assert record_lib.compare(record, [joined], ("rage",), SETTINGS) == record_lib.Growth((), 0, 1)
    moved = dataclasses.replace(old, calm={"rage": (Segment(31, 40),)})
    assert record_lib.compare(record, [moved], ("rage",), SETTINGS) == (
        "vod.toml: calm span rage 0:30.0-0:40.0 was moved or removed")
    whole = dataclasses.replace(old, calm=None)
    assert record_lib.compare(record, [whole], ("rage",), SETTINGS) == (
        "vod.toml: was partly reviewed, now a whole clip")


def _data(names: list[str], frames: list[tuple[int, float, int]]) -> ds.Dataset:
    """A data set of (unit, time, positive) frames, no pixels needed."""
    n = len(frames)
    return ds.Dataset(np.zeros((n, 2, 2, 3), np.uint8), np.array([[p] for _, _, p in frames], np.uint8),
                      np.ones((n, 1), bool), np.array([t for _, t, _ in frames]),
                      np.array([u for u, _, _ in frames], np.int32), tuple(names), None, ("rage",), 0.0, 0.0)


def test_old_units_keep_their_side_and_new_ones_split() -> None:
    record = {"units": {"a": ["a", 0.0, 4.0, True], "b": ["b", 0.0, 4.0, False],
                        "vod@1:00": ["vod", 60.0, 80.0, True], "vod@3:00": ["vod", 180.0, 190.0, False]}}
    # vod@0:50: a new answer at 0:50 joined the held-out group that started at 1:00.
    names = ["a", "b", "vod@0:50", "vod@3:00", *(f"n{i}" for i in range(10))]
    frames = [(0, 1.0, 1), (1, 1.0, 1), (2, 55.0, 1), (2, 70.0, 0), (3, 185.0, 0),
              *((4 + i, 1.0, i % 2) for i in range(10))]
    data = _data(names, frames)
    fixed = warm.fixed_sides(data, record)
    assert fixed == {"a": True, "b": False, "vod@0:50": True, "vod@3:00": False}
    train, val = ds.split_by_clip(data, 0.2, 0, fixed=fixed)
    assert {0, 2} <= set(val) and {1, 3} <= set(train)
    assert len(set(val) - {0, 2}) == 2  # a fifth of the ten new clips: one with a reaction, one without
    assert ds.split_by_clip(data, 0.2, 0, fixed=fixed) == (train, val)


def test_replay_is_balanced_and_bounded() -> None:
    frames = [(0, float(t), int(t < 20)) for t in range(200)]  # 20 positives, 180 negatives
    data = _data(["a"], frames)
    old = np.arange(200)
    picked = warm.replay(data, old, 60, seed=0)
    assert len(picked) == 60 and len(set(picked)) == 60
    assert int(data.targets[picked, 0].sum()) == 20  # half positives where there are; the rest negatives
    picked = warm.replay(data, old, 30, seed=0)
    assert int(data.targets[picked, 0].sum()) == 15 and np.array_equal(picked, warm.replay(data, old, 30, 0))
    assert len(warm.replay(data, old, 500, seed=0)) == 200
