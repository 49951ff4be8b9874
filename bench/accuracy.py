"""How good are the reels? Train on the demo clips, evaluate on streams that look different.

    .venv/bin/python bench/accuracy.py                  # train + 4 held-out streams (~10 min on 2 cores)
    .venv/bin/python bench/accuracy.py --minutes 1.5    # shorter streams, a quicker look
    .venv/bin/python bench/accuracy.py --section scan --minutes 1.5 \
        --streams 720p60-bottom-left,short-reactions-1-2s,gop10-local-recording   # scan modes
    .venv/bin/python bench/accuracy.py --section labels --minutes 2   # rage and laugh, one model (~10 min)

The training data is `autotosis demo`'s (24 clips of one streamer, 640x360 at 30 fps,
face-cam top right). The evaluation streams show the same streamer with everything
else changed: resolution, frame rate, face-cam position and size, game backdrop, and
their own rages, laughs, bangs and coloured game light. The face-cam box is found on
each stream by `--facecam auto`'s detector, as a user would. Each stream is scored
three ways (model, loudness, fused) with compile's default selection, and the table
gives frame AP/AUC and event precision/recall/F1 (min overlap 0.5), mean IoU and the
reel's seconds outside any rage. Work files go to --folder (kept, so a re-run only
re-evaluates).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

from autotosis import media
from autotosis.demo import demo, synth
from autotosis.learn.facecam import detect_facecam
from autotosis.learn.labels import load_label, make_label_file, save_label
from autotosis.learn.train import train
from autotosis.learn.trainconfig import TrainConfig
from autotosis.run.compile import CompileEvents, CompileOptions, score_vod, select_highlights
from autotosis.run.evaluate import evaluate_vod, event_metrics
from autotosis.signals.loudness import LoudnessConfig
from autotosis.signals.scan import ScanConfig

# (name, width, height, fps, face-cam box, backdrop): each differs from the training clips.
STREAMS = [
    ("720p60-bottom-left", 1280, 720, 60.0, (0.02, 0.52, 0.30, 0.98), "cellauto"),
    ("480p25-top-left", 854, 480, 25.0, (0.03, 0.04, 0.33, 0.50), "mandelbrot"),
    ("1080p30-small-bottom-right", 1920, 1080, 30.0, (0.80, 0.68, 0.98, 0.98), "testsrc2"),
    ("360p30-top-right-long", 640, 360, 30.0, (0.70, 0.03, 0.99, 0.48), "life"),
]
SCORERS = ("model", "loudness", "fused")


def make_streams(folder: Path, minutes: float, seed: int,
                 wanted: set[str] | None = None) -> list[tuple[str, Path, Path]]:
    """The evaluation streams (all, or the `wanted` names) and their truth files (made once)."""
    streamer = synth.Streamer.from_seed(seed)  # the same person as in the training clips
    made = []
    for k, (name, width, height, fps, box, backdrop) in enumerate(STREAMS):
        if wanted is not None and name not in wanted:
            continue
        seconds = minutes * 60 * (2 if name.endswith("long") else 1)
        rages = max(2, round(seconds / 40))
        spec = synth.scripted(seconds, seed=seed * 1000 + 500 + k, rages=rages, hypes=rages, bangs=rages,
                              flashes=rages, rage_length=(4.0, 9.0), gap=12.0, width=width, height=height,
                              fps=fps, facecam=box, backdrop=backdrop, streamer=streamer)
        vod, truth = folder / "streams" / f"{name}.mp4", folder / "streams" / f"{name}.toml"
        if not (vod.exists() and truth.exists()):
            started = time.perf_counter()
            synth.make_stream(vod, spec, preset="ultrafast")
            synth.write_label(spec, vod, truth)
            took = time.perf_counter() - started
            print(f"  made {name} ({seconds / 60:.1f} min) in {took:.0f}s", flush=True)
        made.append((name, vod, truth))
    return made


# Scan modes: the held-out streams above plus two that are hard for a coarse scan.
# (name, width, height, fps, face-cam box, backdrop, rage seconds, keyframe interval)
SCAN_STREAMS = [
    ("short-reactions-1-2s", 854, 480, 30.0, (0.70, 0.03, 0.99, 0.48), "cellauto", (1.0, 2.0), 2.0),
    ("gop10-local-recording", 854, 480, 30.0, (0.02, 0.52, 0.30, 0.98), "mandelbrot", (3.0, 8.0), 10.0),
]
SCAN_MODES = ("dense", "coarse", "keyframes")


def make_scan_streams(folder: Path, minutes: float, seed: int,
                      wanted: set[str] | None = None) -> list[tuple[str, Path, Path]]:
    """The two streams made for the scan-mode section (made once)."""
    streamer = synth.Streamer.from_seed(seed)
    made = []
    for k, (name, width, height, fps, box, backdrop, lengths, gop) in enumerate(SCAN_STREAMS):
        if wanted is not None and name not in wanted:
            continue
        seconds = minutes * 60
        rages = max(2, round(seconds / 30))
        spec = synth.scripted(seconds, seed=seed * 1000 + 700 + k, rages=rages, hypes=rages // 2,
                              bangs=rages // 2, flashes=rages // 2, rage_length=lengths, gap=12.0,
                              width=width, height=height, fps=fps, facecam=box, backdrop=backdrop,
                              streamer=streamer)
        vod, truth = folder / "streams" / f"{name}.mp4", folder / "streams" / f"{name}.toml"
        if not (vod.exists() and truth.exists()):
            started = time.perf_counter()
            synth.make_stream(vod, spec, preset="veryfast", gop_seconds=gop)
            synth.write_label(spec, vod, truth)
            took = time.perf_counter() - started
            print(f"  made {name} ({seconds / 60:.1f} min) in {took:.0f}s", flush=True)
        made.append((name, vod, truth))
    return made


class _Summary(CompileEvents):
    """Keeps the scan's one-line summary (what was decoded densely)."""

    line = ""

    def note(self, message: str) -> None:
        if message.startswith("scan:"):
            self.line = message


def scan_modes_section(folder: Path, model: Path, streams: list[tuple[str, Path, Path]]) -> None:
    """Event precision, recall and mean IoU of each scan mode on every stream, side by side."""
    cache = folder / "cache-scan-modes"  # its own: each mode's first scan is timed cold
    header = f"{'stream':<28}{'scan':<11}{'P':>6}{'R':>6}{'IoU':>6}{'found':>7}{'wall s':>8}  decoded"
    print("\nscan modes (model scorer, compile's default selection)\n" + header + "\n" + "-" * len(header))
    pooled = {m: [0, 0, 0, 0, 0.0, 0] for m in SCAN_MODES}  # hits, selected, found, truth, IoU sum, streams
    for name, vod, truth in streams:
        box = detect_facecam(vod).box
        for mode in SCAN_MODES:
            events = _Summary()
            options = CompileOptions(vod=vod, model=model, scorer="model", facecam=box, cache=cache,
                                     scan=ScanConfig(mode=mode), out_dir=folder / "eval-scan" / name / mode)
            started = time.perf_counter()
            e = evaluate_vod(options, truth, progress=events).events
            took = time.perf_counter() - started
            row = pooled[mode]
            for i, v in enumerate((e.hits, e.selected, e.found, e.truth, e.mean_iou, 1)):
                row[i] += v
            print(f"{name:<28}{mode:<11}{_f(e.precision):>6}{_f(e.recall):>6}{_f(e.mean_iou):>6}"
                  f"{f'{e.found}/{e.truth}':>7}{took:8.1f}  {events.line.removeprefix('scan: ')}", flush=True)
    print("\npooled over all streams (events), by scan mode:")
    for mode, (hits, selected, found, total, iou, count) in pooled.items():
        print(f"  {mode:<10} precision {hits / max(selected, 1):.2f} ({hits}/{selected})  "
              f"recall {found / max(total, 1):.2f} ({found}/{total})  mean IoU {iou / max(count, 1):.3f}")


def _f(value: float) -> str:
    return "  n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=Path("bench-work/accuracy"))
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each evaluation stream")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", type=Path, help="score with this checkpoint instead of training one")
    parser.add_argument("--small", action="store_true",
                        help="signals section: streams at 320x180, 15 fps (with --model from `demo --quick`)")
    parser.add_argument("--no-model", action="store_true",
                        help="signals section only: skip training and the rows that need the model")
    parser.add_argument("--section", default="all",
                        choices=("all", "appearance", "signals", "scan", "labels"),
                        help="appearance: the four streams above; signals: each scorer with chat and tracks; "
                        "scan: dense, coarse and keyframes scans on the four streams and two more; "
                        "labels: a rage+laugh model on its own small data, per-label events")
    parser.add_argument("--streams", help="appearance and scan: only these streams (comma-separated names)")
    args = parser.parse_args()

    config = dataclasses.replace(demo.DemoConfig(), folder=args.folder / "train", seed=args.seed)
    model = args.model or args.folder / "rage.pt"
    cache = args.folder / "cache"
    if args.no_model:
        signals_section(args, None, cache)
        return
    if args.section == "labels":
        labels_section(args.folder / "labels", args.minutes, args.seed)
        return
    if not model.exists():
        started = time.perf_counter()
        data = demo.make_data(config)
        print(f"training data: {config.clips} clips ({'made' if data.made else 'reused'}) "
              f"in {time.perf_counter() - started:.0f}s", flush=True)
        started = time.perf_counter()
        result = train(TrainConfig(labels_dir=data.labels_dir, out=model, size=config.size,
                                   epochs=config.epochs, seed=args.seed, cpu=True, cache=cache))
        took = time.perf_counter() - started
        print(f"trained in {took:.0f}s: validation AP {result.best['ap']:.3f}", flush=True)
    if args.section in ("all", "appearance"):
        appearance_section(args, model, cache)
    if args.section in ("all", "signals"):
        signals_section(args, model, cache)
    if args.section in ("all", "scan"):
        wanted = set(args.streams.split(",")) if args.streams else None
        streams = make_streams(args.folder, args.minutes, args.seed, wanted)
        scan_modes_section(args.folder, model, streams + make_scan_streams(args.folder, args.minutes,
                                                                           args.seed, wanted))


def appearance_section(args: argparse.Namespace, model: Path, cache: Path) -> None:
    """The model, loudness and fused on four streams that look unlike the training clips."""
    streams = make_streams(args.folder, args.minutes, args.seed,
                           set(args.streams.split(",")) if args.streams else None)

    header = (f"{'stream':<28}{'scorer':<10}{'AP':>6}{'AUC':>6}{'P':>6}{'R':>6}{'F1':>6}{'IoU':>6}"
              f"{'found':>7}{'reel s':>8}{'other s':>8}")
    print("\n" + header + "\n" + "-" * len(header))
    pooled = {s: [0, 0, 0, 0] for s in SCORERS}  # hits, selected, found, truth
    for name, vod, truth in streams:
        box = detect_facecam(vod).box
        for scorer in SCORERS:
            options = CompileOptions(vod=vod, model=model, scorer=scorer, facecam=box, cache=cache,
                                     out_dir=args.folder / "eval" / name / scorer)
            result = evaluate_vod(options, truth)
            e, f = result.events, result.frames
            pooled[scorer] = [a + b for a, b in zip(pooled[scorer], (e.hits, e.selected, e.found, e.truth),
                                                    strict=True)]
            print(f"{name:<28}{scorer:<10}{_f(f.ap):>6}{_f(f.auc):>6}{_f(e.precision):>6}{_f(e.recall):>6}"
                  f"{_f(e.f1):>6}{_f(e.mean_iou):>6}{f'{e.found}/{e.truth}':>7}{e.reel_seconds:8.1f}"
                  f"{e.non_highlight_seconds:8.1f}", flush=True)
    print("\npooled over all streams (events):")
    for scorer, (hits, selected, found, total) in pooled.items():
        precision = hits / selected if selected else float("nan")
        recall = found / total if total else float("nan")
        print(f"  {scorer:<9} precision {precision:.2f} ({hits}/{selected})  "
              f"recall {recall:.2f} ({found}/{total})")


# ---------------------------------------------------------------- labels: rage and laugh from one model

# Small enough to train in a few minutes on two cores: demo --quick's size and resolution.
LABEL_CLIPS = 16
LABEL_CLIP_SECONDS = 16.0
LABELS_CONFIG = demo.QUICK
LABELS = ("rage", "laugh")  # laugh: the synthetic streamer's "hype" reaction


def _two_label_file(spec: synth.StreamSpec, clip: Path, path: Path) -> Path:
    """A label file naming both reactions: rages and laughs (synth's hype spans)."""
    spans = {"rage": spec.rage, "laugh": spec.hype}
    return save_label(make_label_file(clip, spec.facecam, {k: tuple(v) for k, v in spans.items()}), path)


def make_label_data(folder: Path, minutes: float, seed: int) -> tuple[Path, Path, Path]:
    """Clips with rages, laughs, both or neither, labelled with both; a held-out VOD and its truth."""
    config = LABELS_CONFIG
    streamer = synth.Streamer.from_seed(seed)
    labels_dir = folder / "labels"
    common = dict(width=config.width, height=config.height, fps=config.fps, facecam=demo.FACECAM,
                  streamer=streamer)
    for index in range(LABEL_CLIPS):
        clip, label = folder / "clips" / f"clip{index:02d}.mp4", labels_dir / f"clip{index:02d}.toml"
        if clip.exists() and label.exists():
            continue
        rages, laughs = (index % 4) in (0, 1), (index % 4) in (1, 2)  # rage, both, laugh, calm
        spec = synth.scripted(LABEL_CLIP_SECONDS, seed=seed * 1000 + 300 + index, rages=int(rages),
                              hypes=int(laughs), bangs=int(index % 3 != 1), flashes=int(index % 2 == 1),
                              rage_length=(2.0, 3.5), hype_length=(1.5, 3.0), gap=1.0,
                              backdrop=demo.BACKDROPS[index % len(demo.BACKDROPS)], **common)
        synth.make_stream(clip, spec, preset="ultrafast")
        _two_label_file(spec, clip, label)
    vod, truth = folder / "vod" / "stream.mp4", folder / "vod" / "stream.toml"
    if not (vod.exists() and truth.exists()):
        seconds = minutes * 60
        n = max(2, round(seconds / 30))
        spec = synth.scripted(seconds, seed=seed * 1000 + 998, rages=n, hypes=n, bangs=n, flashes=n,
                              rage_length=(4.0, 8.0), hype_length=(2.5, 4.0), gap=8.0, backdrop="life",
                              **common)
        synth.make_stream(vod, spec, preset="ultrafast")
        _two_label_file(spec, vod, truth)
    return labels_dir, vod, truth


def labels_section(folder: Path, minutes: float, seed: int) -> None:
    """Train one rage+laugh model, compile a held-out VOD once with both labels, per-label events."""
    started = time.perf_counter()
    labels_dir, vod, truth_path = make_label_data(folder, minutes, seed)
    print(f"labels: data in {time.perf_counter() - started:.0f}s", flush=True)
    model, cache = folder / "rage+laugh.pt", folder / "cache"
    if not model.exists():
        started = time.perf_counter()
        result = train(TrainConfig(labels_dir=labels_dir, out=model, size=LABELS_CONFIG.size,
                                   epochs=LABELS_CONFIG.epochs + 3, seed=seed, cpu=True, cache=cache))
        print(f"labels: trained in {time.perf_counter() - started:.0f}s", flush=True)
        for name, metrics in (result.best.get("labels") or {}).items():
            print(f"  {name:<8} val AP {metrics.get('ap', float('nan')):.3f}  threshold "
                  f"{metrics.get('threshold', float('nan')):.2f}", flush=True)
    decodes = 0
    frames = media.frames

    def counted(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        nonlocal decodes
        decodes += 1
        return frames(*args, **kwargs)  # type: ignore[arg-type]

    media.frames = counted  # type: ignore[assignment]
    try:
        options = CompileOptions(vod=vod, model=model, scorer="model", cache=cache, out_dir=folder / "eval",
                                 labels=LABELS)
        started = time.perf_counter()
        scored = score_vod(options)
        segments = select_highlights({}, scored, scored.info.duration)
        took = time.perf_counter() - started
    finally:
        media.frames = frames  # type: ignore[assignment]
    truth = load_label(truth_path)
    by_label = {truth.label: truth.segments, **truth.more}
    header = f"{'label':<8}{'threshold':>10}{'P':>6}{'R':>6}{'IoU':>6}{'found':>7}{'segs':>6}"
    summary = scored.scan.summary() if scored.scan else "no scan"
    print(f"\nlabels: one compile of {vod.name} ({scored.info.duration / 60:.1f} min) with "
          f"{', '.join(LABELS)} in {took:.0f}s; {decodes} ffmpeg frame decode(s) "
          f"({'one decode' if decodes == 1 else 'NOT one decode'}; {summary})")
    print(header + "\n" + "-" * len(header))
    for name in LABELS:
        own = [s for s in segments if s.label == name]
        e = event_metrics(by_label[name], own)
        print(f"{name:<8}{scored.thresholds[name]:>10.2f}{_f(e.precision):>6}{_f(e.recall):>6}"
              f"{_f(e.mean_iou):>6}{f'{e.found}/{e.truth}':>7}{e.selected:>6}", flush=True)
    misplaced = [s for s in segments if s.label not in LABELS]
    if misplaced:
        print(f"  {len(misplaced)} segment(s) without one of the labels: {misplaced}")


# ---------------------------------------------------------------- signals: model, loudness per track, chat

# (name, width, height, fps, face-cam box, backdrop, chat delay s, calm chat rate msg/s): streams
# recorded with OBS's three tracks (mix, mic, game) and a chat replay with its own latency and size.
SIGNAL_STREAMS = [
    ("obs-432p30-chat3s", 768, 432, 30.0, (0.03, 0.04, 0.33, 0.50), "cellauto", 3.0, 0.4),
    ("obs-360p30-chat7s", 640, 360, 30.0, (0.70, 0.52, 0.98, 0.96), "mandelbrot", 7.0, 1.0),
    ("obs-360p25-chat12s", 640, 360, 25.0, (0.72, 0.04, 0.98, 0.46), "testsrc2", 12.0, 2.0),
]
# (row name, --scorer, --audio-track)
SIGNAL_SCORERS = [
    ("model", "model", "auto"),
    ("loudness mix", "loudness", "0"),
    ("loudness mic", "loudness", "auto"),
    ("chat", "chat", "auto"),
    ("model+chat", "model+chat", "auto"),
    ("loudness mic+chat", "loudness+chat", "auto"),
    ("fused (mic)", "fused", "auto"),
    ("model+loudness+chat", "model+loudness+chat", "auto"),
]


def signals_section(args: argparse.Namespace, model: Path | None, cache: Path) -> None:
    """Event precision/recall per scorer on multi-track streams with chat, and chat delays found."""
    streamer = synth.Streamer.from_seed(args.seed)
    rows = [(row, scorer, track) for row, scorer, track in SIGNAL_SCORERS
            if model is not None or ("model" not in scorer and scorer != "fused")]
    pooled = {row: [0, 0, 0, 0] for row, _, _ in rows}
    delays = []
    print(f"\n{'stream':<22}{'scorer':<22}{'AP':>6}{'P':>6}{'R':>6}{'F1':>6}{'found':>7}{'segs':>6}"
          f"{'reel s':>8}")
    for k, (name, width, height, fps, box, backdrop, delay, rate) in enumerate(SIGNAL_STREAMS):
        if args.small:
            name, width, height, fps = f"{name}-small", 320, 180, 15.0
        seconds = args.minutes * 60
        rages = max(2, round(seconds / 40))
        spec = synth.scripted(seconds, seed=args.seed * 1000 + 700 + k, rages=rages, hypes=rages, bangs=rages,
                              flashes=rages, rage_length=(4.0, 9.0), gap=12.0, width=width, height=height,
                              fps=fps, facecam=box, backdrop=backdrop, streamer=streamer,
                              bang_seconds=3.0, bang_level=0.6)  # explosions, on the game track
        vod, truth = args.folder / "signals" / f"{name}.mp4", args.folder / "signals" / f"{name}.toml"
        chat_file = vod.with_suffix(".chat.json")
        if not (vod.exists() and truth.exists() and chat_file.exists()):
            started = time.perf_counter()
            synth.make_stream(vod, spec, preset="ultrafast", tracks=True)
            synth.write_label(spec, vod, truth)
            synth.write_chat(chat_file, spec, synth.ChatSpec(rate=rate, delay=delay, seed=k))
            took = time.perf_counter() - started
            print(f"  made {name} ({seconds / 60:.1f} min, 3 tracks, chat) in {took:.0f}s", flush=True)
        found_box = detect_facecam(vod).box if model is not None else None
        for row, scorer, track in rows:
            options = CompileOptions(vod=vod, model=model, scorer=scorer, facecam=found_box, cache=cache,
                                     chat=chat_file, loudness=LoudnessConfig(track=track),
                                     out_dir=args.folder / "eval-signals" / name / row.replace(" ", "_"))
            result = evaluate_vod(options, truth)
            e = result.events
            counts = (e.hits, e.selected, e.found, e.truth)
            pooled[row] = [a + b for a, b in zip(pooled[row], counts, strict=True)]
            print(f"{name:<22}{row:<22}{_f(result.frames.ap):>6}{_f(e.precision):>6}{_f(e.recall):>6}"
                  f"{_f(e.f1):>6}{f'{e.found}/{e.truth}':>7}{e.selected:>6}{e.reel_seconds:8.1f}", flush=True)
            if row in ("chat", "model+chat"):
                delays.append((name, row, delay, result.resolved["chat"]["delay"]))
    print("\npooled over the OBS streams (events; truth = rages only, chat also answers laughs):")
    for row, (hits, selected, found, total) in pooled.items():
        precision = hits / selected if selected else float("nan")
        recall = found / total if total else float("nan")
        print(f"  {row:<22} precision {precision:.2f} ({hits}/{selected})  "
              f"recall {recall:.2f} ({found}/{total})")
    print("\nchat delay: true (synthetic) vs estimated (chat alone: against loudness; model+chat: the model)")
    for name, row, true, estimated in delays:
        print(f"  {name:<22}{row:<12} true {true:5.1f}s  estimated {estimated:5.1f}s")


if __name__ == "__main__":
    main()
