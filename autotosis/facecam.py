"""Find the face-cam: OpenCV's bundled Haar face detector on frames sampled across a clip."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autotosis import media
from autotosis.errors import AutotosisError

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


def faces_in(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) of every face Haar finds in an RGB image, largest first."""
    import cv2

    gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    found = _detector().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    boxes = [tuple(int(v) for v in f) for f in found]
    return sorted(boxes, key=lambda b: -b[2] * b[3])  # type: ignore[return-value]


def detect_facecam(path: Path | str, samples: int = 24) -> FacecamGuess:
    """Propose a stable face-cam box from the largest face in frames spread over the clip.

    The face position is the median over frames (robust to a missed or wrong frame);
    AutotosisError when no face is found in enough frames to trust.
    """
    info = media.probe(path)
    width = min(DETECT_WIDTH, info.width)
    height = max(2, round(info.height * width / info.width))
    fps = samples / max(info.duration, 1e-3)
    centres, sizes, sampled = [], [], 0
    for batch in media.frames(path, fps, None, (width, height), info=info):
        for image in batch.images:
            sampled += 1
            found = faces_in(image)
            if found:
                x, y, w, h = found[0]
                centres.append(((x + w / 2) / width, (y + h / 2) / height))
                sizes.append((w / width, h / height))
    if not centres or len(centres) < max(2, sampled // 5):
        raise AutotosisError(
            f"{path}: no face found in enough frames ({len(centres)} of {sampled}); "
            "give the box by hand with --facecam x0,y0,x1,y1"
        )
    cx, cy = np.median(np.array(centres), axis=0)
    fw, fh = np.median(np.array(sizes), axis=0)
    face = (cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2)
    box = (
        max(0.0, face[0] - MARGIN_SIDE * fw),
        max(0.0, face[1] - MARGIN_TOP * fh),
        min(1.0, face[2] + MARGIN_SIDE * fw),
        min(1.0, face[3] + MARGIN_BOTTOM * fh),
    )
    spread = float(np.std(np.array(centres)[:, 0]))
    return FacecamGuess(
        box=tuple(round(float(v), 4) for v in box),  # type: ignore[arg-type]
        face=tuple(round(float(v), 4) for v in face),  # type: ignore[arg-type]
        frames_with_face=len(centres),
        frames_sampled=sampled,
        spread=round(spread, 4),
    )
