"""Label files: one human-editable TOML file per clip (the format is in `reading`'s docstring).

Split by what a caller does with them: `reading` (the `LabelFile` record, validation,
loading), `writing` (rendering that keeps comments, the guarded save), `seed` (importing
eqy/autotosis data.csv) and `edits` (`autotosis label`'s add/replace and survey).
Callers import the package: `from autotosis.learn import labels as labels_lib`; `review`
(a reviewed reel's keep/drop as answers) is imported on its own, as it reads compile's output.
"""

from autotosis.learn.labels.edits import LONG_CLIP, LabelStatus, label_clip, merge_review, survey
from autotosis.learn.labels.reading import (
    DEFAULT_LABEL,
    DURATION_SLACK,
    KNOWN_KEYS,
    LABEL_RE,
    Box,
    LabelFile,
    check_calm,
    check_label_name,
    check_segments,
    digest,
    label_path_for,
    load_all,
    load_label,
    make_label_file,
    parse_box,
    parse_segment,
    project_root,
    resolve_clip,
    validate_box,
)
from autotosis.learn.labels.seed import import_seed_csv, parse_seed_row
from autotosis.learn.labels.writing import render_label, save_label

__all__ = [
    "DEFAULT_LABEL", "DURATION_SLACK", "KNOWN_KEYS", "LABEL_RE", "LONG_CLIP", "Box", "LabelFile",
    "LabelStatus", "check_calm", "check_label_name", "check_segments", "digest", "import_seed_csv",
    "label_clip", "label_path_for", "load_all", "load_label", "make_label_file", "merge_review",
    "parse_box", "parse_seed_row", "parse_segment", "project_root", "render_label", "resolve_clip",
    "save_label", "survey", "validate_box",
]
