"""`autotosis live` when the output folder's disk fills mid-stream, on a real small file system:
a tmpfs mounted in a user namespace of its own (`unshare -rm`), grown again for the rerun."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from media_support import burst_vod

ROOT = Path(__file__).resolve().parent.parent


def _can_mount(tmp: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {tmp}"],
                           capture_output=True)
    return probe.returncode == 0


def test_full_disk_is_one_line_and_a_rerun_resumes(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    if not _can_mount(out):
        pytest.skip("no user namespaces here to mount a small tmpfs")
    vod = burst_vod(tmp_path / "shout.mkv", 20.0, (2.0, 4.0))
    live = (f"{sys.executable} -m autotosis live {vod} --idle 1 --pad-before 2 --merge-gap 1 "
            f"--out {out}/shout")
    script = (f"mount -t tmpfs -o size=1m tmpfs {out} && cd {tmp_path} && "
              f"{live} > first.txt 2>&1; echo $? > first.rc; "
              f"find {out} -type f > left.txt; cat {out}/shout/highlights.jsonl > first.jsonl 2>/dev/null; "
              f"mount -o remount,size=64m {out} && {live} > again.txt 2>&1; echo $? > again.rc; "
              f"cp -r {out}/shout {tmp_path}/kept")
    env = dict(os.environ, PYTHONPATH=str(ROOT), AUTOTOSIS_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    env.pop("AUTOTOSIS_DEBUG", None)
    subprocess.run(["unshare", "-rm", "sh", "-c", script], env=env, check=True, timeout=120)

    first = (tmp_path / "first.txt").read_text()
    assert (tmp_path / "first.rc").read_text().strip() != "0", first
    errors = [line for line in first.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {out}/shout: no space left on device; the 0 clip(s) already cut are kept: "
                      "free some space and run again to resume"], first
    assert "Traceback" not in first
    left = (tmp_path / "left.txt").read_text().split()
    assert not [p for p in left if "/clips/" in p and not p.endswith(".mp4")], left  # no half-written temp
    for line in (tmp_path / "first.jsonl").read_text().splitlines():
        json.loads(line)  # every row listed is whole

    again = (tmp_path / "again.txt").read_text()
    assert (tmp_path / "again.rc").read_text().strip() == "0", again
    rows = [json.loads(line) for line in (tmp_path / "kept" / "highlights.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and (tmp_path / "kept" / rows[0]["file"]).stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "kept" / "clips").iterdir()) == [Path(rows[0]["file"]).name]
