"""The one way commgov makes a HiGHS solver (private): quiet, single-threaded, seeded.

HiGHS prints a two-line banner on the process's standard output when the first ``Highs``
object of a process is made, before any option can switch output off; a command whose
stdout is a CSV or a JSON document, or an app logging to stdout, must not get it. The first
solver is therefore made with file descriptor 1 pointed at ``os.devnull`` for the moment of
construction (under a lock; later constructions print nothing). Every solver then has
``output_flag`` off, the caller's seed and one thread: HiGHS's branch and cut may take
another path with another thread count (HiGHS's default is half the machine's cores), so
one thread keeps a plan the same on every machine.

HiGHS's thread pool is global to the process and fixed by the first solve; a solve asking
for another count than an earlier one (an app's own HiGHS, a test's reference model) is
refused with the model status "Not Set". :func:`run_highs` then restarts the pool once
(``Highs.resetGlobalScheduler``) and solves again — which is why commgov's solves go
through it, never through ``Highs.run`` directly.

References: Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
Mathematical Programming Computation 10(1):119-142, 2018 (HiGHS).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

__all__ = ["new_highs", "run_highs"]

_LOCK = threading.Lock()
_FIRST_DONE = False


def new_highs(seed: int | None = None) -> Any:
    """A ``highspy.Highs`` with output off and one thread (``random_seed`` when given).

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
    h.setOptionValue("threads", 1)
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


def run_highs(h: Any, run: Any = None) -> Any:
    """``run()`` (default ``h.run``), once more after restarting HiGHS's global thread pool
    when an earlier solve of the process had started it with another thread count (the
    run then ends at once with the model status "Not Set"). Returns the last run's value."""
    import highspy

    go = h.run if run is None else run
    result = go()
    if h.getModelStatus() == highspy.HighsModelStatus.kNotset and h.getInfo().valid is False:
        with _LOCK:
            highspy.Highs.resetGlobalScheduler(True)
        result = go()
    return result
