"""`autotosis compile` on many VODs: inputs, naming, a broken file among good ones, Ctrl-C and resume.

The end-to-end tests run the CLI as a user does (its own process group, real signals) on
tiny generated VODs scored by loudness, so no model is trained.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from media_support import burst_vod
from robustness_support import Run, assert_interrupted_cleanly

from autotosis.core.errors import AutotosisError
from autotosis.publish.reel import pieces_dir
from autotosis.run import batch


def _vods(folder: Path, count: int, seconds: float = 20.0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [burst_vod(folder / f"v{i}.mp4", seconds, (6.0 + i, 9.0 + i), width=160, height=90)
            for i in range(count)]


# ---------------------------------------------------------------- inputs and naming (fast)


def test_inputs_expand_files_folders_lists_and_urls(tmp_path: Path) -> None:
    vods = tmp_path / "vods"
    vods.mkdir()
    for name in ("b.mp4", "a.MKV", "notes.txt.bak", ".hidden.mp4"):
        (vods / name).write_bytes(b"x")
    (vods / "sub").mkdir()
    (vods / "sub" / "deep.mp4").write_bytes(b"x")
    listing = tmp_path / "lists" / "archive.txt"
    listing.parent.mkdir()
    listing.write_text("# the channel's archive\n\n../vods/b.mp4\n  ../vods/sub/deep.mp4   # a comment\n"
                       "https://example.invalid/v/1\n/abs/missing.mp4\n")
    jobs = batch.expand_inputs([str(vods), str(listing), str(vods / "b.mp4"), "lone.mp4"])
    assert [j.source for j in jobs] == [
        str(vods / "a.MKV"), str(vods / "b.mp4"),  # sorted, hidden and non-video files left out
        str(listing.parent / "../vods/sub/deep.mp4"),  # relative to the list; b.mp4 only once
        "https://example.invalid/v/1", "/abs/missing.mp4", "lone.mp4"]
    url = jobs[3]
    assert url.vod is None and url.url == "https://example.invalid/v/1"
    assert all(j.vod is not None and j.vod.is_absolute() for j in jobs if j is not url)

    (tmp_path / "empty").mkdir()
    with pytest.raises(AutotosisError, match="empty: no video files"):
        batch.expand_inputs([str(tmp_path / "empty")])
    (tmp_path / "blank.txt").write_text("# nothing yet\n\n")
    with pytest.raises(AutotosisError, match=r"blank\.txt: the list names no VOD"):
        batch.expand_inputs([str(tmp_path / "blank.txt")])


def test_same_stem_in_two_folders_gets_two_stable_folders(tmp_path: Path) -> None:
    jobs = batch.expand_inputs([str(tmp_path / "a" / "stream.mp4"), str(tmp_path / "b" / "stream.mp4"),
                                str(tmp_path / "c" / "other.mp4")])
    out = tmp_path / "output"
    names = batch.plan(jobs, out)
    assert names[2] == "other"
    assert names[0] != names[1] and all(n and n.startswith("stream-") for n in names[:2])
    assert batch.plan(jobs[::-1], out)[::-1] == names  # whatever the order of the inputs
    # A folder that already holds another VOD's reel is not reused for this one.
    (out / "other").mkdir(parents=True)
    (out / "other" / "options.json").write_text(json.dumps({"vod": "/elsewhere/other.mp4"}))
    assert batch.plan(jobs, out)[2].startswith("other-")
    (out / "other" / "options.json").write_text(json.dumps({"vod": str(jobs[2].vod)}))
    assert batch.plan(jobs, out)[2] == "other"


def test_cores_are_shared_between_the_vods_running_at_once() -> None:
    assert batch.sizing(1, 16) == batch.Sizing(threads=8, render_jobs=4)
    assert batch.sizing(4, 16) == batch.Sizing(threads=2, render_jobs=4)
    assert batch.sizing(2, 2) == batch.Sizing(threads=1, render_jobs=1)
    assert batch.sizing(8, 2) == batch.Sizing(threads=1, render_jobs=1)  # never less than one
    assert batch.default_parallel(2) == 1 and batch.default_parallel(16) == 4


# ---------------------------------------------------------------- end to end (CLI processes)


@pytest.mark.slow
def test_a_broken_file_among_good_ones(tmp_path: Path) -> None:
    """The issue's done-when: six VODs, one broken -> five reels, one clear failure line."""
    vods = _vods(tmp_path / "vods", 5)
    (tmp_path / "vods" / "v5-broken.mp4").write_bytes(vods[0].read_bytes()[:3000])  # a cut download
    run = Run(tmp_path, "compile", "vods", "--parallel", "2")
    assert run.finish() == 1, run.output
    out = run.output
    assert "Traceback" not in out
    failures = [line for line in out.splitlines() if line.startswith("[") and "failed:" in line]
    assert len(failures) == 1 and "vods/v5-broken.mp4" in failures[0], out
    assert "Error: 1 of 6 VOD(s) failed: vods/v5-broken.mp4" in out
    for vod in vods:
        folder = tmp_path / "output" / vod.stem
        assert (folder / "reel.mp4").stat().st_size > 0
        assert len(json.loads((folder / "segments.json").read_text())["segments"]) == 1
    assert not (tmp_path / "output" / "v5-broken").exists()
    manifest = json.loads((tmp_path / "output" / "batch.json").read_text())
    assert manifest["counts"] == {"done": 5, "failed": 1} and manifest["finished"]
    assert [v["status"] for v in manifest["vods"]] == ["done"] * 5 + ["failed"]
    first = manifest["vods"][0]
    assert first["highlights"] == 1 and first["duration"] == pytest.approx(20, abs=0.1)
    table = out[out.index("VOD  "):]
    assert "5 done, 0 skipped, 1 failed" in table and table.count(" done\n") == 5

    # Each folder is exactly what a single compile makes (threads and render jobs aside).
    single = Run(tmp_path, "compile", str(vods[2]), "--out", "single")
    assert single.finish() == 0, single.output
    assert "highlight(s)" in single.output and "VOD  " not in single.output  # one VOD: today's output
    mine, theirs = tmp_path / "output" / "v2", tmp_path / "single"
    assert (mine / "segments.json").read_text() == (theirs / "segments.json").read_text()
    assert (mine / "chapters.txt").read_text() == (theirs / "chapters.txt").read_text()
    assert sorted(p.name for p in mine.iterdir()) == sorted(p.name for p in theirs.iterdir())
    a, b = (json.loads((f / "options.json").read_text()) for f in (mine, theirs))
    a["render"].pop("jobs"), b["render"].pop("jobs")
    assert a == b

    again = Run(tmp_path, "compile", "vods", "--parallel", "2")
    assert again.finish() == 1, again.output
    assert "5 skipped, 1 failed" in again.output and again.output.count("already complete") == 5


@pytest.mark.slow
@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c", "kill-int"])
def test_interrupted_batch_resumes_without_redoing_finished_vods(tmp_path: Path, group: bool) -> None:
    vods = _vods(tmp_path / "vods", 3)
    # v1's reel takes a while to render (a grain no encoder compresses, at a bigger size):
    # its render has well over a second to go when the interrupt comes, even on a busy machine.
    burst_vod(vods[1], 30.0, (6.0, 12.0), width=320, height=180, grain=True)
    args = ("compile", "vods", "--parallel", "1", "--preset", "slow")
    first = Run(tmp_path, *args)
    rendering = pieces_dir(tmp_path / "output" / "v1" / "reel.mp4")  # made as v1's render starts
    first.wait_until(rendering.exists, "the second VOD's render")
    first.interrupt(signal.SIGINT, group=group)
    assert_interrupted_cleanly(first, tmp_path)
    assert first.children("worker_main") == []
    manifest = json.loads((tmp_path / "output" / "batch.json").read_text())
    assert [v["status"] for v in manifest["vods"]] == ["done", "interrupted", "pending"]
    assert not (tmp_path / "output" / "v1" / "segments.json").exists()
    finished = (tmp_path / "output" / "v0" / "reel.mp4").stat().st_mtime_ns

    second = Run(tmp_path, *args)
    assert second.finish() == 0, second.output
    assert "vods/v0.mp4: already complete, skipped" in second.output
    assert "1 skipped" in second.output and "2 done" in second.output
    assert (tmp_path / "output" / "v0" / "reel.mp4").stat().st_mtime_ns == finished
    for vod in vods:
        assert json.loads((tmp_path / "output" / vod.stem / "segments.json").read_text())["segments"]
    assert not [p for p in (tmp_path / "output").rglob(".*") if ".part" in p.name]
    os.utime(vods[0])  # a VOD replaced since its reel: not silently kept, not silently replaced
    third = Run(tmp_path, *args)
    assert third.finish() == 1, third.output
    assert "output/v0/reel.mp4: the VOD changed since; pass --force to replace it" in third.output
    assert "2 skipped, 1 failed" in third.output


@pytest.mark.slow
def test_urls_in_a_list_are_downloaded_then_compiled(tmp_path: Path) -> None:
    """A list of URLs served from 127.0.0.1: each downloaded into vods/, then compiled."""
    import functools
    import http.server
    import threading

    served = tmp_path / "www"
    _vods(served, 2, seconds=12.0)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        (tmp_path / "list.txt").write_text(f"# two streams\n{base}/v0.mp4\n{base}/v1.mp4\n{base}/gone.mp4\n")
        run = Run(tmp_path, "compile", "list.txt", "--parallel", "2")
        assert run.finish() == 1, run.output
    finally:
        server.shutdown()
    assert "2 done, 0 skipped, 1 failed" in run.output and f"{base}/gone.mp4" in run.output
    manifest = json.loads((tmp_path / "output" / "batch.json").read_text())
    for row in manifest["vods"][:2]:
        folder = Path(row["out_dir"])
        segments = json.loads((folder / "segments.json").read_text())
        assert segments["segments"] and Path(segments["vod"]).parent == tmp_path / "vods"
        assert segments["segments"][0]["link"].startswith(row["source"])  # ?t= links to the URL


@pytest.mark.slow
def test_a_worker_killed_mid_vod_fails_that_vod_only(tmp_path: Path) -> None:
    """As the kernel's OOM killer would: SIGKILL, no chance to clean up; the batch goes on."""
    _vods(tmp_path / "vods", 3)
    run = Run(tmp_path, "compile", "vods", "--parallel", "1")
    run.wait_until(lambda: "[1/3] vods/v0.mp4" in run.output and _worker(run) is not None, "a worker")
    os.kill(_worker(run), signal.SIGKILL)  # type: ignore[arg-type]
    assert run.finish() == 1, run.output
    assert "[1/3] failed: vods/v0.mp4: the worker died (killed by signal 9) (out of memory?)" in run.output
    assert "2 done, 0 skipped, 1 failed" in run.output
    for name in ("v1", "v2"):
        assert (tmp_path / "output" / name / "segments.json").exists()
    again = Run(tmp_path, "compile", "vods", "--parallel", "1")  # the re-run finishes the job
    assert again.finish() == 0, again.output
    assert "1 done, 2 skipped" in again.output


def _worker(run: Run) -> int | None:
    """The pid of the batch's worker process, once it is running."""
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if b"worker_main" in cmdline and int(stat[stat.rindex(")") + 2:].split()[2]) == run.proc.pid:
            return int(entry.name)
    return None


def test_one_chat_file_is_refused_for_a_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from autotosis.cli.main import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.chat.log").write_text("")
    result = CliRunner().invoke(cli, ["compile", "a.mp4", "b.mp4", "--chat", "a.chat.log"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == ("Error: --chat FILE is one VOD's chat replay; in a "
                                                      "batch use --chat auto (each VOD's replay beside it)")


def test_complete_means_made_for_this_vod_with_these_options(tmp_path: Path) -> None:
    """What a re-run skips: checked on a folder laid out as compile leaves it."""
    import dataclasses

    from autotosis.run.compile import CompileOptions

    vod = tmp_path / "v.mp4"
    vod.write_bytes(b"x")
    folder = tmp_path / "out"
    folder.mkdir()
    asked = CompileOptions(vod=vod, scorer=None, select={"top": None})
    assert batch.completeness(asked, folder) == "missing"
    (folder / "reel.mp4").write_bytes(b"x")
    assert batch.completeness(asked, folder) == "incomplete"  # stopped before options.json

    def record(scorer: str, **extra: object) -> None:
        from autotosis.pick.select import SelectConfig

        options = {"vod": str(vod), "url": None, "scorer": scorer, "fuse_weight": asked.fuse_weight,
                   "select": dataclasses.asdict(SelectConfig()), "render": asked.render.to_dict(), **extra}
        (folder / "options.json").write_text(json.dumps(options))
        (folder / "segments.json").write_text(json.dumps({"segments": []}))
        os.utime(vod, ns=(0, 0))

    record("loudness+chat")  # chose loudness and chat by itself: no model involved
    assert batch.completeness(asked, folder) is None
    (folder / "options.json").touch()
    os.utime(folder / "segments.json", ns=(1, 1))
    assert batch.completeness(asked, folder) == "incomplete"  # sidecars older than options.json
    record("loudness")
    assert batch.completeness(dataclasses.replace(asked, select={"top": 2}), folder) == \
        "made with other select options (top)"
    assert batch.completeness(dataclasses.replace(asked, model=tmp_path / "m.pt"), folder) == \
        "made with another scorer (loudness)"  # a model trained since
    assert batch.completeness(dataclasses.replace(asked, vod=tmp_path / "other.mp4"), folder) == \
        f"made with another vod ({vod})"
    os.utime(vod)
    assert batch.completeness(asked, folder) == "the VOD changed since"


def test_every_model_and_its_labels_count_for_complete(tmp_path: Path) -> None:
    """A re-run with another second --model (or other --labels) is not the reel already made."""
    import dataclasses

    from autotosis.pick.select import SelectConfig
    from autotosis.run.compile import CompileOptions

    vod, rage, laugh, pog = (tmp_path / name for name in ("v.mp4", "rage.pt", "laugh.pt", "pog.pt"))
    for path in (vod, rage, laugh, pog):
        path.write_bytes(b"x")
        os.utime(path, ns=(0, 0))
    folder = tmp_path / "out"
    folder.mkdir()
    asked = CompileOptions(vod=vod, model=rage, more_models=(laugh,), scorer="model")

    def record(*models: Path, labels: list[str], **asked_labels: list[str] | None) -> None:
        options = {"vod": str(vod), "url": None, "scorer": "model", "fuse_weight": asked.fuse_weight,
                   "select": dataclasses.asdict(SelectConfig()), "render": asked.render.to_dict(),
                   "scan": dataclasses.asdict(asked.scan), "model": str(models[0]), "label": labels[0],
                   **asked_labels}  # older options.json files have no asked_labels
        if len(labels) > 1:
            options["labels"] = labels
        if len(models) > 1:
            options["models"] = [{"model": str(m), "facecam": [0, 0, 1, 1], "labels": [m.stem]}
                                 for m in models]
        (folder / "reel.mp4").write_bytes(b"x")
        (folder / "options.json").write_text(json.dumps(options))
        (folder / "segments.json").write_text(json.dumps({"segments": []}))

    record(rage, laugh, labels=["rage", "laugh"])
    assert batch.completeness(asked, folder) is None
    assert batch.completeness(dataclasses.replace(asked, more_models=(pog,)), folder) == \
        f"made with other models ({rage}, {laugh})"  # the first model alone is the same
    assert batch.completeness(dataclasses.replace(asked, more_models=()), folder) == \
        f"made with other models ({rage}, {laugh})"
    twice = dataclasses.replace(asked, more_models=(laugh, rage))  # each model counts once
    assert batch.completeness(twice, folder) is None
    os.utime(laugh)
    assert batch.completeness(asked, folder) == f"the model {laugh} changed since"
    os.utime(laugh, ns=(0, 0))

    # --labels rage: laugh.pt had nothing to score, so it was not run nor recorded.
    record(rage, labels=["rage"])
    only_rage = dataclasses.replace(asked, labels=("rage",))
    assert batch.completeness(only_rage, folder) is None
    assert batch.completeness(asked, folder) == f"made with other models ({rage})"
    assert batch.completeness(dataclasses.replace(only_rage, labels=("laugh",)), folder) == \
        "made with other labels (rage)"
    assert batch.completeness(dataclasses.replace(only_rage, model=pog), folder) == \
        f"made with another model ({rage})"

    # one model with two heads: a reel of --labels rage is not the reel of every label, nor back
    one = CompileOptions(vod=vod, model=rage, scorer="model")
    record(rage, labels=["rage"], asked_labels=["rage"])
    assert batch.completeness(one, folder) == "made with --labels rage"
    assert batch.completeness(dataclasses.replace(one, labels=("rage",)), folder) is None
    record(rage, labels=["rage", "laugh"], asked_labels=None)
    assert batch.completeness(one, folder) is None
    assert batch.completeness(dataclasses.replace(one, labels=("rage",)), folder) == "made without --labels"
