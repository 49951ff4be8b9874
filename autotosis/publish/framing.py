"""Where each part of a vertical short comes from, and where its caption goes.

Pure geometry on pixel rectangles (x, y, w, h): the VOD's for what a part shows, the
short's for where things land. shorts.py measures what it needs (the action, the face)
and encodes.

The gameplay never shows the face-cam a second time: its crop keeps clear of the
face-cam box and a margin around it (FACE_MARGIN: a face-cam's frame or shadow). Where
the crop around the action would take the box in, the largest crop beside, above or
below the box is taken instead (the one nearest the action among equals); only when
every such crop is less than MIN_CROP as tall as the full one (a face-cam that spans the
frame) does the crop stay where it was, with the box hidden under a blurred, darkened
copy of the gameplay, the fill a part that does not fill its band sits on. A crop set by
hand (--game-crop) is shown whole, its overlap with the box masked the same way.

The caption goes inside the area the apps leave uncovered (SAFE), at the highest place
there where it covers neither the face nor a margin around it (HEAD_MARGIN: hair above,
chin below); when the face leaves no such place, where it covers the least.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from autotosis import media
from autotosis.core.errors import AutotosisError

Rect = media.Rect
LAYOUTS = ("stack", "game", "facecam")
FACE_BAND = (0.25, 0.5)  # the face-cam band's share of the height, least and most
# The part of a 9:16 short no app covers, as fractions (x0, y0, x1, y1): Reels' tabs take
# the top 14 % and its description the bottom 35 %, TikTok's buttons the right 12 % and
# its caption the bottom 20 %, Shorts' title the bottom 25 %, all sides 6 %.
SAFE = (0.06, 0.14, 0.88, 0.65)
FACE_MARGIN = 0.02  # around the face-cam box, as a share of the frame's width and height
MIN_CROP = 0.6  # a crop beside the face-cam may be this much as tall as the full one, no less
HEAD_MARGIN = (0.3, 0.5, 0.2)  # around a face, as a share of its size: each side, above, below
CAPTION_SIZE = 1 / 24  # the caption's font size as a share of the short's height
LINE_HEIGHT = 1.3  # a caption line's height (glyphs, outline, shadow) per font size
CHARACTER_WIDTH = 0.62  # an average bold DejaVu Sans character's width per font size


def _intersect(a: Rect, b: Rect) -> Rect | None:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def overlaps(a: Rect, b: Rect) -> bool:
    """Whether two rectangles share any pixels."""
    return _intersect(a, b) is not None


def grow(rect: Rect, left: float, top: float, right: float, bottom: float, bounds: Rect) -> Rect:
    """`rect` grown by so many pixels on each side, inside `bounds`."""
    x0, y0 = max(bounds[0], math.floor(rect[0] - left)), max(bounds[1], math.floor(rect[1] - top))
    x1 = min(bounds[0] + bounds[2], math.ceil(rect[0] + rect[2] + right))
    y1 = min(bounds[1] + bounds[3], math.ceil(rect[1] + rect[3] + bottom))
    return x0, y0, x1 - x0, y1 - y0


def cover(region: Rect, aspect: float, focus_x: int | None) -> Rect:
    """The largest `aspect` (w/h) rectangle inside `region`, centred on `focus_x` where it can move."""
    x, y, w, h = region
    if w / h > aspect:
        cw = max(2, min(w, round(h * aspect)))
        centre = x + w / 2 if focus_x is None else focus_x
        cx = round(min(max(centre - cw / 2, x), x + w - cw))
        return cx, y, cw, h
    ch = max(2, min(h, round(w / aspect)))
    return x, y + (h - ch) // 2, w, ch


def keep_out(face: Rect, frame: tuple[int, int]) -> Rect:
    """The face-cam box and FACE_MARGIN around it: what the gameplay must not show."""
    dx, dy = FACE_MARGIN * frame[0], FACE_MARGIN * frame[1]
    return grow(face, dx, dy, dx, dy, (0, 0, *frame))


def _around(region: Rect, out: Rect) -> list[Rect]:
    """The parts of `region` left of, right of, above and below `out`."""
    x, y, w, h = region
    ox, oy, ow, oh = out
    strips = [(x, y, ox - x, h), (ox + ow, y, x + w - ox - ow, h),
              (x, y, w, oy - y), (x, oy + oh, w, y + h - oy - oh)]
    return [s for s in strips if s[2] >= 2 and s[3] >= 2]


def game_crop(region: Rect, aspect: float, focus_x: int | None, face: Rect | None,
              frame: tuple[int, int]) -> tuple[Rect, Rect | None]:
    """The gameplay's crop of shape `aspect` in `region`, and the part of it to mask (relative
    to the crop), if any: see the module's docstring."""
    full = cover(region, aspect, focus_x)
    out = keep_out(face, frame) if face is not None else None
    if out is None or _intersect(full, out) is None:
        return full, None
    centre = region[0] + region[2] / 2 if focus_x is None else focus_x
    crops = [cover(strip, aspect, focus_x) for strip in _around(region, out)]
    best = max(crops, key=lambda c: (c[2] * c[3], -abs(c[0] + c[2] / 2 - centre)), default=None)
    if best is not None and best[3] >= MIN_CROP * full[3]:
        return best, None
    return full, _mask(full, out)


def _mask(crop: Rect, out: Rect) -> Rect | None:
    hidden = _intersect(crop, out)
    return None if hidden is None else (hidden[0] - crop[0], hidden[1] - crop[1], hidden[2], hidden[3])


def face_band_height(face: Rect, size: tuple[int, int]) -> int:
    """The face-cam band's height: the box's own shape at full width, kept within FACE_BAND."""
    width, height = size
    natural = width * face[3] / face[2]
    band = min(max(natural, FACE_BAND[0] * height), FACE_BAND[1] * height)
    return max(2, round(band / 2) * 2)


def layout_parts(layout: str, size: tuple[int, int], frame: tuple[int, int], face: Rect | None,
                 game: Rect, focus_x: int | None = None, hand_crop: Rect | None = None) -> list[media.Part]:
    """The parts of a short, top to bottom, for `layout` (see shorts.py), the gameplay kept off
    the face-cam; `hand_crop` is the gameplay's crop as --game-crop sets it."""
    width, height = size
    if layout not in LAYOUTS:
        raise AutotosisError(f"unknown layout {layout!r} (use {', '.join(LAYOUTS)})")
    if layout == "game":
        return [_gameplay(height, size, frame, face, game, focus_x, hand_crop)]
    if face is None:
        raise AutotosisError(f"layout {layout} needs the face-cam box: pass --facecam x0,y0,x1,y1")
    if layout == "facecam":
        return [media.Part(face, width, height, fit=True)]
    band = face_band_height(face, size)
    return [media.Part(face, width, band, fit=True),
            _gameplay(height - band, size, frame, face, game, focus_x, hand_crop)]


def _gameplay(band: int, size: tuple[int, int], frame: tuple[int, int], face: Rect | None, game: Rect,
              focus_x: int | None, hand_crop: Rect | None) -> media.Part:
    """The gameplay's part, `band` pixels tall: a crop set by hand shown whole, else game_crop's."""
    if hand_crop is not None:
        mask = _mask(hand_crop, keep_out(face, frame)) if face is not None else None
        return media.Part(hand_crop, size[0], band, fit=True, mask=mask)
    crop, mask = game_crop(game, size[0] / band, focus_x, face, frame)
    return media.Part(crop, size[0], band, fit=False, mask=mask)


def shown(part: media.Part, top: int, rect: Rect) -> Rect:
    """Where `rect` (VOD pixels, inside the part's source) lands in the short, the part's band
    starting `top` pixels down."""
    sx, sy, sw, sh = part.source
    if part.fit:
        kx = ky = min(part.width / sw, part.height / sh)
        ox, oy = (part.width - sw * kx) / 2, top + (part.height - sh * ky) / 2
    else:
        kx, ky, ox, oy = part.width / sw, part.height / sh, 0.0, float(top)
    x, y, w, h = rect
    return round(ox + (x - sx) * kx), round(oy + (y - sy) * ky), round(w * kx), round(h * ky)


def head(face: Rect, facecam: Rect) -> Rect:
    """A detected face with HEAD_MARGIN around it (hair, ears, chin), inside the face-cam box."""
    side, above, below = HEAD_MARGIN
    return grow(face, side * face[2], above * face[3], side * face[2], below * face[3], facecam)


def caption_font(size: tuple[int, int]) -> int:
    return max(10, round(size[1] * CAPTION_SIZE))


def caption_height(text: str, size: tuple[int, int]) -> int:
    """How tall the caption's lines are once the text wraps inside the safe width."""
    font = caption_font(size)
    room = (SAFE[2] - SAFE[0]) * size[0]
    lines = max(1, math.ceil(len(text) * CHARACTER_WIDTH * font / room))
    return math.ceil(lines * LINE_HEIGHT * font)


def caption_top(size: tuple[int, int], height: int, avoid: Sequence[Rect]) -> int:
    """The caption's top edge: the highest inside SAFE where a caption `height` tall covers
    none of `avoid`, else the one that covers the least of them."""
    low, high = round(SAFE[1] * size[1]), max(round(SAFE[1] * size[1]), round(SAFE[3] * size[1]) - height)
    places = {low, *(r[1] + r[3] for r in avoid), *(r[1] - height for r in avoid)}
    candidates = sorted({min(max(y, low), high) for y in places})

    def covered(y: int) -> int:
        return sum(max(0, min(y + height, r[1] + r[3]) - max(y, r[1])) for r in avoid)

    return min(candidates, key=lambda y: (covered(y), y))
