"""The user's inputs, end to end through the CLI: a reel, or one `Error:` line naming the file.

Every case runs the real command in-process (CliRunner) on media generated here with
ffmpeg: either it succeeds with a playable reel, or it exits non-zero with exactly
one error line that names the file and the problem, and never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner, Result

from autotosis import media
from autotosis.cli.main import cli
from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

BOX = "0.5,0,1,0.5"
VIDEO = ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=15:d=3"]
AUDIO = ["-f", "lavfi", "-i", "sine=f=300:d=3"]


def ffmpeg(path: Path, *args: str) -> Path:
    subprocess.run([media.ffmpeg_bin(), "-v", "error", "-y", *args, str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained checkpoint: scores are arbitrary but real; threshold 0 keeps everything."""
    path = tmp_path_factory.mktemp("model") / "m.pt"
    torch.manual_seed(0)
    save_checkpoint(path, build_model(), ModelMeta(size=32, fps=2.0, threshold=0.0))
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("AUTOTOSIS_DEBUG", raising=False)
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def compile_with(model: Path, vod: Path | str, *extra: str) -> Result:
    """compile with the model scorer, keeping the whole VOD as one highlight; `--` protects "-x.mp4"."""
    return invoke("compile", "--model", str(model), "--facecam", BOX, "--threshold", "0", "--top", "1",
                  "--min-event", "0", "--no-overlay", *extra, "--", str(vod))


def assert_one_line_error(result: Result, *needles: str) -> str:
    """Non-zero exit, no traceback, exactly one `Error:` line, holding every needle."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def assert_reel(folder: Path) -> media.VideoInfo:
    """A reel that probes, and no temp or piece files left beside it."""
    reel = media.probe(folder / "reel.mp4")
    assert reel.duration > 0
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]
    return reel


# ---------------------------------------------------------------- inputs that must work


OK_CASES = {  # VIDEO is 4:3 (160x120) at 15 fps
    "index-at-end.mp4": [*VIDEO, *AUDIO],
    "faststart.mp4": [*VIDEO, *AUDIO, "-movflags", "+faststart"],
    "no audio.mp4": VIDEO,
    "vfr.mp4": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=30:d=2", "-vf", "setpts='if(lt(T,1),PTS,PTS*3)'",
                "-fps_mode", "vfr"],
    "odd 853x480.mp4": ["-f", "lavfi", "-i", "testsrc2=s=853x480:r=15:d=2", "-c:v", "libx264",
                        "-pix_fmt", "yuv444p"],
    "odd 161x121.mkv": ["-f", "lavfi", "-i", "testsrc2=s=161x121:r=15:d=2", "-c:v", "ffv1"],
    "portrait.mp4": ["-f", "lavfi", "-i", "testsrc2=s=90x160:r=15:d=2", *AUDIO, "-shortest"],
    "one frame.mp4": ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=30:d=1", "-frames:v", "1"],
    "clip.mkv": [*VIDEO, *AUDIO],
    "clip.webm": [*VIDEO, *AUDIO, "-c:v", "libvpx", "-b:v", "200k"],
    "clip.flv": [*VIDEO, *AUDIO],
    "clip.ts": [*VIDEO, *AUDIO],
    "it's \"quoted\" ünïcode [1].mp4": [*VIDEO, *AUDIO],
    "-leading-dash.mp4": [*VIDEO, *AUDIO],
}


@pytest.mark.parametrize("name", list(OK_CASES))
def test_inputs_that_make_a_reel(project: Path, model: Path, name: str) -> None:
    vod = ffmpeg(project / name, *OK_CASES[name])
    info = media.probe(vod)
    result = compile_with(model, vod.name)
    assert result.exit_code == 0, result.output
    reel = assert_reel(project / "output" / vod.stem)
    assert reel.has_audio == info.has_audio
    assert reel.duration == pytest.approx(info.duration, abs=0.15)  # the whole VOD, as selected
    assert reel.width % 2 == 0 and reel.height % 2 == 0  # odd sources are cropped to what x264 takes
    assert abs(reel.width / reel.height - info.width / info.height) < 0.05


def test_rotated_phone_video_is_upright(project: Path, model: Path) -> None:
    """Rotation metadata: sizes and face-cam boxes refer to the picture as the phone showed it."""
    plain = ffmpeg(project / "plain.mp4", *VIDEO, *AUDIO)
    vod = ffmpeg(project / "phone.mp4", "-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90")
    info = media.probe(vod)
    assert (info.rotation, info.width, info.height) == (90, 120, 160)
    crop = next(media.frames(vod, 2, (0.0, 0.0, 1.0, 0.5), None)).images
    assert crop.shape[1:3] == (80, 120)  # the top half of the upright picture
    result = compile_with(model, vod.name)
    assert result.exit_code == 0, result.output
    reel = assert_reel(project / "output" / "phone")
    assert (reel.width, reel.height, reel.rotation) == (120, 160, 0)


# ---------------------------------------------------------------- inputs that must fail cleanly


def test_missing_file(project: Path, model: Path) -> None:
    assert_one_line_error(compile_with(model, "nope.mp4"), "nope.mp4", "no such file")


def test_directory(project: Path, model: Path) -> None:
    (project / "a dir.mp4").mkdir()
    result = compile_with(model, "a dir.mp4")
    assert_one_line_error(result, "a dir.mp4", "is a directory, expected a video file")
    assert "Usage:" not in result.output and not (project / "output").exists()
    assert_one_line_error(invoke("label", "a dir.mp4", "-s", "0-1"), "a dir.mp4", "is a directory")


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("notes.mp4", b"just some text, not a video\n" * 20, "not a readable media file"),
    ("empty.mp4", b"", "file is empty"),
])
def test_not_a_video(project: Path, model: Path, name: str, content: bytes, problem: str) -> None:
    (project / name).write_bytes(content)
    assert_one_line_error(compile_with(model, name), name, problem)


def _cut_in_half(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_truncated_mp4_with_index_at_the_end(project: Path, model: Path) -> None:
    vod = _cut_in_half(ffmpeg(project / "cut.mp4", *VIDEO, *AUDIO))
    assert_one_line_error(compile_with(model, vod.name), "cut.mp4", "truncated or incomplete")


def test_truncated_faststart_mp4(project: Path, model: Path) -> None:
    """The header survives and promises 10 s; only the first half of the data is there."""
    vod = _cut_in_half(ffmpeg(project / "half.mp4", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=15:d=10",
                              "-f", "lavfi", "-i", "sine=d=10", "-movflags", "+faststart"))
    assert media.probe(vod).duration == pytest.approx(10.0, abs=0.1)
    assert_one_line_error(compile_with(model, vod.name), "half.mp4", "incomplete download")
    loud = invoke("compile", "--scorer", "loudness", "--threshold", "0", "--no-overlay", vod.name)
    assert_one_line_error(loud, "half.mp4", "stops early")
    assert not (project / "output" / "half" / "reel.mp4").exists()


def test_no_video_stream(project: Path, model: Path) -> None:
    vod = ffmpeg(project / "talk.m4a", *AUDIO)
    assert_one_line_error(compile_with(model, vod.name), "talk.m4a", "has no video stream")


def test_no_audio_with_the_loudness_scorer(project: Path) -> None:
    vod = ffmpeg(project / "silent.mp4", *VIDEO)
    assert_one_line_error(invoke("compile", "--scorer", "loudness", vod.name), "silent.mp4", "has no audio")


def test_facecam_box_of_zero_pixels(project: Path, model: Path) -> None:
    vod = ffmpeg(project / "clip.mp4", *VIDEO)
    result = invoke("compile", "--model", str(model), "--facecam", "0.5,0.5,0.503,0.503", vod.name)
    assert_one_line_error(result, "clip.mp4", "face-cam box", "0x0 px")


def test_labels_past_the_end(project: Path) -> None:
    (project / "clips").mkdir()
    clip = ffmpeg(project / "clips" / "short.mp4", *VIDEO)
    result = invoke("label", str(clip), "-s", "0:01-0:09")
    assert_one_line_error(result, "short.mp4", "runs past the clip's end")
    (project / "labels").mkdir()
    (project / "labels" / "short.toml").write_text(
        f'clip = "clips/short.mp4"\nfacecam = [{BOX}]\nsegments = [[1, 2], [2.5, 9]]\n')
    assert_one_line_error(invoke("train", "--cpu"), "labels/short.toml:3", "runs past the clip's end")


def test_tiny_facecam_in_a_label_file(project: Path) -> None:
    (project / "clips").mkdir()
    ffmpeg(project / "clips" / "c.mp4", *VIDEO)
    (project / "labels").mkdir()
    (project / "labels" / "c.toml").write_text(
        'clip = "clips/c.mp4"\nfacecam = [0.1, 0.1, 0.102, 0.102]\nsegments = [[1, 2]]\n')
    assert_one_line_error(invoke("train", "--cpu"), "c.mp4", "face-cam box", "px")


# ---------------------------------------------------------------- checkpoints


def _evil(marker: Path) -> object:
    class Payload:
        def __reduce__(self) -> tuple:
            return os.mkdir, (str(marker),)

    return Payload()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """case -> (checkpoint file, the problem its error must name)."""
    import torchvision

    folder = tmp_path_factory.mktemp("checkpoints")
    made: dict[str, tuple[Path, str]] = {}
    wide = torchvision.models.resnet34(weights=None)
    wide.fc = torch.nn.Linear(512, 1)
    save_checkpoint(folder / "resnet34.pt", wide, ModelMeta(size=32))
    made["weights of another architecture"] = (folder / "resnet34.pt", "weights do not fit resnet18")
    save_checkpoint(folder / "vit.pt", build_model(), ModelMeta(arch="vit_b_16"))
    made["another architecture named"] = (folder / "vit.pt", "architecture 'vit_b_16' is not supported")
    torch.save(build_model().state_dict(), folder / "bare.pt")
    made["bare state dict"] = (folder / "bare.pt", "not an autotosis checkpoint")
    save_checkpoint(folder / "whole.pt", build_model(), ModelMeta(size=32))
    data = (folder / "whole.pt").read_bytes()
    (folder / "truncated.pt").write_bytes(data[: len(data) // 2])
    made["truncated"] = (folder / "truncated.pt", "truncated or damaged")
    (folder / "noise.pt").write_bytes(bytes(range(256)) * 20)
    made["random bytes"] = (folder / "noise.pt", "not a readable checkpoint")
    (folder / "empty.pt").write_bytes(b"")
    made["empty"] = (folder / "empty.pt", "empty")
    torch.save({"meta": _evil(folder / "PWNED-torch"), "state_dict": {}}, folder / "evil-torch.pt")
    made["malicious torch.save"] = (folder / "evil-torch.pt", "refused without running it")
    with open(folder / "evil-pickle.pt", "wb") as handle:
        pickle.dump(_evil(folder / "PWNED-pickle"), handle)
    made["malicious plain pickle"] = (folder / "evil-pickle.pt", "refused without running it")
    return made


@pytest.mark.parametrize("case", ["weights of another architecture", "another architecture named",
                                  "bare state dict", "truncated", "random bytes", "empty",
                                  "malicious torch.save", "malicious plain pickle"])
def test_bad_checkpoints(project: Path, checkpoints: dict[str, tuple[Path, str]], case: str) -> None:
    path, problem = checkpoints[case]
    vod = ffmpeg(project / "vod.mp4", *VIDEO)
    result = invoke("compile", "--model", str(path), "--facecam", BOX, vod.name)
    assert_one_line_error(result, path.name, problem)
    assert not list(path.parent.glob("PWNED*"))  # a pickle's payload never ran


# ---------------------------------------------------------------- the disk says no


@contextlib.contextmanager
def tmpfs(folder: Path, options: str):
    """A small tmpfs at `folder` (root only): a real full or read-only file system."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                             capture_output=True).returncode == 0
    if not mounted:
        pytest.skip("cannot mount a tmpfs here (needs root): no real full or read-only disk to test on")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_output_folder_not_writable(project: Path, model: Path) -> None:
    vod = ffmpeg(project / "vod.mp4", *VIDEO, *AUDIO)
    with tmpfs(project / "ro", "ro,size=64k"):
        result = compile_with(model, vod.name, "--out", "ro/reels")
        assert_one_line_error(result, "ro/reels", "read-only file system")
        result = invoke("label", vod.name, "-s", "0-1", "--labels-dir", "ro/labels")
        assert_one_line_error(result, "ro/labels", "read-only file system")


def test_disk_fills_during_render(project: Path, model: Path) -> None:
    """The sidecars fit, the pieces do not: a clear error, the old reel kept, nothing partial left."""
    vod = ffmpeg(project / "vod.mp4", *VIDEO, *AUDIO)
    with tmpfs(project / "small", "size=2m") as small:
        out = small / "reels"
        out.mkdir()
        (out / "reel.mp4").write_bytes(b"the reel from last week")
        free = os.statvfs(small)
        filler = small / "filler"
        filler.write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 150_000))  # a 3 s piece is ~600 kB
        result = compile_with(model, vod.name, "--out", str(out), "--force")
        assert_one_line_error(result, "disk full")
        assert (out / "reel.mp4").read_bytes() == b"the reel from last week"
        assert not [p for p in small.rglob("*") if ".part" in p.name]
        filler.unlink()
        again = compile_with(model, vod.name, "--out", str(out), "--force")
        assert again.exit_code == 0, again.output
        assert media.probe(out / "reel.mp4").duration == pytest.approx(3.0, abs=0.15)
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_full_disk_fails_though_ffmpeg_exits_0(project: Path) -> None:
    """ffmpeg 5 reports ENOSPC and still exits 0: the half-written reel must not replace anything."""
    from autotosis.core.errors import MediaError

    vod = ffmpeg(project / "vod.mkv", *VIDEO, *AUDIO)
    with tmpfs(project / "small", "size=1m") as small:
        (small / "reel.mp4").write_bytes(b"the reel from last week")
        free = os.statvfs(small)
        (small / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 40_000))
        with pytest.raises(MediaError, match="disk full"):
            media.concat([vod], small / "reel.mp4")  # about 150 kB
        assert (small / "reel.mp4").read_bytes() == b"the reel from last week"
        assert sorted(p.name for p in small.iterdir()) == ["filler", "reel.mp4"]
