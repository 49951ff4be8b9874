"""What a user takes away: the reel, shorts, thumbnails, editor files, sidecars and plots.

Every output reads the same highlight records and timelines; none of them scores anything.
May import: `core`, `media`, `pick`, `learn`.
"""
