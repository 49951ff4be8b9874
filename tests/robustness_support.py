"""The CLI as a user runs it: `python -m autotosis` in its own process group, for tests that
send real signals or run commands side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _default_interrupts() -> None:
    """Ctrl-C as a terminal delivers it, even when the tests run as a background job (a
    non-interactive shell starts those with SIGINT ignored, and Python then never raises
    KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Run:
    """`python -m autotosis ARGS` in a new session (its own process group), output to files."""

    def __init__(self, cwd: Path, *args: str):
        self.log = cwd / f"run-{time.monotonic_ns()}.log"
        env = {**os.environ, "AUTOTOSIS_CACHE": str(cwd / "cache"), "PYTHONPATH": str(ROOT)}
        env.pop("AUTOTOSIS_DEBUG", None)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "autotosis", *args], cwd=cwd, env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, preexec_fn=_default_interrupts)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, f"finished before {what}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {what} within {timeout:.0f}s:\n{self.output}"
            time.sleep(0.01)

    def children(self, needle: str = "ffmpeg") -> list[str]:
        """Live processes of this run's group (the CLI and whatever it started) matching `needle`."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            state, pgrp = fields[0], int(fields[2])
            if pgrp == self.proc.pid and state != "Z" and needle in cmdline:
                found.append(cmdline)
        return found

    def interrupt(self, sig: int, group: bool = False) -> None:
        """`group`: the whole process group, as a terminal's Ctrl-C does; else the CLI alone, as `kill`."""
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)

    def finish(self, timeout: float = 300.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)


def assert_interrupted_cleanly(run: Run, folder: Path) -> None:
    """Exit 130, the one-line notice, no traceback, no ffmpeg left, no partial file anywhere."""
    code = run.finish()
    assert code == 130, run.output
    assert "Interrupted" in run.output and "Traceback" not in run.output, run.output
    time.sleep(0.2)  # a killed child may need a moment to be reaped by init
    assert run.children() == []
    leftovers = [p for p in folder.rglob(".*") if ".part" in p.name]
    assert not leftovers, leftovers  # atomic writes' temp files
