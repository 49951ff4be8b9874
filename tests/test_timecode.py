import pytest

from autotosis.core.timecode import format_time, parse_duration, parse_time, youtube_offset


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:07.425", 7.425),
        ("1:02:03.5", 3723.5),
        ("12.5", 12.5),
        ("40", 40.0),
        (".5", 0.5),
        (47.2, 47.2),
        (3, 3.0),
        ("  0:32.768 ", 32.768),
    ],
)
def test_parse_time(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "abc", "1:60", "1:75:00", "-3", "1:2:3:4", float("nan"), -1.0, True])
def test_parse_time_rejects(bad):
    with pytest.raises(ValueError):
        parse_time(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(7.425, "0:07.425"), (3723.5, "1:02:03.500"), (59.9996, "1:00.000"), (0, "0:00.000")],
)
def test_format_time(seconds, text):
    assert format_time(seconds) == text
    assert parse_time(text) == pytest.approx(round(seconds, 3))


@pytest.mark.parametrize(("text", "seconds"), [("10m", 600), ("1h30m", 5400), ("90s", 90), ("90", 90),
                                               ("1:30", 90), ("2.5m", 150)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("seconds", "text"), [(3723.9, "1h2m3s"), (65, "1m5s"), (5, "5s"), (3600, "1h0m0s")])
def test_youtube_offset(seconds, text):
    assert youtube_offset(seconds) == text
