"""`autotosis live`: one stream followed from its first byte to its reel.

The session follows the recording (follow.py), folds each signal's new values into the
score (score.py; chat.py's messages too when there is chat), asks pick/online.py which
highlights are final (per label, with several), cuts each one from the replay buffer as
soon as the buffer holds it (clips.py; its short too with --shorts, shorts.py), and when
the stream ends (the source ends, `--idle`, Ctrl-C) writes what compile writes, from the
score it built.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from autotosis import media
from autotosis.core.errors import AutotosisError, MediaError
from autotosis.core.timeline import Segment, Timeline
from autotosis.pick import online as online_lib
from autotosis.pick import select as select_lib
from autotosis.pick.highlights import peak_time
from autotosis.publish import reel as render_lib
from autotosis.run.live import clips as clips_lib
from autotosis.run.live import usage
from autotosis.run.live.buffer import ReplayBuffer
from autotosis.run.live.chat import CHAT_LOG, LiveChat
from autotosis.run.live.follow import Follower, wait_for
from autotosis.run.live.options import LiveEvents, LiveOptions, Status, source_name
from autotosis.run.live.record import Recorder
from autotosis.run.live.score import LiveSignals, load_models, loudness_reader, model_reader
from autotosis.run.live.shorts import ShortMaker, short_name
from autotosis.signals import fuse as signals_lib
from autotosis.signals import loudness as loudness_lib


def _readable(path: Path) -> bool:
    try:
        media.probe(path, growing=True)
        return True
    except MediaError:
        return False


class Session:
    """One live run (see the module docstring). `run()` follows; `finish()` writes the end."""

    def __init__(self, options: LiveOptions, folder: Path, events: LiveEvents):
        self.options, self.folder, self.events = options, folder, events
        self.buffer = ReplayBuffer(folder / ".buffer")
        self.clips = clips_lib.read_log(folder)
        self.stop = threading.Event()
        self.ended = ""
        self.files: list[Path] = []
        self.notes: list[str] = []
        self.signals: LiveSignals | None = None
        self.configs: dict[str, select_lib.SelectConfig] = {}  # per label
        self.label = "loud"
        self.model_meta: dict = {}
        self.render_cpu = 0.0
        self.started = time.monotonic()
        self._cpu_mark = (self.started, usage.running_cpu())
        self.follow_cpu = 0.0
        self._lead = float("-inf")  # the most the edge was ever ahead of the clock (see status)
        self._follower: Follower | None = None
        self.ahead = clips_lib.AheadEncoder(self.buffer)
        self.shorts: ShortMaker | None = None
        self.missing_shorts: list[clips_lib.Clip] = []  # clips an earlier run cut without their short
        self.recorder: Recorder | None = None  # the ffmpeg recording a stream URL (end.py)
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
        if not wait_for(path, opts.idle, self._usable, self.stop):
            if self.recorder is not None:
                raise AutotosisError(f"{opts.source}: no stream arrived within --idle {opts.idle:g}s")
            raise AutotosisError(f"{path}: no readable recording appeared within --idle {opts.idle:g}s")
        info = media.probe(path, growing=True)
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
        thresholds: dict[str, float] = {}
        if "model" in signals:
            assert opts.model is not None
            models, thresholds, fps = load_models(opts.model, opts.more_models, opts.labels, opts.facecam)
            self.label = next(iter(thresholds))
            self.model_meta = {"models": models, "box": models[0].box, "fps": opts.fps or fps,
                               "threshold": thresholds[self.label], "thresholds": thresholds,
                               "path": models[0].path}
        weights = (signals_lib.resolve_weights(signals, opts.fuse_weight, opts.weights)
                   if len(signals) > 1 else {})
        if self.chat is not None and "chat" not in signals:
            self.note(f"chat: not used (--scorer {signals_lib.scorer_name(signals)})")
            self.chat = None
        self.signals = LiveSignals(opts.loudness.window, signals, thresholds, weights, chat=self.chat)
        if self.chat is not None:
            self.chat.start()
        overrides = {k: v for k, v in opts.select.items() if v is not None}
        default = select_lib.SelectConfig()
        self.configs = {  # as compile's selection_config: each label's own threshold on the model alone
            name: dataclasses.replace(default, **{
                "enter": threshold if signals == ("model",) else default.enter, **overrides})
            for name, threshold in (thresholds or {self.label: 0.0}).items()}
        if opts.shorts is not None:  # the model's box (or --facecam), else found on the first clip
            box = self.model_meta["box"] if self.model_meta else opts.facecam
            self.shorts = ShortMaker(opts.shorts, box, source_name(opts.source), opts.render.audio_track)
            joined = {file for clip in self.clips for file in clip.replaces}  # their whole highlight has one
            self.missing_shorts = [c for c in self.clips if not c.short and c.file not in joined
                                   and (self.folder / c.file).exists()]
        self.note("live: scoring with " + signals_lib.scorer_name(signals) +
                  (f", {len(self.clips)} clip(s) already cut by an earlier run" if self.clips else "")
                  + (f", {len(self.missing_shorts)} without their short (made again)"
                     if self.missing_shorts else ""))
        return info

    def _usable(self, path: Path) -> bool:
        """The recording's header is readable; a recorder that exited first says why (one line)."""
        if path.exists() and path.stat().st_size > 0 and _readable(path):
            return True
        if self.recorder is not None and self.recorder.proc.poll() is not None:
            if self.recorder.waiting():  # a URL not there yet (404): asked again until --idle
                return False
            self.recorder.finish(self.options.source)  # its stderr as a MediaError
            raise AutotosisError(f"{self.options.source}: the stream ended before it started")
        return False

    def _recorder_done(self) -> bool:
        return self.recorder is not None and self.recorder.proc.poll() is not None

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
            info = media.probe(path, growing=True)
            self.signals.offset = offset

    def _follow_file(self, path: Path, info: media.VideoInfo, offset: float) -> tuple[str, Path | None]:
        assert self.signals is not None
        opts, signals = self.options, self.signals.signals
        out: queue.Queue = queue.Queue()
        readers = []
        consumers = 1 + ("loudness" in signals) + len(self.model_meta.get("models", []))
        follower = self._follower = Follower(path, consumers, opts.idle, opts.follow_dir,
                                             source_done=self._recorder_done if self.recorder else None)
        with media.FFmpegProcess(self.buffer.args_for_next_file(offset, opts.buffer_seconds),
                                 stdin=True, stdout=False) as buffer_proc:
            assert buffer_proc.proc.stdin is not None
            follower.attach(buffer_proc.proc.stdin)
            if "loudness" in signals:
                track, _ = loudness_lib.choose_track(info, opts.loudness.track)
                readers.append(loudness_reader(opts.loudness, track.index, follower.attach, out))
            for model in self.model_meta.get("models", []):  # one decode each, at its own box and size
                readers.append(model_reader(info, self.model_meta["fps"], model.box, model.size,
                                            model.predict, follower.attach, out))
            follower.start()
            running, fresh = len(readers), False
            next_update = time.monotonic()
            while running:
                try:
                    try:
                        kind, _, value = out.get(timeout=0.1)
                    except queue.Empty:
                        kind = value = None
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
                    fresh = fresh or kind in ("levels", "model")
                    # A recording arrives a cluster (2 s from OBS) at a time: what it brings is
                    # read whole (the queue drained) before selection runs on it.
                    if fresh and out.empty() and time.monotonic() >= next_update:
                        next_update, fresh = time.monotonic() + opts.update_every, False
                        self.update(final=False)
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
        if final:
            self.ahead.wait()  # nothing encodes from the buffer once the end begins
        if self.chat is not None:
            self.chat.poll(self._clock(final))
        scores = self.signals.label_scores(final) or {self.label: self.signals.score(final)}
        keep_from, finished = self._make_missing_shorts(final), self.buffer.covered_until()
        # with the piece still being written (an ffprobe): read when a clip or a part needs it
        covered = functools.cache(lambda: self.buffer.covered_until(writing=True))
        opened: list[tuple[Segment, str, Timeline]] = []
        for label, score in scores.items():
            if len(score) == 0:
                return
            config = self.configs[label]
            if final:
                duration = max(self.signals.edge(), float(score.times[-1]))
                unbudgeted = dataclasses.replace(config, max_length=None, top=None)
                found = select_lib.select_segments(score, unbudgeted, duration)
                state = online_lib.Online(found, 0.0, found)
            else:
                settled = None
                if self.chat is not None:  # chat has not yet reacted to the last few seconds
                    settled = min(online_lib.settled_until(score, config),
                                  self.chat.known_until(self.signals.edge()))
                state = online_lib.online(score, config, settled)
            keep_from = min(keep_from, state.keep_from)
            opened += [(seg, label, score) for seg in state.open]
            for seg in state.closed:
                joined = clips_lib.overlapping(self.clips, seg, label)
                if joined and not clips_lib.grown(seg, joined):
                    continue  # cut already, by this run or an earlier one
                if not final and seg.end > finished + 0.05 and seg.end > covered() + 0.05:
                    keep_from = min(keep_from, seg.start)  # wait for the buffer to hold its end
                    continue
                # as compile's select_labelled: a highlight starting inside another label's starts at its end
                start = max([c.end for c in self.clips if c.label != label and c.start <= seg.start < c.end],
                            default=seg.start)
                if seg.end - start < max(config.min_event, 0.5):
                    continue
                try:
                    self._cut(dataclasses.replace(seg, start=start), score, label,
                              tuple(c.file for c in joined), self.ahead.take(seg))
                except AutotosisError as exc:
                    if not final:
                        raise
                    self.note(f"live: could not cut {seg.start:.1f}-{seg.end:.1f}s at the end: {exc}")
        if not final:
            if not self.ahead.busy:
                self.ahead.start(opened, covered() if opened else finished, self.clip_render)
            self.buffer.prune(keep_from - self.options.buffer_seconds)
            self.events.status(self.status())

    def _cut(self, seg: Segment, score: Timeline, label: str, replaces: tuple[str, ...] = (),
             ahead: clips_lib.Ahead | None = None) -> None:
        number = len(self.clips) + 1
        name = clips_lib.clip_name(number, label, seg.start)
        target = self.folder / "clips" / name
        before_cpu, before = usage.ended_children(), time.monotonic()
        short = ""

        def make_short(joined: Path, local: Segment) -> None:
            nonlocal short
            assert self.shorts is not None
            peak = peak_time(seg, score)
            own = short_name(number, seg, label, peak)
            try:
                for message in self.shorts(joined, local, seg.start, number, label,
                                           peak - seg.start + local.start, self.folder / own):
                    self.note(message)
                short = own
            except AutotosisError as exc:  # the clip is kept; the stream goes on
                self.note(f"live: no short of clip {number:02d}: {exc}")

        clips_lib.cut_clip(self.buffer, seg, target, self.clip_render, score, label, ahead,
                           make_short if self.shorts is not None else None)
        self.render_cpu += usage.ended_children() - before_cpu
        clip = clips_lib.Clip(seg.start, seg.end, label, seg.peak, f"clips/{name}", short, replaces)
        clips_lib.append_log(self.folder, clip)
        self.clips.append(clip)
        self.events.clip(clip, time.monotonic() - before)

    @property
    def clip_render(self) -> render_lib.RenderConfig:
        """How clips are encoded: as the reel, at the clip preset (see options.CLIP_PRESET)."""
        return dataclasses.replace(self.options.render, preset=self.options.clip_preset)

    def _make_missing_shorts(self, final: bool) -> float:
        """The shorts an earlier run failed to make (--shorts, resumed), from the replay buffer once
        it holds the clip again (the same recording), else from the clip file; each goes into its
        highlights.jsonl row. Returns the earliest clip start waiting for the buffer (kept from there)."""
        if not self.missing_shorts:
            return float("inf")
        pieces = self.buffer.pieces()
        covered = pieces[-1].end if pieces else 0.0
        waiting = float("inf")
        for clip in list(self.missing_shorts):
            reachable = self.recorder is None and (not pieces or pieces[0].start <= clip.start + 0.05)
            held = reachable and clip.end <= covered + 0.05
            if reachable and not held and not final:
                waiting = min(waiting, clip.start)
                continue
            self.missing_shorts.remove(clip)
            self._short_again(clip, held)
        return waiting

    def _short_again(self, clip: clips_lib.Clip, from_buffer: bool) -> None:
        assert self.shorts is not None and self.signals is not None
        index = self.clips.index(clip)
        peak = peak_time(Segment(clip.start, clip.end, clip.peak), self.signals.score(final=False))
        buffer = self.buffer if from_buffer else None
        try:
            own, notes = self.shorts.again(self.folder, buffer, clip, index + 1, peak)
        except AutotosisError as exc:  # the next run tries again
            self.note(f"live: no short of clip {index + 1:02d} again: {exc}")
            return
        for message in notes:
            self.note(message)
        self.clips[index] = dataclasses.replace(clip, short=own)
        clips_lib.rewrite_log(self.folder, self.clips)
        self.note(f"live: short {own} of clip {index + 1:02d} (cut by an earlier run), made from "
                  + ("the replay buffer" if from_buffer else f"{clip.file}"))

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
