"""Suggestions: which moments to ask a person about, on hand-made timelines with answers known."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from autotosis.core.timeline import Segment, Timeline
from autotosis.pick.suggest import (
    Candidate,
    SuggestConfig,
    SuggestSignals,
    peaks,
    place,
    proposals,
    rank,
    shares,
)

STEP = 0.5
DURATION = 600.0
QUIET_DB, LOUD_DB = -30.0, -14.0


def loudness(shouts: dict[float, float], seconds: float = DURATION, wobble: float = 0.5) -> Timeline:
    """dBFS per 0.5 s: a talking level with a little wobble, `db` over it for 3 s at each `at`."""
    times = np.arange(0, seconds, STEP) + STEP / 2
    levels = QUIET_DB + np.random.default_rng(3).normal(0, wobble, len(times))
    for at, db in shouts.items():
        levels[(times >= at) & (times < at + 3)] = QUIET_DB + db
    return Timeline(times, levels)


def model(bumps: dict[float, float], seconds: float = DURATION, floor: float = 0.03) -> Timeline:
    """Probabilities at 4 fps: `floor` everywhere, `p` for 3 s at each `at`."""
    times = np.arange(0, seconds, 0.25)
    values = np.full(len(times), floor)
    for at, p in bumps.items():
        values[(times >= at) & (times < at + 3)] = p
    return Timeline(times, values)


def chat(bursts: dict[float, int], seconds: float = DURATION) -> tuple[Timeline, Timeline, Timeline]:
    """(score, chatters, usual) per second: 2 usual chatters, `n` for 5 s at each `at`."""
    times = np.arange(0, seconds, 1.0) + 2.5
    chatters = np.full(len(times), 2.0)
    for at, n in bursts.items():
        chatters[(times >= at) & (times < at + 5)] = n
    score = 1 / (1 + np.exp(-(np.log2((chatters + 1) / 3) - 2) / 0.45))
    return Timeline(times, score), Timeline(times, chatters), Timeline(times, np.full(len(times), 2.0))


def near(c: Candidate, at: float) -> bool:
    return c.start <= at < c.end


def check_shape(found: list[Candidate], config: SuggestConfig, duration: float = DURATION) -> None:
    """Every list: at most `count`, inside the VOD, 8-12 s windows, none overlapping, spread."""
    assert len(found) <= config.count
    for c in found:
        assert 0 <= c.start < c.end <= duration
        assert c.start <= c.moment <= c.end
        assert 8 <= c.end - c.start <= 12 or c.kind == "clipped"
    gap = 0 if config.dense else config.spread
    for a, b in itertools.combinations(found, 2):
        assert a.end <= b.start or b.end <= a.start, (a, b)
        assert abs(a.moment - b.moment) >= gap, (a, b)


SHOUTS = {100.0: 16, 250.0: 12, 400.0: 20}

CASES = [
    # (name, signals, config, answered, expected: moments a loud/chat candidate covers, in rank order)
    ("loud peaks, loudest first", SuggestSignals(DURATION, loudness(SHOUTS)), SuggestConfig(), [],
     [400.0, 100.0, 250.0]),
    ("an answered span is not asked again", SuggestSignals(DURATION, loudness(SHOUTS)), SuggestConfig(),
     [Segment(99, 104)], [400.0, 250.0]),
    ("a calm answer near a moment hides it too", SuggestSignals(DURATION, loudness(SHOUTS)),
     SuggestConfig(), [Segment(380, 399.5)], [100.0, 250.0]),
    ("two moments in one minute: the louder one", SuggestSignals(DURATION, loudness({100.0: 12, 130.0: 18})),
     SuggestConfig(), [], [130.0]),
    ("... both with dense", SuggestSignals(DURATION, loudness({100.0: 12, 130.0: 18})),
     SuggestConfig(dense=True), [], [130.0, 100.0]),
    ("chat bursts count as moments", SuggestSignals(DURATION, *(None,), *chat({200.0: 20, 450.0: 14})),
     SuggestConfig(), [], [200.0, 450.0]),
    ("loud and chat together rank by the stronger",
     SuggestSignals(DURATION, loudness({300.0: 16}), *chat({100.0: 14})), SuggestConfig(), [],
     [300.0, 100.0]),
    ("count caps them", SuggestSignals(DURATION, loudness(SHOUTS)), SuggestConfig(count=1), [], [400.0]),
]


@pytest.mark.parametrize("name,signals,config,answered,expected", CASES, ids=[c[0] for c in CASES])
def test_moments_without_a_model(name, signals, config, answered, expected):
    found = rank(signals, "rage", config, answered)
    check_shape(found, config)
    moments = [c for c in found if c.kind in ("loud", "chat") and c.score >= config.strong]
    weak = [c for c in found if c.kind in ("loud", "chat") and c.score < config.strong]
    assert all(found.index(w) > found.index(m) for w in weak for m in moments)  # noise's moments: last
    assert [next(at for at in (*SHOUTS, 100.0, 130.0, 200.0, 300.0, 450.0) if near(c, at + 1))
            for c in moments] == expected
    for c in found:
        assert not any(c.start < s.end + config.answered_pad and s.start - config.answered_pad < c.end
                       for s in answered)


def test_reasons_say_why():
    found = rank(SuggestSignals(DURATION, loudness({100.0: 15}), *chat({300.0: 23})), "rage")
    reasons = {c.kind: c.reason for c in found}
    assert reasons["loud"] == "loud: +15 dB over usual"
    assert reasons["chat"] == "chat burst: 23 chatters (usual 2)"
    assert reasons["calm"].startswith("calm stretch")
    assert all(c.label == "rage" for c in found)


def test_calm_stretches_are_quiet_and_spread():
    signals = SuggestSignals(DURATION, loudness(SHOUTS), *chat({200.0: 20}))
    found = rank(signals, "rage")
    calm = [c for c in found if c.kind == "calm"]
    assert len(calm) == shares(SuggestConfig(), False, 0)["calm"] == 4
    busy = [*SHOUTS, 200.0]
    for c in calm:
        assert not any(c.start - 1 < at + 5 and at - 1 < c.end for at in busy), c
    middles = sorted(c.moment for c in calm)
    assert middles[0] < DURATION / 3 and middles[-1] > 2 * DURATION / 3  # from all over the VOD
    # the kinds interleave: a calm stretch within the first few, not all at the end
    assert any(c.kind == "calm" for c in found[:3])


def test_a_vod_with_nothing_loud_gets_calm_stretches_first():
    found = rank(SuggestSignals(DURATION, loudness({})), "rage")
    check_shape(found, SuggestConfig())
    calm = shares(SuggestConfig(), False, 0)["calm"]
    assert [c.kind for c in found[:calm]] == ["calm"] * calm
    assert all(c.score < SuggestConfig().strong for c in found if c.kind == "loud")  # only the wobble


UNSURE = [
    # (name, bumps of the model, threshold, expected (kind, moment) of the first candidates, in order)
    ("closest to the threshold first", {100.0: 0.47, 220.0: 0.35, 340.0: 0.58}, 0.5,
     [("unsure", 100.0), ("unsure", 340.0), ("unsure", 220.0)]),
    ("the threshold is the checkpoint's", {100.0: 0.55, 220.0: 0.8}, 0.8,
     [("unsure", 220.0), ("unsure", 100.0)]),
    ("far from the threshold is not unsure", {100.0: 0.1, 220.0: 0.97}, 0.5, [("confirm", 220.0)]),
]


@pytest.mark.parametrize("name,bumps,threshold,expected", UNSURE, ids=[c[0] for c in UNSURE])
def test_the_model_is_asked_about_its_doubts(name, bumps, threshold, expected):
    signals = SuggestSignals(DURATION, loudness({}), model=model(bumps), threshold=threshold)
    found = [c for c in rank(signals, "rage") if c.kind != "calm"]
    assert [(c.kind, next(at for at in bumps if near(c, at + 1))) for c in found] == expected
    check_shape(found, SuggestConfig())
    unsure = [c for c in found if c.kind == "unsure"]
    assert [c.score for c in unsure] == sorted((c.score for c in unsure), reverse=True)
    assert all(f"near {threshold:.2f}" in c.reason for c in unsure)


def test_with_a_model_loud_moments_it_scores_low_are_possible_misses():
    signals = SuggestSignals(DURATION, loudness({100.0: 16, 300.0: 16}),
                             model=model({100.0: 0.95, 450.0: 0.5}), threshold=0.5)
    found = rank(signals, "rage")
    kinds = {c.kind: c for c in found if c.kind != "calm"}
    assert set(kinds) == {"confirm", "missed", "unsure"}
    assert near(kinds["confirm"], 101) and near(kinds["missed"], 301) and near(kinds["unsure"], 451)
    assert kinds["missed"].reason == "loud: +16 dB over usual; model only 0.03 (possible miss)"
    assert kinds["unsure"].reason == "model unsure: 0.50 near 0.50"
    assert not any(c.kind == "loud" for c in found)  # with a model, loudness only speaks through misses


def test_shares_add_up():
    for count in (1, 5, 20, 50):
        for with_model in (False, True):
            config = SuggestConfig(count=count)
            assert sum(shares(config, with_model, 0).values()) == count
            assert shares(config, with_model, 100)["clipped"] == round(count * config.clipped_share + 1e-9)


def test_clipped_candidates_take_their_share():
    clips = [Candidate(500.0, 530.0, "viewers clipped this: 1000 views", 1.0, "rage", "clipped"),
             Candidate(20.0, 40.0, "viewers clipped this: 10 views", 0.1, "rage", "clipped")]
    found = rank(SuggestSignals(DURATION, loudness(SHOUTS)), "rage", SuggestConfig(count=6), extra=clips)
    assert [c for c in found if c.kind == "clipped"] == clips  # share: round(6 * 0.25) = 2, best first
    assert found[0] == clips[0]
    check_shape(found, SuggestConfig(count=6))


def test_place_slides_a_window_clear_of_its_neighbour():
    c = Candidate(80.0, 91.0, "loud", 0.5, "rage", "loud", 86.0)
    assert place(c, [(100.0, 110.0)], 600.0, 2.0) == c
    assert place(c, [(72.0, 83.0)], 600.0, 2.0) == Candidate(83.0, 94.0, "loud", 0.5, "rage", "loud", 86.0)
    assert place(c, [(72.0, 85.0), (88.0, 99.0)], 600.0, 2.0) is None  # no room with the moment inside
    assert place(c, [(50.0, 85.0)], 95.0, 2.0) is None  # sliding right would leave the VOD


def test_peaks_are_local_maxima_highest_first():
    values = np.array([0, 1, 0, 0, 3, 3, 3, 0, 0, 2, 0], dtype=float)
    assert peaks(values, 1).tolist() == [4, 9, 1]
    assert peaks(values, 1, floor=1.5).tolist() == [4, 9]
    assert peaks(values, 5).tolist() == [4]


def test_proposals_of_every_kind_are_sorted_best_first():
    signals = SuggestSignals(DURATION, loudness(SHOUTS), *chat({200.0: 20}), model=model({500.0: 0.45}),
                             threshold=0.5)
    for kind, items in proposals(signals, "rage").items():
        if kind != "calm":
            assert [c.score for c in items] == sorted((c.score for c in items), reverse=True), kind


def test_a_candidate_needs_a_span():
    with pytest.raises(ValueError):
        Candidate(10.0, 10.0, "x", 0.5, "rage")
    assert Candidate(10.0, 20.0, "x", 0.5, "rage").moment == 15.0
    assert Candidate(10.0, 20.0, "x", 0.5, "rage").to_dict()["peak"] == 15.0


def test_a_doubt_says_what_the_other_signals_say():
    signals = SuggestSignals(DURATION, loudness({100.0: 16}), *chat({100.0: 20}),
                             model=model({100.0: 0.48}), threshold=0.5)
    first = rank(signals, "rage")[0]
    assert first.kind == "unsure" and near(first, 101)
    assert first.reason == ("model unsure: 0.48 near 0.50; loud: +16 dB over usual; "
                            "chat burst: 20 chatters (usual 2)")
