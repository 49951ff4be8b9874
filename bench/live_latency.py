"""How soon `autotosis live` puts a clip on disk after the reaction, and what following costs.

    .venv/bin/python bench/live_latency.py                          # 720p30 and 1080p60, 150 s each
    .venv/bin/python bench/live_latency.py --sizes 1280x720@30 --seconds 60 --every 20

A generated stream (moving test pattern, a voice with a shout of `--shout` seconds every
`--every` seconds) is played in real time with `ffmpeg -re` into a growing Matroska file,
as OBS records, while `autotosis live` (loudness scorer, default options) follows it in a
process of its own. Per shout: the delay from the shout's end plus `--pad-after` (the tail a
clip must hold) to the clip's file appearing. For the live process: CPU cores averaged over
the stream (its own and its running ffmpegs, read from /proc; clip renders counted apart,
from the children that ended) and its resident memory over time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autotosis import media
from autotosis.pick.select import SelectConfig

ROOT = Path(__file__).resolve().parent.parent


def make_stream(path: Path, width: int, height: int, fps: int, seconds: float, every: float,
                shout: float) -> Path:
    """The test pattern with a talking voice and its shouts (media.shouts_graph)."""
    picture = path.with_name(f".{path.stem}.picture.mkv")
    media.make_lavfi_vod(picture, seconds, width, height, fps, preset="ultrafast", gop_seconds=2.0)
    media.run(media.replace_audio_args(picture, media.shouts_graph(seconds, every, shout), path), path)
    picture.unlink()
    return path


def _tree_cpu(pid: int) -> float:
    """CPU seconds of `pid` and its running children (what the live process itself reports)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if entry.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_one(work: Path, width: int, height: int, fps: int, seconds: float, every: float,
            shout: float) -> dict:
    source = make_stream(work / f"src-{height}p{fps}.mkv", width, height, fps, seconds, every, shout)
    growing = work / "rec" / f"stream-{height}p{fps}.mkv"
    growing.parent.mkdir(exist_ok=True)
    out = work / "out" / growing.stem
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    player = subprocess.Popen([media.ffmpeg_bin(), "-v", "error", "-re", "-i", str(source), "-c", "copy",
                               "-flush_packets", "1", str(growing)])
    started = time.time()
    live = subprocess.Popen([sys.executable, "-m", "autotosis", "live", str(growing), "--idle", "5",
                             "--scorer", "loudness", "--out", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    memory, cpu_marks = [], []
    while live.poll() is None:
        memory.append((round(time.time() - started), round(_rss_mb(live.pid), 1)))
        if player.poll() is None:
            cpu_marks.append((time.time(), _tree_cpu(live.pid)))
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
    (t0, c0), (t1, c1) = cpu_marks[0], cpu_marks[-1]
    follow = (c1 - c0) / max(t1 - t0, 1e-6)
    summary = next((line for line in output.splitlines() if line.startswith("stream ended")), output[-300:])
    return {"stream": f"{width}x{height}@{fps}", "seconds": seconds, "shouts": len(shouts),
            "clips": len(rows), "delays_s": delays,
            "median_s": statistics.median(delays) if delays else None, "worst_s": max(delays, default=None),
            "follow_cores_while_playing": round(follow, 3), "live_says": summary, "rss_mb": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1280x720@30,1920x1080@60")
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--every", type=float, default=50.0, help="seconds between shouts")
    parser.add_argument("--shout", type=float, default=3.0, help="seconds each shout lasts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="live-bench-") as tmp:
        for spec in args.sizes.split(","):
            size, fps = spec.split("@")
            width, height = (int(v) for v in size.split("x"))
            row = run_one(Path(tmp), width, height, int(fps), args.seconds, args.every, args.shout)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
