"""Learning curve: events found on a held-out stream against the number of answers given.

Two generated VODs of one synthetic streamer: answers are given on the first, the model is
judged on the second. Two ways to spend the answers, side by side in one run:
- suggest: `autotosis suggest` picks the next 5 questions (loudness and chat before there
  is a model, then the model's doubts, confirms and possible misses);
- random: 5 windows of the same length placed at random where nothing was asked yet.
Each answer is given from the truth as a person would (the rage marked whole, the rest of
the window calm); after every 5 answers the model is retrained (`autotosis train`, which
warm-starts when the labels only grew) and the held-out VOD is compiled with the model alone.

    python bench/learning_curve.py                      # 5-minute VODs, 4 rounds of 5 answers
    python bench/learning_curve.py --rounds 6 --minutes 8
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from autotosis.core.errors import AutotosisError
from autotosis.core.timeline import Segment
from autotosis.demo.demo import FACECAM
from autotosis.demo.learn import LABEL, LearnConfig, answer, make_vod
from autotosis.learn import labels as labels_lib
from autotosis.learn.train import train
from autotosis.learn.trainconfig import TrainConfig
from autotosis.pick.suggest import Candidate, SuggestConfig
from autotosis.run.compile import CompileOptions, compile_vod
from autotosis.run.evaluate import MIN_OVERLAP, event_metrics
from autotosis.run.suggest import SuggestOptions, suggest

WINDOW = 10.0  # seconds, as suggest's windows (SuggestConfig.before + after)


def random_candidates(count: int, duration: float, taken: list[Segment],
                      rng: np.random.Generator) -> list[Candidate]:
    """`count` windows at random, clear of every span already asked about."""
    found: list[Candidate] = []
    for _ in range(1000):
        if len(found) == count:
            break
        start = float(rng.uniform(0, duration - WINDOW))
        end = start + WINDOW
        if any(start < t.end and t.start < end for t in [*taken, *(c.span for c in found)]):
            continue
        found.append(Candidate(start, end, "random", 0.0, LABEL, "calm"))
    return found


def run(strategy: str, config: LearnConfig, rounds: int, per_round: int, work: Path,
        seed: int = 0) -> list[dict]:
    vod, truth = make_vod(work, "answered", config, seed=11 + 10 * seed)
    held, held_truth = make_vod(work, "heldout", config, seed=12 + 10 * seed)
    folder = work / strategy
    labels_dir, model, cache = folder / "labels", folder / "models" / f"{LABEL}.pt", work / "cache"
    rng = np.random.default_rng(seed)
    asked: list[Segment] = []
    rows = []
    for round_ in range(1, rounds + 1):
        if strategy == "suggest":
            options = SuggestOptions(label=LABEL, model=model if model.exists() else "none",
                                     labels_dir=labels_dir, cache=cache,
                                     config=SuggestConfig(count=per_round, dense=config.dense))
            candidates = suggest(vod, options)
        else:
            candidates = random_candidates(per_round, config.vod_seconds, asked, rng)
        for c in candidates:
            given = answer(c, truth)
            labels_lib.merge_review(vod, labels_dir, LABEL, given.positives, given.calm, facecam=FACECAM)
            asked.append(c.span)
        label = labels_lib.load_label(labels_lib.label_path_for(vod, labels_dir))
        row = {"answers": len(asked), "rages": len(label.segments), "train_s": 0.0,
               "precision": 0.0, "recall": 0.0}
        started = time.perf_counter()
        try:
            train(TrainConfig(labels_dir=labels_dir, out=model, size=config.size, epochs=config.epochs,
                              seed=0, cpu=True, cache=cache))
        except AutotosisError as exc:  # no rage answered yet: nothing to learn
            row["note"] = str(exc).split(":")[-1].strip()[:40]
            rows.append(row)
            continue
        row["train_s"] = time.perf_counter() - started
        # The model alone picks the held-out highlights: chat would find the rages by itself and
        # hide what the answers taught.
        compiled = compile_vod(CompileOptions(vod=held, out_dir=folder / "output" / f"round{round_}",
                                              model=model, scorer="model", force=True, cache=cache,
                                              shorts=None))
        found = event_metrics(held_truth, compiled.segments, MIN_OVERLAP)
        row.update(precision=found.precision, recall=found.recall, found=f"{found.found}/{found.truth}")
        rows.append(row)
        print(f"  {strategy:<8} {row}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="length of each generated VOD")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-round", type=int, default=5)
    parser.add_argument("--folder", type=Path, help="keep the work here (default: a temp folder)")
    parser.add_argument("--seed", type=int, default=0, help="another pair of VODs of the same streamer")
    args = parser.parse_args()
    config = dataclasses.replace(LearnConfig(), vod_seconds=args.minutes * 60,
                                 moments=max(3, round(args.minutes * 1.2)))
    work = args.folder or Path(tempfile.mkdtemp(prefix="learning-curve-"))
    try:
        table = {s: run(s, config, args.rounds, args.per_round, work, args.seed)
                 for s in ("suggest", "random")}
    finally:
        if args.folder is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{config.moments} rages per {args.minutes:g}-min VOD; precision / recall on the held-out VOD")
    print(f"{'round':>5}  {'suggest':>38}  {'random':>38}")
    for round_, (a, b) in enumerate(zip(table["suggest"], table["random"], strict=True), 1):
        def cell(r: dict) -> str:  # suggest may run out of questions before a round is full
            head = f"{r['answers']:>2} answers, {r['rages']} marked: "
            return head + (f"{r['precision']:.2f} / {r['recall']:.2f} ({r.get('found', '-')})"
                           if "note" not in r else "no model")
        print(f"{round_:>5}  {cell(a):>38}  {cell(b):>38}")


if __name__ == "__main__":
    main()
