"""The ffmpeg layer on real generated files."""

import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from autotosis import media
from autotosis.core.errors import MediaError

RED_BOX = (0.7, 0.1, 0.9, 0.3)


def _frames(n, width=320, height=240):
    """Grey frames whose brightness encodes the frame index, with a red square at RED_BOX."""
    for i in range(n):
        img = np.full((height, width, 3), 40 + (i * 5) % 200, np.uint8)
        x0, y0, x1, y1 = (round(RED_BOX[0] * width), round(RED_BOX[1] * height),
                          round(RED_BOX[2] * width), round(RED_BOX[3] * height))
        img[y0:y1, x0:x1] = (230, 20, 20)
        yield img


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    sr = 48000
    audio = 0.2 * np.sin(np.arange(sr * 4) / sr * 2 * np.pi * 440)
    media.encode_frames(path, _frames(120), fps=30, audio=audio, sample_rate=sr, gop=30)
    return path


def test_probe_fields(video):
    info = media.probe(video)
    assert (info.width, info.height) == (320, 240)
    assert info.fps == 30
    assert info.duration == pytest.approx(4.0, abs=0.1)
    assert info.has_audio and info.audio_rate == 48000
    assert info.codec == "h264" and info.rotation == 0


def test_probe_without_audio_and_rotated(tmp_path, video):
    silent = tmp_path / "silent.mp4"
    media.encode_frames(silent, _frames(10), fps=10)
    assert not media.probe(silent).has_audio
    rotated = tmp_path / "rotated.mp4"
    subprocess.run([media.ffmpeg_bin(), "-v", "error", "-i", str(video), "-c", "copy",
                    "-metadata:s:v:0", "rotate=90", str(rotated)], check=True)
    info = media.probe(rotated)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (240, 320)
    batch = next(media.frames(rotated, 2, None, None))
    assert batch.images.shape[1:] == (320, 240, 3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "nope.mp4", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: _write(d / "empty.mp4", b""), "empty"),
        (lambda d: _write(d / "text.mp4", b"hello, not a video\n" * 20), "not a readable media file"),
    ],
)
def test_probe_errors(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(MediaError, match=message) as info:
        media.probe(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_probe_truncated(tmp_path, video):
    cut = tmp_path / "cut.mp4"
    data = video.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # mp4 with its index at the end, cut mid-file
    with pytest.raises(MediaError, match=r"truncated|not a readable"):
        media.probe(cut)


def test_frames_crop_lands_on_the_square(video):
    batches = list(media.frames(video, fps=5, box=RED_BOX, size=16))
    images = np.concatenate([b.images for b in batches])
    assert images.shape == (20, 16, 16, 3)
    mean = images.reshape(-1, 3).mean(0)
    assert mean[0] > 200 and mean[1] < 50 and mean[2] < 50
    outside = next(media.frames(video, fps=5, box=(0.0, 0.5, 0.3, 1.0), size=16)).images
    assert abs(int(outside[0, 8, 8, 0]) - int(outside[0, 8, 8, 1])) < 10  # grey, no red


def test_frames_timestamps_and_seek(video):
    times = np.concatenate([b.times for b in media.frames(video, fps=5, box=None, size=8, batch_size=7)])
    np.testing.assert_allclose(times, np.arange(20) / 5, atol=1e-3)
    part = list(media.frames(video, fps=10, box=None, size=(32, 24), start=1.5, end=2.5))
    times = np.concatenate([b.times for b in part])
    assert part[0].images.shape[1:] == (24, 32, 3)
    assert len(times) == 10
    np.testing.assert_allclose(times, 1.5 + np.arange(10) / 10, atol=0.02)
    # Brightness encodes the source frame: frame at 1.5 s is index 45 at 30 fps.
    first = part[0].images[0, 23, 0, 0]
    assert abs(int(first) - (40 + 45 * 5 % 200)) <= 3


@pytest.mark.parametrize("suffix", [".avi", ".ts"])
def test_span_preview_is_a_seeked_cut_on_the_vods_clock(tmp_path, video, suffix):
    """A VOD the browser cannot play (MPEG-4 in AVI; an MPEG-TS, which needs a seek lead): the
    preview holds exactly the span asked for, starting on its first frame, in H.264."""
    source = tmp_path / f"vod{suffix}"
    media.run(["-i", str(video), "-c:v", "mpeg4", "-g", "30", "-q:v", "3", "-c:a", "mp2", str(source)],
              source)
    info = media.probe(source)
    assert "-ss" in media.span_preview_args(source, 2.0, 1.0, tmp_path / "x.mp4", info)
    preview = media.make_span_preview(source, 2.0, 1.0, tmp_path / "preview.mp4", info)
    out = media.probe(preview)
    assert out.codec == "h264" and out.has_audio
    assert out.duration == pytest.approx(1.0, abs=0.1)
    first = next(media.frames(preview, fps=None, box=None, size=8)).images[0, 7, 0, 0]
    assert abs(int(first) - (40 + 60 * 5 % 200)) <= 4  # frame 60 of the source: 2.0 s at 30 fps


def test_keyframes_only(video):
    batches = list(media.frames(video, fps=None, box=None, size=8, keyframes=True))
    times = np.concatenate([b.times for b in batches])
    np.testing.assert_allclose(times, [0, 1, 2, 3], atol=1e-3)  # gop=30 at 30 fps


# A reader thread that trips over a pipe the early close pulled away shows up only as a
# warning: make it fail the test.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_early_close_kills_ffmpeg(video):
    before = {t.ident for t in threading.enumerate()}
    for _ in range(3):
        stream = media.frames(video, fps=30, box=None, size=64, batch_size=4)
        next(stream)
        stream.close()
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not leftover


def test_early_close_while_stderr_floods():
    """Closing while ffmpeg floods stderr (showinfo on a fast endless source): the reader
    must see the end of the pipe, never a pipe closed under it."""
    flood = ["-f", "lavfi", "-i", "testsrc=size=16x16:rate=2000", "-vf", "showinfo", "-f", "null", "-"]
    errors: list[BaseException] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    try:
        for _ in range(20):
            with media.FFmpegProcess(flood, stdout=False) as ffm:
                ffm.times.get(timeout=10)  # it is writing
    finally:
        threading.excepthook = previous
    assert errors == []


def test_no_image_files_written(video, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    list(media.frames(video, fps=10, box=RED_BOX, size=32))
    assert list(tmp_path.iterdir()) == []


def test_tiny_box_is_refused(video):
    with pytest.raises(MediaError, match=r"only 0x0 px|only 1x"):
        next(media.frames(video, fps=1, box=(0.5, 0.5, 0.501, 0.501), size=8))


def test_decode_failure_is_one_line(tmp_path, video):
    broken = tmp_path / "broken.mp4"
    data = bytearray(video.read_bytes())
    data[len(data) // 3: len(data) // 3 + 4000] = b"\x00" * 4000
    broken.write_bytes(bytes(data))
    try:
        list(media.frames(broken, fps=5, box=None, size=8))
    except MediaError as exc:
        assert "\n" not in str(exc) and str(broken) in str(exc)


def test_encode_failure_names_output(tmp_path):
    with pytest.raises(MediaError, match="no frames"):
        media.encode_frames(tmp_path / "x.mp4", iter([]), fps=10)
    assert not (tmp_path / "x.mp4").exists()


def test_ffmpeg_missing_is_explained(monkeypatch):
    media.ffmpeg_bin.cache_clear()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    try:
        with pytest.raises(MediaError, match="ffmpeg not found"):
            media.ffmpeg_bin()
    finally:
        media.ffmpeg_bin.cache_clear()
