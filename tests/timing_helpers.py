"""Seconds of work of a block, for the tests of the time-limit contract ("limit + 1 s").

The suite runs on every core (``-n auto``), so a test's wall clock also counts the time its
process waited for a core while another test ran. The contract is about the planner's own
work after its deadline, so these tests measure the lesser of the block's wall time and its
process CPU time (all threads, and finished child processes): on a quiet machine the two agree
and the wall clock is what is checked; on a loaded one, CPU time. ``benchmarks/`` measure the
wall clock itself.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Work:
    """The measured seconds (``seconds``), filled when the ``with`` block ends."""

    seconds: float = float("nan")
    wall: float = float("nan")
    cpu: float = float("nan")


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@contextmanager
def work_seconds(*, this_thread: bool = False) -> Iterator[Work]:
    """``with work_seconds() as w: ...`` then ``w.seconds``: min(wall, CPU) of the block.

    With ``this_thread``, the CPU time is the calling thread's only
    (:func:`time.thread_time`): for a planner that does all its work on the calling thread
    (``allocate``), threads an earlier test left running in the same worker process (a
    cancelled job finishing its solve) are not counted as its work.
    """
    out = Work()
    clock = time.thread_time if this_thread else _cpu
    wall0, cpu0 = time.monotonic(), clock()
    try:
        yield out
    finally:
        out.wall = time.monotonic() - wall0
        out.cpu = clock() - cpu0
        out.seconds = min(out.wall, out.cpu)
