"""`autotosis live`: one stream followed from its first byte to its reel.

The session follows the recording (follow.py), folds each signal's new values into the
score (score.py; chat.py's messages too when there is chat), asks pick/online.py which
highlights are final, cuts each one from the replay buffer as soon as the buffer holds it
(clips.py), and when the stream ends (the source ends, `--idle`, Ctrl-C) writes what
compile writes, from the score it built.
"""

from __future__ import annotations

import dataclasses
import errno
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autotosis import media
from autotosis.core.errors import AutotosisError, MediaError
from autotosis.core.timeline import Segment, Timeline
from autotosis.pick import online as online_lib
from autotosis.pick import select as select_lib
from autotosis.publish import reel as render_lib
from autotosis.run.live import clips as clips_lib
from autotosis.run.live import usage
from autotosis.run.live.chat import CHAT_LOG, LiveChat
from autotosis.run.live.follow import Follower, wait_for
from autotosis.run.live.score import LiveSignals, loudness_reader, model_reader
from autotosis.signals import chat as chat_lib
from autotosis.signals import fuse as signals_lib
from autotosis.signals import loudness as loudness_lib


@dataclass
class LiveOptions:
    """Everything a live run needs, as plain values; the names mean what compile's mean."""

    source: str  # a recording being written, or a stream URL (see media.URL_SCHEMES)
    out_dir: Path | None = None  # None: output/<source stem>
    idle: float = 30.0  # seconds without growth that end the stream
    follow_dir: bool = False  # a newer recording in the same folder continues the stream (OBS splitting)
    model: Path | None = None  # the face-cam model; None: loudness only
    scorer: str | None = None  # model | loudness | fused (model+loudness); None: see signals.choose_signals
    facecam: media.Box | None = None  # None: the checkpoint's box
    fps: float | None = None  # model samples per second; None: the model's own
    loudness: loudness_lib.LoudnessConfig = field(default_factory=loudness_lib.LoudnessConfig)
    select: dict = field(default_factory=dict)  # SelectConfig overrides; None values are ignored
    fuse_weight: float = signals_lib.LOUDNESS_WEIGHT
    weights: dict = field(default_factory=dict)  # per-signal weights (--weights), over the defaults
    chat: str | None = None  # a chat log being written, or twitch:CHANNEL
    chat_server: str | None = None  # HOST:PORT of Twitch's IRC server; None: Twitch's own
    chat_config: chat_lib.ChatConfig = field(default_factory=chat_lib.ChatConfig)
    render: render_lib.RenderConfig = field(default_factory=render_lib.RenderConfig)
    reel_audio: str = "0"
    buffer_seconds: float = 2.0  # replay buffer pieces: a clip is cut at most this long after it closes
    update_every: float = 1.0  # seconds between selection updates (and status lines)
    reel: bool = True  # write the reel and compile's sidecars when the stream ends


@dataclass(frozen=True)
class Status:
    """The status line: how far the stream is scored, how far behind, what it costs."""

    edge: float  # stream seconds scored
    delay: float  # seconds the scoring is behind the recording (see Session.status)
    cores: float  # CPU cores used since the last status by the follower, its ffmpegs and the model
    clips: int
    chat: int = -1  # chat messages taken in so far; -1: no chat


class LiveEvents:
    """What the CLI shows; library callers may ignore it."""

    def note(self, message: str) -> None: ...
    def clip(self, clip: clips_lib.Clip, render_seconds: float) -> None: ...
    def status(self, status: Status) -> None: ...


@dataclass
class LiveResult:
    """What a live run produced."""

    folder: Path
    clips: list[clips_lib.Clip]  # every clip on disk, earlier runs' included
    segments: list[Segment]  # the final selection on the whole stream (what segments.json holds)
    ended: str  # idle, interrupted, source ended, ...
    files: dict[str, Path] = field(default_factory=dict)
    follow_cpu: float = 0.0  # CPU seconds of following and scoring
    render_cpu: float = 0.0  # CPU seconds of cutting clips
    wall: float = 0.0
    notes: list[str] = field(default_factory=list)


def source_name(source: str) -> str:
    """What output/<name>/ is called: the file's stem, or the URL's last path part."""
    if source.startswith(media.URL_SCHEMES):
        tail = source.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        return Path(tail).stem or "stream"
    return Path(source).stem


def _readable(path: Path) -> bool:
    try:
        media.probe(path)
        return True
    except MediaError:
        return False


class Session:
    """One live run (see the module docstring). `run()` follows; `finish()` writes the end."""

    def __init__(self, options: LiveOptions, folder: Path, events: LiveEvents):
        self.options, self.folder, self.events = options, folder, events
        self.buffer = clips_lib.ReplayBuffer(folder / ".buffer")
        self.clips = clips_lib.read_log(folder)
        self.stop = threading.Event()
        self.ended = ""
        self.files: list[Path] = []
        self.notes: list[str] = []
        self.signals: LiveSignals | None = None
        self.config = select_lib.SelectConfig()
        self.label = "loud"
        self.model_meta: dict = {}
        self.render_cpu = 0.0
        self.started = time.monotonic()
        self._cpu_mark = (self.started, usage.running_cpu())
        self.follow_cpu = 0.0
        self._lead = float("-inf")  # the most the edge was ever ahead of the clock (see status)
        self._follower: Follower | None = None
        # a chat log is read, or a twitch: spec checked, now: bad chat fails before the stream is followed
        self.chat = LiveChat(options.chat, options.chat_config, self.note, options.chat_server,
                             log=folder / CHAT_LOG) if options.chat else None

    def note(self, message: str) -> None:
        self.notes.append(message)
        self.events.note(message)

    # ------------------------------------------------------------ setting up

    def _prepare(self, path: Path) -> media.VideoInfo:
        """Probe the first recording and choose the signals, the model and the thresholds."""
        opts = self.options
        if not wait_for(path, opts.idle, _readable, self.stop):
            raise AutotosisError(f"{path}: no readable recording appeared within --idle {opts.idle:g}s")
        info = media.probe(path)
        if info.has_audio:  # the track clips and the reel keep, as compile chooses it
            reel_track, _ = loudness_lib.choose_track(info, opts.reel_audio)
            opts = self.options = dataclasses.replace(
                opts, render=dataclasses.replace(opts.render, audio_track=reel_track.index))
        signals, notes = signals_lib.choose_signals(opts.scorer, opts.model is not None,
                                                    self.chat is not None, info.has_audio, path)
        for message in notes:
            self.note(message)
        if signals == ("chat",):
            raise AutotosisError("--scorer chat: live mode needs loudness or the model beside chat (their "
                                 "timeline is the stream's clock); use loudness+chat")
        threshold, enter = None, select_lib.SelectConfig().enter
        if "model" in signals:
            assert opts.model is not None
            import torch

            from autotosis.learn.model import load_classifier

            torch.set_num_threads(1)  # one core at most: the streamer's PC runs the game and OBS too
            classifier = load_classifier(opts.model)
            meta = classifier.meta
            self.label, threshold = meta.label, meta.threshold_for(meta.label)
            box = opts.facecam if opts.facecam is not None else meta.facecam
            if box is None:
                raise AutotosisError(f"{opts.model}: has no face-cam box; pass --facecam x0,y0,x1,y1")
            fps = opts.fps or float(meta.fps)
            self.model_meta = {"classifier": classifier, "box": box, "fps": fps, "size": meta.size,
                               "threshold": threshold, "path": opts.model}
            if signals == ("model",):
                enter = threshold
        weights = (signals_lib.resolve_weights(signals, opts.fuse_weight, opts.weights)
                   if len(signals) > 1 else {})
        if self.chat is not None and "chat" not in signals:
            self.note(f"chat: not used (--scorer {signals_lib.scorer_name(signals)})")
            self.chat = None
        self.signals = LiveSignals(opts.loudness.window, signals, threshold or 0.5, weights, chat=self.chat)
        if self.chat is not None:
            self.chat.start()
        overrides = {k: v for k, v in opts.select.items() if v is not None}
        overrides.setdefault("enter", enter)
        self.config = dataclasses.replace(select_lib.SelectConfig(), **overrides)
        self.note("live: scoring with " + signals_lib.scorer_name(signals) +
                  (f", {len(self.clips)} clip(s) already cut by an earlier run" if self.clips else ""))
        return info

    # ------------------------------------------------------------ following

    def run(self, path: Path) -> None:
        """Follow `path` (and, with --follow-dir, the recordings that continue it) to the end; a
        full disk under the output folder is said as such, naming the folder, not the source."""
        try:
            self._run(path)
        except (MediaError, OSError) as exc:
            if "disk full" not in str(exc) and getattr(exc, "errno", None) != errno.ENOSPC:
                raise
            raise AutotosisError(f"{self.folder}: no space left on device; the {len(self.clips)} clip(s) "
                                 "already cut are kept: free some space and run again to resume") from None

    def _run(self, path: Path) -> None:
        info = self._prepare(path)
        offset = 0.0
        while True:
            self.files.append(path)
            ended, following = self._follow_file(path, info, offset)
            if ended != "split" or following is None:
                self.ended = ended
                return
            assert self.signals is not None
            offset = max(self.signals.edge(), self.buffer.covered_until())
            self.note(f"live: {path.name} ended at {offset:.1f}s; following {following.name}")
            path = following
            info = media.probe(path)
            self.signals.offset = offset

    def _follow_file(self, path: Path, info: media.VideoInfo, offset: float) -> tuple[str, Path | None]:
        assert self.signals is not None
        opts, signals = self.options, self.signals.signals
        out: queue.Queue = queue.Queue()
        readers = []
        consumers = 1 + ("loudness" in signals) + ("model" in signals)
        follower = self._follower = Follower(path, consumers, opts.idle, opts.follow_dir)
        with media.FFmpegProcess(self.buffer.args_for_next_file(offset, opts.buffer_seconds),
                                 stdin=True, stdout=False) as buffer_proc:
            assert buffer_proc.proc.stdin is not None
            follower.attach(buffer_proc.proc.stdin)
            if "loudness" in signals:
                track, _ = loudness_lib.choose_track(info, opts.loudness.track)
                readers.append(loudness_reader(opts.loudness, track.index, follower.attach, out))
            if "model" in signals:
                m = self.model_meta
                classifier = m["classifier"]
                readers.append(model_reader(info, m["fps"], m["box"], m["size"],
                                            lambda images: classifier.predict(images), follower.attach, out))
            follower.start()
            running = len(readers)
            next_update = time.monotonic()
            while running:
                try:
                    kind, _, value = out.get(timeout=0.2)
                    if kind == "levels":
                        self.signals.add_levels(value)
                    elif kind == "model":
                        self.signals.add_model(*value)
                    elif kind == "done":
                        running -= 1
                    elif kind == "error":
                        running -= 1
                        if not isinstance(value, KeyboardInterrupt):
                            raise value
                        follower.stop.set()  # Ctrl-C reached its ffmpeg first: end the stream
                        self.ended = "interrupted"
                    if time.monotonic() >= next_update:
                        next_update = time.monotonic() + opts.update_every
                        self.update(final=False)
                except queue.Empty:
                    continue
                except KeyboardInterrupt:
                    if follower.stop.is_set():
                        raise  # a second Ctrl-C: stop at once
                    follower.stop.set()  # the ffmpegs see the end of their input and finish
                    self.ended = "interrupted"
                    self.note("live: stopping (Ctrl-C again to stop at once)")
            follower.stop.set()
            follower.join(5)
            try:
                buffer_proc.finish(path)
            except KeyboardInterrupt:  # Ctrl-C reached it too: it still closed its last piece
                self.ended = "interrupted"
        if follower.ended.startswith("error"):
            raise AutotosisError(follower.ended.removeprefix("error: "))
        ended = self.ended or follower.ended
        return ended, follower.next_file

    # ------------------------------------------------------------ selecting and cutting

    def update(self, final: bool) -> None:
        """Cut every highlight that is final now (all of them at the end of the stream)."""
        assert self.signals is not None
        if self.chat is not None:
            self.chat.poll(self._clock(final))
        score = self.signals.score(final)
        if len(score) == 0:
            return
        if final:
            duration = max(self.signals.edge(), float(score.times[-1]))
            unbudgeted = dataclasses.replace(self.config, max_length=None, top=None)
            state = online_lib.Online(select_lib.select_segments(score, unbudgeted, duration), 0.0)
        else:
            settled = None
            if self.chat is not None:  # chat has not yet reacted to the last few seconds
                settled = min(online_lib.settled_until(score, self.config),
                              self.chat.known_until(self.signals.edge()))
            state = online_lib.online(score, self.config, settled)
        keep_from = state.keep_from
        covered = self.buffer.covered_until()
        for seg in state.final:
            if any(min(seg.end, c.end) > max(seg.start, c.start) for c in self.clips):
                continue  # cut already, by this run or an earlier one
            if seg.end > covered + 0.05 and not final:
                keep_from = min(keep_from, seg.start)  # wait for the buffer to hold its end
                continue
            try:
                self._cut(seg, score)
            except AutotosisError as exc:
                if not final:
                    raise
                self.note(f"live: could not cut {seg.start:.1f}-{seg.end:.1f}s at the end: {exc}")
        if not final:
            self.buffer.prune(keep_from - self.options.buffer_seconds)
            self.events.status(self.status())

    def _cut(self, seg: Segment, score: Timeline) -> None:
        number = len(self.clips) + 1
        name = clips_lib.clip_name(number, self.label, seg.start)
        target = self.folder / "clips" / name
        before_cpu, before = usage.ended_children(), time.monotonic()
        clips_lib.cut_clip(self.buffer, seg, target, self.options.render, score, self.label)
        self.render_cpu += usage.ended_children() - before_cpu
        clip = clips_lib.Clip(seg.start, seg.end, self.label, seg.peak, f"clips/{name}")
        clips_lib.append_log(self.folder, clip)
        self.clips.append(clip)
        self.events.clip(clip, time.monotonic() - before)

    def status(self) -> Status:
        """Where the stream stands. The delay is how much further behind the clock the scored
        edge is now than it ever was: on a recording played in real time, the lag added by
        following and scoring (0 while it keeps up; it grows while it catches up)."""
        now, edge = self._track_lead()
        delay = max(0.0, (now - self.started) + self._lead - edge)
        mark_time, mark_cpu = self._cpu_mark
        cpu = usage.running_cpu()
        spent = max(0.0, cpu - mark_cpu)
        self.follow_cpu += spent
        self._cpu_mark = (now, cpu)
        cores = spent / max(now - mark_time, 1e-6)
        return Status(edge, delay, cores, len(self.clips), len(self.chat.messages) if self.chat else -1)

    def _track_lead(self) -> tuple[float, float]:
        """(now, edge), keeping the most the scored edge was ever ahead of the clock: on a
        stream written in real time, clock plus lead is the stream second being written now."""
        assert self.signals is not None
        now, edge = time.monotonic(), self.signals.edge()
        if edge > 0:
            self._lead = max(self._lead, edge - (now - self.started))
        return now, edge

    def _clock(self, final: bool) -> Callable[[float], float] | None:
        """Monotonic time -> stream seconds at the live edge, once the recording is caught up
        (before, the edge is racing through what was recorded earlier); None until then."""
        self._track_lead()
        caught_up = self._follower is not None and self._follower.caught_up
        if self._lead == float("-inf") or not (caught_up or final):
            return None
        lead, started = self._lead, self.started
        return lambda at: at - started + lead
