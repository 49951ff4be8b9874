"""How soon `autotosis live` puts a clip on disk after the reaction, and what following costs.

    .venv/bin/python bench/live_latency.py                          # 720p30 and 1080p60, 150 s each
    .venv/bin/python bench/live_latency.py --sizes 1280x720@30 --seconds 60 --every 20
    .venv/bin/python bench/live_latency.py --memory 10,30           # two streams side by side
    .venv/bin/python bench/live_latency.py --streams /tmp/streams   # generated streams kept for the next run
    .venv/bin/python bench/live_latency.py --live-args "--clip-preset veryfast"

A generated stream (moving test pattern encoded as OBS encodes by default: x264 veryfast,
B-frames, a keyframe every 2 s; a voice with a shout of `--shout` seconds every `--every`
seconds) is played in real time with `ffmpeg -re` into a growing Matroska file, as OBS
records, while `autotosis live` follows it in a process of its own, scoring with the
face-cam model on every sample and loudness (`--scorer fused`). Without `--model` the model
is an untrained 128 px ResNet-18: it costs what a trained one costs, and `--weights
model=0` leaves the choosing to loudness, so the shouts are the reactions. Per shout: the
delay from the shout's end plus `--pad-after` (the tail a clip must hold) to the clip's file
appearing. For the live process: CPU cores averaged over the stream (its own and its running
ffmpegs, read from /proc; clip renders, children that ended, counted apart) and its
resident memory over time.

`--memory A,B` plays two streams of A and B minutes side by side (a one-minute piece
looped, so generating them costs a minute of video) and compares the live processes'
resident memory: it must not grow with the stream's length.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autotosis import media
from autotosis.learn.model import ModelMeta, build_model, save_checkpoint
from autotosis.pick.select import SelectConfig

ROOT = Path(__file__).resolve().parent.parent


FACECAM = "0.7,0.6,1,1"


def make_stream(path: Path, width: int, height: int, fps: int, seconds: float, every: float,
                shout: float, preset: str) -> Path:
    """The test pattern with a talking voice and its shouts (media.shouts_graph); one made
    before with the same settings (`--streams`) is used again."""
    path = path.with_name(f"{path.stem}-{seconds:g}s-{every:g}-{shout:g}-{preset}{path.suffix}")
    if path.exists():
        return path
    picture = path.with_name(f".{path.stem}.picture.mkv")
    media.make_lavfi_vod(picture, seconds, width, height, fps, preset=preset, gop_seconds=2.0, sound=False)
    partial = path.with_name(f".{path.name}")
    media.run(media.replace_audio_args(picture, media.shouts_graph(seconds, every, shout), partial), partial)
    picture.unlink()
    return partial.replace(path)


def untrained_model(path: Path) -> Path:
    """A 128 px ResNet-18 checkpoint with random weights: a trained one's cost, no training."""
    save_checkpoint(path, build_model(), ModelMeta(size=128, fps=4.0))
    return path


def _tree_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds spent following (`pid` and its running children but clip renders) and on
    clip renders (the running ones, told by their encoder, and every child that ended)."""
    tick = os.sysconf("SC_CLK_TCK")
    follow, renders = 0.0, 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        spent = (int(fields[11]) + int(fields[12])) / tick
        if entry.name == str(pid):
            follow += spent
            renders += (int(fields[13]) + int(fields[14])) / tick
        elif fields[1] == str(pid):
            if b"libx264" in command:
                renders += spent
            else:
                follow += spent
    return follow, renders


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def start_live(source: Path, growing: Path, out: Path, model: Path, loop: int = 0,
               extra: tuple[str, ...] = ()) -> tuple[
        subprocess.Popen, subprocess.Popen]:
    """`ffmpeg -re` writing `growing` from `source` (played `loop` more times) and the live
    process following it (`extra`: more of its options)."""
    growing.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    player = subprocess.Popen([media.ffmpeg_bin(), "-v", "error", "-re", "-stream_loop", str(loop),
                               "-i", str(source), "-c", "copy", "-flush_packets", "1", str(growing)])
    live = subprocess.Popen([sys.executable, "-m", "autotosis", "live", str(growing), "--idle", "5",
                             "--model", str(model), "--facecam", FACECAM, "--scorer", "fused",
                             "--weights", "model=0,loudness=1", "--out", str(out), *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return player, live


def run_one(work: Path, streams: Path, width: int, height: int, fps: int, seconds: float, every: float,
            shout: float, preset: str, model: Path, extra: tuple[str, ...] = ()) -> dict:
    source = make_stream(streams / f"src-{width}x{height}p{fps}.mkv", width, height, fps, seconds, every,
                         shout, preset)
    growing = work / "rec" / f"stream-{height}p{fps}.mkv"
    out = work / "out" / growing.stem
    player, live = start_live(source, growing, out, model, extra=extra)
    started = time.time()
    memory, marks = [], []
    while live.poll() is None:
        memory.append((round(time.time() - started), round(_rss_mb(live.pid), 1)))
        if player.poll() is None:
            marks.append((time.time(), *_tree_cpu(live.pid)))
        time.sleep(5.0)
    output = live.stdout.read() if live.stdout else ""
    player.wait()
    pad = SelectConfig().pad_after
    shouts = [every / 2 + k * every for k in range(int(seconds // every) + 1)
              if every / 2 + k * every + shout < seconds]
    rows = [json.loads(line) for line in (out / "highlights.jsonl").read_text().splitlines()]
    delays = []
    for at in shouts:
        clip = next((r for r in rows if r["start"] <= at + 0.5 and r["end"] >= at + shout - 0.5), None)
        if clip is not None:
            on_disk = (out / clip["file"]).stat().st_mtime - started
            delays.append(round(on_disk - (at + shout + pad), 1))
    (t0, f0, r0), (t1, f1, r1) = marks[0], marks[-1]
    span = max(t1 - t0, 1e-6)
    summary = next((line for line in output.splitlines() if line.startswith("stream ended")), output[-300:])
    cuts = [float(m) for m in re.findall(r"\(cut in ([\d.]+)s\)", output)]
    behind = [float(m) for m in re.findall(r" behind ([\d.]+)s ", output)]
    return {"stream": f"{width}x{height}@{fps} {preset}", "seconds": seconds, "shouts": len(shouts),
            "clips": len(rows), "delays_s": delays,
            "median_s": statistics.median(delays) if delays else None, "worst_s": max(delays, default=None),
            "follow_cores": round((f1 - f0) / span, 3),
            "with_renders_cores": round((f1 - f0 + r1 - r0) / span, 3),
            "render_s": cuts, "behind_s_median": statistics.median(behind) if behind else None,
            "live_says": summary, "rss_mb": memory[::6]}


def run_memory(work: Path, streams: Path, minutes: list[float], width: int, height: int, fps: int,
               preset: str, model: Path) -> dict:
    """Streams of each length side by side; the live processes' resident memory every minute."""
    piece = make_stream(streams / f"piece-{width}x{height}p{fps}.mkv", width, height, fps, 60.0, 60.0, 3.0,
                        preset)
    runs = {m: start_live(piece, work / "rec" / f"mem-{m:g}.mkv", work / "out" / f"mem-{m:g}", model,
                          loop=round(m) - 1) for m in minutes}
    started = time.time()
    memory: dict[float, list[float]] = {m: [] for m in minutes}
    while any(live.poll() is None for _, live in runs.values()):
        for m, (_, live) in runs.items():
            if live.poll() is None:
                memory[m].append(_rss_mb(live.pid))
        time.sleep(60.0 - (time.time() - started) % 60.0)
    for player, live in runs.values():
        player.wait()
        if live.stdout:
            live.stdout.read()
    return {f"{m:g} min": {"rss_mb_each_minute": [round(v) for v in values],
                           "peak_mb": round(max(values, default=0.0), 1)} for m, values in memory.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1280x720@30,1920x1080@60")
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--every", type=float, default=50.0, help="seconds between shouts")
    parser.add_argument("--shout", type=float, default=3.0, help="seconds each shout lasts")
    parser.add_argument("--preset", default="veryfast", help="x264 preset of the played stream")
    parser.add_argument("--model", type=Path, help="a trained checkpoint (default: an untrained one)")
    parser.add_argument("--memory", metavar="A,B", help="minutes of two streams played side by side")
    parser.add_argument("--streams", type=Path, help="a folder keeping the generated streams for the next "
                        "run (generating 150 s of 1080p60 takes minutes)")
    parser.add_argument("--live-args", default="", help="more options for `autotosis live`, e.g. "
                        "\"--preset superfast\" (how its clips are encoded)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="live-bench-") as tmp:
        model = args.model or untrained_model(Path(tmp) / "untrained.pt")
        streams = args.streams or Path(tmp)
        streams.mkdir(parents=True, exist_ok=True)
        for spec in args.sizes.split(","):
            size, fps = spec.split("@")
            width, height = (int(v) for v in size.split("x"))
            if args.memory:
                minutes = [float(m) for m in args.memory.split(",")]
                row = run_memory(Path(tmp), streams, minutes, width, height, int(fps), args.preset, model)
            else:
                row = run_one(Path(tmp), streams, width, height, int(fps), args.seconds, args.every,
                              args.shout, args.preset, model, tuple(args.live_args.split()))
            print(json.dumps({spec: row} if args.memory else row), flush=True)


if __name__ == "__main__":
    main()
