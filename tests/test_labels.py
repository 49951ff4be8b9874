"""Label files: round trips, comment preservation and every validation error."""

from pathlib import Path

import numpy as np
import pytest

from autotosis import media
from autotosis.core.errors import LabelError
from autotosis.core.timeline import Segment
from autotosis.learn import labels


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "clips").mkdir()
    (root / "labels").mkdir()
    frames = (np.full((90, 160, 3), i % 255, np.uint8) for i in range(100))
    media.encode_frames(root / "clips" / "x.mp4", frames, fps=10)  # 10 s
    return root


def _write(project: Path, text: str) -> Path:
    path = project / "labels" / "x.toml"
    path.write_text(text)
    return path


GOOD = """\
clip = "clips/x.mp4"
facecam = [0.7833, 0.1296, 0.9682, 0.3694]   # where the cam sits
label = "rage"
segments = [["0:01.5", "0:03.25"], [5, 7.5]]
"""


def test_load_good_file(project):
    parsed = labels.load_label(_write(project, GOOD))
    assert parsed.clip == project / "clips" / "x.mp4"
    assert parsed.facecam == (0.7833, 0.1296, 0.9682, 0.3694)
    assert parsed.segments == (Segment(1.5, 3.25), Segment(5.0, 7.5))
    assert parsed.positive_seconds == pytest.approx(4.25)


def test_round_trip_keeps_comments(project, tmp_path):
    path = _write(project, "# my clip notes\n" + GOOD)
    parsed = labels.load_label(path)
    changed = labels.LabelFile(parsed.clip, (0.1, 0.1, 0.4, 0.5), "hype", (*parsed.segments, Segment(8, 9)))
    labels.save_label(changed, path)
    text = path.read_text()
    assert "# my clip notes" in text and "# where the cam sits" in text
    again = labels.load_label(path)
    assert again.facecam == (0.1, 0.1, 0.4, 0.5)
    assert again.label == "hype"
    assert again.segments == (Segment(1.5, 3.25), Segment(5, 7.5), Segment(8, 9))
    assert 'clip = "clips/x.mp4"' in text


def test_save_refuses_when_changed_on_disk(project):
    path = _write(project, GOOD)
    seen = labels.digest(path)
    parsed = labels.load_label(path)
    path.write_text(GOOD.replace("rage", "hype"))
    with pytest.raises(LabelError, match="changed on disk"):
        labels.save_label(parsed, path, expect_digest=seen)
    assert "hype" in path.read_text()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (GOOD.replace("[0.7833, 0.1296, 0.9682, 0.3694]", "[0.7, 0.1, 1.2, 0.3]"), 2, "within 0..1"),
        (GOOD.replace("[0.7833, 0.1296, 0.9682, 0.3694]", "[0.7, 0.3, 0.9, 0.3]"), 2, "empty"),
        (GOOD.replace("[0.7833, 0.1296, 0.9682, 0.3694]", "[0.7, 0.3]"), 2, r"\[x0, y0, x1, y1\]"),
        (GOOD.replace('["0:01.5", "0:03.25"]', '["0:03.5", "0:01.25"]'), 4, "ends before it starts"),
        (GOOD.replace("[5, 7.5]", "[3, 7.5]"), 4, "overlap"),
        (GOOD.replace("[5, 7.5]", "[5, 17.5]"), 4, "runs past the clip's end"),
        (GOOD.replace('"0:01.5"', '"1:5x"'), 4, "not a time"),
        (GOOD.replace("clips/x.mp4", "clips/missing.mp4"), 1, "not found"),
        (GOOD + "colour = 3\n", 5, "unknown key 'colour'"),
        (GOOD.replace('label = "rage"', 'label = "two words"'), 3, "single word"),
        (GOOD.replace('clip = "clips/x.mp4"', ""), 1, "missing 'clip"),
        (GOOD.replace("segments = [", "segments = [[", 1), 4, "invalid TOML"),
    ],
)
def test_validation_errors(project, text, line, message):
    path = _write(project, text)
    with pytest.raises(LabelError, match=message) as info:
        labels.load_label(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert "\n" not in str(info.value)


def test_clip_that_is_not_a_video(project):
    (project / "clips" / "notes.mp4").write_text("not a video")
    path = _write(project, GOOD.replace("clips/x.mp4", "clips/notes.mp4"))
    with pytest.raises(LabelError, match=r":1: .*not a readable media file"):
        labels.load_label(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0:07.4-0:32.7", Segment(7.4, 32.7)),
        ("40.5-47.2", Segment(40.5, 47.2)),
        ("1:00..1:05", Segment(60, 65)),
    ],
)
def test_parse_segment(text, expected):
    assert labels.parse_segment(text) == expected


@pytest.mark.parametrize("bad", ["5-3", "abc", "1-", "0:07"])
def test_parse_segment_rejects(bad):
    with pytest.raises(ValueError):
        labels.parse_segment(bad)


def test_parse_box():
    assert labels.parse_box("0.7,0.1,0.9,0.4") == (0.7, 0.1, 0.9, 0.4)
    assert labels.parse_box("[0.7, 0.1, 0.9, 0.4]") == (0.7, 0.1, 0.9, 0.4)
    for bad in ("0.7,0.1,0.9", "a,b,c,d", "0.9,0.1,0.7,0.4"):
        with pytest.raises(ValueError):
            labels.parse_box(bad)


SEED_CSV = """\
clips/x.mp4 "[0.7833, 0.1296, 0.9682, 0.3694]" "(1.9, 5.185)" "(6.0,  9.0)"
clips/none.mp4 "[0.7635, 0.1056, 0.9802, 0.4009]"
"""


def test_import_seed_csv(project, tmp_path):
    csv_path = project / "data.csv"
    csv_path.write_text(SEED_CSV)
    out = tmp_path / "labels"
    results = labels.import_seed_csv(csv_path, out)
    assert [(p.name, s) for p, s in results] == [
        ("x.toml", "written"),
        ("none.toml", "written (clip not found yet)"),
    ]
    parsed = labels.load_label(out / "x.toml", check_clip=False)
    assert parsed.segments == (Segment(1.9, 5.185), Segment(6.0, 9.0))
    assert parsed.clip.resolve() == (project / "clips" / "x.mp4").resolve()
    assert labels.load_label(out / "none.toml", check_clip=False).segments == ()
    assert [s for _, s in labels.import_seed_csv(csv_path, out)] == ["kept existing rage segments"] * 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('clips/x.mp4 "[0.7, 0.1]"', "is not \\[x0"),
        ('clips/x.mp4 "[0.7, 0.1, 0.9, 0.4]" "(5, 3)"', "ends before"),
        ('clips/x.mp4 "[0.7, 0.1, 0.9, 0.4]" "__import__(\'os\')"', "not \\(start, end\\)"),
    ],
)
def test_import_seed_csv_errors(tmp_path, row, message):
    csv_path = tmp_path / "data.csv"
    csv_path.write_text("\n" + row + "\n")
    with pytest.raises(LabelError, match=rf"data.csv:2: .*{message}"):
        labels.import_seed_csv(csv_path, tmp_path / "labels")


def test_label_clip_adds_and_replaces(project, tmp_path):
    out = tmp_path / "labels"
    clip = project / "clips" / "x.mp4"
    first = labels.label_clip(clip, out, [Segment(1, 2)], (0.1, 0.1, 0.3, 0.3))
    second = labels.label_clip(clip, out, [Segment(4, 5)])
    assert second.segments == (Segment(1, 2), Segment(4, 5))
    assert second.facecam == first.facecam
    with pytest.raises(LabelError, match="overlap"):
        labels.label_clip(clip, out, [Segment(4.5, 6)])
    with pytest.raises(LabelError, match="past the clip's end"):
        labels.label_clip(clip, out, [Segment(9, 12)])
    assert labels.load_label(out / "x.toml").segments == (Segment(1, 2), Segment(4, 5))
    third = labels.label_clip(clip, out, [Segment(6, 7)], replace=True)
    assert third.segments == (Segment(6, 7),)


MULTI = """\
# two reactions in one clip
clip = "clips/x.mp4"
facecam = [0.7833, 0.1296, 0.9682, 0.3694]

[segments]
rage = [["0:01.5", "0:03.25"]]   # the ref call
laugh = [[2, 4], [6, 7]]
calm = []
"""


def test_old_single_label_file_round_trips_unchanged(project):
    path = _write(project, "# notes\n" + GOOD)
    parsed = labels.load_label(path)
    assert parsed.by_label == {"rage": (Segment(1.5, 3.25), Segment(5.0, 7.5))}
    labels.save_label(parsed, path)
    assert path.read_text() == "# notes\n" + GOOD.replace("[5, 7.5]", '["0:05.000", "0:07.500"]').replace(
        '"0:01.5", "0:03.25"', '"0:01.500", "0:03.250"')
    assert labels.load_label(path) == parsed


def test_multi_label_file(project):
    parsed = labels.load_label(_write(project, MULTI))
    assert parsed.labels == ("rage", "laugh", "calm")
    assert parsed.by_label["laugh"] == (Segment(2, 4), Segment(6, 7))  # overlaps rage: allowed
    assert parsed.by_label["calm"] == ()
    assert (parsed.label, parsed.segments) == ("rage", (Segment(1.5, 3.25),))
    assert parsed.seconds("laugh") == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (MULTI.replace("[6, 7]", "[3, 7]"), 7, "laugh: segments 0:02.000-0:04.000 and 0:03.000-.* overlap"),
        (MULTI.replace("[6, 7]", "[6, 17]"), 7, "laugh: .*runs past the clip's end"),
        (MULTI.replace("calm = []", '"two words" = []'), 8, "single word"),
        (MULTI.replace("calm = []", "calm = 3"), 8, "calm: segments must be a list"),
        (MULTI.replace("# two", 'label = "rage"\n# two'), 1, "'label' goes with a 'segments = "),
        ('clip = "clips/x.mp4"\n[segments]\n', 2, "names no label"),
    ],
)
def test_multi_label_errors(project, text, line, message):
    path = _write(project, text)
    with pytest.raises(LabelError, match=message) as info:
        labels.load_label(path)
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_adding_a_label_keeps_comments_and_other_labels(project, tmp_path):
    """The regression: `label --label surprise` on a rage file used to rename its segments."""
    out = tmp_path / "labels"
    out.mkdir()
    path = out / "x.toml"
    path.write_text("# my notes\n" + GOOD.replace('"clips/x.mp4"', f'"{project / "clips" / "x.mp4"}"'))
    updated = labels.label_clip(project / "clips" / "x.mp4", out, [Segment(2, 4)], label="surprise")
    assert updated.by_label == {"rage": (Segment(1.5, 3.25), Segment(5, 7.5)), "surprise": (Segment(2, 4),)}
    text = path.read_text()
    assert "# my notes" in text and "# where the cam sits" in text
    assert "[segments]" in text and "label =" not in text
    assert labels.load_label(path) == updated
    again = labels.label_clip(project / "clips" / "x.mp4", out, [Segment(8, 9)], label="rage")
    assert again.by_label["rage"][-1] == Segment(8, 9) and again.by_label["surprise"] == (Segment(2, 4),)
    with pytest.raises(LabelError, match="several labels"):
        labels.label_clip(project / "clips" / "x.mp4", out, [Segment(9.5, 9.9)])
    with pytest.raises(LabelError, match=r"surprise: segments .* overlap"):
        labels.label_clip(project / "clips" / "x.mp4", out, [Segment(3, 5)], label="surprise")
    assert labels.load_label(path) == again
    replaced = labels.label_clip(project / "clips" / "x.mp4", out, [], label="surprise", replace=True)
    assert replaced.by_label["surprise"] == () and len(replaced.by_label["rage"]) == 3


def test_import_with_a_label_merges(project, tmp_path):
    csv_path = project / "data.csv"
    csv_path.write_text(SEED_CSV)
    out = tmp_path / "labels"
    labels.import_seed_csv(csv_path, out)
    results = labels.import_seed_csv(csv_path, out, label="pog")
    assert [s for _, s in results] == ["added pog segments"] * 2
    parsed = labels.load_label(out / "x.toml", check_clip=False)
    assert parsed.by_label == {"rage": (Segment(1.9, 5.185), Segment(6.0, 9.0)),
                               "pog": (Segment(1.9, 5.185), Segment(6.0, 9.0))}
    again = labels.import_seed_csv(csv_path, out, label="pog")
    assert [s for _, s in again] == ["kept existing pog segments"] * 2
    csv_path.write_text('clips/x.mp4 "[0.7, 0.1, 0.9, 0.4]" "(2, 3)"\n')
    replaced = labels.import_seed_csv(csv_path, out, "pog", overwrite=True)
    assert [s for _, s in replaced] == ["replaced pog segments"]
    assert labels.load_label(out / "x.toml", check_clip=False).by_label["pog"] == (Segment(2, 3),)


# ---------------------------------------------------------------- partly reviewed VODs (calm spans)

PARTIAL = """\
clip = "clips/x.mp4"
label = "rage"
segments = [[2, 3]]
calm = [[0, 1.5], [4, 6]]   # looked at, nothing there
"""


def test_calm_spans_make_a_file_partly_reviewed(project):
    parsed = labels.load_label(_write(project, PARTIAL))
    assert parsed.partial and parsed.calm == {"rage": (Segment(0, 1.5), Segment(4, 6))}
    assert parsed.reviewed_spans("rage") == [Segment(0, 1.5), Segment(2, 3), Segment(4, 6)]
    assert parsed.reviewed_seconds("rage") == pytest.approx(4.5)
    assert not labels.load_label(_write(project, GOOD)).partial
    assert labels.load_label(_write(project, GOOD + "calm = []\n")).partial


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (PARTIAL.replace("[4, 6]", "[2.5, 6]"), 4,
         r"rage: calm span 0:02.500-0:06.000 overlaps rage segment 0:02"),
        (PARTIAL.replace("[4, 6]", "[1, 6]"), 4, "rage: calm spans .* overlap"),
        (PARTIAL.replace("[4, 6]", "[4, 16]"), 4, "past the clip's end"),
        (MULTI + "[calm]\npog = [[8, 9]]\n", 10, "calm: 'pog' is not a label of this file"),
        (MULTI.replace("[segments]", "calm = [[8, 9]]\n[segments]"), 5, r"calm must be a \[calm\] table"),
        (PARTIAL.replace("calm = [[0, 1.5], [4, 6]]", "[calm]\nrage = []"), 4,
         r"calm must be a 'calm = \[...\]' list"),
    ],
)
def test_calm_errors(project, text, line, message):
    path = _write(project, text)
    with pytest.raises(LabelError, match=message) as info:
        labels.load_label(path)
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_calm_round_trips_in_both_forms(project, tmp_path):
    out = tmp_path / "labels"
    clip = project / "clips" / "x.mp4"
    one = labels.label_clip(clip, out, [Segment(2, 3)], calm=[Segment(5, 6)])
    assert one.calm == {"rage": (Segment(5, 6),)}
    text = (out / "x.toml").read_text()
    assert 'calm = [["0:05.000", "0:06.000"]]' in text
    two = labels.label_clip(clip, out, [Segment(7, 8)], label="laugh", calm=[Segment(2, 3)])
    assert two.calm == {"rage": (Segment(5, 6),), "laugh": (Segment(2, 3),)}
    text = (out / "x.toml").read_text()
    assert "[calm]" in text and "[segments]" in text
    assert labels.load_label(out / "x.toml") == two
    with pytest.raises(LabelError, match=r"x.mp4: rage: calm span 0:02.500-0:04.000 overlaps rage segment"):
        labels.label_clip(clip, out, calm=[Segment(2.5, 4)], label="rage")
    assert labels.load_label(out / "x.toml") == two  # nothing written on error


def test_a_new_file_for_a_long_vod_is_partly_reviewed(project, tmp_path, monkeypatch):
    monkeypatch.setattr(labels.edits, "LONG_CLIP", 5.0)  # the 10 s clip stands in for a VOD
    made = labels.label_clip(project / "clips" / "x.mp4", tmp_path / "labels", [Segment(1, 2)])
    assert made.partial and "calm = []" in (tmp_path / "labels" / "x.toml").read_text()


def test_merge_review_lets_the_newest_answer_win(project, tmp_path):
    out = tmp_path / "labels"
    clip = project / "clips" / "x.mp4"
    first = labels.merge_review(clip, out, "rage", positives=[Segment(2, 3)], calm=[Segment(5, 7)])
    assert first.by_label == {"rage": (Segment(2, 3),)} and first.calm == {"rage": (Segment(5, 7),)}
    again = labels.merge_review(clip, out, "rage", positives=[Segment(2, 3)], calm=[Segment(5, 7)])
    assert again == first  # saving the same review twice changes nothing
    changed = labels.merge_review(clip, out, "rage", positives=[Segment(5.5, 6.5)], calm=[Segment(1.5, 3.5)])
    assert changed.by_label["rage"] == (Segment(5.5, 6.5),)
    assert changed.calm == {"rage": (Segment(1.5, 3.5),)}
    assert labels.load_label(out / "x.toml") == changed
