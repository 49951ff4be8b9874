"""Long VODs: no command line or filter graph grows with the VOD, and a scan's memory stays flat.

The seed built one drawtext filter per second of reel and hit "argument list too long";
here every ffmpeg command is measured, from the builders and from a real compile, on a
short and a much longer VOD. The 3-hour scan (slow) measures peak memory in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from autotosis import media
from autotosis.cli.main import cli
from autotosis.core.timeline import Segment
from autotosis.learn.model import ModelMeta, build_model, save_checkpoint
from autotosis.publish import reel as render

BOX = (0.5, 0.0, 1.0, 0.5)


def _info(duration: float) -> media.VideoInfo:
    return media.VideoInfo(path=Path("vod.mp4"), duration=duration, width=1920, height=1080, fps=Fraction(60),
                           codec="h264", rotation=0, has_audio=True, audio_rate=48000, size_bytes=1,
                           mtime_ns=1)


def _commands(duration: float, tmp: Path) -> dict[str, list[str]]:
    """Every command the pipeline builds for a VOD of `duration`, at its far end."""
    info, late = _info(duration), duration * 0.9
    enc = media.PieceEncoding(fps="60")
    return {
        "frames": media.frames_args("vod.mp4", info, 4.0, BOX, 128)[0],
        "resume": media.frames_args("vod.mp4", info, 4.0, BOX, 128, start=late)[0],
        "keyframes": media.frames_args("vod.mp4", info, None, BOX, 128, keyframes=True)[0],
        "audio": media.audio_args("vod.mp4", 8000),
        "piece": media.piece_args("vod.mp4", late, round(60 * min(600.0, duration / 10)), tmp / "p.mkv", enc,
                                  tmp / "p.ass", tmp, lead=10.0),
        "concat": media.concat_args(tmp / "list.txt", tmp / "reel.mp4"),
        "decode": media.decode_args("vod.mp4"),
    }


def test_builders_do_not_grow_with_vod_length(tmp_path: Path) -> None:
    short, long = _commands(30.0, tmp_path), _commands(10 * 3600.0, tmp_path)
    for name in short:
        assert len(long[name]) == len(short[name]), name
        assert len(" ".join(long[name])) - len(" ".join(short[name])) <= 8, name  # a few more digits
    # What does grow lives in files: the caption of a 10-minute highlight, the list of 500 pieces.
    caption = render.caption_ass(Segment(30000.0, 30600.0), None, "rage", 1920, 1080)
    assert caption.count("Dialogue:") == 600
    assert len(media.concat_list([tmp_path / f"p{k}.mkv" for k in range(500)]).splitlines()) == 500


def test_real_compile_commands_do_not_grow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Record the argv of every process a real compile starts, on a 10 s and a 100 s VOD."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTOSIS_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "m.pt"
    save_checkpoint(model, build_model(), ModelMeta(size=32, fps=1.0, threshold=0.0))
    seen: list[list[str]] = []

    class Recording(subprocess.Popen):
        def __init__(self, args, *rest, **options):  # type: ignore[no-untyped-def]
            seen.append([str(a) for a in args])
            super().__init__(args, *rest, **options)

    longest = {}
    for seconds in (10, 100):
        vod = media.make_lavfi_vod(tmp_path / f"vod{seconds}.mp4", seconds, 160, 90, 5)
        seen.clear()
        with monkeypatch.context() as patch:
            patch.setattr(subprocess, "Popen", Recording)
            result = CliRunner().invoke(cli, ["compile", str(vod), "--model", str(model), "--facecam",
                                              "0.5,0,1,0.5", "--top", "1", "--threshold", "0"])
        assert result.exit_code == 0, result.output
        ffmpeg = [c for c in seen if Path(c[0]).name == "ffmpeg"]
        assert len(ffmpeg) >= 4  # scan, loudness, a piece, the join
        longest[seconds] = max(len(" ".join(c)) for c in ffmpeg)
    assert longest[100] - longest[10] <= 8


SCAN = """
import json, os, resource, sys, threading, time
from pathlib import Path
from autotosis.signals import scan

ffmpeg_kb = 0


def status(entry):
    try:
        return dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
    except OSError:
        return {}


def watch():  # ffmpeg's own peak (VmHWM), read often: rusage cannot tell a child's peak apart
    global ffmpeg_kb
    child = None
    while True:
        fields = status(child) if child else {}
        if not fields:
            child = next((e for e in Path("/proc").iterdir() if status(e).get("Name", "").strip() == "ffmpeg"
                          and int(status(e).get("PPid", 0)) == os.getpid()), None)
            fields = status(child) if child else {}
        ffmpeg_kb = max(ffmpeg_kb, int(fields.get("VmHWM", "0 kB").split()[0]))
        time.sleep(0.02)


threading.Thread(target=watch, daemon=True).start()
vod, model, cache = (Path(a) for a in sys.argv[1:4])
result = scan.scan(vod, model, (0.5, 0.0, 1.0, 0.5), scan.ScanConfig(mode="dense"), cache=cache, fps=0.5)
print(json.dumps({"samples": len(result.timeline), "ffmpeg_kb": ffmpeg_kb,
                  "python_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _scan_peak(vod: Path, model: Path, cache: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", SCAN, str(vod), str(model), str(cache)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_three_hour_scan_keeps_memory_flat(tmp_path: Path) -> None:
    """Peak RSS of a 3-hour scan against a 10-minute one, each in a fresh process: what grows
    with length is one float per sample, so the ratio stays near 1 (asserted with room).
    A sample every 2 s: the decode still runs the whole length, at half the model's cost."""
    model = tmp_path / "m.pt"
    save_checkpoint(model, build_model(), ModelMeta(size=32, fps=1.0))
    short = media.make_lavfi_vod(tmp_path / "short.mp4", 600, 160, 90, 2, sound=False)
    long = media.make_lavfi_vod(tmp_path / "long.mp4", 3 * 3600, 160, 90, 2, sound=False)
    small, big = _scan_peak(short, model, tmp_path / "c1"), _scan_peak(long, model, tmp_path / "c2")
    print(f"\n10 min: {small}\n3 h:    {big}")
    assert small["samples"] == 300 and big["samples"] == 3 * 3600 // 2
    assert big["python_kb"] < 1.25 * small["python_kb"]
    assert big["ffmpeg_kb"] < 1.5 * small["ffmpeg_kb"]
