"""OBS multi-track audio (probe, --audio-track, --reel-audio) and loudness calibrated on the VOD itself."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.errors import MediaError
from autotosis.core.timeline import Timeline
from autotosis.pick import select as select_lib
from autotosis.signals import loudness

SHOUTS = "(between(t,8,11)+between(t,26,29))"  # the streamer, on the mic
BOOMS = "(between(t,17,19.5)+between(t,35,37.5))"  # explosions, on the game track
MIC = f"0.04*sin(2*PI*150*t)*(0.7+0.3*sin(2*PI*3*t))*(1+9*{SHOUTS})"
GAME = f"0.03*sin(2*PI*90*t)+0.9*(random(0)-0.5)*{BOOMS}"


def _graph(expr: str, seconds: float) -> str:
    return f"aevalsrc='{expr}':s=16000:d={seconds:g}"


@pytest.fixture(scope="module")
def obs_vod(tmp_path_factory) -> Path:
    """45 s as OBS records it with three tracks: the whole mix, the mic alone, the game alone."""
    path = tmp_path_factory.mktemp("tracks") / "obs.mp4"
    return media.make_tracks_vod(path, 45.0, [("Mix", _graph(f"{MIC}+{GAME}", 45)), ("Mic", _graph(MIC, 45)),
                                              ("Game", _graph(GAME, 45))])


# A real-style soundtrack, not our synthetic streamer: chords and noise squashed by a compressor
# and limiter as a streaming mix is, with three louder passages that rise only a few dB.
LOUDER = "(between(t,11,13.5)+between(t,27,29)+between(t,46,48.5))"
COMPRESSED = (
    "aevalsrc='(0.15*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.5*t))+0.1*sin(2*PI*330*t+2*sin(2*PI*2*t))"
    f"+0.08*sin(2*PI*(440+110*floor(mod(t,8)/2))*t)+0.05*(random(0)-0.5))*(1+4*{LOUDER})':s=16000:d=60,"
    "acompressor=threshold=0.1:ratio=4:attack=5:release=150:makeup=2,alimiter=limit=0.9"
)


def test_probe_lists_every_track_with_its_title(obs_vod):
    info = media.probe(obs_vod)
    assert [(t.index, t.title, t.codec) for t in info.audio_tracks] == [
        (0, "Mix", "aac"), (1, "Mic", "aac"), (2, "Game", "aac")]
    result = CliRunner().invoke(cli, ["probe", str(obs_vod)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("video: h264 64x64 at 10 fps")
    assert "audio: 3 track(s)" in lines
    mic = [line for line in lines if line.split()[:2] == ["1", "aac"]]
    assert mic and mic[0].endswith("Mic  <- --audio-track auto")
    assert "loudness uses track 1 by default (auto: titled like a mic)" in result.output


def test_track_choice_by_number_title_and_auto(obs_vod):
    info = media.probe(obs_vod)
    assert loudness.choose_track(info, "auto")[0].title == "Mic"
    assert loudness.choose_track(info, "2")[0].title == "Game"
    assert loudness.choose_track(info, "game")[0].index == 2
    listing = r"\(tracks: 0 'Mix', 1 'Mic', 2 'Game'\)"
    with pytest.raises(MediaError, match=r"obs\.mp4: has no audio track 5 " + listing):
        loudness.choose_track(info, "5")
    with pytest.raises(MediaError, match=r"no audio track is titled like 'music'"):
        loudness.choose_track(info, "music")
    one = media.probe(media.make_tracks_vod(obs_vod.parent / "one.mkv", 2.0, [("", _graph("0.1*sin(t)", 2))]))
    assert loudness.choose_track(one, "auto") == (one.audio_tracks[0], "auto: the first")


def test_the_mic_track_ignores_game_explosions(obs_vod, tmp_path):
    def loud_spans(track: str) -> list[tuple[float, float]]:
        tl, _ = loudness.loudness(obs_vod, loudness.LoudnessConfig(track=track), cache=tmp_path)
        segments = select_lib.select_segments(select_lib.loudness_score(tl), select_lib.SelectConfig(), 45.0)
        return [(s.start, s.end) for s in segments]

    def covers(spans: list[tuple[float, float]], a: float, b: float) -> bool:
        return any(s <= a + 0.5 and e >= b - 0.5 for s, e in spans)

    mix, mic = loud_spans("0"), loud_spans("auto")
    assert all(covers(mix, a, b) for a, b in [(8, 11), (26, 29), (17, 19.5), (35, 37.5)]), mix
    assert len(mic) == 2 and covers(mic, 8, 11) and covers(mic, 26, 29), mic
    # each track has its own cache entry
    assert len(list((tmp_path / "loudness").glob("*.npz"))) == 2


def test_compile_measures_the_mic_and_keeps_the_mix_in_the_reel(obs_vod, project):
    result = CliRunner().invoke(cli, ["compile", str(obs_vod), "--no-overlay", "--top", "1"])
    assert result.exit_code == 0, result.output
    assert "loudness: measured on track 1 'Mic' (auto: titled like a mic) of 3 audio tracks" in result.output
    options = json.loads((project / "output" / "obs" / "options.json").read_text())
    assert options["loudness"]["track_index"] == 1 and options["render"]["audio_track"] == 0
    reel = project / "output" / "obs" / "reel.mp4"
    assert len(media.probe(reel).audio_tracks) == 1
    mix_level = np.mean([c.std() for c in media.audio_chunks(reel, 8000, 5.0, None)])
    game = CliRunner().invoke(cli, ["compile", str(obs_vod), "--no-overlay", "--top", "1", "--force",
                                    "--reel-audio", "Game"])
    assert game.exit_code == 0, game.output
    assert json.loads((project / "output" / "obs" / "options.json").read_text())["render"]["audio_track"] == 2
    game_level = np.mean([c.std() for c in media.audio_chunks(reel, 8000, 5.0, None)])
    assert game_level < mix_level / 3  # the shout is on the mix, not on the game track
    bad = CliRunner().invoke(cli, ["compile", str(obs_vod), "--audio-track", "7", "--force"])
    assert bad.exit_code == 1
    assert bad.output.splitlines()[-1].startswith("Error: ") and "has no audio track 7" in bad.output


def test_loudness_calibrates_on_a_compressed_real_style_soundtrack(project):
    vod = media.make_tracks_vod(project / "real.mp4", 60.0, [("", COMPRESSED)])
    tl, _ = loudness.loudness(vod)
    excess, _ = select_lib.loud_excess(tl)
    # the old fixed rule (0.5 at 10 dB over the median) saw nothing in it
    assert excess.max() < select_lib.LOUD_DB - 4
    result = CliRunner().invoke(cli, ["compile", str(vod), "--scorer", "loudness", "--no-overlay"])
    assert result.exit_code == 0, result.output
    spans = [(s["start"], s["end"]) for s in
             json.loads((project / "output" / "real" / "segments.json").read_text())["segments"]]
    assert len(spans) == 3
    for (a, b), (start, end) in zip([(11, 13.5), (27, 29), (46, 48.5)], spans, strict=True):
        assert start <= a and end >= b - 0.5
    top = CliRunner().invoke(cli, ["compile", str(vod), "--scorer", "loudness", "--no-overlay", "--force",
                                   "--max-length", "8"])
    assert top.exit_code == 0 and "1 highlight(s)" in top.output  # the budget keeps the best


def test_an_empty_selection_names_the_smoothed_maximum():
    times = np.arange(0, 30, 0.5) + 0.25
    values = np.where(np.abs(times - 10.25) < 0.1, 0.67, 0.1)  # one odd window: smoothing removes it
    values[(times > 20) & (times < 21)] = 0.45  # two windows at 0.45: smoothing keeps them
    why = select_lib.explain_empty(Timeline(times, values), select_lib.SelectConfig(), 30.0)
    assert why == ("no moment scored 0.50 or more (the highest after 1s smoothing is 0.45); "
                   "lower --threshold below 0.45")


def test_synthetic_streams_record_obs_tracks(tmp_path):
    from autotosis.core.timeline import Segment
    from autotosis.demo import synth

    spec = synth.StreamSpec(duration=16, width=160, height=90, fps=5, rage=(Segment(3, 6),), bangs=(10.0,))
    vod = synth.make_stream(tmp_path / "obs.mp4", spec, preset="ultrafast", tracks=True)
    info = media.probe(vod)
    assert [t.title for t in info.audio_tracks] == ["Mix", "Mic/Aux", "Desktop Audio"]

    def level(track: str, a: float, b: float) -> float:
        tl = loudness.measure(vod, loudness.LoudnessConfig(track=track), info=info)
        return float(np.median(tl.values[(tl.times >= a) & (tl.times < b)]))

    calm = (13.0, 16.0)
    for track, shout, bang in (("Mix", True, True), ("Mic", True, False), ("Desktop", False, True)):
        assert (level(track, 3.5, 5.5) > level(track, *calm) + 10) == shout, track
        assert (level(track, 10.0, 10.5) > level(track, *calm) + 10) == bang, track
