"""A highlight still open is encoded ahead in parts from the replay buffer; when it closes only
its last seconds are encoded, and the clip is the very frames a cut in one go gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from media_support import burst_vod

from autotosis import media
from autotosis.core.timeline import Segment
from autotosis.publish.reel import RenderConfig
from autotosis.run.live.clips import ReplayBuffer, cut_clip, encode_ahead


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
    seg = Segment(2.05, 8.5)  # not on a frame (10 fps): parts count frames from its start
    aheads: dict = {}
    fps = media.probe(buffer.pieces()[0].path).fps
    # The buffer grows, the end is not known yet: a part once 2 s more are held, 1 s short of the end.
    for covered, end_so_far in ((3.0, 4.0), (5.6, 7.0), (7.0, 8.0), (8.4, 9.0)):
        encode_ahead(buffer, aheads, [(Segment(seg.start, end_so_far), "loud", None)], covered, fps, render)
    ahead = aheads[seg.start]
    assert len(ahead.parts) == 2 and ahead.end == pytest.approx(seg.start + 59 / 10)  # 35 + 24 frames
    assert ahead.fits(seg)
    joined = cut_clip(buffer, seg, tmp_path / "joined.mp4", render, None, "loud", ahead)
    whole = cut_clip(buffer, seg, tmp_path / "whole.mp4", render, None, "loud")
    ours, theirs = brightness(joined), brightness(whole)
    assert len(ours) == len(theirs) == round((seg.end - seg.start) * 10)
    assert ours[0] == pytest.approx(63, abs=3)  # frame 21 (at 2.121 s: frames start at 0.021 s), the first in
    assert np.abs(ours - theirs).max() < 2.0  # the same frames, in order, none doubled or lost
    assert media.probe(joined).duration == pytest.approx(media.probe(whole).duration, abs=0.03)


def test_parts_of_a_highlight_no_longer_open_are_deleted(buffer):
    aheads: dict = {}
    fps = media.probe(buffer.pieces()[0].path).fps
    render = RenderConfig(overlay=False)
    encode_ahead(buffer, aheads, [(Segment(1.0, 6.0), "loud", None)], 4.5, fps, render)
    parts = aheads[1.0].parts
    assert parts and all(p.exists() for p in parts)
    encode_ahead(buffer, aheads, [], 6.0, fps, render)  # it joined an earlier clip
    assert aheads == {} and not any(p.exists() for p in parts)
