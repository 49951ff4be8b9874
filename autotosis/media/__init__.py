"""The only package that talks to ffmpeg and ffprobe.

One module per concern: `runner` (finding and running ffmpeg, its errors), `probe`,
`frames` (decoding video into numpy), `audio`, `encode` (cutting, joining, previews),
`vertical` (shorts, stills, loudness) and `synthetic` (writing generated media). Command
lines are built by pure functions (`*_args`) that tests can read without running anything.
Callers import the package: `from autotosis import media`, then `media.probe(...)`.
May import: `core`.
"""

from autotosis.core.errors import MediaError
from autotosis.media.audio import audio_args, audio_chunks, span_audio, span_audio_args
from autotosis.media.encode import (
    PieceEncoding,
    browser_proxy_args,
    concat,
    concat_args,
    concat_list,
    crossfade_args,
    crossfade_graph,
    filter_value,
    make_browser_proxy,
    make_span_preview,
    piece_args,
    seek_lead,
    span_preview_args,
)
from autotosis.media.frames import (
    SPARSE_RATIO,
    Box,
    FrameBatch,
    decode_args,
    frames,
    frames_args,
    pixel_box,
)
from autotosis.media.hwaccel import CPU, DecodePlan, cuvid_input_options, decode_plan
from autotosis.media.keyframes import KeyframeInfo, keyframe_args, keyframe_info
from autotosis.media.probe import AudioTrack, VideoInfo, probe
from autotosis.media.runner import (
    FFmpegProcess,
    Job,
    arg_path,
    check_readable_file,
    explain,
    ffmpeg_bin,
    ffprobe_bin,
    interrupts_held,
    run,
    run_all,
)
from autotosis.media.synthetic import (
    BACKDROPS,
    Audio,
    Backdrop,
    encode_args,
    encode_frames,
    lavfi_vod_args,
    make_lavfi_vod,
    make_tracks_vod,
    replace_audio_args,
    shouts_graph,
    tracks_vod_args,
)
from autotosis.media.vertical import (
    Part,
    Rect,
    ShortEncoding,
    ebur128_args,
    integrated_loudness,
    loudnorm_filter,
    loudnorm_measure,
    loudnorm_measure_args,
    parse_loudnorm,
    short_args,
    short_graph,
    still_args,
)

__all__ = [
    "BACKDROPS", "CPU", "SPARSE_RATIO", "Audio", "AudioTrack", "Backdrop", "Box", "DecodePlan",
    "FFmpegProcess", "FrameBatch", "Job", "KeyframeInfo", "MediaError", "Part", "PieceEncoding", "Rect",
    "ShortEncoding", "VideoInfo", "arg_path", "audio_args", "audio_chunks", "browser_proxy_args",
    "check_readable_file", "concat", "concat_args", "concat_list", "crossfade_args", "crossfade_graph",
    "cuvid_input_options", "decode_args", "decode_plan", "ebur128_args", "encode_args", "encode_frames",
    "explain", "ffmpeg_bin", "ffprobe_bin", "filter_value", "frames", "frames_args",
    "integrated_loudness", "interrupts_held", "keyframe_args", "keyframe_info", "lavfi_vod_args",
    "loudnorm_filter", "loudnorm_measure", "loudnorm_measure_args", "make_browser_proxy",
    "make_lavfi_vod", "make_span_preview", "make_tracks_vod", "parse_loudnorm", "piece_args", "pixel_box",
    "probe", "replace_audio_args", "run", "run_all", "seek_lead", "short_args", "short_graph", "shouts_graph",
    "span_audio", "span_audio_args", "span_preview_args", "still_args", "tracks_vod_args",
]
