"""Chat replay: the four formats (and broken files), the chat timeline, delay estimation, signals combined."""

import json
from pathlib import Path

import numpy as np
import pytest

from autotosis.core.errors import AutotosisError, ChatError
from autotosis.core.timeline import Segment, Timeline
from autotosis.demo import synth
from autotosis.signals import chat
from autotosis.signals import fuse as signals

TWITCH = {
    "FileInfo": {"Version": {"Major": 1, "Minor": 10}},
    "streamer": {"name": "someone", "id": 1},
    "video": {"start": 0, "end": 100},
    "comments": [
        {
            "_id": "a",
            "created_at": "2024-01-01T00:00:12Z",
            "content_offset_seconds": 12.5,
            "commenter": {"display_name": "Alice", "_id": "1", "name": "alice"},
            "message": {
                "body": "KEKW that jump",
                "bits_spent": 0,
                "fragments": [
                    {"text": "KEKW", "emoticon": {"emoticon_id": "305954156"}},
                    {"text": " that jump", "emoticon": None},
                ],
                "user_badges": [],
                "emoticons": [],
            },
        },
        {
            "_id": "b",
            "content_offset_seconds": 3,
            "commenter": {"display_name": "Nightbot", "_id": "2", "name": "nightbot"},
            "message": {
                "body": "Follow on twitter!",
                "fragments": [{"text": "Follow on twitter!", "emoticon": None}],
            },
        },
    ],
}
CHAT_DOWNLOADER = [
    {
        "message_id": "x",
        "message": "LUL",
        "time_in_seconds": 61.25,
        "time_text": "1:01",
        "author": {"name": "Bob", "id": "UC1"},
        "message_type": "text_message",
        "emotes": [{"id": "e", "name": "LUL"}],
    },
    {
        "message": "Carol became a member",
        "time_in_seconds": 70.0,
        "author": {"name": "Carol"},
        "message_type": "membership_item",
    },
]
YT_LINE = {
    "clickTrackingParams": "x",
    "replayChatItemAction": {
        "actions": [
            {
                "addChatItemAction": {
                    "item": {
                        "liveChatTextMessageRenderer": {
                            "message": {
                                "runs": [
                                    {"text": "no way "},
                                    {"emoji": {"emojiId": "UCk/x", "shortcuts": [":face-purple-crying:"]}},
                                ]
                            },
                            "authorName": {"simpleText": "Dave"},
                            "authorExternalChannelId": "UC2",
                            "timestampUsec": "1",
                        }
                    },
                    "clientId": "c",
                }
            }
        ],
        "videoOffsetTimeMsec": "4321",
    },
}
LOG = "[0:00:05] alice: hi chat\n\n[1:02:03] Bob the Builder: ????? WHAT\n[12:34.5] carol: ok\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_each_format_is_read_by_its_content(tmp_path):
    twitch = chat.read_chat(_write(tmp_path, "a.txt", json.dumps(TWITCH)))
    assert twitch.format == "twitchdownloader"
    assert [(m.time, m.author, m.text) for m in twitch.messages] == [
        (3.0, "nightbot", "Follow on twitter!"),
        (12.5, "alice", "KEKW that jump"),
    ]
    assert twitch.messages[1].emotes == ("KEKW",)
    listed = chat.read_chat(_write(tmp_path, "b.json", json.dumps(CHAT_DOWNLOADER)))
    assert listed.format == "chat-downloader"
    assert [(m.time, m.author, m.notice) for m in listed.messages] == [
        (61.25, "Bob", False),
        (70.0, "Carol", True),
    ]
    youtube = chat.read_chat(
        _write(tmp_path, "c.live_chat.json", json.dumps(YT_LINE) + "\n" + json.dumps(YT_LINE))
    )
    assert youtube.format == "yt-dlp-live-chat" and len(youtube.messages) == 2
    assert youtube.messages[0].time == 4.321 and youtube.messages[0].author == "Dave"
    assert youtube.messages[0].text == "no way  face-purple-crying" and youtube.messages[0].emotes == (
        "face-purple-crying",
    )
    log = chat.read_chat(_write(tmp_path, "d.log", LOG))
    assert log.format == "log"
    assert [(m.time, m.author, m.text) for m in log.messages] == [
        (5.0, "alice", "hi chat"),
        (754.5, "carol", "ok"),
        (3723.0, "Bob the Builder", "????? WHAT"),
    ]


@pytest.mark.parametrize("fmt", ["twitchdownloader", "chat-downloader", "yt-dlp", "log"])
def test_synthetic_replays_round_trip_in_every_format(tmp_path, fmt):
    spec = synth.scripted(60, seed=3, rages=2, hypes=1, rage_length=(3, 5), gap=5)
    replay = chat.read_chat(synth.write_chat(tmp_path / f"chat.{fmt}", spec, fmt=fmt))
    made = synth.chat_messages(spec)
    assert len(replay.messages) == len(made)
    assert [m.text for m in replay.messages] == [m["text"] for m in made] or fmt == "log"
    tolerance = 1.0 if fmt == "log" else 1e-3  # the log keeps whole seconds
    assert np.allclose([m.time for m in replay.messages], sorted(m["time"] for m in made), atol=tolerance)


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (
            "t.json",
            json.dumps(
                {"comments": [{"content_offset_seconds": 1, "message": {"body": "x"}}, {"message": {}}]}
            ),
            r"t\.json: comment 1: no content_offset_seconds",
        ),
        (
            "t2.json",
            json.dumps({"comments": [{"content_offset_seconds": "soon", "message": {"body": "x"}}]}),
            r"t2\.json: comment 0: time 'soon' is not a number",
        ),
        ("t3.json", json.dumps({"comments": {"a": 1}}), r"t3\.json: 'comments' is not a list"),
        (
            "c.json",
            json.dumps([{"time_in_seconds": 2, "message": "a"}, {"message": "b"}]),
            r"c\.json: item 1: no time_in_seconds",
        ),
        (
            "c2.json",
            json.dumps([{"time_in_seconds": -4, "message": "a"}]),
            r"c2\.json: item 0: time -4 is not a time",
        ),
        (
            "y.json",
            json.dumps(YT_LINE) + "\n{broken\n",
            r"y\.json: line 2: not JSON \(Expecting property name",
        ),
        (
            "y2.json",
            json.dumps(YT_LINE) + "\n" + json.dumps({"replayChatItemAction": {"actions": []}}),
            r"y2\.json: line 2: no videoOffsetTimeMsec",
        ),
        (
            "l.log",
            "[0:00:01] a: hi\nthis is not a chat line\n",
            r"l\.log: line 2: expected '\[h:mm:ss\] name: text'",
        ),
        ("j.json", '{"comments": [1,\n 2,', r"j\.json: line 2: not valid JSON"),
        ("e.json", "   \n", r"e\.json: empty file"),
        ("o.json", json.dumps({"hello": 1}), r"o\.json: not a chat replay autotosis knows"),
    ],
)
def test_malformed_replays_name_the_file_the_place_and_the_problem(tmp_path, name, text, problem):
    with pytest.raises(ChatError, match=problem):
        chat.read_chat(_write(tmp_path, name, text))


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ChatError, match=r"nope\.json: no such chat file"):
        chat.read_chat(tmp_path / "nope.json")
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ChatError, match=r"b\.json: not a text file"):
        chat.read_chat(binary)


def _messages(entries: list[tuple[float, str, str]]) -> list[chat.ChatMessage]:
    return [chat.ChatMessage(t, a, x) for t, a, x in entries]


def test_distinct_reacting_chatters_make_a_burst_and_floods_do_not():
    calm = [(float(t), f"u{t % 7}", "chatting") for t in range(0, 600, 3)]
    burst = [(100 + k * 0.2, f"fan{k}", "KEKW") for k in range(12)]
    spammer = [(200 + k * 0.2, "spammer", "KEKW KEKW") for k in range(40)]
    bots = [(300 + k * 0.1, "StreamElements", f"thanks for the sub user{k}!") for k in range(30)]
    commands = [(400 + k * 0.2, f"g{k}", "!enter") for k in range(30)]
    raid = [(500 + k * 0.2, f"raider{k}", "bigRaid RAID FROM bigstreamer bigRaid") for k in range(30)]
    notices = [(550 + k * 0.2, f"s{k}", f"s{k} subscribed at Tier 1.") for k in range(30)]
    timeline = chat.chat_timeline(
        _messages(sorted(calm + burst + spammer + bots + commands + raid + notices)), 600
    )
    score = timeline.timeline

    def peak(a: float, b: float) -> float:
        return float(score.values[(score.times >= a) & (score.times < b)].max())

    assert peak(100, 110) > 0.9
    for start in (200, 300, 400, 500, 550):
        assert peak(start, start + 12) < 0.2, start
    custom = chat.ChatConfig(reactions=chat.parse_reactions("chatting,/^lol/"))
    varied = [(t, a, f"KEKW x{k}") for k, (t, a, _) in enumerate(burst)]
    assert chat.chat_timeline(_messages(varied), 600, custom).chatters.max() == pytest.approx(12 * 0.25)
    assert chat.chat_timeline(_messages(burst), 600, custom).chatters.max() == 0  # now a pasted flood
    with pytest.raises(ChatError, match=r"--chat-reactions: /\(/ is not a valid regular expression"):
        chat.parse_reactions("KEKW,/(/")


def test_delay_is_estimated_within_its_bounds():
    spec = synth.scripted(240, seed=9, rages=5, hypes=0, rage_length=(4, 7), gap=15)
    reference = Timeline(
        np.arange(0, 240, 0.5),
        np.where([any(s.start <= t < s.end for s in spec.rage) for t in np.arange(0, 240, 0.5)], 1.0, 0.0),
    )
    found = {}
    for delay in (2.0, 9.0, 30.0):
        messages = [
            chat.ChatMessage(m["time"], m["author"], m["text"])
            for m in synth.chat_messages(spec, synth.ChatSpec(delay=delay))
        ]
        found[delay], correlation = chat.estimate_delay(chat.chat_timeline(messages, 240 + delay), reference)
        assert chat.DELAY_RANGE[0] <= found[delay] <= chat.DELAY_RANGE[1]
    assert found[9.0] - found[2.0] == pytest.approx(7.0, abs=1.0)
    assert abs(found[2.0] - 2.0) <= 1.5 and abs(found[9.0] - 9.0) <= 1.5
    noise = Timeline(reference.times, np.random.default_rng(0).random(len(reference)))
    messages = [chat.ChatMessage(m["time"], m["author"], m["text"]) for m in synth.chat_messages(spec)]
    delay, correlation = chat.estimate_delay(chat.chat_timeline(messages, 240), noise)
    assert (delay, correlation < chat.MIN_DELAY_CORRELATION) == (chat.DEFAULT_DELAY, True)


def test_scorer_sets_and_weights():
    assert signals.parse_scorer("chat+model") == ("model", "chat")
    assert signals.parse_scorer("fused+chat") == ("model", "loudness", "chat")
    assert signals.scorer_name(("model", "loudness")) == "fused"
    assert signals.scorer_name(("loudness", "chat")) == "loudness+chat"
    with pytest.raises(AutotosisError, match=r"--scorer: unknown signal 'face'"):
        signals.parse_scorer("model+face")
    assert signals.parse_weights("model=0.6, chat=0.4") == {"model": 0.6, "chat": 0.4}
    with pytest.raises(AutotosisError, match=r"--weights: 'model' is not NAME=WEIGHT"):
        signals.parse_weights("model")
    with pytest.raises(AutotosisError, match=r"--weights: 'x' is not a number"):
        signals.parse_weights("chat=x")
    assert signals.resolve_weights(("model", "chat")) == pytest.approx({"model": 0.6, "chat": 0.4})
    assert signals.resolve_weights(("model", "loudness"), 0.5) == {"model": 0.5, "loudness": 0.5}
    assert signals.resolve_weights(("loudness", "chat"), overrides={"chat": 3}) == {
        "loudness": 0.4 / 3.4,
        "chat": 3 / 3.4,
    }


def test_model_is_bent_to_its_threshold_and_signals_combine_on_the_model_grid():
    model = Timeline(np.arange(0, 10, 0.25), np.linspace(0, 1, 40))
    bent = signals.model_signal(model, 0.8)
    points = signals.model_signal(Timeline(np.arange(4.0), np.array([0.4, 0.8, 0.9, 1.0])), 0.8).values
    assert points == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert bent.values[0] == 0 and bent.values[-1] == pytest.approx(1.0)
    chat_score = Timeline(np.arange(0.5, 10, 1.0), np.where(np.arange(0.5, 10, 1.0) > 5, 1.0, 0.0))
    combined = signals.combine({"chat": chat_score, "model": bent}, {"model": 0.6, "chat": 0.4})
    assert np.array_equal(combined.times, model.times)
    late = combined.times == 9.0
    assert combined.values[late][0] == pytest.approx(0.6 * bent.values[late][0] + 0.4)
    # a moment only chat likes stays under 0.5; one the model half-believes and chat confirms passes
    assert 0.6 * 0.0 + 0.4 * 1.0 < 0.5 < 0.6 * 0.5 + 0.4 * 1.0


def test_find_chat_next_to_the_vod(tmp_path):
    vod = tmp_path / "stream.mp4"
    assert chat.find_chat(vod) is None
    (tmp_path / "stream.json").write_text("[]")
    (tmp_path / "stream.live_chat.json").write_text("{}")
    assert chat.find_chat(vod) == tmp_path / "stream.live_chat.json"


def test_calm_floods_sit_away_from_reactions():
    spec = synth.scripted(300, seed=4, rages=3, hypes=2, rage_length=(4, 6), gap=10)
    made = synth.chat_messages(spec, synth.ChatSpec(floods=3))
    floods = [
        m["time"]
        for m in made
        if "bigRaid" in m["text"] or m["text"] in ("!enter", "giveaway giveaway") or "subscribed" in m["text"]
    ]
    assert floods
    for span in (*spec.rage, *spec.hype):
        assert all(not (span.start - 2 <= t <= span.end + synth.CHAT_DELAY + 4) for t in floods)
    assert Segment(0, 1)  # Segment is imported for spec spans


def test_the_review_page_reads_chat_csv_per_segment(tmp_path):
    import numpy as np

    from autotosis.web.review import _chat_stats

    burst = [chat.ChatMessage(100 + k * 0.2, f"fan{k}", "KEKW") for k in range(12)]
    path = chat.chat_timeline(burst, 200).shifted(5.0).to_csv(tmp_path / "chat.csv")
    rows = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    inside = _chat_stats(rows, 90.0, 105.0)
    assert inside is not None and inside["peak"] > 0.9 and inside["messages"] == 12
    calm = _chat_stats(rows, 150.0, 160.0)
    assert calm is not None and calm["peak"] < 0.05 and calm["messages"] == 0
    assert _chat_stats(None, 0.0, 1.0) is None
