"""A highlight still open is encoded ahead in parts from the replay buffer; when it closes only
its last seconds are encoded, and the clip is the very frames a cut in one go gives. Its end
is read from the buffer piece still being written when the finished ones do not hold it yet."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from media_support import burst_vod

from autotosis import media
from autotosis.core.timeline import Segment
from autotosis.publish.reel import RenderConfig
from autotosis.run.live.buffer import ReplayBuffer
from autotosis.run.live.clips import cut_clip, encode_ahead


def brightness(path: Path) -> np.ndarray:
    """Each frame's mean: burst_vod's picture brightens by 3 a frame, so this names the frames."""
    return np.concatenate([b.images.mean(axis=(1, 2, 3)) for b in media.frames(path, None, None, 16)])


@pytest.fixture(scope="module")
def buffer(tmp_path_factory) -> ReplayBuffer:
    """A recording's replay buffer, fed through stdin as the live follower feeds it."""
    folder = tmp_path_factory.mktemp("ahead")
    source = burst_vod(folder / "rec.mkv", 12.0, (4.0, 6.0))
    replay = ReplayBuffer(folder / ".buffer")
    with media.FFmpegProcess(replay.args_for_next_file(0.0, 2.0), stdin=True, stdout=False) as proc:
        assert proc.proc.stdin is not None
        proc.proc.stdin.write(source.read_bytes())
        proc.proc.stdin.close()
        proc.finish(source)
    return replay


def test_parts_encoded_ahead_join_into_the_clip_a_single_cut_makes(buffer, tmp_path):
    render = RenderConfig(overlay=False)
    aheads: list = []
    # The buffer grows, the end is not known yet: a part once 2 s more are held, 1 s short of
    # the end; as the score settles the start moves earlier, twice: the seconds before the parts
    # are encoded in the next round, then (after the last round) by the cut itself. No time here
    # falls on a frame (10 fps, frames at 0.021 + k / 10).
    # Once the buffer holds all it may (to 1 s short of the end), a last part of 0.5 s or more.
    for covered, open_so_far in ((3.0, Segment(2.55, 4.0)), (5.6, Segment(2.55, 7.0)),
                                 (7.0, Segment(2.05, 8.0)), (8.4, Segment(2.05, 9.0)),
                                 (9.0, Segment(2.05, 9.1)), (9.0, Segment(2.05, 9.7))):
        encode_ahead(buffer, aheads, [(open_so_far, "loud", None)], covered, render)
    [ahead] = aheads
    assert len(ahead.parts) == 4 and (ahead.start, ahead.end) == (2.05, 8.7)  # 2.05-2.55-5.6-8.0-8.7
    seg = Segment(1.55, 9.5)
    assert ahead.fits(seg)
    joined = cut_clip(buffer, seg, tmp_path / "joined.mp4", render, None, "loud", ahead)
    whole = cut_clip(buffer, seg, tmp_path / "whole.mp4", render, None, "loud")
    ours, theirs = brightness(joined), brightness(whole)
    assert len(ours) == len(theirs) == 79  # frames 16 (1.621 s) to 94 (9.421 s): those shown in 1.55-9.5 s
    assert ours[0] == pytest.approx(48, abs=3)
    assert np.abs(ours - theirs).max() < 2.0  # the same frames, in order, none doubled or lost
    assert media.probe(joined).duration == pytest.approx(media.probe(whole).duration, abs=0.03)


def test_parts_of_a_highlight_no_longer_open_are_deleted(buffer):
    aheads: list = []
    render = RenderConfig(overlay=False)
    encode_ahead(buffer, aheads, [(Segment(1.0, 6.0), "loud", None)], 4.5, render)
    parts = aheads[0].parts
    assert parts and all(p.exists() for p in parts)
    encode_ahead(buffer, aheads, [(Segment(1.5, 6.0), "loud", None)], 6.0, render)  # it starts later now
    assert not any(p.exists() for p in parts)
    parts = aheads[0].parts
    encode_ahead(buffer, aheads, [], 6.0, render)  # it joined an earlier clip
    assert aheads == [] and parts and not any(p.exists() for p in parts)


def test_a_clip_is_cut_from_the_piece_still_being_written(tmp_path):
    """A piece is finished only when the next keyframe arrives (2 s later from OBS): a clip
    ending after the finished pieces is cut from the one still being written, and holds the
    frames and sound it holds once that piece is finished."""
    source = burst_vod(tmp_path / "rec.mkv", 12.0, (4.0, 6.0))
    data = source.read_bytes()
    replay = ReplayBuffer(tmp_path / ".buffer")
    render = RenderConfig(overlay=False)
    with media.FFmpegProcess(replay.args_for_next_file(0.0, 4.0), stdin=True, stdout=False) as proc:
        assert proc.proc.stdin is not None
        proc.proc.stdin.write(data[: len(data) * 7 // 12])  # about 7 s: pieces 0-4 s finished, 4-8 s not
        proc.proc.stdin.flush()
        deadline = time.monotonic() + 20
        while replay.covered_until(writing=True) < replay.covered_until() + 1.5:
            assert time.monotonic() < deadline, "the piece being written never got 1.5 s ahead"
            time.sleep(0.1)
        finished, reach = replay.covered_until(), replay.covered_until(writing=True)
        assert finished == pytest.approx(4.0, abs=0.3) and reach > finished + 1.5
        seg = Segment(finished - 1.0, reach - 0.05)
        early = cut_clip(replay, seg, tmp_path / "early.mp4", render, None, "loud")
        inside = Segment(finished + 0.3, reach - 0.05)  # a clip's last part, all in the piece being written
        early_inside = cut_clip(replay, inside, tmp_path / "early_inside.mp4", render, None, "loud")
        proc.proc.stdin.write(data[len(data) * 7 // 12:])
        proc.proc.stdin.close()
        proc.finish(source)
    assert replay.covered_until() > seg.end + 1.0  # that piece is finished now
    late = cut_clip(replay, seg, tmp_path / "late.mp4", render, None, "loud")
    late_inside = cut_clip(replay, inside, tmp_path / "late_inside.mp4", render, None, "loud")
    assert np.array_equal(brightness(early_inside), brightness(late_inside))
    ours, theirs = brightness(early), brightness(late)
    assert len(ours) == len(theirs) and abs(len(ours) - (seg.end - seg.start) * 10) <= 1
    assert np.abs(ours - theirs).max() < 2.0  # the same frames, the last ones too
    sound = [media.span_audio(clip, 0.0, 10.0) for clip in (early, late)]
    assert len(sound[0]) == len(sound[1]) > 0.95 * (seg.end - seg.start) * 16000
    assert np.abs(sound[0] - sound[1]).max() < 0.02  # the same sound to its end
