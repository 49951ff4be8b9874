"""Speech captions: how well the bundled tiny.en hears a streamer, how fast, and what captions cost.

    .venv/bin/python bench/captions.py                    # clean and noisy speech, 1080x1920 shorts
    .venv/bin/python bench/captions.py --snr 5 --asr-model small.en

espeak-ng says known sentences (each word timed to the sample, see demo/synth/speech.py)
in a VOD, clean and over game noise `--snr` dB under the voice. Reported: the word error
rate, x real time of the transcription (model already loaded, no cache), how far the
heard words' starts and ends are from the true ones, and what a second of short costs
with speech captions added (the transcription of its span included) against the same short
with only the label caption, rendered side by side in one run.
"""

from __future__ import annotations

import argparse
import difflib
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from autotosis.core.timeline import Segment
from autotosis.core.transcript import Word
from autotosis.demo.synth.speech import speaking_vod
from autotosis.pick.highlights import highlights
from autotosis.publish import shorts
from autotosis.run.compile.speech import start_words
from autotosis.signals import speech

SENTENCES = [
    "we need to push the base right now",
    "that was the worst game i have ever played",
    "come on give me the win please",
    "no way he just did that to me",
    "chat did you see that crazy play",
    "i am never playing this map again",
]
GAP = 4.0  # seconds between one sentence's start and the next's end


def _norm(text: str) -> str:
    return re.sub(r"[^a-z']", "", text.lower())


def word_error_rate(heard: list[str], truth: list[str]) -> float:
    """(substitutions + deletions + insertions) / words said: the edit distance over words."""
    previous = list(range(len(heard) + 1))
    for i, want in enumerate(truth, 1):
        current = [i]
        for j, got in enumerate(heard, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (want != got)))
        previous = current
    return previous[-1] / max(1, len(truth))


def _lines() -> tuple[list[tuple[float, str]], list[tuple[float, float]], float]:
    lines, spans, at = [], [], 1.0
    for sentence in SENTENCES:
        length = 0.45 * len(sentence.split()) + 0.5
        lines.append((at, sentence))
        spans.append((max(0.0, at - 1.0), at + length + 1.0))
        at += length + GAP
    return lines, spans, at + 1.0


def hear(folder: Path, snr: float | None, config: speech.SpeechConfig) -> dict[str, float]:
    """Word error rate, x real time and edge errors for one VOD of SENTENCES."""
    lines, spans, duration = _lines()
    vod = folder / f"talk-{snr}.mp4"
    truth = speaking_vod(vod, lines, duration, snr)
    speech.transcribe_spans(vod, [(0.0, 1.0)], 0, config, folder / "warm")  # load the model first
    started = time.perf_counter()
    words, _ = speech.transcribe_spans(vod, spans, 0, config, folder / f"cache-{snr}")
    seconds = time.perf_counter() - started
    heard = [w for span in words for w in span]
    a, b = [_norm(w.text) for w in heard], [_norm(w.text) for w in truth]
    pairs: list[tuple[Word, Word]] = []
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        pairs += [(heard[block.a + k], truth[block.b + k]) for k in range(block.size)]
    starts = np.array([abs(h.start - t.start) for h, t in pairs])
    ends = np.array([abs(h.end - t.end) for h, t in pairs])
    return {"wer": word_error_rate(a, b), "speed": sum(b - a for a, b in spans) / seconds,
            "start_median": float(np.median(starts)), "start_within": float((starts <= 0.3).mean()),
            "end_median": float(np.median(ends)), "end_within": float((ends <= 0.3).mean())}


def short_cost(folder: Path, size: tuple[int, int], config: speech.SpeechConfig,
               repeats: int) -> dict[str, float]:
    """Seconds of render per second of short: the label caption alone (today's short), and with
    the speech captions too (its spans' transcription included)."""
    lines, spans, duration = _lines()
    vod = folder / "shorts.mp4"
    speaking_vod(vod, lines, duration, 10.0, size=(1280, 720), fps=30)
    items = highlights([Segment(a, b) for a, b in spans[:2]], "bench")
    seconds = sum(item.segment.duration for item in items)
    speech.transcribe_spans(vod, [(0.0, 1.0)], 0, config, folder / "warm")  # the model loads once per process
    costs: dict[str, list[float]] = {"label": [], "both": []}
    for k in range(repeats):
        for mode in costs:  # side by side, so the machine's load weighs on both alike
            look = shorts.ShortsConfig(size=size, layout="game", captions=mode, jobs=1)
            started = time.perf_counter()
            words = None
            if mode == "both":  # as compile and `autotosis shorts` do: heard while the shorts are planned
                words = start_words(vod, [i.segment for i in items], 0, config, folder / f"cost-cache-{k}",
                                    print)
            shorts.make_shorts(vod, items, folder / f"{mode}-{k}", look, None, words=words)
            costs[mode].append((time.perf_counter() - started) / seconds)
    plain, captioned = float(np.median(costs["label"])), float(np.median(costs["both"]))
    return {"plain": plain, "captioned": captioned, "ratio": captioned / plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snr", type=float, default=10.0, help="dB of voice over the game noise (noisy run)")
    parser.add_argument("--asr-model", help="--asr-model to measure (default: the bundled tiny.en)")
    parser.add_argument("--shorts-size", default="1080x1920")
    parser.add_argument("--repeats", type=int, default=2, help="renders of each kind (the median counts)")
    args = parser.parse_args()
    config = speech.SpeechConfig(model=args.asr_model)
    size = shorts.parse_size(args.shorts_size)
    with tempfile.TemporaryDirectory(prefix="autotosis-bench-") as tmp:
        folder = Path(tmp)
        print(f"model: {speech.resolve_model(args.asr_model).name}, {len(SENTENCES)} sentences")
        for name, snr in (("clean", None), (f"noisy ({args.snr:g} dB)", args.snr)):
            got = hear(folder, snr, config)
            print(f"{name:>16}: WER {got['wer']:.1%}, {got['speed']:.1f}x real time; word starts "
                  f"median {got['start_median']:.2f} s off, {got['start_within']:.0%} within 0.3 s; ends "
                  f"{got['end_median']:.2f} s, {got['end_within']:.0%}")
        cost = short_cost(folder, size, config, args.repeats)
        print(f"shorts {size[0]}x{size[1]}: {cost['plain']:.2f} s per second with the label caption, "
              f"{cost['captioned']:.2f} s with speech captions too: {cost['ratio']:.2f}x")


if __name__ == "__main__":
    main()
