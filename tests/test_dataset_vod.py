"""Training data from a partly reviewed VOD: only reviewed spans are decoded (input seeking,
cached per span), unknown frames stay out, targets per label, a unit per group of spans."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autotosis import media
from autotosis.core.errors import DataError
from autotosis.core.timeline import Segment
from autotosis.learn import dataset as ds
from autotosis.learn import labels as labels_lib
from autotosis.learn import targets as targets_lib
from autotosis.learn.labels import load_label
from autotosis.learn.targets import SPLIT_GAP

BOX = (0.6, 0.1, 0.95, 0.7)
W, H, FPS, SECONDS = 160, 96, 8, 90
RAGE = [(10, 13), (62, 65)]
LABEL = """clip = "clips/vod.mp4"
facecam = [0.6, 0.1, 0.95, 0.7]

[segments]
rage = [[10, 13], [62, 65]]
laugh = [[36, 38]]

[calm]
rage = [[5, 10], [13, 15], [35, 40], [80, 84]]
laugh = [[20, 22]]
"""
# Every span looked at, merged across labels: 24 s of the 90.
REVIEWED = [Segment(5, 15), Segment(20, 22), Segment(35, 40), Segment(62, 65), Segment(80, 84)]


def _frame(t: float) -> np.ndarray:
    img = np.full((H, W, 3), 90, np.uint8)
    x0, y0, x1, y1 = (round(BOX[0] * W), round(BOX[1] * H), round(BOX[2] * W), round(BOX[3] * H))
    rage = any(a <= t < b for a, b in RAGE)
    img[y0:y1, x0:x1] = (220, 60, 50) if rage else (200, 170, 150)
    img[:8, :8] = int(t) % 256  # the second, readable in a full frame (not in the crop)
    return img


@pytest.fixture(scope="module")
def vod_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clips/vod.mp4 (90 s, 160x96) with a partly reviewed label file; the cache under root/cache."""
    root = tmp_path_factory.mktemp("vodproj")
    (root / "clips").mkdir()
    (root / "labels").mkdir()
    media.encode_frames(root / "clips" / "vod.mp4", (_frame(k / FPS) for k in range(SECONDS * FPS)), FPS,
                        gop=2 * FPS)
    (root / "labels" / "vod.toml").write_text(LABEL)
    return root


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """(start, end) of every ffmpeg decode the data set starts (the real one runs)."""
    calls: list[tuple] = []
    real = media.frames

    def counted(*args, **kwargs):
        calls.append((kwargs.get("start"), kwargs.get("end")))
        return real(*args, **kwargs)

    monkeypatch.setattr(media, "frames", counted)
    return calls


def _inside(times: np.ndarray, spans: list[Segment]) -> np.ndarray:
    return targets_lib.in_spans(times, spans)


def test_only_reviewed_spans_are_decoded_and_cached(vod_project: Path, tmp_path: Path, decodes: list) -> None:
    label = load_label(vod_project / "labels" / "vod.toml")
    assert label.partial
    ticks: list[tuple[int, int, str]] = []
    cache = tmp_path / "cache"
    data = ds.build_dataset([label], fps=4.0, size=32, edge_guard=0.0, cache=cache,
                            label_names=("rage", "laugh"), progress=lambda *a: ticks.append(a))
    assert decodes == [(s.start, s.end) for s in REVIEWED]  # one seek per merged span, nothing else
    assert data.decoded_clip_seconds == pytest.approx(24.0)
    assert data.reviewed_seconds == pytest.approx(24.0)
    assert ticks == [(0, 5, "vod@0:05"), (1, 5, "vod@0:20"), (2, 5, "vod@0:35"), (3, 5, "vod@1:02"),
                     (4, 5, "vod@1:20"), (5, 5, "")]
    # Frame times are VOD seconds, on the sampling grid, and every one is inside a reviewed span.
    assert len(data.times) == 24 * 4 and _inside(data.times, REVIEWED).all()
    np.testing.assert_allclose(data.times[:3], [5.0, 5.25, 5.5], atol=0.02)
    red = data.images[:, 10:22, 10:22, 0].astype(int) - data.images[:, 10:22, 10:22, 2]
    assert (red.mean(axis=(1, 2)) > 100).tolist() == _inside(data.times, [Segment(*r) for r in RAGE]).tolist()
    # Spans under SPLIT_GAP apart are one unit of the split.
    assert data.names == ("vod@0:05", "vod@0:35", "vod@1:02", "vod@1:20")
    # Again: everything from the cache, the same pixels.
    decodes.clear()
    again = ds.build_dataset([label], fps=4.0, size=32, edge_guard=0.0, cache=cache,
                             label_names=("rage", "laugh"))
    assert decodes == [] and again.decode_seconds == 0.0 and np.array_equal(again.images, data.images)
    # A new answer decodes its own span only.
    grown = labels_lib.label_clip(vod_project / "clips" / "vod.mp4", vod_project / "labels",
                                  calm=[Segment(50, 53)], label="rage")
    try:
        third = ds.build_dataset([grown], fps=4.0, size=32, edge_guard=0.0, cache=cache,
                                 label_names=("rage", "laugh"))
        assert decodes == [(50.0, 53.0)] and third.decoded_clip_seconds == pytest.approx(3.0)
        assert len(third.times) == len(data.times) + 12
    finally:
        (vod_project / "labels" / "vod.toml").write_text(LABEL)


def test_spans_are_decoded_with_input_seeking(vod_project: Path) -> None:
    clip = vod_project / "clips" / "vod.mp4"
    args, _ = media.frames_args(clip, media.probe(clip), 4.0, BOX, 32, start=62.0, end=65.0)
    assert args.index("-ss") < args.index("-i") and args[args.index("-ss") + 1] == "62.000"
    assert args[args.index("-t") + 1] == "3.000"


def test_a_span_starts_on_the_sampling_grid() -> None:
    from autotosis.learn.crops import on_grid

    assert on_grid(Segment(5.1, 9.0), 4.0) == Segment(5.25, 9.0)
    assert on_grid(Segment(5.0, 9.0), 4.0) == Segment(5.0, 9.0)
    assert on_grid(Segment(5.1, 5.2), 4.0) == Segment(5.1, 5.2)  # no tick inside: left as it is


def _targets_at(data: ds.Dataset, t: float) -> tuple[list[int], list[bool]] | None:
    hit = np.flatnonzero(np.abs(data.times - t) < 1e-3)
    return (data.targets[hit[0]].tolist(), data.known[hit[0]].tolist()) if len(hit) else None


@pytest.mark.parametrize(("negatives", "pog"), [
    ("others", {11.0: (0, True), 36.5: (0, True), 6.0: (0, False), 21.0: (0, False)}),
    ("all", {11.0: (0, True), 36.5: (0, True), 6.0: (0, True), 21.0: (0, True)}),
    ("none", {11.0: (0, False), 36.5: (0, False), 6.0: (0, False), 21.0: (0, False)}),
])
def test_targets_per_label(vod_project: Path, tmp_path: Path, negatives: str, pog: dict) -> None:
    """rage and laugh are known in their own segments (1) and calm spans (0) only; pog, which the
    file does not name, follows --negatives; a frame known for no label is not in the data set."""
    label = load_label(vod_project / "labels" / "vod.toml")
    data = ds.build_dataset([label], fps=4.0, size=16, edge_guard=0.0, cache=tmp_path,
                            label_names=("rage", "laugh", "pog"), negatives=negatives)
    expect = {  # time: ([rage, laugh] targets, [rage, laugh] known)
        6.0: ([0, 0], [True, False]), 11.0: ([1, 0], [True, False]), 14.0: ([0, 0], [True, False]),
        21.0: ([0, 0], [False, True]), 36.5: ([0, 1], [True, True]), 39.0: ([0, 0], [True, False]),
        63.0: ([1, 0], [True, False]), 81.0: ([0, 0], [True, False]),
    }
    for t, (target, known) in expect.items():
        got = _targets_at(data, t)
        assert got is not None, t
        assert (got[0][:2], got[1][:2]) == (target, known), t
        if t in pog:
            assert (got[0][2], got[1][2]) == pog[t], t
    for t in (0.0, 17.0, 30.0, 45.0, 70.0, 89.0):  # never looked at: not in the data set
        assert _targets_at(data, t) is None, t
    assert data.label_seconds["rage"] == pytest.approx(3 + 3 + 5 + 2 + 5 + 4)
    assert data.label_seconds["laugh"] == pytest.approx(4.0)
    assert data.label_seconds["pog"] == pytest.approx({"others": 8.0, "all": 24.0, "none": 0.0}[negatives])
    described = ds.describe(data)
    assert described["reviewed_seconds"] == 24.0 and described["labels"]["laugh"]["reviewed_seconds"] == 4.0


def test_only_the_trained_labels_spans_are_decoded(vod_project: Path, tmp_path: Path, decodes: list) -> None:
    """Training rage alone: laugh's calm span (20-22) teaches rage nothing under "others"."""
    label = load_label(vod_project / "labels" / "vod.toml")
    data = ds.build_dataset([label], fps=4.0, size=16, edge_guard=0.0, cache=tmp_path, label_names=("rage",))
    assert (20.0, 22.0) not in decodes and len(decodes) == 4
    assert data.known.all() and not _inside(data.times, [Segment(20, 22)]).any()


def test_edge_guard_on_a_vod(vod_project: Path, tmp_path: Path) -> None:
    label = load_label(vod_project / "labels" / "vod.toml")
    data = ds.build_dataset([label], fps=4.0, size=16, edge_guard=0.3, cache=tmp_path, label_names=("rage",))
    assert not np.isin(np.round(data.times, 2), [10.0, 13.0, 62.0, 65.0]).any()
    assert _targets_at(data, 10.5) == ([1], [True]) and _targets_at(data, 5.0) == ([0], [True])


def test_select_labels_accepts_a_vod_whose_only_positives_are_in_it(vod_project: Path,
                                                                    tmp_path: Path) -> None:
    files, names = ds.select_labels(vod_project / "labels")
    assert names == ("laugh", "rage") and len(files) == 1 and files[0].partial
    assert ds.select_labels(vod_project / "labels", "laugh")[1] == ("laugh",)
    only_calm = tmp_path / "labels"
    only_calm.mkdir()
    clip = vod_project / "clips" / "vod.mp4"
    (only_calm / "vod.toml").write_text(f'clip = "{clip}"\nsegments = []\ncalm = [[5, 10]]\n')
    with pytest.raises(DataError, match="no positive segments in any label file"):
        ds.select_labels(only_calm)


def test_a_vod_and_short_clips_split_by_unit(vod_project: Path, tmp_path: Path) -> None:
    """Each group of spans is a unit beside whole clips; whole units go to one side."""
    label = load_label(vod_project / "labels" / "vod.toml")
    short = labels_lib.make_label_file(vod_project / "clips" / "vod.mp4", BOX, {"rage": (Segment(1, 2),)})
    data = ds.build_dataset([label, short], fps=2.0, size=16, edge_guard=0.0, cache=tmp_path,
                            label_names=("rage", "laugh"))
    assert data.names == ("vod@0:05", "vod@0:35", "vod@1:02", "vod@1:20", "vod")
    assert (data.clip == 4).sum() == SECONDS * 2  # the short clip's meaning: all of it, as before
    for seed in range(4):
        train_ids, val_ids = ds.split_by_clip(data, 0.4, seed)
        assert len(val_ids) == 2 and sorted(train_ids + val_ids) == [0, 1, 2, 3, 4]


def test_merge_and_units() -> None:
    spans = [Segment(0, 2), Segment(2.5, 4), Segment(10, 12), Segment(40, 41), Segment(3, 5)]
    assert targets_lib.merge(spans, 1.0) == [Segment(0, 5), Segment(10, 12), Segment(40, 41)]
    assert targets_lib.merge(spans) == [Segment(0, 2), Segment(2.5, 5), Segment(10, 12), Segment(40, 41)]
    units = targets_lib.split_units(targets_lib.merge(spans, 1.0), 20.0)
    assert units == [[Segment(0, 5), Segment(10, 12)], [Segment(40, 41)]]
    assert targets_lib.split_units([Segment(0, 5), Segment(15, 16)]) == [[Segment(0, 5)], [Segment(15, 16)]]
    assert ds.unit_name("vod", 3725.9) == "vod@1:02:05"


def test_reviewed_spans_shorter_than_a_sample_are_an_error(vod_project: Path, tmp_path: Path) -> None:
    tiny = labels_lib.make_label_file(vod_project / "clips" / "vod.mp4", BOX, {"rage": (Segment(5.1, 5.2),)},
                                      calm={"rage": ()})
    with pytest.raises(DataError, match="no frames to train on"):
        ds.build_dataset([tiny], fps=2.0, size=16, cache=tmp_path)


def _apart(a: Segment, b: Segment, gap: float) -> bool:
    return a.end + gap <= b.start or b.end + gap <= a.start


@pytest.mark.slow
def test_train_on_a_project_whose_only_label_file_is_a_vod(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A generated 150 s stream standing in for a long VOD (LONG_CLIP lowered): its rages marked
    with `label -s`, calm stretches with `label --calm`, then `train`: only the reviewed spans are
    decoded, each answer is its own unit, and validation gets some of them."""
    from autotosis.cli.main import cli
    from autotosis.demo import synth

    spec = synth.scripted(150.0, seed=5, rages=4, hypes=2, rage_length=(3.0, 4.0), gap=20.0,
                          width=160, height=90, fps=4)
    vod = synth.make_stream(tmp_path / "vods" / "stream.mp4", spec, preset="ultrafast")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(labels_lib.edits, "LONG_CLIP", 100.0)
    env = {"AUTOTOSIS_CACHE": str(tmp_path / "cache"), "AUTOTOSIS_DEBUG": ""}
    runner = CliRunner()
    rages = [f"{s.start}-{s.end}" for s in spec.rage]
    result = runner.invoke(cli, ["label", str(vod), "--facecam", ",".join(map(str, spec.facecam)),
                                 *[a for r in rages for a in ("-s", r)]], env=env)
    assert result.exit_code == 0, result.output
    busy = sorted([*spec.rage, *spec.hype, *(Segment(b, b + spec.bang_seconds) for b in spec.bangs)])
    calm: list[Segment] = []
    for start in np.arange(1.0, 146.0, 1.0):  # 4 s stretches clear of any moment, each its own unit
        span = Segment(float(start), float(start) + 4.0)
        answered = [*spec.rage, *calm]
        if all(_apart(span, b, 2.0) for b in busy) and all(_apart(span, s, SPLIT_GAP) for s in answered):
            calm.append(span)
    assert len(calm) >= 3
    calm_args = [a for c in calm for a in ("--calm", f"{c.start}-{c.end}")]
    result = runner.invoke(cli, ["label", str(vod), *calm_args], env=env)
    assert result.exit_code == 0, result.output
    decodes: list[tuple] = []
    real = media.frames

    def counted(*args, **kwargs):
        decodes.append((kwargs.get("start"), kwargs.get("end")))
        return real(*args, **kwargs)

    monkeypatch.setattr(media, "frames", counted)
    out = tmp_path / "models" / "rage.pt"
    # One thread: the test's few frames gain nothing from two, and lose much on a busy machine.
    args = ["--size", "32", "--fps", "2", "--epochs", "1", "--batch-size", "16", "--val-fraction", "0.25"]
    result = runner.invoke(cli, ["train", "--cpu", *args, "--threads", "1", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".metrics.json").read_text())["data"]
    reviewed = sum(s.duration for s in spec.rage) + 4.0 * len(calm)
    assert report["reviewed_seconds"] == pytest.approx(reviewed, abs=0.05)
    # Spans start on the 2 fps ticks: each decodes up to half a second less than was marked.
    assert reviewed - 0.5 * len(spec.rage) <= report["decoded_clip_seconds"] <= reviewed
    assert reviewed < 0.5 * spec.duration
    assert all(start is not None for start, _ in decodes) and len(decodes) == report["clips"]
    units = report["train_clips"] + report["val_clips"]
    assert len(units) == len(spec.rage) + len(calm) and all(u.startswith("stream@") for u in units)
    val_rage = [u for u in report["val_clips"] for s in spec.rage if u == ds.unit_name("stream", s.start)]
    assert report["val_clips"] and val_rage  # the one VOD has a validation side, with a reaction in it
    assert report["labels"]["rage"]["reviewed_seconds"] == pytest.approx(reviewed, abs=0.05)
