"""`autotosis live` when the output folder's disk fills mid-stream, on a real small file system:
a tmpfs mounted in a user namespace of its own (`unshare -rm`), filled by a ballast file once
the first clip is cut, emptied again for the rerun."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from media_support import burst_vod, play

ROOT = Path(__file__).resolve().parent.parent


def _can_mount(tmp: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {tmp}"],
                           capture_output=True)
    return probe.returncode == 0


def test_disk_filling_after_a_clip_is_one_line_and_a_rerun_resumes(tmp_path):
    """The disk fills once the first clip is cut (a ballast file takes the rest of the tmpfs),
    while the stream is still played in real time: one line, that clip and its row kept whole;
    with the ballast gone, a rerun cuts the second shout and not the first again."""
    out = tmp_path / "out"
    out.mkdir()
    if not _can_mount(out):
        pytest.skip("no user namespaces here to mount a small tmpfs")
    source = burst_vod(tmp_path / "src" / "shout.mkv", 20.0, (2.0, 4.0), more=((12.0, 14.0),))
    growing = tmp_path / "shout.mkv"
    log = out / "shout" / "highlights.jsonl"
    live = (f"{sys.executable} -m autotosis live {growing} --idle 2 --pad-before 2 --merge-gap 1 "
            f"--scorer loudness --no-reel --out {out}/shout")
    script = (f"mount -t tmpfs -o size=64m tmpfs {out} && cd {tmp_path} || exit 1; "
              f"({live} > first.txt 2>&1; echo $? > first.rc) & "
              f"for i in $(seq 400); do [ -s {log} ] && break; sleep 0.1; done; "
              f"dd if=/dev/zero of={out}/ballast bs=64k 2>/dev/null; wait; "
              f"find {out} -type f > left.txt; cp {log} first.jsonl; rm {out}/ballast; "
              f"{live} > again.txt 2>&1; echo $? > again.rc; cp -r {out}/shout {tmp_path}/kept")
    env = dict(os.environ, PYTHONPATH=str(ROOT), AUTOTOSIS_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    env.pop("AUTOTOSIS_DEBUG", None)
    player = play(source, growing)
    try:
        subprocess.run(["unshare", "-rm", "sh", "-c", script], env=env, check=True, timeout=150)
    finally:
        player.kill()

    first = (tmp_path / "first.txt").read_text()
    assert (tmp_path / "first.rc").read_text().strip() == "1", first
    errors = [line for line in first.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {out}/shout: no space left on device; the 1 clip(s) already cut are kept: "
                      "free some space and run again to resume"], first
    assert "Traceback" not in first
    left = (tmp_path / "left.txt").read_text().split()
    assert not [p for p in left if "/clips/" in p and not p.endswith(".mp4")], left  # no half-written temp
    [row] = [json.loads(line) for line in (tmp_path / "first.jsonl").read_text().splitlines()]
    assert row["start"] <= 2.0 and row["end"] < 12.0  # the first shout's, whole

    again = (tmp_path / "again.txt").read_text()
    assert (tmp_path / "again.rc").read_text().strip() == "0", again
    rows = [json.loads(line) for line in (tmp_path / "kept" / "highlights.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and rows[0] == row and rows[1]["start"] >= 9.0  # the second shout's, cut once
    assert sorted(p.name for p in (tmp_path / "kept" / "clips").iterdir()) == sorted(
        Path(r["file"]).name for r in rows)
    assert all((tmp_path / "kept" / r["file"]).stat().st_size > 0 for r in rows)
