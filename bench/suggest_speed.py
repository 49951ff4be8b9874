"""How long `autotosis suggest` takes on a generated VOD, against a bare ffmpeg decode of it.

    .venv/bin/python bench/suggest_speed.py                  # 10 minutes of the synthetic streamer
    .venv/bin/python bench/suggest_speed.py --minutes 3 --height 360

The VOD is the synthetic streamer's (autotosis/demo/synth): a drawn face-cam over a moving
game scene, rages, laughs and bangs scripted over it, and a chat replay next to it. It is
made once into --folder. Each row runs `python -m autotosis suggest VOD --json` in a fresh
process with an empty cache (start-up, probe, loudness, chat, the model's coarse scan,
ranking: what a person waits for), except "again", which reuses the first run's cache
(a second round of questions after answering). The ratio is to `ffmpeg -i VOD -f null -`.

Models: "quiet" is an untrained ResNet-18 whose head says "nothing here" everywhere, as a
trained model does on most of a VOD, so the coarse scan decodes densely only where loudness
or chat point (what a real round costs); "untrained" scores about 0.45 everywhere, so the
coarse scan proposes every keyframe and decodes the whole VOD densely (the worst case).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autotosis import media
from autotosis.core.paths import cache_dir


def bench_vod(folder: Path, minutes: float, height: int) -> Path:
    """The synthetic stream for these settings, made if missing, with its chat replay."""
    from autotosis.demo import synth

    path = folder / f"suggest_{minutes:g}min_{height}p.mp4"
    if path.exists():
        return path
    started = time.perf_counter()
    per_minute = minutes / 10
    spec = synth.scripted(minutes * 60, seed=20, rages=round(12 * per_minute), hypes=round(6 * per_minute),
                          bangs=round(6 * per_minute), gap=8, width=height * 16 // 9, height=height)
    synth.make_stream(path, spec)
    synth.write_chat(path.with_name(path.stem + ".chat.json"), spec)
    print(f"  made {path.name} in {time.perf_counter() - started:.0f}s", flush=True)
    return path


def bench_model(folder: Path, quiet: bool) -> Path:
    """An untrained ResNet-18 at the default size and fps; `quiet`: its head says "nothing here"."""
    path = folder / ("suggest_quiet.pt" if quiet else "suggest_untrained.pt")
    if not path.exists():
        import torch

        from autotosis.demo.synth import StreamSpec
        from autotosis.learn.model import ModelMeta, build_model, save_checkpoint

        model = build_model()
        if quiet:
            with torch.no_grad():
                model.fc.weight.zero_()
                model.fc.bias.fill_(-20.0)
        save_checkpoint(path, model, ModelMeta(facecam=StreamSpec(1.0).facecam))
    return path


def bare_decode(vod: Path) -> float:
    started = time.perf_counter()
    media.run(media.decode_args(vod), source=vod)
    return time.perf_counter() - started


def timed_suggest(vod: Path, model: str, cache: Path) -> tuple[float, str]:
    """(wall seconds, the notes it printed) of one `autotosis suggest` in a fresh process."""
    cmd = [sys.executable, "-m", "autotosis", "suggest", str(vod), "--model", model, "--json"]
    started = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True,
                          env={**os.environ, "AUTOTOSIS_CACHE": str(cache)})
    return time.perf_counter() - started, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--height", type=int, default=360, help="picture height, 16:9 (synth's own: 360)")
    parser.add_argument("--folder", type=Path, default=cache_dir() / "bench",
                        help="where the generated VOD is kept (put it outside the repository)")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    vod = bench_vod(args.folder, args.minutes, args.height)
    info = media.probe(vod)
    decode = min(bare_decode(vod) for _ in range(2))
    print(f"{vod.name}: {info.width}x{info.height} {float(info.fps):g} fps, {info.duration / 60:.1f} min; "
          f"bare decode {decode:.1f}s ({info.duration / decode:.0f}x real time)")
    print(f"{'suggest':<22}{'wall':>8}{'ratio':>8}  scan")
    quiet, untrained = bench_model(args.folder, True), bench_model(args.folder, False)
    # (row, --model, cache folder): "again" reuses the quiet model's cache
    rows = [("no model", "none", "none"), ("quiet model", str(quiet), "quiet"),
            ("quiet model, again", str(quiet), "quiet"), ("untrained model", str(untrained), "untrained")]
    with tempfile.TemporaryDirectory() as work:
        for name, model, folder in rows:
            cache = Path(work) / folder
            wall, notes = timed_suggest(vod, model, cache)
            scan = next((line for line in notes.splitlines() if line.startswith("scan:")), "-")
            print(f"{name:<22}{wall:>7.1f}s{wall / decode:>7.2f}x  {scan.removeprefix('scan: ')}", flush=True)


if __name__ == "__main__":
    main()
