"""`autotosis live`: highlights while the stream is still running.

The compile pipeline fed by a growing source: `follow` reads a recording as it is written
(or one `media.record_args` writes from a stream URL) into the ffmpegs that need it, `score`
turns their output into the signals compile uses (`chat` adds chat's, from a growing log
or a Twitch channel), `pick.online` says which highlights are final, `clips` cuts each
from a replay buffer and logs it in highlights.jsonl (`shorts` makes its vertical short),
`session` runs that loop, and `end` writes compile's own outputs when the stream ends.
`options` holds what a run is given and tells, `resolve` turns a channel page into its
stream URL (yt-dlp), `usage` reads what it all costs in CPU.
Callers import the package: `from autotosis.run.live import run_live`.
"""

from autotosis.run.live.clips import LOG, Clip, read_log
from autotosis.run.live.end import output_folder, run_live
from autotosis.run.live.options import LiveEvents, LiveOptions, LiveResult, Status, source_name

__all__ = ["LOG", "Clip", "LiveEvents", "LiveOptions", "LiveResult", "Status", "output_folder", "read_log",
           "run_live", "source_name"]
