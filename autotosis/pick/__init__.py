"""Picking highlights: a score timeline in, highlight segments out, in plain numpy.

`select` runs smoothing, hysteresis, minimum length, padding, merging and the reel budget;
`highlights` turns the chosen segments into the records every output reads.
May import: `core`.
"""
