"""A live run from start to end: lock the folder, record a URL if need be, follow, then write
what compile writes from the score the stream built.

At the end, the highlights still open are final (the stream will not go on), so they are
cut too; then the reel and every sidecar are written by compile's own `publish_scored` from
a `Scored` made of the live timelines, which are the ones compile measures on the finished
file: segments.json is compile's selection to within a sample. The shorts are the one
exception: each clip's was made as it was cut, into the shorts/ folder compile writes, so
they are not rendered a second time (`autotosis shorts output/<name> --force` remakes them
from the finished recording, e.g. with speech captions).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

from autotosis import media
from autotosis.core.errors import AutotosisError
from autotosis.core.fsutil import exclusive
from autotosis.core.paths import OUTPUT_DIR
from autotosis.run.compile import CompileOptions, Scored, publish_scored
from autotosis.run.live import shorts as shorts_lib
from autotosis.run.live.options import LiveEvents, LiveOptions, LiveResult, source_name
from autotosis.run.live.record import Recorder
from autotosis.run.live.resolve import needs_resolving, resolve_live
from autotosis.run.live.session import Session
from autotosis.signals import fuse as signals_lib


def output_folder(options: LiveOptions) -> Path:
    """Where the run writes: --out, else output/<source name>/ (what a page showing it serves)."""
    return options.out_dir if options.out_dir is not None else OUTPUT_DIR / source_name(options.source)


def run_live(options: LiveOptions, events: LiveEvents | None = None) -> LiveResult:
    """Follow `options.source` until it ends, cutting clips as highlights close; then the reel.

    The output folder is locked for the run. Ctrl-C ends the stream early: the ffmpegs get
    the end of their input, the open highlights are cut, and the reel is written from what
    was seen. A second run on the same source reads highlights.jsonl and cuts nothing twice.
    """
    events = events or LiveEvents()
    source = options.source
    is_url = source.startswith(media.URL_SCHEMES)
    if not is_url and Path(source).is_dir():
        raise AutotosisError(f"{source}: is a folder; give the recording file (with --follow-dir to follow "
                             "the files OBS splits it into)")
    if options.shorts is not None:
        shorts_lib.check(options.shorts)
    folder = output_folder(options)
    with exclusive(folder, "another autotosis live or compile"):
        session = Session(options, folder, events)
        path = folder / "stream.mkv" if is_url else Path(source)
        try:
            if is_url:
                stream, headers = source, None
                if needs_resolving(source):  # a channel or a page: yt-dlp finds its live stream
                    found = resolve_live(source)
                    stream, headers = found.url, found.headers
                    session.note(f"live: {source} is live" + (f" ({found.title})" if found.title else ""))
                session.recorder = Recorder(stream, path, headers, session.note)
                session.note(f"live: recording {stream} to {path}")
            try:
                session.run(path)
            except KeyboardInterrupt:
                session.ended = "interrupted"
        finally:
            if session.chat is not None:
                session.chat.close()  # what it received is taken in by the last update
            if (recorder := session.recorder) is not None:
                cut_off = recorder.proc.poll() is None  # --idle on a stalled stream, or an error
                recorder.__exit__()
                if cut_off:
                    _close_recording(session, path)
        return _finish(session)


def _close_recording(session: Session, path: Path) -> None:
    """Give a recording its killed recorder did not close its length and index (see close_args)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    closed = path.with_name(f".closing-{path.name}")
    try:
        media.run(media.close_args(path, closed), output=closed, source=path)
        closed.replace(path)
    except AutotosisError as exc:
        closed.unlink(missing_ok=True)
        session.note(f"live: {path} left as recorded ({exc})")


def _finish(session: Session) -> LiveResult:
    """Cut what is still open, then write the reel and compile's sidecars (one recording file)."""
    result = LiveResult(session.folder, session.clips, [], session.ended or "source ended",
                        notes=session.notes)
    signals = session.signals
    if signals is None:
        return result
    info = media.probe(session.files[0], growing=True) if len(session.files) == 1 else None
    if info is not None and info.duration <= 0:  # a stream recording cut off before it was closed
        info = dataclasses.replace(info, duration=signals.edge())
    if info is not None:
        signals.duration = info.duration  # chat's timeline spans the file, as compile's does
    session.update(final=True)
    if session.chat is not None:
        session.note(session.chat.describe())
    result.follow_cpu = session.follow_cpu
    result.render_cpu = session.render_cpu
    result.wall = time.monotonic() - session.started
    shutil.rmtree(session.buffer.folder, ignore_errors=True)
    if not session.options.reel:
        return result
    if len(session.files) != 1:
        session.note(f"live: the stream spans {len(session.files)} recording files; the reel and sidecars "
                     "are written for one file only (the clips are all in clips/)")
        return result
    vod = session.files[0]
    assert info is not None
    loud, model = signals.loudness(), signals.model()
    score = signals.score(final=True)
    label_scores = signals.label_scores(final=True)  # several labels: selected as compile selects them
    if len(score) == 0:
        return result
    scorer = signals_lib.scorer_name(signals.signals)
    meta = session.model_meta
    resolved: dict = {"vod": str(vod.absolute()), "scorer": scorer, "live": True,
                      "loudness": dataclasses.asdict(session.options.loudness)}
    if meta:
        resolved.update(model=str(Path(meta["path"]).absolute()), facecam=list(meta["box"]), fps=meta["fps"],
                        label=session.label)
        if len(meta["thresholds"]) > 1:
            resolved.update(labels=list(meta["thresholds"]), thresholds=meta["thresholds"])
        if len(meta["models"]) > 1:
            resolved["models"] = [{"model": str(Path(m.path).absolute()), "facecam": list(m.box),
                                   "labels": list(m.heads)} for m in meta["models"]]
    chat = session.chat
    if chat is not None:
        resolved["chat"] = {**chat.config.to_dict(), **chat.source, "format": chat.format,
                            "delay": chat.delay}
    if session.options.shorts is not None:  # made clip by clip; not rendered again below
        resolved["shorts"] = session.options.shorts.to_dict()
    resolved["weights"] = signals_lib.resolve_weights(signals.signals, session.options.fuse_weight,
                                                      session.options.weights)
    scored = Scored(info, score, loud, model, scorer, meta.get("path"), session.label, meta.get("threshold"),
                    None, resolved, tuple(session.notes), signals.chat_seen, label_scores,
                    meta.get("thresholds", {}))
    opts = session.options
    compile_options = CompileOptions(vod=vod, out_dir=session.folder, model=meta.get("path"), scorer=scorer,
                                     loudness=opts.loudness, select=opts.select, fuse_weight=opts.fuse_weight,
                                     weights=opts.weights, chat_config=opts.chat_config, render=opts.render,
                                     reel_audio=opts.reel_audio, force=True)
    try:
        compiled = publish_scored(compile_options, scored)
    except AutotosisError as exc:
        if "no highlights" not in str(exc):
            raise
        session.note(f"live: no reel: {exc}")
        return result
    result.segments, result.files = compiled.segments, compiled.files
    return result
