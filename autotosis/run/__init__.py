"""Running the pipeline: compile one VOD, evaluate it against the truth, batches, Ray, links.

`compile` wires signals -> pick -> publish for one VOD; `batch` and `raybatch` run that same
function over many; `evaluate` scores it against known moments (with the pure metrics of
`eval_metrics`); `download` fetches links.
May import: every stage below it (`core`, `media`, `pick`, `learn`, `signals`, `publish`).
"""
