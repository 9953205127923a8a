"""A stop signal reaches a solver that is inside C code (CP-SAT), not only when it returns.

Python runs a signal handler only between bytecodes, so SIGTERM during a 60-second CP-SAT solve
used to wait for the solve. The command line's signal context also wakes a thread through
``signal.set_wakeup_fd``, which sets the cancel token the commands pass to the planners.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest

from commgov.cli._output import STOP, Interrupted, _signals_raise, _watch_wakeup
from commgov.datasets import sampling_instance
from commgov.results import SolveStatus
from commgov.scheduling import plan_sampling
from timing_helpers import work_seconds


@pytest.mark.slow
def test_sigterm_during_a_cp_sat_solve_cancels_it_within_a_second_or_two():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers need the main thread")
    problem = sampling_instance("D13", 0)
    plan = None
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    # as in a fresh process (a test runner may have a SIGTERM handler of its own)
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with work_seconds() as work, pytest.raises(Interrupted) as info, _signals_raise():
            timer.start()
            # the solve runs far longer than a second; Python's own handler raises as soon as
            # the search, cancelled from the wakeup thread, hands back control
            plan = plan_sampling(problem, method="cpsat", time_limit_s=60, cancel=STOP)
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, before)
    assert info.value.signum == signal.SIGTERM
    assert work.seconds < 1.0 + 3.0
    assert plan is None or plan.info.status == SolveStatus.CANCELLED


def test_the_wakeup_thread_sets_stop_from_the_c_level_handler():
    """The byte the interpreter writes when any handled signal arrives sets STOP, without the
    main thread running Python code (here it only waits)."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers need the main thread")
    STOP.clear()
    old = signal.signal(signal.SIGUSR1, lambda *_: None)
    undo = _watch_wakeup()
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        assert STOP.wait(5)
    finally:
        undo()
        signal.signal(signal.SIGUSR1, old)
        STOP.clear()
