"""Waiting for the machine to be quiet before a measurement.

A step that writes a lot (a generated clinic, a dispatch run) leaves PostgreSQL checkpointing and
vacuuming, and exiting processes, for seconds after it returns: a measurement started then is
slowed by its predecessor. ``wait_for_quiet`` samples the whole machine's CPU use from
/proc/stat and returns once it stays low, or after ``limit`` seconds.
"""

from __future__ import annotations

import time
from pathlib import Path

QUIET = 0.25  # the fraction of all cores' time busy below which the machine counts as quiet


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies over all cores since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy(seconds: float = 2.0) -> float:
    """The fraction of all cores' time spent busy over the next ``seconds``."""
    busy0, total0 = _cpu_times()
    time.sleep(seconds)
    busy1, total1 = _cpu_times()
    return (busy1 - busy0) / max(1, total1 - total0)


def wait_for_quiet(*, limit: float = 90.0, sample: float = 2.0) -> tuple[float, float]:
    """Wait until CPU use over one sample falls below ``QUIET`` (at most ``limit`` seconds).

    Returns the seconds waited and the last sample's busy fraction (above ``QUIET`` when the
    limit ran out: the measurement then starts on a busy machine, and says so).
    """
    began = time.monotonic()
    busy = cpu_busy(sample)
    while busy >= QUIET and time.monotonic() - began < limit:
        busy = cpu_busy(sample)
    return time.monotonic() - began, busy
