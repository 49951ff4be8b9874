"""The compile pipeline: VOD -> scores -> segments -> reel + sidecars, as one function.

`compile_vod` takes plain values (a `CompileOptions`) and returns a `CompileResult`;
the CLI and the demo call it the same way. Its first half, `score_vod` (scorer, scan,
loudness, score) plus `selection_config`, is what `autotosis eval` reuses without
rendering. Progress and notes go through a `CompileEvents` object, never to the terminal.

Output folder (default output/<vod stem>/): reel.mp4, scores.csv (the score the
segments were chosen on), loudness.csv, segments.json, chapters.txt, reel.edl,
reel.otio / .fcpxml / .xml / .xges / .mlt (editor timelines), thumbs/ (peak frames and a
contact sheet), shorts/ (with `shorts`), timeline.png and options.json (every resolved
option, enough to render again).

One module per half: `options` (what both halves and every caller take), `scoring` (the
first half) and `pipeline` (selection, rendering, sidecars). Callers import the package:
`from autotosis.run.compile import compile_vod`.
"""

from autotosis.run.compile.options import (
    FUSE_WEIGHT,
    SCORERS,
    CompileEvents,
    CompileOptions,
    default_model,
    output_dir,
)
from autotosis.run.compile.pipeline import (
    CompileResult,
    compile_vod,
    on_frames,
    publish_scored,
    rerender,
    select_highlights,
    selection_config,
)
from autotosis.run.compile.scoring import (
    CHAT_DELAY_SLACK,
    CHAT_HINT,
    LOUDNESS_HINT,
    Scored,
    chosen_labels,
    read_models,
    scan_hints,
    score_vod,
    write_columns,
    write_scores,
)

__all__ = [
    "CHAT_DELAY_SLACK", "CHAT_HINT", "FUSE_WEIGHT", "LOUDNESS_HINT", "SCORERS", "CompileEvents",
    "CompileOptions", "CompileResult", "Scored", "chosen_labels", "compile_vod", "default_model", "on_frames",
    "output_dir", "publish_scored", "read_models", "rerender", "scan_hints", "score_vod", "select_highlights",
    "selection_config", "write_columns", "write_scores",
]
