"""`autotosis label --from-review`: a reviewed reel's keep/drop decisions as answers in the VOD's label file.

The output folder is written by hand here (compile's segments.json, the page's review.json)
over a real tiny VOD, so each rule has an exact expected file: kept cores moved with the
edited edges, a merged highlight's two cores, dropped spans as calm, one label per highlight.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.timeline import Segment
from autotosis.learn.labels import label_clip, load_label
from autotosis.learn.labels import review as review_lib

BOX = [0.7, 0.05, 0.95, 0.45]
# compile's selection: padded span, label, cores (the reactions before padding)
HIGHLIGHTS = [
    (5.0, 14.5, "rage", [[8.0, 13.0]]),
    (20.0, 34.0, "rage", [[23.0, 26.0], [29.0, 32.5]]),  # two moments merged into one highlight
    (38.0, 44.0, "laugh", [[41.0, 42.5]]),
    (47.0, 55.0, "rage", [[50.0, 53.5]]),
    (55.5, 60.0, "laugh", [[57.5, 59.5]]),
]
# the page's decisions: keep, start, end (nudged edges where they differ from compile's)
DECISIONS = [
    (True, 5.0, 14.5),  # as compile chose it
    (True, 24.0, 35.0),  # start 4 s later cuts into the first core; end 1 s later extends the last
    (False, 38.0, 44.0),
    (False, 47.0, 54.0),  # dropped after its end was pulled in: calm as the person left it
    (True, 55.5, 59.0),  # end 0.5 s earlier cuts the core
]


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project with a 60 s VOD and a compile output folder for it, not yet reviewed."""
    (tmp_path / "vods").mkdir()
    frames = (np.full((36, 64, 3), i % 255, np.uint8) for i in range(120))
    vod = media.encode_frames(tmp_path / "vods" / "stream.mp4", frames, fps=2)
    folder = tmp_path / "output" / "stream"
    folder.mkdir(parents=True)
    rows = [{"index": k, "start": a, "end": b, "duration": b - a, "peak": 0.9, "mean": 0.7, "label": label,
             "cores": cores} for k, (a, b, label, cores) in enumerate(HIGHLIGHTS)]
    write(folder / "segments.json", {"vod": str(vod.absolute()), "label": "rage", "segments": rows})
    write(folder / "options.json", {"vod": str(vod.absolute()), "facecam": BOX,
                                    "select": {"enter": 0.5, "pad_before": 3.0, "pad_after": 1.5}})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=1))


def decide(project: Path, decisions: list[tuple[bool, float, float]]) -> None:
    rows = [{"index": k, "keep": keep, "start": a, "end": b} for k, (keep, a, b) in enumerate(decisions)]
    write(project / "output" / "stream" / "review.json", {"segments": rows})


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def spans(segments) -> list[tuple[float, float]]:
    return [(s.start, s.end) for s in segments]


def test_kept_cores_follow_the_edges_and_dropped_highlights_are_calm(project):
    decide(project, DECISIONS)
    result = invoke("label", "--from-review", "output/stream")
    assert result.exit_code == 0, result.output
    assert result.output == "labels/stream.toml: rage +3 segments, +1 calm; laugh +1 segment, +1 calm\n"
    saved = load_label(project / "labels" / "stream.toml")
    assert saved.clip == (project / "vods" / "stream.mp4") and saved.partial
    assert saved.facecam == pytest.approx(BOX)  # compile's box, from options.json
    assert spans(saved.by_label["rage"]) == [(8.0, 13.0), (24.0, 26.0), (29.0, 33.5)]
    assert spans(saved.calm_for("rage")) == [(47.0, 54.0)]
    assert spans(saved.by_label["laugh"]) == [(57.5, 59.0)]
    assert spans(saved.calm_for("laugh")) == [(38.0, 44.0)]


def test_saving_again_changes_nothing_and_a_changed_mind_replaces_the_answer(project):
    decide(project, DECISIONS)
    first = invoke("label", "--from-review", "output/stream")
    text = (project / "labels" / "stream.toml").read_text()
    again = invoke("label", "--from-review", "output/stream")
    assert again.output == "labels/stream.toml: rage +0 segments, +0 calm; laugh +0 segments, +0 calm\n"
    assert (project / "labels" / "stream.toml").read_text() == text, first.output

    decide(project, [(False, 5.0, 14.5), *DECISIONS[1:]])  # the first one was not a rage after all
    changed = invoke("label", "--from-review", "output/stream")
    assert changed.output == ("labels/stream.toml: rage +0 segments, +1 calm (1 earlier span replaced); "
                              "laugh +0 segments, +0 calm\n")
    saved = load_label(project / "labels" / "stream.toml")
    assert spans(saved.by_label["rage"]) == [(24.0, 26.0), (29.0, 33.5)]
    assert spans(saved.calm_for("rage")) == [(5.0, 14.5), (47.0, 54.0)]


def test_answers_given_before_elsewhere_in_the_vod_stay(project):
    label_clip(project / "vods" / "stream.mp4", project / "labels", [Segment(0.5, 2.0)], label="rage",
               calm=[Segment(15.0, 19.0)])
    decide(project, DECISIONS)
    result = invoke("label", "--from-review", "output/stream")
    assert result.output.startswith("labels/stream.toml: rage +3 segments, +1 calm;")
    saved = load_label(project / "labels" / "stream.toml")
    assert spans(saved.by_label["rage"]) == [(0.5, 2.0), (8.0, 13.0), (24.0, 26.0), (29.0, 33.5)]
    assert spans(saved.calm_for("rage")) == [(15.0, 19.0), (47.0, 54.0)]
    assert saved.facecam == pytest.approx(BOX)  # the file had no box: options.json's


def test_a_dropped_span_never_covers_a_kept_reaction_of_its_label(project):
    """A dropped highlight nudged over a kept neighbour: the calm span is cut around its cores."""
    decisions = [(True, 5.0, 14.5), (False, 12.0, 34.0), *DECISIONS[2:]]
    decide(project, decisions)
    assert invoke("label", "--from-review", "output/stream").exit_code == 0
    saved = load_label(project / "labels" / "stream.toml")
    assert spans(saved.by_label["rage"]) == [(8.0, 13.0)]
    assert spans(saved.calm_for("rage")) == [(13.0, 34.0), (47.0, 54.0)]


def test_cores_of_an_older_segments_json_come_from_the_scores_or_the_pads(project):
    folder = project / "output" / "stream"
    data = json.loads((folder / "segments.json").read_text())
    for row in data["segments"]:
        del row["cores"]
    write(folder / "segments.json", data)
    times = np.arange(0, 60, 0.5)
    score = np.where((times >= 9) & (times < 12), 0.9, 0.1)  # compile's moment in the first highlight
    (folder / "scores.csv").write_text("time,score\n" + "".join(f"{t:.3f},{v:.5f}\n" for t, v in
                                                                 zip(times, score, strict=True)))
    decide(project, DECISIONS)
    review = review_lib.read_review(folder)
    assert review.highlights[0].cores == ((8.75, 11.75),)  # the event, to the sample edges
    assert review.highlights[1].cores == ((23.0, 32.5),)  # no moment in scores.csv: minus the pads
    (folder / "scores.csv").unlink()
    assert review_lib.read_review(folder).highlights[0].cores == ((8.0, 13.0),)


@pytest.mark.parametrize(("cores", "edited", "expected"), [
    ([(8.0, 13.0)], (5.0, 14.5), [(8.0, 13.0)]),  # untouched
    ([(8.0, 13.0)], (7.0, 14.5), [(8.0, 13.0)]),  # a shorter lead-in: the pad goes first
    ([(8.0, 13.0)], (3.0, 14.5), [(8.0, 13.0)]),  # more build-up is not more reaction
    ([(8.0, 13.0)], (5.0, 16.5), [(8.0, 15.0)]),  # the reaction ran on past the cut
    ([(8.0, 13.0)], (9.0, 12.0), [(9.0, 12.0)]),  # both edges inside the core
    ([(8.0, 13.0)], (12.75, 14.5), []),  # a sliver under half a second is not a moment
    ([(8.0, 9.0), (11.0, 13.0)], (8.5, 16.0), [(8.5, 9.0), (11.0, 14.5)]),
])
def test_kept_positives_rule(cores, edited, expected):
    assert spans(review_lib.kept_positives(cores, Segment(5.0, 14.5), Segment(*edited))) == expected


def test_the_box_comes_from_the_model_when_compile_saved_none(project):
    from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

    folder = project / "output" / "stream"
    write(folder / "options.json", {"select": {}})
    decide(project, DECISIONS)
    no_box = invoke("label", "--from-review", "output/stream")
    assert no_box.output.splitlines()[1] == (
        "labels/stream.toml: no face-cam box yet; add --facecam auto or --facecam x0,y0,x1,y1")
    (project / "labels" / "stream.toml").unlink()
    meta = ModelMeta(size=32, facecam=(0.6, 0.1, 0.9, 0.5))
    save_checkpoint(project / "models" / "rage.pt", build_model(), meta)
    assert invoke("label", "--from-review", "output/stream").exit_code == 0
    assert load_label(project / "labels" / "stream.toml").facecam == pytest.approx((0.6, 0.1, 0.9, 0.5))
    given = invoke("label", "--from-review", "output/stream", "--facecam", "0.5,0.1,0.9,0.6")
    assert given.exit_code == 0
    assert load_label(project / "labels" / "stream.toml").facecam == pytest.approx((0.5, 0.1, 0.9, 0.6))


@pytest.mark.parametrize(("setup", "message"), [
    ("unreviewed", "Error: output/stream: not reviewed yet (no review.json); open `autotosis review "
                   "output/stream`, keep or drop the highlights and save or render"),
    ("no compile", "Error: output/other: no segments.json here; run `autotosis compile` first"),
    ("bad review", "Error: output/stream/review.json: cannot read "
                   "(Expecting value: line 1 column 1 (char 0))"),
])
def test_errors_are_one_line(project, setup, message):
    target = "output/stream"
    if setup == "no compile":
        target = "output/other"
    if setup == "bad review":
        (project / "output" / "stream" / "review.json").write_text("")
    result = invoke("label", "--from-review", target)
    assert result.exit_code == 1
    assert result.output == message + "\n"


def test_label_names_the_reaction_of_a_one_label_reel(project):
    """A reel scored on loudness alone is "loud"; the person knows its kept moments are rage."""
    folder = project / "output" / "stream"
    data = json.loads((folder / "segments.json").read_text())
    for row in data["segments"]:
        row["label"] = "loud"
    write(folder / "segments.json", {**data, "label": "loud"})
    decide(project, DECISIONS)
    result = invoke("label", "--from-review", "output/stream", "--label", "rage")
    assert result.output == "labels/stream.toml: rage +4 segments, +2 calm\n"
    saved = load_label(project / "labels" / "stream.toml")
    assert saved.labels == ("rage",)
    assert spans(saved.calm_for("rage")) == [(38.0, 44.0), (47.0, 54.0)]


def test_label_cannot_rename_a_reel_of_several_labels(project):
    decide(project, DECISIONS)
    result = invoke("label", "--from-review", "output/stream", "--label", "rage")
    assert result.exit_code == 1
    assert result.output == ("Error: output/stream: the reel holds several labels (laugh, rage); --label "
                             "names the reaction of a one-label reel only\n")
