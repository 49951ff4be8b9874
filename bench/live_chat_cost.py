"""What one second of a busy live chat costs: the incremental tally against the full rebuild.

    .venv/bin/python bench/live_chat_cost.py                       # 50 msg/s for 3 h of stream
    .venv/bin/python bench/live_chat_cost.py --rate 20 --hours 1

A synthetic chat (`--rate` messages per stream second, reactions, chatter, bots, commands and
pasted floods, one seeded draw) is fed as fast as it can be. One update is what live does
each second: take in that second's messages and build chat's timeline to the edge. The
tally's update is timed over the first and the last `--sample` seconds; the old way (sort
every message seen, `chat_timeline` on all of them) is timed on a few of the same seconds.
Both give the same timeline (checked at the end); the figures printed are ratios of one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np

from autotosis.signals.chat import ChatConfig, ChatMessage, ChatTally, chat_timeline

TEXTS = ("KEKW", "LUL", "hello chat", "what is he doing", "?????", "!discord", "nice one", "POGGERS",
         "GG", "omg", "so true", "hype hype", "LMAO", "first time here")


def synthetic_second(rng: random.Random, second: int, rate: int, people: int) -> list[ChatMessage]:
    """`rate` messages in one stream second: a reaction burst every 90 s, a pasted flood every 10 min."""
    burst = second % 90 < 4
    flood = second % 600 < 3
    found = []
    for _ in range(rate * (3 if burst else 1)):
        if flood and rng.random() < 0.5:
            text = "raid greeting from the other stream"
        elif burst:
            text = rng.choice(("KEKW", "OMEGALUL", "??????", "LMAO"))
        else:
            text = rng.choice(TEXTS)
        author = "nightbot" if rng.random() < 0.01 else f"viewer{rng.randrange(people)}"
        found.append(ChatMessage(time=second + rng.random(), author=author, text=text))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=50, help="messages per stream second")
    parser.add_argument("--hours", type=float, default=3.0, help="stream length")
    parser.add_argument("--sample", type=int, default=60, help="seconds timed at the start and at the end")
    parser.add_argument("--rebuilds", type=int, default=3, help="full rebuilds timed at each end")
    parser.add_argument("--people", type=int, default=5000, help="distinct chatters")
    args = parser.parse_args()
    config = ChatConfig()
    rng = random.Random(1)
    seconds = int(args.hours * 3600)
    tally = ChatTally(config)
    seen: list[ChatMessage] = []
    tally_early, tally_late, full_early, full_late = [], [], [], []
    began = time.perf_counter()
    for second in range(seconds):
        fresh = synthetic_second(rng, second, args.rate, args.people)
        seen += fresh
        early, late = second < args.sample, second >= seconds - args.sample
        edge = max(0.0, second - 2.5)  # the scored edge, a little behind chat
        if early or late or second % 60 == 0:
            start = time.perf_counter()
            for message in fresh:
                tally.add(message)
            tally.timeline(edge)
            spent = time.perf_counter() - start
            (tally_early if early else tally_late if late else []).append(spent)
        else:
            for message in fresh:
                tally.add(message)
        if (early and second >= args.sample - args.rebuilds) or (late and second >= seconds - args.rebuilds):
            start = time.perf_counter()
            chat_timeline(sorted(seen, key=lambda m: m.time), edge, config)
            (full_early if early else full_late).append(time.perf_counter() - start)
    fed = time.perf_counter() - began
    final = float(seconds)
    same = all(np.array_equal(getattr(tally.timeline(final), name), getattr(
        chat_timeline(sorted(seen, key=lambda m: m.time), final, config), name))
        for name in ("messages", "chatters", "baseline", "score"))

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    print(f"chat: {len(seen):,} messages over {args.hours:g} h ({args.rate}/s, bursts x3), "
          f"fed in {fed:.1f} s")
    print(f"{'per update (median ms)':<28}{'early':>12}{'late':>12}{'late/early':>12}")
    print(f"{'tally (live now)':<28}{ms(tally_early):>12.2f}{ms(tally_late):>12.2f}"
          f"{ms(tally_late) / ms(tally_early):>12.1f}")
    print(f"{'full rebuild (before)':<28}{ms(full_early):>12.2f}{ms(full_late):>12.2f}"
          f"{ms(full_late) / ms(full_early):>12.1f}")
    print(f"{'rebuild / tally':<28}{ms(full_early) / ms(tally_early):>12.1f}"
          f"{ms(full_late) / ms(tally_late):>12.1f}")
    print(f"same timeline at the end: {same}")


if __name__ == "__main__":
    main()
