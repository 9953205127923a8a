"""The one way commgov makes a HiGHS solver (private): quiet, single-threaded, seeded.

HiGHS prints a two-line banner on the process's standard output when the first ``Highs``
object of a process is made, before any option can switch output off; a command whose
stdout is a CSV or a JSON document, or an app logging to stdout, must not get it. The first
solver is therefore made with file descriptor 1 pointed at ``os.devnull`` for the moment of
construction (under a lock; later constructions print nothing). Every solver then has
``output_flag`` off and the caller's seed. The thread count is left to HiGHS: its scheduler
is global to the process and fixed by the first solve, so a solver asking for another count
than one made before it (by the app, or a test) would refuse to run ("Not Set"); HiGHS's
MIP is deterministic for a given count.

References: Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
Mathematical Programming Computation 10(1):119-142, 2018 (HiGHS).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

__all__ = ["new_highs"]

_LOCK = threading.Lock()
_FIRST_DONE = False


def new_highs(seed: int | None = None) -> Any:
    """A ``highspy.Highs`` with output off (and ``random_seed`` when given).

    Raises
    ------
    commgov.errors.MissingExtraError
        If ``highspy`` is not installed (it is a dependency; a broken install).
    """
    global _FIRST_DONE
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        from commgov.errors import MissingExtraError

        raise MissingExtraError("highspy", "lp") from exc
    with _LOCK:
        if _FIRST_DONE:
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            h = _quietly(highspy.Highs)
            _FIRST_DONE = True
    h.setOptionValue("output_flag", False)
    if seed is not None:
        h.setOptionValue("random_seed", int(seed) % 2_147_483_647)
    return h


def _quietly(make: Any) -> Any:
    """``make()`` with file descriptor 1 on ``os.devnull`` (plain when fd 1 cannot move)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):
        return make()
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
        finally:
            os.close(null)
        return make()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
