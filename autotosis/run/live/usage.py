"""CPU use of the live process and its running ffmpegs, read from /proc (Linux).

The streamer's PC also runs the game and OBS, so live mode says what it costs: this
process plus its children still running (the follower's ffmpegs). A clip's render is a
child that has ended by the time it is counted, so it is measured apart (see `ended_children`).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces


def running_cpu() -> float:
    """CPU seconds of this process and of its children still running; 0 where /proc is missing."""
    own = _stat("self")
    if own is None:
        return 0.0
    total = (int(own[11]) + int(own[12])) / _TICK
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(entry.name)
            if fields is not None and fields[1] == me:
                total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def ended_children() -> float:
    """CPU seconds of every child that has ended (each clip's ffmpeg renders among them)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def resident_mb() -> float:
    """This process's resident memory in MiB (the ffmpegs stay flat by construction)."""
    fields = _stat("self")
    return int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20 if fields is not None else 0.0
