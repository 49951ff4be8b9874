"""Writing generated media: piped frames over lavfi backdrops, and long test-pattern VODs."""

from __future__ import annotations

import tempfile
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg
import numpy as np

from autotosis.core.errors import MediaError
from autotosis.core.frames import rate_text
from autotosis.core.fsutil import atomic_path
from autotosis.media.runner import FFmpegProcess, arg_path, run

# Moving, game-like scenes from ffmpeg's own generators, drawn at a quarter of the
# size and scaled up with hard pixels: cheap at any resolution and busy enough that
# a face-cam box which strays into the game sees motion, as it would on a stream.
BACKDROPS = {
    "life": "life=size={qw}x{qh}:rate={fps}:ratio=0.12:mold=4:seed={seed}"
            ":life_color=#e8d060:death_color=#1c2438:mold_color=#3c5a48,scale={w}:{h}:flags=neighbor",
    "cellauto": "cellauto=size={qw}x{qh}:rate={fps}:rule=110:seed={seed},"
                "colorchannelmixer=rr=0.3:gg=0.6:bb=0.9,scale={w}:{h}:flags=neighbor",
    "mandelbrot": "mandelbrot=size={qw}x{qh}:rate={fps}:start_scale={zoom},scale={w}:{h}",
    "testsrc2": "testsrc2=size={w}x{h}:rate={fps}",
}


@dataclass(frozen=True)
class Backdrop:
    """A generated full-frame scene with the piped picture overlaid at (x, y)."""

    kind: str
    width: int
    height: int
    x: int
    y: int
    seed: int = 0

    def source(self, fps: float | Fraction) -> str:
        """The lavfi source text; every value is a number, so nothing needs escaping."""
        if self.kind not in BACKDROPS:
            raise MediaError(f"unknown backdrop {self.kind!r} (known: {', '.join(BACKDROPS)})")
        return BACKDROPS[self.kind].format(
            w=self.width, h=self.height, qw=max(8, self.width // 4), qh=max(8, self.height // 4),
            fps=rate_text(fps), seed=self.seed, zoom=f"{2.0 + (self.seed % 5) * 0.3:g}")


Audio = np.ndarray | Iterable[np.ndarray]


def _write_wav(path: Path, audio: Audio, sample_rate: int) -> None:
    """16-bit WAV from float samples in [-1, 1]: one array, or chunks so hours of sound stay small."""
    chunks = [audio] if isinstance(audio, np.ndarray) else audio
    with wave.open(str(path), "wb") as handle:
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        channels = 0
        for chunk in chunks:
            if not channels:
                channels = 1 if chunk.ndim == 1 else chunk.shape[1]
                handle.setnchannels(channels)
            handle.writeframes((np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2").tobytes())
        if not channels:
            handle.setnchannels(1)


def encode_args(
    output: Path | str,
    width: int,
    height: int,
    fps: float | Fraction,
    audio_path: Path | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    gop: int | None = None,
    codec: str = "libx264",
    backdrop: Backdrop | None = None,
    audio_tracks: Sequence[tuple[str, Path]] = (),
) -> list[str]:
    """Arguments that encode rgb24 frames from stdin (plus an optional audio file) to `output`.

    `fps` as a Fraction is written exactly (30000/1001, as cameras and OBS record NTSC
    rates; the float 29.97 would become 2997/100). With a `backdrop`, the piped frames
    are a small picture laid over a full-size background that ffmpeg generates itself,
    so Python only draws the small part.
    `audio_tracks` are (title, file) pairs: several titled audio streams, as OBS records.
    """
    video = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{width}x{height}",
                         framerate=rate_text(fps))
    if backdrop is not None:
        scene = ffmpeg.input(backdrop.source(fps), format="lavfi")
        video = ffmpeg.overlay(scene, video, x=backdrop.x, y=backdrop.y, eof_action="endall")
    streams = [video]
    if audio_path is not None:
        streams.append(ffmpeg.input(arg_path(audio_path)))
    for _, track_path in audio_tracks:
        streams.append(ffmpeg.input(arg_path(track_path)).audio)
    opts: dict[str, object] = {"vcodec": codec, "pix_fmt": "yuv420p"}
    if codec == "libx264":
        opts.update(crf=crf, preset=preset)
    if gop:
        # A fixed keyframe interval with no extra scene-cut keyframes, as OBS writes.
        opts.update(g=gop, sc_threshold=0)
    if audio_path is not None or audio_tracks:
        opts.update(acodec="aac", shortest=None)
    args = ffmpeg.output(*streams, arg_path(output), **opts).get_args()
    titles = []
    for k, (title, _) in enumerate(audio_tracks):
        # MKV keeps `title`, MP4 the handler name: probe reads either back.
        titles += [f"-metadata:s:a:{k}", f"title={title}", f"-metadata:s:a:{k}", f"handler_name={title}"]
    return [*args[:-1], *titles, args[-1]]


def encode_frames(
    output: Path | str,
    images: Iterable[np.ndarray],
    fps: float | Fraction,
    audio: Audio | None = None,
    sample_rate: int = 48000,
    crf: int = 23,
    preset: str = "veryfast",
    gop: int | None = None,
    codec: str = "libx264",
    backdrop: Backdrop | None = None,
    audio_title: str | None = None,
    more_audio: Sequence[tuple[str, Audio]] = (),
) -> Path:
    """Encode RGB frames (H, W, 3 uint8) and optional float audio [-1, 1] into a video, atomically.

    `audio` may be one array or an iterable of chunks (written to a WAV as they come).
    `more_audio` adds (title, audio) tracks after it; `audio_title` names the first.
    """
    target = Path(output)
    iterator = iter(images)
    try:
        first = next(iterator)
    except StopIteration:
        raise MediaError(f"{target}: no frames to encode") from None
    height, width = first.shape[:2]
    with tempfile.TemporaryDirectory(prefix="autotosis-") as tmp, atomic_path(target) as part:
        audio_path = None
        tracks: list[tuple[str, Path]] = []
        if audio is not None:
            audio_path = Path(tmp) / "audio.wav"
            _write_wav(audio_path, audio, sample_rate)
        if more_audio:
            tracks = [(audio_title or "", audio_path)] if audio_path is not None else []
            audio_path = None
            for k, (title, sound) in enumerate(more_audio):
                tracks.append((title, Path(tmp) / f"audio{k}.wav"))
                _write_wav(tracks[-1][1], sound, sample_rate)
        args = encode_args(part, width, height, fps, audio_path, crf, preset, gop, codec, backdrop, tracks)
        with FFmpegProcess(args, stdin=True, stdout=False) as ffm:
            assert ffm.proc.stdin is not None
            try:
                ffm.proc.stdin.write(np.ascontiguousarray(first).tobytes())
                for image in iterator:
                    if image.shape != first.shape:
                        raise MediaError(f"{target}: frame size changed from {first.shape} to {image.shape}")
                    ffm.proc.stdin.write(np.ascontiguousarray(image, dtype=np.uint8).tobytes())
                ffm.proc.stdin.close()
            except BrokenPipeError:
                pass
            ffm.finish(target)
    return target


def lavfi_vod_args(output: Path | str, duration: float, width: int, height: int, fps: float,
                   gop_seconds: float = 2.0, preset: str = "ultrafast", sound: bool = True) -> list[str]:
    """A long synthetic VOD from ffmpeg's own sources (moving test pattern + tone).

    Keyframes every `gop_seconds` like a streaming encoder. `ultrafast` (the default)
    makes an hour of 1080p60 in minutes, but its Baseline-profile stream decodes about
    twice as fast as what streamers upload; `veryfast` (OBS's default: High profile,
    CABAC, B-frames) makes files that cost what real VODs cost to decode. Without `sound`
    it is picture only: hours of AAC cost more to encode than a small picture.
    """
    video = ffmpeg.input(f"testsrc2=size={width}x{height}:rate={fps:g}:duration={duration:g}", format="lavfi")
    options = {"vcodec": "libx264", "preset": preset, "pix_fmt": "yuv420p",
               "g": max(1, round(fps * gop_seconds)), "sc_threshold": 0}
    if not sound:
        return ffmpeg.output(video, arg_path(output), **options).get_args()
    audio = ffmpeg.input(f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={duration:g}",
                         format="lavfi")
    return ffmpeg.output(video, audio, arg_path(output), **options, acodec="aac",
                         audio_bitrate="96k").get_args()


def make_lavfi_vod(output: Path | str, duration: float, width: int, height: int, fps: float,
                   preset: str = "ultrafast", gop_seconds: float = 2.0, sound: bool = True) -> Path:
    """Write a synthetic VOD (see lavfi_vod_args) atomically."""
    target = Path(output)
    with atomic_path(target) as part:
        run(lavfi_vod_args(part, duration, width, height, fps, gop_seconds, preset, sound), part)
    return target


def tracks_vod_args(output: Path | str, duration: float, tracks: Sequence[tuple[str, str]],
                    width: int = 64, height: int = 64, fps: float = 10.0) -> list[str]:
    """A plain picture with one audio stream per (title, lavfi audio graph), titled as OBS titles them.

    Titles go in both `title` (read from MKV) and `handler_name` (what MP4 keeps), so
    `probe` reads them back from either container.
    """
    args = ["-f", "lavfi", "-i", f"color=c=gray:s={width}x{height}:r={fps:g}:d={duration:g}"]
    for _, graph in tracks:
        args += ["-f", "lavfi", "-i", graph]
    args += ["-map", "0:v"]
    for k in range(len(tracks)):
        args += ["-map", f"{k + 1}:a"]
    for k, (title, _) in enumerate(tracks):
        args += [f"-metadata:s:a:{k}", f"title={title}", f"-metadata:s:a:{k}", f"handler_name={title}"]
    return [*args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-t", f"{duration:g}", arg_path(output)]


def make_tracks_vod(output: Path | str, duration: float, tracks: Sequence[tuple[str, str]],
                    width: int = 64, height: int = 64, fps: float = 10.0) -> Path:
    """Write a multi-track test video (see tracks_vod_args) atomically."""
    target = Path(output)
    with atomic_path(target) as part:
        run(tracks_vod_args(part, duration, tracks, width, height, fps), part)
    return target


def shouts_graph(duration: float, every: float, length: float = 3.0, gain_db: float = 18.0) -> str:
    """A lavfi tone that is `gain_db` louder for `length` seconds once every `every` seconds
    (starting half an interval in): a stream's talking with its shouts, for benches."""
    gain = 10 ** (gain_db / 20)
    loud = f"lt(mod(t+{every / 2:g},{every:g}),{length:g})"
    return (f"aevalsrc=exprs='0.03*sin(2*PI*220*t)*(1+{gain - 1:.4f}*{loud})'"
            f":sample_rate=48000:duration={duration:g}")


def replace_audio_args(video: Path | str, audio_graph: str, output: Path | str) -> list[str]:
    """The picture of `video` stream-copied, with the sound of a lavfi audio graph."""
    return ["-i", arg_path(video), "-f", "lavfi", "-i", audio_graph, "-map", "0:v:0", "-map", "1:a:0",
            "-c:v", "copy", "-c:a", "aac", "-b:a", "96k", "-shortest", arg_path(output)]
