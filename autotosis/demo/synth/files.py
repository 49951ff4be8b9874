"""Synthetic streams on disk: the video file, its label, and moments scripted into a spec.

Apart from `stream` because these are the parts that touch ffmpeg, label files and chance
(a repeatable plan of when things happen), while `stream` stays pure functions of time.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.timeline import Segment
from autotosis.demo.synth.stream import (
    AUDIO_RATE,
    OBS_TRACKS,
    StreamSpec,
    audio_chunks,
    facecam_frames,
)
from autotosis.learn.labels import LabelFile, save_label

# ---------------------------------------------------------------- files


def inset_pixels(spec: StreamSpec) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the face-cam inset; even sizes keep every encoder happy."""
    x, y, w, h = media.pixel_box(spec.facecam, spec.width, spec.height, "synthetic stream")
    return x, y, w - w % 2, h - h % 2


def make_stream(path: Path | str, spec: StreamSpec, crf: int = 23, preset: str = "veryfast",
                tracks: bool = False, gop_seconds: float = 2.0) -> Path:
    """Write the stream to `path` (atomically): generated game scene, drawn face-cam, sound.

    Keyframes every `gop_seconds` (two, as streaming software writes them; local
    recordings often have 5-10). With `tracks`, three audio tracks as OBS records them
    (OBS_TRACKS: the mix, the mic alone, the game alone).
    """
    x, y, w, h = inset_pixels(spec)
    backdrop = media.Backdrop(spec.backdrop, spec.width, spec.height, x, y, spec.seed)
    extra = [(title, audio_chunks(spec, track=track)) for title, track in OBS_TRACKS[1:]] if tracks else []
    return media.encode_frames(path, facecam_frames(spec, w, h), spec.fps, audio=audio_chunks(spec),
                               sample_rate=AUDIO_RATE, crf=crf, preset=preset,
                               gop=max(1, round(gop_seconds * spec.fps)), backdrop=backdrop,
                               audio_title=OBS_TRACKS[0][0] if tracks else None, more_audio=extra)


# ---------------------------------------------------------------- scripted moments


def scripted(duration: float, seed: int, rages: int, hypes: int = 0, bangs: int = 0, flashes: int = 0,
             rage_length: tuple[float, float] = (3.0, 8.0), hype_length: tuple[float, float] = (2.0, 4.0),
             gap: float = 2.0, **spec_fields: object) -> StreamSpec:
    """A StreamSpec with moments in a random (but repeatable) order and at random times.

    Moments never overlap. Two rages keep `gap` seconds apart (so each is its own
    highlight); laughs, bangs and flashes sit between them a little apart from
    everything, so every loud or red moment that is not rage is a trap for a shortcut.
    The calm time left over is shared out at random between the moments.
    """
    rng = np.random.default_rng([seed, 31])
    near = min(gap, 1.0)
    moments = ([("rage", float(rng.uniform(*rage_length))) for _ in range(rages)]
               + [("hype", float(rng.uniform(*hype_length))) for _ in range(hypes)]
               + [("bang", 1.2) for _ in range(bangs)]
               + [("flash", float(rng.uniform(1.0, 2.5))) for _ in range(flashes)])
    order = [moments[i] for i in rng.permutation(len(moments))]
    between = [gap if a == b == "rage" else near for (a, _), (b, _) in itertools.pairwise(order)]
    spacers = [near, *between, near]
    slack = duration - sum(length for _, length in order) - sum(spacers)
    if slack < 0:
        raise ValueError(f"{len(order)} moments need {duration - slack:.1f}s but the stream is "
                         f"{duration:g}s: make it longer or ask for fewer")
    extra = rng.dirichlet(np.ones(len(spacers))) * slack
    placed: dict[str, list[Segment]] = {"rage": [], "hype": [], "bang": [], "flash": []}
    at = 0.0
    for k, (kind, length) in enumerate(order):
        at += spacers[k] + float(extra[k])
        placed[kind].append(Segment(round(at, 2), round(at + length, 2)))
        at += length
    spec = StreamSpec(duration=duration, seed=seed, rage=tuple(placed["rage"]), hype=tuple(placed["hype"]),
                      bangs=tuple(s.start for s in placed["bang"]), flashes=tuple(placed["flash"]))
    return replace(spec, **spec_fields)  # type: ignore[arg-type]


def write_label(spec: StreamSpec, clip: Path, label_path: Path, label: str = "rage",
                box_jitter: float = 0.0) -> Path:
    """The label file a person would write for this stream: its rage segments and face-cam box.

    `box_jitter` moves the box edges by up to that fraction, as a hand-drawn box would be.
    """
    rng = np.random.default_rng([spec.seed, 41])
    box = tuple(float(np.clip(v + rng.uniform(-box_jitter, box_jitter), 0.0, 1.0)) for v in spec.facecam)
    segments = tuple(Segment(round(s.start, 2), round(s.end, 2)) for s in spec.rage)
    return save_label(LabelFile(clip=clip, facecam=box, label=label, segments=segments), label_path)  # type: ignore[arg-type]
