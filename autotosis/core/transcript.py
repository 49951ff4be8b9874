"""Spoken words with their times: what speech recognition finds and every caption reads.

Here, on the ground floor, because the speech signal writes them and the publishing
outputs (captions, subtitles, titles, the review page) read them, and neither may
import the other. `transcript.json` is one entry per highlight: its span and words.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autotosis.core.errors import AutotosisError
from autotosis.core.fsutil import atomic_write_text

TRANSCRIPT_FILE = "transcript.json"


@dataclass(frozen=True)
class Word:
    """One spoken word: its text and when it is said, in VOD seconds."""

    text: str
    start: float
    end: float
    probability: float = 1.0

    def shifted(self, offset: float) -> Word:
        """The same word on another clock (a short's or the reel's)."""
        return Word(self.text, self.start + offset, self.end + offset, self.probability)

    def to_dict(self) -> dict[str, object]:
        return {"word": self.text, "start": round(self.start, 3), "end": round(self.end, 3),
                "probability": round(self.probability, 3)}


def words_in(words: Sequence[Word], start: float, end: float) -> list[Word]:
    """The words said inside [start, end) (by their middle), clipped to it."""
    return [Word(w.text, max(w.start, start), min(w.end, end), w.probability)
            for w in words if start <= (w.start + w.end) / 2 < end]


def first_words(words: Sequence[Word], limit: int = 40) -> str:
    """The opening words of a highlight, whole words up to `limit` characters: a title's hook."""
    text = ""
    for word in words:
        joined = f"{text} {word.text}".strip()
        if len(joined) > limit and text:
            return text + "\u2026"
        text = joined
    return text


def transcript_json(spans: Sequence[tuple[float, float]], words: Sequence[Sequence[Word]], model: str) -> str:
    """transcript.json: per highlight its span and its words (start, end, probability)."""
    rows = [{"index": k, "start": round(a, 3), "end": round(b, 3), "text": " ".join(w.text for w in said),
             "words": [w.to_dict() for w in said]}
            for k, ((a, b), said) in enumerate(zip(spans, words, strict=True))]
    return json.dumps({"model": model, "highlights": rows}, indent=1) + "\n"


def write_transcript(path: Path, spans: Sequence[tuple[float, float]], words: Sequence[Sequence[Word]],
                     model: str) -> Path:
    atomic_write_text(path, transcript_json(spans, words, model))
    return path


def read_transcript(path: Path) -> list[tuple[float, float, list[Word]]]:
    """(start, end, words) per highlight of a transcript.json; AutotosisError when unreadable."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["highlights"]
        return [(float(r["start"]), float(r["end"]),
                 [Word(str(w["word"]), float(w["start"]), float(w["end"]), float(w.get("probability", 1)))
                  for w in r["words"]]) for r in rows]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AutotosisError(f"{path}: cannot read ({exc})") from None


def spoken_between(path: Path, start: float, end: float) -> list[Word] | None:
    """The words a transcript.json holds inside [start, end); None when it has no span covering it."""
    if not path.exists():
        return None
    for a, b, said in read_transcript(path):
        if a <= start + 1e-3 and end <= b + 1e-3:
            return words_in(said, start, end)
    return None
