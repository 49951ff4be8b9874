"""Selection: timeline -> segments, on hand-made timelines with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from autotosis.core.timeline import Segment, Timeline
from autotosis.pick.select import (
    SelectConfig,
    explain_empty,
    hysteresis,
    loudness_score,
    select_labelled,
    select_segments,
    smooth,
)

STEP = 0.5  # two samples per second: sample k at k/2 s covers [k/2 - 0.25, k/2 + 0.25)
PLAIN = SelectConfig(enter=0.5, smooth=0.0, min_event=0.0, pad_before=0.0, pad_after=0.0, merge_gap=0.0)


def timeline(spans: list[tuple[float, float, float]], seconds: float = 30.0) -> Timeline:
    """Score 0.1 everywhere, `value` on samples with start <= t < end, for each (start, end, value)."""
    times = np.arange(0, seconds, STEP)
    values = np.full(len(times), 0.1)
    for start, end, value in spans:
        values[(times >= start) & (times < end)] = value
    return Timeline(times, values)


def spans(segments) -> list[tuple[float, float]]:
    return [(round(s.start, 3), round(s.end, 3)) for s in segments]


CASES = [
    # (name, score spans, config overrides, expected segments)
    ("one event, nearest-sample edges", [(10, 12, 0.9)], {}, [(9.75, 11.75)]),
    ("event at the very start", [(0, 3, 0.9)], {}, [(0.0, 2.75)]),
    ("event at the very end is clipped to the VOD", [(28, 30, 0.9)], {}, [(27.75, 30.0)]),
    ("padding stays inside the VOD", [(0.5, 2, 0.9), (28, 30, 0.9)], {"pad_before": 3, "pad_after": 3},
     [(0.0, 4.75), (24.75, 30.0)]),
    ("touching events are one", [(10, 12, 0.9), (12, 14, 0.7)], {}, [(9.75, 13.75)]),
    ("a gap shorter than merge_gap is bridged", [(10, 12, 0.9), (14, 16, 0.9)], {"merge_gap": 2.5},
     [(9.75, 15.75)]),
    ("a gap longer than merge_gap is kept", [(10, 12, 0.9), (15, 17, 0.9)], {"merge_gap": 2.5},
     [(9.75, 11.75), (14.75, 16.75)]),
    ("padding makes neighbours merge", [(10, 12, 0.9), (16, 18, 0.9)], {"pad_before": 2, "pad_after": 1,
                                                                        "merge_gap": 1},
     [(7.75, 18.75)]),
    ("short events are dropped", [(5, 5.5, 0.9), (10, 13, 0.9)], {"min_event": 1.0}, [(9.75, 12.75)]),
    ("a dip above `leave` does not split", [(10, 12, 0.9), (12, 13, 0.45), (13, 15, 0.9)], {},
     [(9.75, 14.75)]),
    ("a dip below `leave` splits", [(10, 12, 0.9), (12, 13, 0.3), (13, 15, 0.9)], {},
     [(9.75, 11.75), (12.75, 14.75)]),
    ("`leave` only holds what `enter` started", [(10, 12, 0.45)], {}, []),
    ("top keeps the highest peaks, in time order", [(2, 4, 0.7), (10, 12, 0.95), (20, 22, 0.8)], {"top": 2},
     [(9.75, 11.75), (19.75, 21.75)]),
    ("budget: best first, skip what does not fit, fill with smaller",
     [(2, 6, 0.8), (10, 16, 0.95), (20, 22, 0.7)], {"max_length": 9.0}, [(9.75, 15.75), (19.75, 21.75)]),
    ("budget smaller than the best event trims it around its peak",
     [(10, 20, 0.8), (14, 15, 0.99)], {"max_length": 4.0}, [(12.0, 16.0)]),
    ("nothing above the threshold", [], {}, []),
]


@pytest.mark.parametrize(("name", "score_spans", "overrides", "expected"), CASES, ids=[c[0] for c in CASES])
def test_selection_table(name, score_spans, overrides, expected):
    config = SelectConfig(**{**PLAIN.__dict__, **overrides})
    assert spans(select_segments(timeline(score_spans), config, duration=30.0)) == expected


def test_peak_and_mean_come_from_the_raw_scores_inside_the_moment():
    score = timeline([(10, 11, 0.6), (11, 12, 1.0)])
    (seg,) = select_segments(score, SelectConfig(**{**PLAIN.__dict__, "pad_before": 2, "pad_after": 2}), 30.0)
    assert (seg.start, seg.end) == (7.75, 13.75)
    assert seg.peak == pytest.approx(1.0) and seg.mean == pytest.approx(0.8)


def test_smoothing_removes_a_one_sample_blip_but_keeps_a_reaction():
    score = timeline([(5, 5.5, 1.0), (10, 14, 0.9)])
    config = SelectConfig(**{**PLAIN.__dict__, "smooth": 1.5})
    assert spans(select_segments(score, config, 30.0)) == [(9.75, 13.75)]


def test_smoothing_keeps_a_one_second_scream_at_a_high_threshold():
    # a 1 s reaction the model scores 0.95, under a 0.9 threshold: a 1 s mean lowered it to 0.67
    score = timeline([(10, 11, 0.95)])
    config = SelectConfig(**{**PLAIN.__dict__, "enter": 0.9, "smooth": 1.0, "min_event": 1.0})
    assert spans(select_segments(score, config, 30.0)) == [(9.75, 10.75)]


def test_no_duration_ends_at_the_last_sample():
    assert spans(select_segments(timeline([(28, 30, 0.9)]), PLAIN)) == [(27.75, 29.75)]


def test_empty_timeline():
    assert select_segments(Timeline(np.zeros(0), np.zeros(0)), PLAIN, 10.0) == []


def test_smooth_and_hysteresis_primitives():
    np.testing.assert_allclose(smooth(np.array([0.0, 3.0, 0.0, 0.0]), 3), [1.5, 0.0, 0.0, 0.0])
    two_samples = np.array([0.0, 0.0, 2.0, 2.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(smooth(two_samples, 3), two_samples)
    values = np.array([0.1, 0.6, 0.45, 0.3, 0.45, 0.6, 0.2])
    assert hysteresis(values, 0.5, 0.4).tolist() == [False, True, True, False, False, True, False]


def test_loudness_score_is_relative_to_the_local_baseline():
    times = (np.arange(7200) + 0.5) * 0.5  # an hour at 0.5 s windows
    level = np.where(times < 1800, -40.0, -25.0)  # the second half-hour is 15 dB louder throughout
    level[(times >= 900) & (times < 905)] = -28.0  # a shout 12 dB over the quiet half
    level[(times >= 2700) & (times < 2705)] = -13.0  # a shout 12 dB over the loud half
    level[(times >= 1000) & (times < 1100)] = -90.0  # muted mic: silence is not "quiet talking"
    score = loudness_score(Timeline(times, level)).values
    shouts = score[((times >= 900) & (times < 905)) | ((times >= 2700) & (times < 2705))]
    assert shouts.min() > 0.6
    assert score[(times < 800)].max() < 0.05 and score[(times > 2000) & (times < 2600)].max() < 0.05


def test_an_empty_selection_says_which_option_to_change():
    quiet = timeline([(10, 12, 0.3)])
    assert select_segments(quiet, PLAIN, 30.0) == []
    assert explain_empty(quiet, PLAIN, 30.0) == (
        "no moment scored 0.50 or more (the highest is 0.30); lower --threshold below 0.30")
    blip = timeline([(10, 10.5, 0.9)])
    strict = SelectConfig(**{**PLAIN.__dict__, "min_event": 2.0})
    assert select_segments(blip, strict, 30.0) == []
    assert explain_empty(blip, strict, 30.0) == (
        "every moment above 0.50 is shorter than --min-event 2s (the longest is 0.5s); lower --min-event")


def test_several_labels_own_thresholds_one_budget_no_second_twice():
    """rage at 0.7 passes its threshold 0.6 but laugh's 0.7 would not pass 0.8: each label
    uses its own; overlapping spans of two labels are cut so no second is in the reel twice;
    the budget is shared and ranked by peak across labels."""
    import dataclasses

    rage = timeline([(2, 5, 0.7), (20, 23, 0.95)])
    laugh = timeline([(4, 8, 0.9), (12, 14, 0.75)])
    configs = {"rage": dataclasses.replace(PLAIN, enter=0.6, leave=0.3),
               "laugh": dataclasses.replace(PLAIN, enter=0.8, leave=0.3)}
    found = select_labelled({"rage": rage, "laugh": laugh}, configs, 30.0)
    assert [(s.label, s.start, s.end) for s in found] == [
        ("rage", 1.75, 4.75), ("laugh", 4.75, 7.75), ("rage", 19.75, 22.75)]
    assert found[1].peak == pytest.approx(0.9)
    budgeted = select_labelled({"rage": rage, "laugh": laugh},
                               {k: dataclasses.replace(v, max_length=6.5) for k, v in configs.items()}, 30.0)
    assert [(s.label, s.start) for s in budgeted] == [("laugh", 4.75), ("rage", 19.75)]  # the two best peaks


CORE_CASES = [
    # (name, score spans, config overrides, expected [(start, end, cores)])
    ("the core is the event before padding", [(10, 12, 0.9)], {"pad_before": 3, "pad_after": 1.5},
     [(6.75, 13.25, ((9.75, 11.75),))]),
    ("a merged highlight keeps one core per moment", [(10, 12, 0.9), (14, 16, 0.9)],
     {"pad_before": 1, "pad_after": 1, "merge_gap": 1},
     [(8.75, 16.75, ((9.75, 11.75), (13.75, 15.75)))]),
    ("a dip above `leave` is one core", [(10, 12, 0.9), (12, 13, 0.45), (13, 15, 0.9)], {},
     [(9.75, 14.75, ((9.75, 14.75),))]),
    ("padding clipped at the VOD's start leaves the core whole", [(1, 3, 0.9)], {"pad_before": 3},
     [(0.0, 2.75, ((0.75, 2.75),))]),
    ("a budget trim cuts the core to what is left", [(10, 20, 0.8), (14, 15, 0.99)], {"max_length": 4.0},
     [(12.0, 16.0, ((12.0, 16.0),))]),
]


@pytest.mark.parametrize(("name", "score_spans", "overrides", "expected"), CORE_CASES,
                         ids=[c[0] for c in CORE_CASES])
def test_selection_keeps_each_highlights_cores(name, score_spans, overrides, expected):
    config = SelectConfig(**{**PLAIN.__dict__, **overrides})
    found = select_segments(timeline(score_spans), config, duration=30.0)
    assert [(s.start, s.end, s.cores) for s in found] == expected


def test_several_labels_cut_a_later_core_where_the_earlier_highlight_ends():
    import dataclasses

    rage = timeline([(2, 5, 0.9)])
    laugh = timeline([(4, 8, 0.9)])
    configs = {"rage": dataclasses.replace(PLAIN, pad_after=1.0), "laugh": PLAIN}
    found = select_labelled({"rage": rage, "laugh": laugh}, configs, 30.0)
    assert [(s.label, s.start, s.end, s.cores) for s in found] == [
        ("rage", 1.75, 5.75, ((1.75, 4.75),)), ("laugh", 5.75, 7.75, ((5.75, 7.75),))]


def test_snapping_onto_frames_keeps_what_the_highlight_says():
    """compile snaps each highlight onto frame boundaries; its scores, label and cores (what
    review -> labels turns into segments) must survive the move."""
    from fractions import Fraction

    from autotosis.core.frames import snap

    seg = Segment(1.01, 4.99, 0.9, 0.7, "rage", cores=((2.0, 3.5),))
    moved = snap(seg, Fraction(30000, 1001))
    assert (moved.peak, moved.mean, moved.label, moved.cores) == (0.9, 0.7, "rage", ((2.0, 3.5),))
    assert moved.start != seg.start and abs(moved.start - seg.start) < 1 / 29.97
