"""Local web pages for labeling clips and reviewing reels (stdlib HTTP server, no build step).

`server` is the small HTTP app with its token rules, `proxy` the browser-playable previews,
`labeler` and `review` the two pages (`review_files` reads what compile left for the latter);
their HTML, JS and CSS sit in `static/`.
May import: `run` and every stage below it; never `demo` or `cli`.
"""
