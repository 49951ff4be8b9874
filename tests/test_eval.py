"""Eval: metrics on hand-made truth and selections (answers worked out by hand), the sweep,
and `autotosis eval` in-process on a generated VOD with a loud burst."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from media_support import burst_vod

from autotosis.cli.main import cli
from autotosis.core.timeline import Segment, Timeline
from autotosis.pick.select import SelectConfig, select_labelled
from autotosis.run.eval_metrics import (
    event_metrics,
    frame_labels,
    frame_metrics,
    iou,
    sweep,
    sweep_thresholds,
)
from autotosis.run.evaluate import measure_label

nan = math.nan
TRUTH = [Segment(10, 14), Segment(30, 34)]

# (name, truth, selected, min_overlap, expected metrics)
CASES = [
    ("perfect", TRUTH, TRUTH, 0.5,
     dict(found=2, hits=2, precision=1.0, recall=1.0, f1=1.0, mean_iou=1.0, reel_seconds=8.0,
          non_highlight_seconds=0.0)),
    ("empty selection", TRUTH, [], 0.5,
     dict(found=0, hits=0, precision=nan, recall=0.0, f1=0.0, mean_iou=0.0, reel_seconds=0.0,
          non_highlight_seconds=0.0)),
    ("empty truth", [], [Segment(10, 14)], 0.5,
     dict(found=0, hits=0, precision=0.0, recall=nan, f1=nan, mean_iou=nan, reel_seconds=4.0,
          non_highlight_seconds=4.0)),
    # 2 of 4 s of the first event (exactly half: found), 1 of 4 s of the second (not found).
    ("shifted", TRUTH, [Segment(12, 16), Segment(33, 37)], 0.5,
     dict(found=1, hits=1, precision=0.5, recall=0.5, f1=0.5, mean_iou=(2 / 6 + 1 / 7) / 2, reel_seconds=8.0,
          non_highlight_seconds=5.0)),
    # 4 of 10 s in each segment: no single segment shows half of the moment.
    ("one event split in two", [Segment(10, 20)], [Segment(10, 14), Segment(16, 20)], 0.5,
     dict(found=0, hits=0, precision=0.0, recall=0.0, f1=0.0, mean_iou=0.4, reel_seconds=8.0,
          non_highlight_seconds=0.0)),
    ("split, with a lower min_overlap", [Segment(10, 20)], [Segment(10, 14), Segment(16, 20)], 0.4,
     dict(found=1, hits=2, precision=1.0, recall=1.0, f1=1.0, mean_iou=0.4, reel_seconds=8.0,
          non_highlight_seconds=0.0)),
    ("one segment covers two events", [Segment(10, 14), Segment(16, 20)], [Segment(8, 22)], 0.5,
     dict(found=2, hits=1, precision=1.0, recall=1.0, f1=1.0, mean_iou=4 / 14, reel_seconds=14.0,
          non_highlight_seconds=6.0)),
    ("min_overlap boundary: just under half", [Segment(10, 14)], [Segment(12.1, 16)], 0.5,
     dict(found=0, hits=0, precision=0.0, recall=0.0, f1=0.0, mean_iou=1.9 / 6, reel_seconds=3.9,
          non_highlight_seconds=2.0)),
    ("min_overlap boundary: stricter than the overlap", [Segment(10, 14)], [Segment(12, 16)], 0.51,
     dict(found=0, hits=0, precision=0.0, recall=0.0, f1=0.0, mean_iou=2 / 6, reel_seconds=4.0,
          non_highlight_seconds=2.0)),
    ("min_overlap 0: any overlap finds", [Segment(10, 14)], [Segment(13.5, 16), Segment(20, 21)], 0.0,
     dict(found=1, hits=1, precision=0.5, recall=1.0, f1=2 / 3, mean_iou=0.5 / 6, reel_seconds=3.5,
          non_highlight_seconds=3.0)),
]


@pytest.mark.parametrize(("name", "truth", "selected", "min_overlap", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_event_metrics_table(name, truth, selected, min_overlap, expected):
    result = event_metrics(truth, selected, min_overlap)
    assert (result.truth, result.selected) == (len(truth), len(selected))
    for key, value in expected.items():
        got = getattr(result, key)
        assert (math.isnan(got) if math.isnan(value) else got == pytest.approx(value)), (key, got, value)


def test_non_highlight_share():
    assert event_metrics(TRUTH, [Segment(8, 14)]).non_highlight_share == pytest.approx(2 / 6)
    assert math.isnan(event_metrics(TRUTH, []).non_highlight_share)


def test_iou():
    assert iou(Segment(0, 4), Segment(2, 6)) == pytest.approx(2 / 6)
    assert iou(Segment(0, 4), Segment(5, 6)) == 0.0


def test_frame_labels_are_half_open_and_overlaps_are_one_span():
    times = np.arange(0, 4.01, 0.5)
    labels = frame_labels(times, [Segment(1, 2), Segment(2.5, 3.2), Segment(2.8, 3.6)])
    assert times[labels].tolist() == [1.0, 1.5, 2.5, 3.0, 3.5]
    assert not frame_labels(times, []).any()


def test_frame_metrics_by_hand():
    # Truth covers t=2 and t=3 (scores 0.8 and 0.3) among negatives 0.1, 0.4, 0.2, 0.05.
    score = Timeline(np.arange(6.0), np.array([0.1, 0.4, 0.8, 0.3, 0.2, 0.05]))
    result = frame_metrics(score, [Segment(2, 4)])
    assert (result.samples, result.positives) == (6, 2)
    # Ranked: P N P ...: precision 1 at recall 1/2, 2/3 at recall 1.
    assert result.ap == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # 0.8 beats all four negatives, 0.3 beats three: 7 of 8 pairs.
    assert result.auc == pytest.approx(7 / 8)
    no_truth = frame_metrics(score, [])
    assert math.isnan(no_truth.ap) and math.isnan(no_truth.auc)


def test_sweep_on_a_hand_made_timeline():
    # Samples every 0.5 s; 0.9 on [10, 12), 0.6 on [20, 22), 0.1 elsewhere; nearest-sample
    # coverage makes the selected spans [9.75, 11.75) and [19.75, 21.75).
    times = np.arange(0, 30, 0.5)
    values = np.full(len(times), 0.1)
    values[(times >= 10) & (times < 12)] = 0.9
    values[(times >= 20) & (times < 22)] = 0.6
    config = SelectConfig(enter=0.5, smooth=0.0, min_event=0.0, pad_before=0.0, pad_after=0.0, merge_gap=0.0)
    rows = sweep(Timeline(times, values), [Segment(10, 12)], config, 30.0, [0.5, 0.7, 0.95])
    assert [r.threshold for r in rows] == [0.5, 0.7, 0.95]
    both, best, none = (r.events for r in rows)
    assert (both.selected, both.precision, both.recall, both.f1) == (2, 0.5, 1.0, pytest.approx(2 / 3))
    assert (both.reel_seconds, both.non_highlight_seconds) == (4.0, 2.25)
    assert (best.selected, best.precision, best.recall, best.f1) == (1, 1.0, 1.0, 1.0)
    assert best.non_highlight_seconds == pytest.approx(0.25)
    assert none.selected == 0 and math.isnan(none.precision) and none.recall == 0.0 and none.f1 == 0.0


def test_each_label_is_measured_on_its_own_segments_and_truth():
    """A reel of rage and laugh: each label's truth against the reel's segments of that label only
    (a laugh segment over a rage moment is not a rage found), each on its own score."""
    times = np.arange(0, 60, 0.5)
    rage, laugh = np.full(len(times), 0.1), np.full(len(times), 0.1)
    rage[(times >= 10) & (times < 12)] = 0.9
    laugh[(times >= 30) & (times < 32)] = 0.9
    laugh[(times >= 45) & (times < 47)] = 0.7  # a laugh the truth does not have
    scores = {"rage": Timeline(times, rage), "laugh": Timeline(times, laugh)}
    exact = SelectConfig(enter=0.5, smooth=0.0, min_event=0.0, pad_before=0.0, pad_after=0.0, merge_gap=0.0)
    configs = {"rage": exact, "laugh": exact}
    truth = {"rage": [Segment(10, 12), Segment(30, 32)], "laugh": [Segment(30, 32), Segment(50, 52)]}
    segments = select_labelled(scores, configs, 60.0)
    assert [s.label for s in segments] == ["rage", "laugh", "laugh"]

    r, la = (measure_label(scores, configs, name, truth[name], segments, 60.0) for name in ("rage", "laugh"))
    assert (r.label, r.config.enter, [(s.start, s.end) for s in r.segments]) == ("rage", 0.5, [(9.75, 11.75)])
    assert (r.events.selected, r.events.found, r.events.precision, r.events.recall) == (1, 1, 1.0, 0.5)
    assert (la.events.selected, la.events.hits, la.events.found) == (2, 1, 1)
    assert (la.events.precision, la.events.recall) == (0.5, 0.5)
    assert r.frames.positives == la.frames.positives == 8  # four samples per truth event, own truth
    # laugh's first event on top (precision 1 to recall 0.5); its quiet second one ties with all 120 samples
    assert la.frames.ap == pytest.approx(0.5 * 1 + 0.5 * 8 / 120)
    [used] = [row for row in la.sweep if row.threshold == 0.5]
    assert used.events == la.events  # the sweep's row in use is the reel measured
    [high] = [row for row in la.sweep if row.threshold == 0.8]
    assert (high.events.selected, high.events.precision) == (1, 1.0)  # the 0.7 laugh drops out


def test_sweep_thresholds_include_the_one_in_use_once():
    assert sweep_thresholds(0.5) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert sweep_thresholds(0.55) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9]


# ---------------------------------------------------------------- the command

BURST = (20.0, 24.0)


@pytest.fixture(scope="module")
def vod(tmp_path_factory) -> Path:
    """40 s of quiet room noise with a 4 s shout at 0:20 (as in test_compile)."""
    return burst_vod(tmp_path_factory.mktemp("eval") / "my vod.mp4", 40.0, BURST, 80, 60, 5)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    (tmp_path / "labels").mkdir()
    return tmp_path


def truth_file(project: Path, clip: str, segments: str) -> Path:
    path = project / "labels" / "truth.toml"
    path.write_text(f'clip = "{clip}"\nlabel = "rage"\nsegments = {segments}\n')
    return path


def test_eval_json_matches_compile_and_the_truth(vod, project):
    truth = truth_file(project, vod.as_posix(), "[[20.0, 24.0]]")
    result = CliRunner().invoke(cli, ["eval", str(vod), "--truth", str(truth), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # stdout holds only the JSON; notes and bars go to stderr
    out = project / "output" / "my vod" / "eval"
    assert json.loads((out / "eval.json").read_text()) == data
    for name in ("pr_curve.png", "timeline.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name

    assert data["scorer"] == "loudness" and data["threshold"] == SelectConfig().enter
    assert data["truth"] == [[20.0, 24.0]]
    [seg] = data["segments"]
    assert seg["start"] <= BURST[0] and seg["end"] >= BURST[1]  # the shout, padded
    events = data["events"]
    assert [events[k] for k in ("found", "hits", "precision", "recall", "f1")] == [1, 1, 1.0, 1.0, 1.0]
    reel = seg["end"] - seg["start"]
    assert events["reel_seconds"] == pytest.approx(reel)
    assert events["non_highlight_seconds"] == pytest.approx(reel - 4.0)
    assert events["mean_iou"] == pytest.approx(4.0 / reel)
    assert data["frames"]["ap"] > 0.9 and data["frames"]["auc"] > 0.9  # loud windows are the shout
    [chosen] = [row for row in data["sweep"] if row["threshold"] == data["threshold"]]
    assert {k: chosen[k] for k in events} == events
    assert [row["threshold"] for row in data["sweep"]] == sweep_thresholds(0.5)

    # compile with the same options chooses the same segments, on the same frames (segments.json
    # writes milliseconds).
    compiled = CliRunner().invoke(cli, ["compile", str(vod), "--no-overlay", "--out", "c"])
    assert compiled.exit_code == 0, compiled.output
    chosen_by_compile = json.loads((project / "c" / "segments.json").read_text())["segments"]
    assert [(s["start"], s["end"]) for s in chosen_by_compile] == [
        pytest.approx((seg["start"], seg["end"]), abs=5e-4)]


def test_eval_report_and_options(vod, project):
    truth = truth_file(project, "clips/my vod.mp4", "[[20.0, 24.0]]")  # same name: the same video
    result = CliRunner().invoke(cli, ["eval", str(vod), "--truth", str(truth), "--threshold", "0.3",
                                      "--pad-before", "0", "--out", "ev"])
    assert result.exit_code == 0, result.output
    assert "F1 1.00" in result.output and "threshold 0.30" in result.output
    assert "threshold  segments     reel  not highlight  precision  recall    F1" in result.output
    [marked] = [line for line in result.output.splitlines() if line.startswith("*")]
    assert marked.split()[1] == "0.30"
    data = json.loads((project / "ev" / "eval.json").read_text())
    assert data["options"]["select"]["pad_before"] == 0.0 and data["threshold"] == 0.3
    [seg] = data["segments"]
    assert seg["start"] > BURST[0] - 1.0  # no lead-in

    empty = truth_file(project, vod.name, "[]")
    result = CliRunner().invoke(cli, ["eval", str(vod), "--truth", str(empty), "--json", "--out", "ev"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["events"]["recall"] is None and data["frames"]["ap"] is None
    assert data["events"]["non_highlight_seconds"] == data["events"]["reel_seconds"] > 0


@pytest.mark.parametrize("calm", ['calm = [[5.0, 15.0], [30.0, 35.0]]', "calm = []"])
def test_a_partly_reviewed_truth_file_evaluates_on_its_positives(vod, project, calm):
    """A VOD's label file with calm spans (what `label --calm` and answered suggestions write)
    is a truth file too: its segments are the truth, as in any label file."""
    truth = truth_file(project, vod.name, "[[20.0, 24.0]]")
    truth.write_text(truth.read_text() + calm + "\n")
    result = CliRunner().invoke(cli, ["eval", str(vod), "--truth", str(truth), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["truth"] == [[20.0, 24.0]] and data["events"]["recall"] == 1.0


@pytest.mark.parametrize(
    ("clip", "segments", "extra", "code", "message"),
    [
        (None, None, [], 1, "missing.toml: no such label file"),
        ("my vod.mp4", '[["0:10", "0:05"]]', [], 1,
         "truth.toml:3: segment 1 [0:10, 0:05] ends before it starts"),
        ("my vod.mp4", "[[35.0, 50.0]]", [], 1, "runs past the clip's end"),
        ("clips/other.mp4", "[[20.0, 24.0]]", [], 1, "truth is for 'other.mp4', not 'my vod.mp4'"),
        ("my vod.mp4", "[[20.0, 24.0]]", ["--min-overlap", "2"], 2, "--min-overlap"),
    ],
    ids=["missing", "reversed segment", "past the end", "another video", "bad option"],
)
def test_bad_inputs_are_one_line_errors(vod, project, clip, segments, extra, code, message):
    path = project / "labels" / "missing.toml" if clip is None else truth_file(project, clip, segments)
    result = CliRunner().invoke(cli, ["eval", str(vod), "--truth", str(path), *extra])
    assert result.exit_code == code, result.output
    assert message in result.output
    if code == 1:
        assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1


def test_truth_is_required(vod, project):
    result = CliRunner().invoke(cli, ["eval", str(vod)])
    assert result.exit_code == 2 and "Missing option '--truth'" in result.output


def test_eval_of_a_two_label_model_reports_each_label(vod, project):
    """A checkpoint with a rage and a laugh head (untrained backbone, heads fixed: rage sure of
    every frame, laugh of none) against a truth file of both: each label's own block and numbers."""
    import torch

    from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

    model = build_model(heads=2)
    with torch.no_grad():
        model.fc.weight.zero_()
        model.fc.bias.copy_(torch.tensor([4.0, -4.0]))
    checkpoint = project / "reactions.pt"
    save_checkpoint(checkpoint, model, ModelMeta(size=32, fps=2.0, label="rage", labels=("rage", "laugh"),
                                                 facecam=(0.0, 0.0, 1.0, 1.0)))
    truth = project / "labels" / "truth.toml"
    truth.write_text(f'clip = "{vod.as_posix()}"\n\n[segments]\nrage = [[20.0, 24.0]]\n'
                     'laugh = [[5.0, 8.0], [30.0, 31.0]]\n')
    args = ["eval", str(vod), "--truth", str(truth), "--model", str(checkpoint), "--scorer", "model",
            "--scan", "dense"]  # every sample at 2 fps: the frame counts below
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["label"] == "rage" and list(data["labels"]) == ["rage", "laugh"]
    rage, laugh = data["labels"]["rage"], data["labels"]["laugh"]
    assert rage["truth"] == [[20.0, 24.0]] and laugh["truth"] == [[5.0, 8.0], [30.0, 31.0]]
    assert len(rage["segments"]) == 1 and laugh["segments"] == []  # the whole VOD is rage, nothing laugh
    assert [rage["events"][k] for k in ("truth", "found", "precision", "recall")] == [1, 1, 1.0, 1.0]
    assert [laugh["events"][k] for k in ("truth", "found", "selected", "recall")] == [2, 0, 0, 0.0]
    assert rage["frames"]["positives"] == 8 and laugh["frames"]["positives"] == 8  # 2 samples a second
    shared = ("truth", "events", "frames", "segments", "sweep")
    assert {k: data[k] for k in shared} == {k: rage[k] for k in shared}  # the first label, as before

    report = CliRunner().invoke(cli, args)
    assert report.exit_code == 0, report.output
    lines = report.stdout.splitlines()
    heads = [line for line in lines if " against " in line]
    assert [h.split(" against ")[0] for h in heads] == ["my vod.mp4 rage", "my vod.mp4 laugh"]
    assert "2 truth event(s)" in heads[1] and lines.count("(* the threshold in use)") == 2
    [laugh_events] = [line for line in lines if line.startswith("events") and "(0/0 segments" in line]
    assert "recall 0.00 (0/2 found" in laugh_events
