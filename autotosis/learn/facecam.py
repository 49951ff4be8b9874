"""Find the face-cam: OpenCV's bundled Haar face detector on frames sampled across a clip."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.core.errors import AutotosisError

Box = tuple[float, float, float, float]

# Detection runs on frames scaled to this width: faces in a face-cam stay well above
# the detector's 30 px minimum, and a 1080p frame costs a ninth of the work.
DETECT_WIDTH = 640
# How far the proposed box reaches beyond the face, as a multiple of the face size:
# a face-cam shows hair, ears and shoulders, and the model benefits from that context.
MARGIN_SIDE = 0.45
MARGIN_TOP = 0.45
MARGIN_BOTTOM = 0.6


@dataclass(frozen=True)
class FacecamGuess:
    """A proposed face-cam box and how much to trust it."""

    box: Box
    face: Box
    frames_with_face: int
    frames_sampled: int
    spread: float  # std of the face centre across frames, as a fraction of the frame width

    @property
    def hit_rate(self) -> float:
        return self.frames_with_face / max(self.frames_sampled, 1)


@functools.cache
def _detector():  # type: ignore[no-untyped-def]
    import cv2

    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        raise AutotosisError(
            "this OpenCV build has no Haar cascades (opencv 5 dropped them): "
            "pip install 'opencv-python-headless<5'"
        )
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
    if cascade.empty():
        raise AutotosisError("OpenCV's haarcascade_frontalface_default.xml could not be loaded")
    return cascade


def faces_in(image: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    """(x, y, w, h, neighbours) of every face Haar finds in an RGB image, most certain first.

    `neighbours` (how many overlapping windows agreed) separates a real face from
    the odd face-like patch far better than size does.
    """
    import cv2

    # No histogram equalisation: over a whole stream frame it is dominated by the
    # game and washes out the face-cam (measured: it hid the test photo's face).
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    found, counts = _detector().detectMultiScale2(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    boxes = [(int(x), int(y), int(w), int(h), int(n))
             for (x, y, w, h), n in zip(found, np.ravel(counts), strict=True)]
    return sorted(boxes, key=lambda b: -b[4])


Detection = tuple[float, float, float, float, int]


def _best_track(detections: list[Detection]) -> list[tuple[float, float, float, float]]:
    """The detections of the one face that is there most often and most certainly.

    Detections (cx, cy, w, h, weight) whose centres lie within half a face of a
    track's first detection join it; the track with the largest total weight wins.
    """
    tracks: list[list[Detection]] = []
    for det in detections:
        for track in tracks:
            cx, cy, w, _h, _n = track[0]
            if abs(det[0] - cx) < w / 2 and abs(det[1] - cy) < w / 2:
                track.append(det)
                break
        else:
            tracks.append([det])
    best = max(tracks, key=lambda t: sum(d[4] for d in t))
    return [d[:4] for d in best]


# Up to this length one decoding pass samples the frames; a longer video (a VOD) is
# sampled by seeking to each point, so detection costs seconds, not a full decode.
SINGLE_PASS_SECONDS = 300.0


def _samples(path: Path | str, info: media.VideoInfo, count: int,
             size: tuple[int, int]) -> Iterator[np.ndarray]:
    """`count` frames spread evenly over the video, scaled to `size`."""
    if info.duration <= SINGLE_PASS_SECONDS:
        for batch in media.frames(path, count / max(info.duration, 1e-3), None, size, info=info):
            yield from batch.images
        return
    for k in range(count):
        at = (k + 0.5) * info.duration / count
        stream = media.frames(path, None, None, size, start=at, end=at + 1.0, info=info, batch_size=1)
        with contextlib.closing(stream):  # one frame is enough: stop ffmpeg right away
            first = next(stream, None)
        if first is not None:
            yield first.images[0]


def _face_track(images: Iterable[np.ndarray]) -> tuple[list[tuple[float, float, float, float]], int]:
    """The detections (cx, cy, w, h as fractions of the image) of the face seen most
    consistently across `images`, and how many images were looked at."""
    detections: list[Detection] = []
    sampled = 0
    for image in images:
        sampled += 1
        height, width = image.shape[:2]
        for x, y, w, h, n in faces_in(image):
            detections.append(((x + w / 2) / width, (y + h / 2) / height, w / width, h / height, n))
    return (_best_track(detections) if detections else []), sampled


def _median_face(track: list[tuple[float, float, float, float]]) -> Box:
    """The face's box (x0, y0, x1, y1): the median centre and size (robust to a missed or wrong frame)."""
    cx, cy = np.median(np.array([d[:2] for d in track]), axis=0)
    fw, fh = np.median(np.array([d[2:] for d in track]), axis=0)
    return (float(cx - fw / 2), float(cy - fh / 2), float(cx + fw / 2), float(cy + fh / 2))


def locate_face(images: Iterable[np.ndarray]) -> Box | None:
    """Where the face is in `images` (x0, y0, x1, y1 as fractions of an image): the one seen
    most consistently, if it is in at least two of them and a fifth; None otherwise."""
    track, sampled = _face_track(images)
    return _median_face(track) if len(track) >= max(2, sampled // 5) else None


def detect_facecam(path: Path | str, samples: int = 24) -> FacecamGuess:
    """Propose a stable face-cam box from the face seen most consistently across the clip.

    AutotosisError when no face is found in enough frames to trust.
    """
    info = media.probe(path)
    width = min(DETECT_WIDTH, info.width)
    height = max(2, round(info.height * width / info.width))
    track, sampled = _face_track(_samples(path, info, samples, (width, height)))
    if len(track) < max(2, sampled // 5):
        raise AutotosisError(
            f"{path}: no face found in enough frames ({len(track)} of {sampled}); "
            "give the box by hand with --facecam x0,y0,x1,y1"
        )
    face = _median_face(track)
    fw, fh = face[2] - face[0], face[3] - face[1]
    box = (
        max(0.0, face[0] - MARGIN_SIDE * fw),
        max(0.0, face[1] - MARGIN_TOP * fh),
        min(1.0, face[2] + MARGIN_SIDE * fw),
        min(1.0, face[3] + MARGIN_BOTTOM * fh),
    )
    spread = float(np.std(np.array([d[0] for d in track])))
    return FacecamGuess(
        box=tuple(round(float(v), 4) for v in box),  # type: ignore[arg-type]
        face=tuple(round(float(v), 4) for v in face),  # type: ignore[arg-type]
        frames_with_face=min(len(track), sampled),
        frames_sampled=sampled,
        spread=round(spread, 4),
    )
