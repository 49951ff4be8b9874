"""Picking highlights: a score timeline in, highlight segments out, in plain numpy.

`select` runs smoothing, hysteresis, minimum length, padding, merging and the reel budget;
`highlights` turns the chosen segments into the records every output reads. `suggest`
picks the moments worth a person's answer (`proposals` reads the timelines, `candidates`
holds the records and defaults).
May import: `core`.
"""
