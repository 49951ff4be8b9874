"""autotosis: turn stream VODs into highlight reels of the streamer's big reactions."""

__version__ = "0.1.0"
