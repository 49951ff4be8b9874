"""What capture software really writes: every case gives correct frames or a one-line error."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from autotosis import media
from autotosis.core.errors import MediaError


def lavfi(path: Path, *args: str) -> Path:
    subprocess.run([media.ffmpeg_bin(), "-v", "error", "-y", *args, str(path)], check=True)
    return path


SRC = ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=2"]


@pytest.mark.parametrize(
    ("name", "args", "expected_frames"),
    [
        ("clip.mkv", [*SRC, "-c:v", "libx264"], 8),
        ("clip.webm", [*SRC, "-c:v", "libvpx", "-b:v", "300k"], 8),
        ("clip.flv", [*SRC, "-c:v", "flv1"], 8),
        ("clip.ts", [*SRC, "-c:v", "mpeg2video"], 8),
        ("odd 853x480.mp4", ["-f", "lavfi", "-i", "testsrc2=s=853x480:r=30:d=2", "-c:v", "libx264",
                             "-pix_fmt", "yuv444p"], 8),
        ("portrait.mp4", ["-f", "lavfi", "-i", "testsrc2=s=240x426:r=30:d=2"], 8),
        ("4x3.mp4", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2"], 8),
        ("one frame.mp4", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=1", "-frames:v", "1"], 1),
        ("it's \"quoted\" ünïcode.mp4", SRC, 8),
        ("-leading-dash.mp4", SRC, 8),
        # Variable frame rate: 2 s at 30 fps, then frames spaced 3x wider up to 12 s;
        # sampling stays uniform in real time.
        ("vfr.mp4", ["-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=4",
                     "-vf", "setpts='if(lt(T,2),PTS,PTS*3)'", "-fps_mode", "vfr"], 48),
    ],
)
def test_containers_and_shapes(tmp_path, name, args, expected_frames):
    path = lavfi(tmp_path / name, *args)
    info = media.probe(path)
    times = np.concatenate([b.times for b in media.frames(path, 4, (0.5, 0.0, 1.0, 0.5), 16)])
    assert abs(len(times) - expected_frames) <= 1
    assert np.all(np.diff(times) > 0)
    assert times[-1] <= info.duration + 0.3


def test_faststart_and_index_at_end_both_read(tmp_path):
    normal = lavfi(tmp_path / "end.mp4", *SRC)
    fast = lavfi(tmp_path / "start.mp4", *SRC, "-movflags", "+faststart")
    assert media.probe(normal).duration == pytest.approx(media.probe(fast).duration)


def test_audio_only_file(tmp_path):
    path = lavfi(tmp_path / "talk.m4a", "-f", "lavfi", "-i", "sine=d=1")
    with pytest.raises(MediaError, match=r"talk.m4a: has no video stream"):
        media.probe(path)


def test_truncated_stream_still_reads_what_is_there(tmp_path):
    # A .ts cut mid-file (a half-downloaded VOD) has no index to lose: decode what exists.
    path = lavfi(tmp_path / "vod.ts", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=4", "-c:v", "libx264")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    times = np.concatenate([b.times for b in media.frames(path, 2, None, 8)])
    assert 2 <= len(times) <= 6


def _decoded(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every frame (small) and its time."""
    batches = list(media.frames(path, None, None, (80, 60)))
    return np.concatenate([b.times for b in batches]), np.concatenate([b.images for b in batches]).astype(int)


@pytest.mark.parametrize(("name", "codec"), [
    ("vod.mp4", "libx264"), ("vod.mkv", "libx264"), ("vod.webm", "libvpx"), ("vod.flv", "flv1"),
    ("vod.ts", "mpeg2video"),
])
@pytest.mark.parametrize("start", [0.0, 1.6])
def test_pieces_cut_where_asked_in_every_container(tmp_path, name, codec, start):
    """A piece starts on the source's frame at `start`: an FLV without an index fails to seek
    before its first keyframe and used to hand over its last frames instead."""
    from autotosis.core.timeline import Segment
    from autotosis.publish import reel as render

    vod = lavfi(tmp_path / name, "-f", "lavfi", "-i", "testsrc2=s=160x120:r=15:d=3", "-f", "lavfi", "-i",
                "sine=d=3", "-c:v", codec, "-g", "15", "-b:v", "800k")
    reel = render.render_reel(vod, [Segment(start, start + 1.0)], tmp_path / "reel.mp4",
                              render.RenderConfig(overlay=False))
    assert media.probe(reel).duration == pytest.approx(1.0, abs=0.1)
    times, source = _decoded(vod)
    first = _decoded(reel)[1][0]
    error = np.abs(source - first).mean(axis=(1, 2, 3))
    assert abs(times[int(np.argmin(error))] - start) <= 1.5 / 15  # the frame at `start`, give or take one
