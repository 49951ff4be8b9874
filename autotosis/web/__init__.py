"""Local web pages for labeling clips, reviewing reels and following a live stream (stdlib HTTP
server, no build step).

`server` is the small HTTP app with its token rules, `proxy` the browser-playable previews,
`labeler`, `review` and `live` the pages (`review_files` reads what compile left for the
review); their HTML, JS and CSS sit in `static/`.
May import: `run` and every stage below it; never `demo` or `cli`.
"""
