"""Signals over a VOD's time: the face-cam model's scan, loudness, chat, and their fusion.

Each signal turns a VOD into a `Timeline` of 0..1 scores; `fuse` weighs them into the one
score that selection reads.
May import: `core`, `media`, `pick`, `learn`.
"""
