"""Local web pages for labeling clips and reviewing reels (stdlib HTTP server, no build step)."""
