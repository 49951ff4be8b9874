"""Captions: the label/time title and the spoken words, as ASS to burn in and SRT/VTT beside.

Speech captions show a few words at a time (a phrase: at most WORDS_ON_SCREEN words,
PHRASE_CHARS characters, broken at a pause or the end of a sentence), the word being said
in SPOKEN colour and a little larger, as clip editors burn them in. The burnt-in ones go
through libass (the `ass` filter, see media.burn_in_filter) in the project's DejaVu Sans.
On a short they are placed by the label caption's rule (framing.caption_top): inside the
apps' safe area, off the face, and off the label when both are shown. The same phrases
become SRT and WebVTT cues for the players and platforms that take subtitle files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autotosis.core.errors import AutotosisError
from autotosis.core.transcript import Word
from autotosis.publish import framing

CAPTIONS = ("label", "speech", "both", "none")  # --captions
FONT = "DejaVu Sans"
WORDS_ON_SCREEN = 3  # words of a phrase: read at a glance, big enough on a phone
PHRASE_CHARS = 22  # characters of a phrase, spaces included
PAUSE = 0.5  # seconds of silence that end a phrase
HOLD = 0.6  # a phrase stays this long after its last word unless the next one starts
SPOKEN = "&H0000E6FF&"  # the word being said: yellow (ASS colours are &HBBGGRR&)
SPOKEN_SCALE = 112  # ... and this much larger, in percent
SPEECH_SIZE = 1.25  # the speech caption's font size per the label caption's
SENTENCE_END = (".", "?", "!", "\u2026")


def check_captions(captions: str) -> None:
    if captions not in CAPTIONS:
        raise AutotosisError(f"unknown captions {captions!r} (use {', '.join(CAPTIONS)})")


def shows_label(captions: str) -> bool:
    return captions in ("label", "both")


def shows_speech(captions: str) -> bool:
    return captions in ("speech", "both")


@dataclass(frozen=True)
class Cue:
    """A phrase on screen: from its first word until HOLD after its last (or the next phrase)."""

    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def phrases(words: Sequence[Word], max_words: int = WORDS_ON_SCREEN, max_chars: int = PHRASE_CHARS,
            pause: float = PAUSE) -> list[list[Word]]:
    """The words grouped as they are shown together."""
    out: list[list[Word]] = []
    for word in words:
        last = out[-1] if out else None
        if last is None or len(last) >= max_words or word.start - last[-1].end > pause \
                or last[-1].text.endswith(SENTENCE_END) \
                or len(" ".join(w.text for w in [*last, word])) > max_chars:
            out.append([word])
        else:
            last.append(word)
    return out


def cues(words: Sequence[Word], hold: float = HOLD) -> list[Cue]:
    """Each phrase with the time it is on screen; one phrase never overlaps the next."""
    groups = phrases(words)
    out = []
    for k, group in enumerate(groups):
        end = group[-1].end + hold
        if k + 1 < len(groups):
            end = min(end, groups[k + 1][0].start)
        out.append(Cue(group[0].start, max(end, group[-1].end), tuple(group)))
    return out


def ass_time(seconds: float) -> str:
    centis = max(0, round(seconds * 100))
    hours, rest = divmod(centis, 360000)
    minutes, rest = divmod(rest, 6000)
    return f"{hours}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"


def ass_text(text: str) -> str:
    """Plain text for an ASS event: braces start override blocks and backslashes escapes."""
    return text.replace("\\", "/").replace("{", "(").replace("}", ")").replace("\n", " ")


STYLE_FORMAT = ("Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
                "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
                "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding")
EVENT_FORMAT = "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"


def style(name: str, size: int, alignment: int, left: int, right: int, vertical: int,
          back: str = "&H80000000") -> str:
    """A bold white outlined ASS style; `alignment` is the numpad's (8: top centre, 2: bottom centre)."""
    return (f"Style: {name},{FONT},{size},&H00FFFFFF,&H00FFFFFF,&H00000000,{back},-1,0,0,0,100,100,0,0,"
            f"1,{max(1, size // 12)},{max(1, size // 20)},{alignment},{left},{right},{vertical},1")


def ass_document(width: int, height: int, styles: Sequence[str], events: Sequence[str]) -> str:
    return ("[Script Info]\nScriptType: v4.00+\nWrapStyle: 0\nScaledBorderAndShadow: yes\n"
            f"PlayResX: {width}\nPlayResY: {height}\n\n[V4+ Styles]\n{STYLE_FORMAT}\n"
            + "".join(s + "\n" for s in styles) + f"\n[Events]\n{EVENT_FORMAT}\n" + "".join(events))


def speech_events(words: Sequence[Word], style_name: str, offset: float = 0.0) -> list[str]:
    """Dialogue lines for `words` on a clock where VOD time `offset` is 0: each phrase shown
    whole, one event per word with that word highlighted while it is said."""
    lines = []
    for cue in cues(words):
        for k, word in enumerate(cue.words):
            start = cue.start if k == 0 else word.start
            end = cue.end if k + 1 == len(cue.words) else cue.words[k + 1].start
            text = " ".join(
                f"{{\\c{SPOKEN}\\fscx{SPOKEN_SCALE}\\fscy{SPOKEN_SCALE}}}{ass_text(w.text)}{{\\r}}" if j == k
                else ass_text(w.text) for j, w in enumerate(cue.words))
            if end - offset > 0 and end > start:
                lines.append(f"Dialogue: 1,{ass_time(start - offset)},{ass_time(end - offset)},"
                             f"{style_name},,0,0,0,,{text}\n")
    return lines


def speech_height(size: tuple[int, int]) -> int:
    """The room a short keeps for the speech caption: a phrase of PHRASE_CHARS, wrapped in the safe width."""
    return round(framing.caption_height("x" * PHRASE_CHARS, size) * SPEECH_SIZE * SPOKEN_SCALE / 100)


def places(size: tuple[int, int], title: str | None, speech: bool,
           avoid: Sequence[framing.Rect]) -> tuple[int, int]:
    """(the title's top, the speech caption's top) on a short: each where framing.caption_top puts
    it, the title first, the speech off the title as well as the face."""
    taken = list(avoid)
    title_top = 0
    if title is not None:
        height = framing.caption_height(title, size)
        title_top = framing.caption_top(size, height, taken)
        taken.append((0, title_top, size[0], height))
    speech_top = framing.caption_top(size, speech_height(size), taken) if speech else 0
    return title_top, speech_top


def short_ass(size: tuple[int, int], title: str | None, title_top: int, words: Sequence[Word] | None,
              speech_top: int, offset: float) -> str:
    """The caption file of a short: the title at `title_top` for the whole short (None: no title),
    the spoken words at `speech_top` on the short's clock (its first frame is VOD time `offset`)."""
    width, height = size
    font = framing.caption_font(size)
    left, right = round(width * framing.SAFE[0]), round(width * (1 - framing.SAFE[2]))
    styles = [style("Title", font, 8, left, right, title_top),
              style("Speech", round(font * SPEECH_SIZE), 8, left, right, speech_top, back="&HA0000000")]
    events = []
    if title is not None:
        events.append(f"Dialogue: 0,{ass_time(0)},{ass_time(36000)},Title,,0,0,0,,{ass_text(title)}\n")
    if words:
        events += speech_events(words, "Speech", offset)
    return ass_document(width, height, styles, events)


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3600000)
    minutes, rest = divmod(rest, 60000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"


def srt_text(items: Sequence[Cue]) -> str:
    """SubRip: numbered cues, `00:00:01,250 --> 00:00:02,000`."""
    return "".join(f"{k}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text}\n\n"
                   for k, c in enumerate(items, start=1))


def vtt_text(items: Sequence[Cue]) -> str:
    """WebVTT, as browsers' <track> and the platforms read it."""
    return "WEBVTT\n\n" + "".join(f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{c.text}\n\n"
                                  for c in items)


def shifted(items: Sequence[Cue], offset: float, start: float = 0.0, end: float = float("inf")) -> list[Cue]:
    """Cues moved by `offset` seconds and clipped to [start, end) of the new clock."""
    out = []
    for c in items:
        a, b = max(start, c.start + offset), min(end, c.end + offset)
        if b > a:
            out.append(Cue(a, b, tuple(w.shifted(offset) for w in c.words)))
    return out


def reel_cues(spans: Sequence[tuple[float, float]], words: Sequence[Sequence[Word]],
              positions: Sequence[float]) -> list[Cue]:
    """The cues of every highlight on the reel's clock: span k starts at `positions[k]`
    (sidecars.reel_positions); a cue never runs into the next highlight."""
    out: list[Cue] = []
    for k, ((a, b), said, at) in enumerate(zip(spans, words, positions, strict=True)):
        limit = positions[k + 1] if k + 1 < len(positions) else at + b - a
        out += shifted(cues(said), at - a, at, limit)
    return out
