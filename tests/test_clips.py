"""Community clips: yt-dlp downloads clips from a local HTTP server on 127.0.0.1 into clips/ with a
sidecar each, skips those already there, and places clips on their VOD. No internet."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from http_support import Server
from media_support import burst_vod

from autotosis.cli.main import cli
from autotosis.run.clipinfo import ClipVod, clipped_moments, read_sidecar
from autotosis.run.clips import NEW, ClipEvents, download_clips, pick_entries, vod_of


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("served")
    served = Server({
        "a.mp4": burst_vod(folder / "a.mp4", 3.0, (1.0, 2.0), 64, 48, 10).read_bytes(),
        "b.mp4": burst_vod(folder / "b.mp4", 2.0, (0.5, 1.0), 64, 48, 10).read_bytes(),
    })
    items = "".join(f"<item><title>{title}</title><guid>{guid}</guid>"
                    f'<enclosure url="{served.url}/{name}" type="video/mp4"/></item>'
                    for title, guid, name in (("Big rage", "c1", "a.mp4"), ("Funny", "c2", "b.mp4")))
    served.files["channel.rss"] = (f'<?xml version="1.0"?><rss version="2.0"><channel>'
                                   f"<title>Clips</title>{items}</channel></rss>").encode()
    yield served
    served.httpd.shutdown()


def test_a_list_of_links_downloads_each_clip_once_with_a_sidecar(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    links = ["# clips to learn from", f"{server.url}/a.mp4", "",
             f"{server.url}/gone.mp4  # deleted by the streamer", f"{server.url}/b.mp4"]
    (tmp_path / "mine.txt").write_text("\n".join(links) + "\n")
    result = CliRunner().invoke(cli, ["clips", "mine.txt"])
    assert result.exit_code == 1, result.output  # one failed: the others are still there
    lines = result.output.strip().splitlines()
    assert lines[:2] == ["new: clips/a [a].mp4 (views unknown, 0:03)",
                         "new: clips/b [b].mp4 (views unknown, 0:02)"]
    assert lines[2] == (f"clips/: 2 new, 0 already there, 1 failed: {server.url}/gone.mp4: cannot download "
                        "(Unable to download webpage: HTTP Error 404: File not found)")
    assert len(lines) == 3
    sidecar = json.loads((tmp_path / "clips" / "a [a].clip.json").read_text())
    duration = sidecar.pop("duration")
    assert duration == pytest.approx(3.0, abs=0.1)
    assert sidecar == {"url": f"{server.url}/a.mp4", "id": "a", "file": "a [a].mp4", "title": "a",
                       "view_count": None, "creator": None, "uploader": None, "channel": None,
                       "created": None, "vod": None}
    written = (tmp_path / "clips" / "a [a].mp4").stat().st_mtime_ns
    again = CliRunner().invoke(cli, ["clips", f"{server.url}/a.mp4", f"{server.url}/b.mp4"])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == "clips/: 0 new, 2 already there"
    assert (tmp_path / "clips" / "a [a].mp4").stat().st_mtime_ns == written
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == [
        "a [a].clip.json", "a [a].mp4", "b [b].clip.json", "b [b].mp4"]  # no .part left behind

    listed = CliRunner().invoke(cli, ["label", "--list"])
    assert listed.exit_code == 0, listed.output
    assert [line.split() for line in listed.output.splitlines()] == [
        ["clips/a", "[a].mp4", "not", "yet", "labeled", "views", "unknown", "a"],
        ["clips/b", "[b].mp4", "not", "yet", "labeled", "views", "unknown", "b"]]
    labeled = CliRunner().invoke(cli, ["label", "clips/a [a].mp4", "-s", "1-2"])
    assert labeled.exit_code == 0, labeled.output
    listed = CliRunner().invoke(cli, ["label", "--list"])
    assert "clips/b [b].mp4  not yet labeled   views unknown  b\n" in listed.output
    assert "a [a].mp4  not yet" not in listed.output
    assert "labels/a [a].toml" in listed.output  # the table of label files follows


def test_a_channel_listing_gives_its_first_clips_named_by_the_listing(server, tmp_path):
    seen: list[tuple[int, int | None]] = []

    class Events(ClipEvents):
        def planned(self, total: int) -> None:
            seen.append((-1, total))

        def progress(self, done: int, total: int | None) -> None:
            seen.append((done, total))

    outcomes = download_clips([f"{server.url}/channel.rss"], tmp_path, limit=1, events=Events())
    assert [(o.status, o.url) for o in outcomes] == [(NEW, f"{server.url}/a.mp4")]
    clip = read_sidecar(tmp_path / "Big rage [c1].clip.json")
    assert clip is not None and clip.title == "Big rage" and clip.id == "c1" and clip.vod is None
    assert seen[0] == (-1, 1) and seen[-1] == (len(server.files["a.mp4"]),) * 2


@pytest.mark.parametrize("entries, limit, min_views, ids", [
    ([{"url": "u1", "id": 1, "view_count": 5}, {"url": "u2", "id": 2, "view_count": 50},
      {"url": "u3", "id": 3, "view_count": 20}], 2, 0, [2, 3]),                   # most viewed first
    ([{"url": "u1", "id": 1, "view_count": 5}, {"url": "u2", "id": 2, "view_count": 50},
      {"url": "u3", "id": 3}], 0, 10, [2, 3]),                                   # unknown views: kept, last
    ([{"url": "u1", "id": 1}, {"url": "u2", "id": 2}, {"id": 3}], 5, 100, [1, 2]),  # no views: listing order
    ([{"url": "u1", "id": 1, "view_count": 0}], 50, 1, []),
])
def test_picking_from_a_listing(entries, limit, min_views, ids):
    assert [e["id"] for e in pick_entries(entries, limit, min_views)] == ids


def test_a_clip_cut_from_a_video_names_that_video_and_its_offset():
    youtube_clip = {"_type": "url_transparent", "ie_key": "Youtube", "id": "UgytZKpehg-hEMBSn3F4AaABCQ",
                    "url": "https://www.youtube.com/watch?v=ScPX26pdQik", "section_start": 29.0,
                    "section_end": 39.7}
    assert vod_of(youtube_clip) == ClipVod("ScPX26pdQik", "https://www.youtube.com/watch?v=ScPX26pdQik", 29.0)
    twitch_clip = {"id": "396245304", "display_id": "FaintLightGullWholeWheat", "title": "EA Play",
                   "duration": 32, "channel": "EA", "uploader": "stereotype_", "formats": []}
    assert vod_of(twitch_clip) is None


def test_clipped_moments_are_the_clips_cut_from_this_vod_most_viewed_first(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    sidecars = {
        "early": {"id": "c1", "title": "Early rage", "view_count": 50, "duration": 30.0,
                  "vod": {"id": "v123", "url": "https://www.twitch.tv/videos/123", "offset": 100.0}},
        "big": {"id": "c2", "title": "The big one", "view_count": 900, "duration": 20.5,
                "vod": {"id": "123", "url": None, "offset": 500}},  # Twitch's API id, without the v
        "other": {"id": "c3", "title": "Another stream", "view_count": 5000, "duration": 10.0,
                  "vod": {"id": "v999", "url": None, "offset": 10.0}},
        "loose": {"id": "c4", "title": "No VOD known", "view_count": 7000, "duration": 10.0, "vod": None},
        "unplaced": {"id": "c5", "title": "No offset", "view_count": 8000, "duration": 10.0,
                     "vod": {"id": "v123", "url": None, "offset": None}},
    }
    for stem, data in sidecars.items():
        (clips / f"{stem}.mp4").write_bytes(b"")
        (clips / f"{stem}.clip.json").write_text(json.dumps(data))
    (clips / "orphan.clip.json").write_text(json.dumps(sidecars["big"]))  # its video is gone
    (clips / "broken.clip.json").write_text("{")
    moments = clipped_moments(Path("vods/My stream [v123].mp4"), clips)
    assert moments == [(500.0, 520.5, 900, "The big one", clips / "big.mp4"),
                       (100.0, 130.0, 50, "Early rage", clips / "early.mp4")]
    assert moments[0].views == 900 and moments[0].clip == clips / "big.mp4"
    assert clipped_moments(tmp_path / "Unrelated [v5].mp4", clips) == []


def test_a_bad_input_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = CliRunner().invoke(cli, ["clips", "nothere.txt"])
    assert missing.exit_code == 1
    assert missing.output == "Error: nothere.txt: neither a URL nor a list file of URLs\n"
    (tmp_path / "bad.txt").write_text("http://127.0.0.1:9/a.mp4\nclips/local.mp4\n")
    bad = CliRunner().invoke(cli, ["clips", "bad.txt"])
    assert bad.exit_code == 1
    assert bad.output == "Error: bad.txt: 'clips/local.mp4' is not a URL (one http(s) link a line)\n"
    assert not (tmp_path / "clips").exists()  # nothing fetched, nothing made
