"""The only module that talks to ffmpeg and ffprobe.

Command lines are built by pure functions (`*_args`) that tests can read without
running anything; `run` and `_Process` are the two ways they are executed, both of
which capture stderr and turn a failure into a `MediaError` with a readable tail.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import io
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import ffmpeg
import numpy as np

from autotosis.errors import MediaError
from autotosis.fsutil import atomic_path

Box = tuple[float, float, float, float]

# stderr lines that mean something a user can act on, checked in order.
_KNOWN_ERRORS = [
    ("No space left on device", "disk full while writing"),
    ("moov atom not found", "file is truncated or incomplete (no moov atom)"),
    ("Permission denied", "permission denied"),
    ("Invalid data found when processing input", "not a readable media file"),
    ("does not contain any stream", "contains no audio/video stream"),
    ("Output file #0 does not contain any stream", "contains no usable stream"),
    ("Stream map '0:a:0' matches no streams", "has no audio stream"),
    ("Stream map '0:v:0' matches no streams", "has no video stream"),
]
_PTS_TIME = re.compile(r"pts_time:\s*(-?[0-9.]+(?:e-?\d+)?)")


@functools.cache
def ffmpeg_bin() -> str:
    """Path of ffmpeg, looked up on first use so `--help` works without it."""
    found = shutil.which("ffmpeg")
    if not found:
        raise MediaError("ffmpeg not found on PATH: install it (Debian/Ubuntu: apt-get install ffmpeg)")
    return found


@functools.cache
def ffprobe_bin() -> str:
    found = shutil.which("ffprobe")
    if not found:
        raise MediaError("ffprobe not found on PATH: install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg)")
    return found


@functools.cache
def _has_fps_mode() -> bool:
    """ffmpeg >= 5.1 spells `-vsync` as `-fps_mode`; newer releases drop the old name."""
    out = subprocess.run([ffmpeg_bin(), "-hide_banner", "-h", "long"], capture_output=True, text=True)
    return "-fps_mode" in out.stdout


def explain(stderr: str, path: Path | str | None = None) -> str:
    """One line a user can act on from an ffmpeg stderr dump."""
    prefix = f"{path}: " if path is not None else ""
    for needle, message in _KNOWN_ERRORS:
        if needle in stderr:
            return prefix + message
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "rror" in ln or "nvalid" in ln or "failed" in ln.lower()]
    last = (errors or lines or ["ffmpeg failed with no message"])[-1]
    return prefix + last[:300]


# ---------------------------------------------------------------- probing


@dataclass(frozen=True)
class VideoInfo:
    """What we need to know about a video, read once by ffprobe.

    `width`/`height` are the displayed size: rotation metadata is already applied,
    because ffmpeg rotates frames while decoding and face-cam boxes refer to what
    the user sees.
    """

    path: Path
    duration: float
    width: int
    height: int
    fps: Fraction
    codec: str
    rotation: int
    has_audio: bool
    audio_rate: int | None
    size_bytes: int
    mtime_ns: int
    container: str = ""  # ffprobe's format names, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "mpegts"

    @property
    def identity(self) -> str:
        """A cheap key for caches: changes when the file is replaced or edited."""
        return f"{self.path.resolve()}|{self.size_bytes}|{self.mtime_ns}"


def arg_path(path: Path | str) -> str:
    """A path as an ffmpeg argument: absolute, so a name like "-x.mp4" is never read as an option."""
    return str(Path(path).absolute())


def check_readable_file(path: Path | str) -> Path:
    """Fail early, with the file's name, on the usual user mistakes."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: no such file")
    if p.is_dir():
        raise MediaError(f"{p}: is a directory, expected a video file")
    if p.stat().st_size == 0:
        raise MediaError(f"{p}: file is empty (0 bytes)")
    return p


def _fraction(text: str | None) -> Fraction | None:
    if not text or ("/" not in text and not text.replace(".", "", 1).isdigit()):
        return None
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            return round(float(side["rotation"])) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    return int(tag) % 360 if tag and tag.lstrip("-").isdigit() else 0


def probe(path: Path | str) -> VideoInfo:
    """Read duration, size, frame rate and streams; a clear MediaError for anything unusable."""
    p = check_readable_file(path)
    try:
        data = ffmpeg.probe(arg_path(p), cmd=ffprobe_bin())
    except ffmpeg.Error as exc:
        stderr = exc.stderr.decode("utf-8", "replace")
        with open(p, "rb") as handle:
            head = handle.read(64)
        if "moov atom not found" in stderr and b"ftyp" not in head:
            raise MediaError(f"{p}: not a readable media file") from None
        raise MediaError(explain(stderr, p)) from None
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    if video is None:
        raise MediaError(f"{p}: has no video stream")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fps = _fraction(video.get("avg_frame_rate")) or _fraction(video.get("r_frame_rate"))
    if fps is None or fps > 1000:
        fps = Fraction(30)
    duration = None
    for source in (data.get("format", {}), video):
        try:
            duration = float(source["duration"])
            break
        except (KeyError, ValueError, TypeError):
            continue
    if duration is None or duration <= 0:
        frames = int(video.get("nb_frames", 0) or 0)
        if frames <= 0:
            raise MediaError(f"{p}: cannot tell the video's duration (file may be incomplete)")
        duration = frames / float(fps)
    rotation = _rotation(video)
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise MediaError(f"{p}: video stream has no picture size")
    if rotation in (90, 270):
        width, height = height, width
    stat = p.stat()
    return VideoInfo(
        path=p,
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        codec=str(video.get("codec_name", "?")),
        rotation=rotation,
        has_audio=audio is not None,
        audio_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        size_bytes=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        container=str(data.get("format", {}).get("format_name", "")),
    )


# ---------------------------------------------------------------- running


def run(args: Sequence[str], output: Path | None = None, source: Path | str | None = None) -> None:
    """Run ffmpeg to completion; MediaError naming `source` (or `output`) on failure."""
    cmd = [ffmpeg_bin(), "-hide_banner", "-nostdin", "-nostats", "-y", *args]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    _check(proc.returncode, proc.stderr.decode("utf-8", "replace"), output, source)


# ffmpeg 5 still exits 0 after these: the output is cut short all the same.
_WRITE_FAILURES = ("No space left on device", "Error writing trailer", "Error closing file")


def _check(code: int, stderr: str, output: Path | None, source: Path | str | None) -> None:
    """MediaError for a failed ffmpeg run: a full disk names the output's folder, anything else the source."""
    if code != 0 or any(failure in stderr for failure in _WRITE_FAILURES):
        if "No space left on device" in stderr and output is not None:
            raise MediaError(explain(stderr, output.parent))
        raise MediaError(explain(stderr, source if source is not None else output))
    if output is not None and (not output.exists() or output.stat().st_size == 0):
        raise MediaError(f"{output}: ffmpeg wrote no output ({explain(stderr)})")


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then deliver them.

    Around "start a child and start tracking it": an interrupt landing between the
    two would leave an ffmpeg nobody kills, writing a file after the cleanup ran.
    Signals only reach the main thread, so elsewhere there is nothing to hold.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in held:
            signal.raise_signal(signum)


class _Process:
    """An ffmpeg child with stdout/stdin pipes and a thread draining stderr.

    The stderr thread keeps showinfo timestamps in `times` and the last lines in
    `tail`, so a pipe never fills up and a failure can be explained. Always used
    as a context manager: leaving the block kills a still-running ffmpeg.
    """

    def __init__(self, args: Sequence[str], stdin: bool = False, stdout: bool = True):
        quiet_stdin = [] if stdin else ["-nostdin"]
        cmd = [ffmpeg_bin(), "-hide_banner", *quiet_stdin, "-nostats", "-y", *args]
        self.times: queue.Queue[float | None] = queue.Queue()
        self.tail: collections.deque[str] = collections.deque(maxlen=40)
        with interrupts_held():  # the child and its reader exist together, or neither does
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                bufsize=1 << 20,
            )
            self._reader = threading.Thread(target=self._drain, daemon=True)
            self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            if "showinfo" in line and " n:" in line:
                match = _PTS_TIME.search(line)
                if match:
                    self.times.put(float(match.group(1)))
                    continue
            if line and "showinfo" not in line:
                self.tail.append(line)
        self.times.put(None)

    def finish(self, source: Path | str | None) -> None:
        """Wait for a clean exit; MediaError with the stderr tail otherwise."""
        code = self.proc.wait()
        self._reader.join(timeout=5)
        _check(code, "\n".join(self.tail), None, source)

    def __enter__(self) -> _Process:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self.proc.wait()
        self._reader.join(timeout=5)


Job = tuple[Sequence[str], Path, Path | str | None]  # (arguments, output, source named in errors)


def run_all(jobs: Sequence[Job], parallel: int, done: Callable[[int], None] | None = None) -> None:
    """Run independent ffmpeg jobs `parallel` at a time; `done(k)` after job k succeeds.

    The children are started and watched from the calling thread, so a failure, Ctrl-C
    or SIGTERM here kills every ffmpeg still running and starts no more (a thread pool
    would finish its whole queue first, its workers out of reach of the interrupt).
    """
    waiting = list(enumerate(jobs))[::-1]
    running: dict[int, _Process] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, parallel):
                k, (args, _, _) = waiting.pop()
                with interrupts_held():  # started means tracked, so the finally below kills it
                    running[k] = _Process(args, stdout=False)
            finished = [k for k, ffm in running.items() if ffm.proc.poll() is not None]
            for k in finished:
                ffm = running.pop(k)
                ffm.__exit__()  # reaps the child and its stderr reader
                _, output, source = jobs[k]
                _check(ffm.proc.returncode, "\n".join(ffm.tail), output, source)
                if done is not None:
                    done(k)
            if not finished:
                time.sleep(0.02)
    finally:
        for ffm in running.values():
            ffm.__exit__()


# ---------------------------------------------------------------- frame streams


@dataclass(frozen=True)
class FrameBatch:
    """Consecutive sampled frames: `images` (N, H, W, 3) uint8 RGB and their `times` in seconds."""

    times: np.ndarray
    images: np.ndarray


def pixel_box(box: Box, width: int, height: int, source: Path | str = "video") -> tuple[int, int, int, int]:
    """(x, y, w, h) in pixels for a fractional box; MediaError if it is (nearly) empty."""
    x0, y0, x1, y1 = box
    x, y = round(x0 * width), round(y0 * height)
    w = min(round(x1 * width), width) - x
    h = min(round(y1 * height), height) - y
    if w < 2 or h < 2:
        raise MediaError(
            f"{source}: face-cam box {list(box)} is only {max(w, 0)}x{max(h, 0)} px "
            f"in a {width}x{height} video"
        )
    return x, y, w, h


# Sampling at most this fraction of the frame rate skips frames nothing refers to.
SPARSE_RATIO = 3


def frames_args(
    path: Path | str,
    info: VideoInfo,
    fps: float | None,
    box: Box | None,
    size: int | tuple[int, int] | None,
    start: float | None = None,
    end: float | None = None,
    keyframes: bool = False,
) -> tuple[list[str], tuple[int, int]]:
    """ffmpeg arguments that decode, sample, crop and scale in one pass to an rgb24 pipe.

    Returns the arguments and the (width, height) of each piped frame.
    """
    input_opts: dict[str, object] = {}
    if keyframes:
        input_opts["skip_frame"] = "nokey"
    elif fps and fps * SPARSE_RATIO <= float(info.fps):
        # Frames no other frame refers to (most B-frames of a stream encode) are dropped
        # undecoded: nothing drifts, a sample lands at most a frame or two from its tick,
        # and a 30 fps stream sampled at 4 fps decodes about 1.6x faster.
        input_opts["skip_frame"] = "noref"
    if start:
        input_opts["ss"] = f"{start:.3f}"
    if end is not None:
        input_opts["t"] = f"{end - (start or 0.0):.3f}"
    stream = ffmpeg.input(arg_path(path), **input_opts).video
    if fps and not keyframes:
        # eof_action=pass keeps the only frame of a video shorter than one sample.
        stream = stream.filter("fps", fps=f"{fps:g}", eof_action="pass")
    out_w, out_h = info.width, info.height
    if box is not None:
        x, y, out_w, out_h = pixel_box(box, info.width, info.height, path)
        stream = stream.crop(x, y, out_w, out_h)
    if size is not None:
        out_w, out_h = (size, size) if isinstance(size, int) else size
        stream = stream.filter("scale", out_w, out_h, flags="area")
    stream = stream.filter("showinfo")
    output_opts: dict[str, object] = {"format": "rawvideo", "pix_fmt": "rgb24"}
    if keyframes or not fps:
        output_opts["fps_mode" if _has_fps_mode() else "vsync"] = "passthrough"
    args = stream.output("pipe:", **output_opts).get_args()
    return args, (out_w, out_h)


def frames(
    path: Path | str,
    fps: float | None,
    box: Box | None,
    size: int | tuple[int, int] | None,
    start: float | None = None,
    end: float | None = None,
    keyframes: bool = False,
    batch_size: int = 64,
    info: VideoInfo | None = None,
) -> Generator[FrameBatch, None, None]:
    """Stream sampled, cropped, scaled frames as numpy batches; nothing touches the disk.

    Memory is one batch; closing the generator early kills ffmpeg.
    `keyframes=True` decodes only keyframes (`fps` is then ignored): much faster
    for sparse scans, at whatever spacing the encoder chose for keyframes.
    """
    info = info or probe(path)
    args, (width, height) = frames_args(path, info, fps, box, size, start, end, keyframes)
    frame_bytes = width * height * 3
    offset = start or 0.0
    with _Process(args) as ffm:
        pipe = cast(io.BufferedReader, ffm.proc.stdout)  # bufsize > 0: a buffered binary reader
        index = 0
        times_done = False
        while True:
            images = np.empty((batch_size, height, width, 3), dtype=np.uint8)
            view = images.data.cast("B")
            filled = 0
            while filled < len(view):
                got = pipe.readinto(view[filled:])
                if not got:
                    break
                filled += got
            count = filled // frame_bytes
            if count == 0:
                break
            times = np.empty(count, dtype=np.float64)
            for k in range(count):
                value = None if times_done else ffm.times.get(timeout=60)
                if value is None:
                    times_done = True
                    value = (index + k) / fps if fps else float("nan")
                times[k] = offset + value
            index += count
            if end is not None and times[-1] >= end - 1e-6:  # the fps filter may add a tick at `end`
                inside = times < end - 1e-6  # [start, end) is the promise
                if inside.any():
                    yield FrameBatch(times=times[inside], images=images[:count][inside])
            else:
                yield FrameBatch(times=times, images=images[:count])
            if filled < len(view):
                break
        ffm.finish(path)


# ---------------------------------------------------------------- writing


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

    def source(self, fps: float) -> str:
        """The lavfi source text; every value is a number, so nothing needs escaping."""
        if self.kind not in BACKDROPS:
            raise MediaError(f"unknown backdrop {self.kind!r} (known: {', '.join(BACKDROPS)})")
        return BACKDROPS[self.kind].format(
            w=self.width, h=self.height, qw=max(8, self.width // 4), qh=max(8, self.height // 4),
            fps=f"{fps:g}", seed=self.seed, zoom=f"{2.0 + (self.seed % 5) * 0.3:g}")


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
    fps: float,
    audio_path: Path | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    gop: int | None = None,
    codec: str = "libx264",
    backdrop: Backdrop | None = None,
) -> list[str]:
    """Arguments that encode rgb24 frames from stdin (plus an optional audio file) to `output`.

    With a `backdrop`, the piped frames are a small picture laid over a full-size
    background that ffmpeg generates itself, so Python only draws the small part.
    """
    video = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{width}x{height}",
                         framerate=f"{fps:g}")
    if backdrop is not None:
        scene = ffmpeg.input(backdrop.source(fps), format="lavfi")
        video = ffmpeg.overlay(scene, video, x=backdrop.x, y=backdrop.y, eof_action="endall")
    streams = [video]
    if audio_path is not None:
        streams.append(ffmpeg.input(arg_path(audio_path)))
    opts: dict[str, object] = {"vcodec": codec, "pix_fmt": "yuv420p"}
    if codec == "libx264":
        opts.update(crf=crf, preset=preset)
    if gop:
        # A fixed keyframe interval with no extra scene-cut keyframes, as OBS writes.
        opts.update(g=gop, sc_threshold=0)
    if audio_path is not None:
        opts.update(acodec="aac", shortest=None)
    return ffmpeg.output(*streams, arg_path(output), **opts).get_args()


def encode_frames(
    output: Path | str,
    images: Iterable[np.ndarray],
    fps: float,
    audio: Audio | None = None,
    sample_rate: int = 48000,
    crf: int = 23,
    preset: str = "veryfast",
    gop: int | None = None,
    codec: str = "libx264",
    backdrop: Backdrop | None = None,
) -> Path:
    """Encode RGB frames (H, W, 3 uint8) and optional float audio [-1, 1] into a video, atomically.

    `audio` may be one array or an iterable of chunks (written to a WAV as they come).
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
        if audio is not None:
            audio_path = Path(tmp) / "audio.wav"
            _write_wav(audio_path, audio, sample_rate)
        args = encode_args(part, width, height, fps, audio_path, crf, preset, gop, codec, backdrop)
        with _Process(args, stdin=True, stdout=False) as ffm:
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


# ---------------------------------------------------------------- browser preview


def browser_proxy_args(
    source: Path | str, output: Path | str, info: VideoInfo, max_height: int = 720
) -> list[str]:
    """Arguments for a quick H.264/AAC MP4 that any browser plays, on the source's own timeline.

    Nothing is trimmed and ffmpeg starts the output at the source's first frame, so a
    time marked on the proxy is the same time in the original. The picture is scaled
    down (it is only for looking) and gets a keyframe every second so seeking is snappy.
    """
    source_stream = ffmpeg.input(arg_path(source))
    video = source_stream.video.filter("scale", -2, f"trunc(min(ih,{max_height})/2)*2")
    streams = [video, source_stream.audio] if info.has_audio else [video]
    opts: dict[str, object] = {
        "vcodec": "libx264", "preset": "ultrafast", "crf": 27, "pix_fmt": "yuv420p",
        "g": max(1, round(float(info.fps))), "movflags": "+faststart",
    }
    if info.has_audio:
        opts.update(acodec="aac", audio_bitrate="128k")
    return ffmpeg.output(*streams, arg_path(output), **opts).get_args()


def make_browser_proxy(source: Path | str, output: Path | str, info: VideoInfo | None = None) -> Path:
    """Write the browser preview of `source` to `output` atomically (see browser_proxy_args)."""
    info = info or probe(source)
    target = Path(output)
    with atomic_path(target) as part:
        run(browser_proxy_args(source, part, info), part, source)
    return target


# ---------------------------------------------------------------- audio


def audio_args(path: Path | str, rate: int, highpass: float | None = 100.0) -> list[str]:
    """Arguments that decode only the first audio stream, as mono float32 PCM at `rate`, to a pipe.

    The high-pass drops rumble and hum that carry energy but not loudness to the ear
    (a rough stand-in for the K-weighting of EBU R128 loudness).
    """
    stream = ffmpeg.input(arg_path(path)).audio
    if highpass:
        stream = stream.filter("highpass", f=f"{highpass:g}")
    return stream.output("pipe:", format="f32le", ac=1, ar=rate, acodec="pcm_f32le").get_args()


def audio_chunks(path: Path | str, rate: int = 8000, seconds: float = 30.0,
                 highpass: float | None = 100.0) -> Iterator[np.ndarray]:
    """Stream mono float32 samples in chunks of `seconds`: memory stays one chunk for any length."""
    chunk_bytes = max(1, round(rate * seconds)) * 4
    with _Process(audio_args(path, rate, highpass)) as ffm:
        assert ffm.proc.stdout is not None
        while True:
            data = ffm.proc.stdout.read(chunk_bytes)
            if len(data) >= 4:
                yield np.frombuffer(data[: len(data) - len(data) % 4], dtype="<f4")
            if len(data) < chunk_bytes:
                break
        ffm.finish(path)


# ---------------------------------------------------------------- decoding speed


def decode_args(path: Path | str, keyframes: bool = False) -> list[str]:
    """`ffmpeg -i VOD -f null -`: decode the video and throw it away (the cost floor of a scan)."""
    opts: dict[str, object] = {"skip_frame": "nokey"} if keyframes else {}
    return ffmpeg.input(arg_path(path), **opts).video.output("-", format="null").get_args()


def lavfi_vod_args(output: Path | str, duration: float, width: int, height: int, fps: float,
                   gop_seconds: float = 2.0, preset: str = "ultrafast") -> list[str]:
    """A long synthetic VOD from ffmpeg's own sources (moving test pattern + tone).

    Keyframes every `gop_seconds` like a streaming encoder. `ultrafast` (the default)
    makes an hour of 1080p60 in minutes, but its Baseline-profile stream decodes about
    twice as fast as what streamers upload; `veryfast` (OBS's default: High profile,
    CABAC, B-frames) makes files that cost what real VODs cost to decode.
    """
    video = ffmpeg.input(f"testsrc2=size={width}x{height}:rate={fps:g}:duration={duration:g}", format="lavfi")
    audio = ffmpeg.input(f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={duration:g}",
                         format="lavfi")
    return ffmpeg.output(
        video, audio, arg_path(output), vcodec="libx264", preset=preset, pix_fmt="yuv420p",
        g=max(1, round(fps * gop_seconds)), sc_threshold=0, acodec="aac", audio_bitrate="96k",
    ).get_args()


def make_lavfi_vod(output: Path | str, duration: float, width: int, height: int, fps: float,
                   preset: str = "ultrafast") -> Path:
    """Write a synthetic VOD (see lavfi_vod_args) atomically."""
    target = Path(output)
    with atomic_path(target) as part:
        run(lavfi_vod_args(part, duration, width, height, fps, preset=preset), part)
    return target


# ---------------------------------------------------------------- reel pieces


@dataclass(frozen=True)
class PieceEncoding:
    """One encoding for every piece of a reel, so they concatenate without re-encoding video.

    Pieces carry PCM audio (in Matroska): AAC would add ~21 ms of encoder priming per
    piece, and after a few dozen pieces the sound would lag the picture visibly. The
    reel's audio is encoded to AAC once, when the pieces are joined.
    """

    fps: str  # the VOD's frame rate as ffmpeg reads it, e.g. "30" or "30000/1001"
    preset: str = "veryfast"
    crf: int = 20
    audio: bool = True
    audio_rate: int = 48000
    suffix: str = ".mkv"


def filter_value(text: str) -> str:
    """Escape a filter option value for a filter graph given on the command line.

    Two levels, as ffmpeg parses them: `\\ ' :` inside the option value, then
    `\\ ' [ ] , ;` for the graph around it.
    """
    for char in "\\':":
        text = text.replace(char, "\\" + char)
    for char in "\\'[],;":
        text = text.replace(char, "\\" + char)
    return text


# Containers without a keyframe index: a seek lands on any packet before the target and
# the decoder waits for the next keyframe, which can be after it.
_UNINDEXED = {"mpegts", "flv", "mpeg"}


def seek_lead(info: VideoInfo) -> float:
    """Seconds to decode before a cut so it starts on the right frame (see piece_args)."""
    return 10.0 if _UNINDEXED & set(info.container.split(",")) else 0.0


def piece_args(
    vod: Path | str, start: float, duration: float, output: Path | str, encoding: PieceEncoding,
    subtitles: Path | None = None, fonts_dir: Path | None = None, lead: float = 0.0,
) -> list[str]:
    """Cut [start, start + duration) with input seeking and re-encode it, optionally with burnt-in subtitles.

    `-ss` before `-i` jumps to the keyframe before `start` and decodes only from there, so a
    piece costs its own seconds whatever the VOD's length; re-encoding makes the cut frame
    accurate. Video and audio both start at the cut (timestamps reset to 0), which keeps
    them in sync. The command's size is fixed: captions live in the `subtitles` file.
    """
    chain = []
    if subtitles is not None:
        ass = "ass=filename=" + filter_value(arg_path(subtitles))
        if fonts_dir is not None:
            ass += ":fontsdir=" + filter_value(arg_path(fonts_dir))
        chain.append(ass)
    chain += [f"fps={encoding.fps}", "format=yuv420p"]
    # `lead` seconds before the cut are decoded and trimmed off in the filters (so the
    # caption's clock still starts at the cut): for seek_lead's containers, and within
    # the first second, where an FLV without an index cannot seek at all.
    lead = start if start < 1.0 else min(start, lead)
    cut = ["-ss", f"{start - lead:.3f}"] if start > lead else []
    cut += ["-t", f"{lead + duration:.3f}", "-i", arg_path(vod)]
    trim = f"trim=start={lead:.3f},setpts=PTS-{lead:.3f}/TB," if lead > 0 else ""
    atrim = f"atrim=start={lead:.3f},asetpts=PTS-{lead:.3f}/TB," if lead > 0 else ""
    args = [*cut, "-map", "0:v:0", "-vf", trim + ",".join(chain),
            "-c:v", "libx264", "-preset", encoding.preset, "-crf", str(encoding.crf),
            "-video_track_timescale", "90000"]
    if encoding.audio:
        # async resampling pads a late first audio packet so audio keeps the video's clock.
        args += ["-map", "0:a:0", "-af", f"{atrim}aresample={encoding.audio_rate}:async=1",
                 "-c:a", "pcm_s16le", "-ac", "2", "-ar", str(encoding.audio_rate)]
    return [*args, arg_path(output)]


def concat_list(paths: Sequence[Path | str]) -> str:
    """A concat-demuxer list: absolute paths in single quotes, each `'` written as `'\\''`."""
    lines = []
    for path in paths:
        quoted = str(Path(path).absolute()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    return "\n".join(lines) + "\n"


def concat_args(list_file: Path | str, output: Path | str, audio: bool = True) -> list[str]:
    """Join same-encoding pieces from a concat list: video copied, PCM audio encoded to AAC once.

    `aresample=async=1` fills any timestamp gap between pieces with silence, so the
    sound stays on the picture's clock across every join.
    """
    args = ["-f", "concat", "-safe", "0", "-i", arg_path(list_file), "-map", "0:v:0", "-c:v", "copy"]
    if audio:
        args += ["-map", "0:a:0", "-af", "aresample=async=1", "-c:a", "aac", "-b:a", "160k"]
    return [*args, "-movflags", "+faststart", arg_path(output)]


def concat(pieces: Sequence[Path | str], output: Path | str, audio: bool = True) -> Path:
    """Join encoded pieces into `output` atomically with the concat demuxer."""
    target = Path(output)
    with tempfile.TemporaryDirectory(prefix="autotosis-") as tmp, atomic_path(target) as part:
        list_file = Path(tmp) / "pieces.txt"
        list_file.write_text(concat_list(pieces), encoding="utf-8")
        run(concat_args(list_file, part, audio), part, target)
    return target


def crossfade_graph(durations: Sequence[float], fade: float, audio: bool) -> str:
    """A filter graph that chains xfade (and acrossfade) over N inputs; lives in a script file.

    Each transition starts `fade` seconds before the end of what is joined so far, so the
    reel is sum(durations) - (N - 1) * fade long.
    """
    lines = []
    video, sound, length = "[0:v]", "[0:a]", durations[0]
    for k in range(1, len(durations)):
        fade_k = min(fade, length, durations[k]) * 0.999
        offset = length - fade_k
        lines.append(f"{video}[{k}:v]xfade=transition=fade:duration={fade_k:.4f}:offset={offset:.4f}[v{k}]")
        video = f"[v{k}]"
        if audio:
            lines.append(f"{sound}[{k}:a]acrossfade=d={fade_k:.4f}[a{k}]")
            sound = f"[a{k}]"
        length = offset + durations[k]
    lines.append(f"{video}null[vout]")
    if audio:
        lines.append(f"{sound}anull[aout]")
    return ";\n".join(lines) + "\n"


def crossfade_args(pieces: Sequence[Path | str], script: Path | str, output: Path | str,
                   encoding: PieceEncoding) -> list[str]:
    """Join pieces with cross-fades: the graph is read from `script`, so the command stays short."""
    args: list[str] = []
    for piece in pieces:
        args += ["-i", arg_path(piece)]
    args += ["-filter_complex_script", arg_path(script), "-map", "[vout]"]
    if encoding.audio:
        args += ["-map", "[aout]", "-c:a", "aac", "-b:a", "160k"]
    args += ["-c:v", "libx264", "-preset", encoding.preset, "-crf", str(encoding.crf), "-pix_fmt", "yuv420p",
             "-movflags", "+faststart", arg_path(output)]
    return args
