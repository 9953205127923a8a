"""One deadline, progress and cancellation mechanism for every planner (private).

A planner makes one :class:`SolveControl` from its ``time_limit_s``, ``progress`` and
``cancel`` keywords and asks it, between steps, whether to stop; CP-SAT solves go through
:meth:`SolveControl.solve_cp_sat`, which stops the search within a fraction of a second of
``cancel`` being set and keeps calling ``progress`` at least once a second while the solver
runs. Wall-clock limits are only a safety cap: searches stop on deterministic work budgets, so
that results do not depend on the machine's speed; when the wall clock (or ``cancel``) is what
stopped a search, :attr:`SolveControl.stopped_by` says so and the result's
``info.stopped_by`` carries it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "CancelToken",
    "ProgressCallback",
    "ProgressEvent",
    "SolveControl",
    "StoppedBy",
    "integer_bound",
]

#: What cut a search short, when something did: ``"cancel"`` (the caller's token was set) or
#: ``"wall_clock"`` (the time limit, a safety cap, ran out before the deterministic budget).
StoppedBy = Literal["cancel", "wall_clock"]

#: Seconds between two progress calls while a solver runs (the contract is "at least once a
#: second"; a little less leaves room for a slow callback).
HEARTBEAT_S = 0.5

#: Seconds between two looks at the cancel token while a CP-SAT search runs.
POLL_S = 0.05

#: Events waiting for a slow ``progress`` callback, at most (older beats of a phase dropped).
MAX_QUEUED_EVENTS = 64
#: Seconds :meth:`SolveControl.done` waits for the callback to take the queued events.
DONE_GRACE_S = 0.5
#: Seconds the progress thread waits for a new event before it ends.
PUMP_IDLE_S = 0.5


@runtime_checkable
class CancelToken(Protocol):
    """Anything with ``is_set()``: a :class:`threading.Event`, a ``multiprocessing.Event`` …"""

    def is_set(self) -> bool:
        """Whether the caller asked the planner to stop."""
        ...


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """What a planner reports to its ``progress`` callback.

    Attributes
    ----------
    planner : str
        The planner (``"plan_sampling"``).
    phase : str
        The step under way (``"bound"``, ``"rounding"``, ``"search"``, ``"done"`` …).
    fraction : float or None
        Share of the work done, 0 … 1, where the planner can tell; ``None`` otherwise.
    incumbent : float or None
        The main objective tier of the best result so far, where known.
    bound : float or None
        A proven bound on that tier, where known.
    elapsed_s : float
        Wall-clock seconds since the planner started (for display only: results never
        depend on it).
    """

    planner: str
    phase: str
    fraction: float | None
    incumbent: float | None
    bound: float | None
    elapsed_s: float


#: The ``progress`` keyword: called with one :class:`ProgressEvent`.
ProgressCallback = Callable[[ProgressEvent], Any]


class SolveControl:
    """Time limit, progress reports and cancellation of one planner run.

    Parameters
    ----------
    planner : str
        The planner's name, for the events.
    time_limit_s : float
        Wall-clock seconds from now after which no further step starts (already validated).
    progress : callable or None
        Called with a :class:`ProgressEvent`, in order, never twice at once, always on one
        helper thread of the run: a slow callback never holds up the planner or its time
        limit (events wait in a short queue; :meth:`done` waits at most
        :data:`DONE_GRACE_S` for them).
    cancel : CancelToken or None
        Once ``cancel.is_set()``, :meth:`should_stop` is true and running CP-SAT searches
        stop.

    Notes
    -----
    Exceptions raised by ``progress`` stop the running solve and are re-raised in the planner's
    own thread as soon as it next reports (at the latest by :meth:`done`).
    """

    def __init__(
        self,
        planner: str,
        time_limit_s: float,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self.planner = planner
        self.time_limit_s = float(time_limit_s)
        self.progress = progress
        self.cancel = cancel
        self.start = time.monotonic()
        self.deadline = self.start + self.time_limit_s
        self.stopped_by: StoppedBy | None = None
        self._pump_cv = threading.Condition()
        self._queue: deque[ProgressEvent] = deque()
        self._pump: threading.Thread | None = None
        self._delivering = False
        self._last = -1.0e9
        self._phase = "start"
        self._incumbent: float | None = None
        self._bound: float | None = None
        self._error: BaseException | None = None

    # ---- time and cancellation --------------------------------------------------------------

    def elapsed(self) -> float:
        """Wall-clock seconds since the run started."""
        return time.monotonic() - self.start

    def remaining(self) -> float:
        """Wall-clock seconds left before the deadline (negative once past it)."""
        return self.deadline - time.monotonic()

    @property
    def cancelled(self) -> bool:
        """Whether the cancel token is set (recorded in :attr:`stopped_by`)."""
        if self.cancel is not None and self.cancel.is_set():
            self.stopped_by = "cancel"
            return True
        return False

    def expired(self, reserve_s: float = 0.0) -> bool:
        """Whether fewer than ``reserve_s`` seconds are left (recorded in :attr:`stopped_by`)."""
        if time.monotonic() > self.deadline - reserve_s:
            if self.stopped_by is None:
                self.stopped_by = "wall_clock"
            return True
        return False

    def should_stop(self, reserve_s: float = 0.0) -> bool:
        """Whether to stop now: cancelled, or the deadline (less ``reserve_s``) has passed."""
        return self.cancelled or self.expired(reserve_s)

    # ---- progress ---------------------------------------------------------------------------

    def report(
        self,
        phase: str,
        fraction: float | None = None,
        incumbent: float | None = None,
        bound: float | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Tell ``progress`` where the run is.

        A new phase is always reported; within a phase, at most one call per
        :data:`HEARTBEAT_S` unless ``force``. ``incumbent`` and ``bound`` are remembered for the
        heartbeats sent while a solver runs.
        """
        self.raise_pending()
        if incumbent is not None:
            self._incumbent = incumbent
        if bound is not None:
            self._bound = bound
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and phase == self._phase and now - self._last < HEARTBEAT_S:
            return
        self._phase = phase
        self._send(phase, fraction, now)
        self.raise_pending()

    def raise_pending(self) -> None:
        """Re-raise, in the planner's thread, an error a progress call raised elsewhere."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _send(self, phase: str, fraction: float | None, now: float) -> None:
        """Queue an event for the pump thread, which calls ``progress`` (never the solver's
        thread: a slow callback cannot hold up the search, nor the time limit)."""
        assert self.progress is not None
        event = ProgressEvent(
            self.planner, phase, fraction, self._incumbent, self._bound, now - self.start
        )
        with self._pump_cv:
            self._last = now
            queue = self._queue
            if len(queue) >= MAX_QUEUED_EVENTS:  # a slow callback: keep phase changes, drop
                for i in range(len(queue) - 1):  # the older of two beats of one phase
                    if queue[i].phase == queue[i + 1].phase:
                        del queue[i]
                        break
                else:
                    queue.popleft()
            queue.append(event)
            if self._pump is None:
                self._pump = threading.Thread(
                    target=self._pump_run, name="commgov-progress", daemon=True
                )
                self._pump.start()
            self._pump_cv.notify_all()

    def _pump_run(self) -> None:
        """Deliver queued events in order, one at a time; end when idle."""
        while True:
            with self._pump_cv:
                if not self._queue:
                    self._pump_cv.wait(PUMP_IDLE_S)
                if not self._queue:
                    self._pump = None
                    self._pump_cv.notify_all()
                    return
                event = self._queue.popleft()
                self._delivering = True
            try:
                if self._error is None and self.progress is not None:
                    self.progress(event)
            except BaseException as exc:  # re-raised in the planner's thread
                self._error = self._error or exc
            finally:
                with self._pump_cv:
                    self._delivering = False
                    self._pump_cv.notify_all()

    def done(self, incumbent: float | None = None, bound: float | None = None) -> None:
        """Report the last event (phase ``"done"``, fraction 1) and wait, at most
        :data:`DONE_GRACE_S`, for the events queued so far to be delivered; an error the
        callback raised is re-raised here."""
        self.report("done", 1.0, incumbent, bound, force=True)
        if self.progress is None:
            return
        end = time.monotonic() + DONE_GRACE_S
        with self._pump_cv:
            while (self._queue or self._delivering) and self._error is None:
                left = end - time.monotonic()
                if left <= 0:
                    break  # a slow callback gets the rest later, in order, on its thread
                self._pump_cv.wait(left)
        self.raise_pending()

    # ---- long solver calls ------------------------------------------------------------------

    def watch(self, stop: Callable[[], None], phase: str) -> _Watcher:
        """A context manager that, while a solver runs, calls ``stop()`` once ``cancel`` is set
        and sends a progress heartbeat every :data:`HEARTBEAT_S`."""
        return _Watcher(self, stop, phase)

    def solve_cp_sat(self, solver: Any, model: Any, phase: str) -> Any:
        """Run ``solver.solve(model)`` under :meth:`watch`; returns the CP-SAT status.

        The caller sets ``solver.parameters`` (deterministic time budget, ``num_workers``,
        ``random_seed``, and ``max_time_in_seconds`` no later than :meth:`remaining`). When the
        wall-clock cap rather than the deterministic budget ended an unproven search,
        :attr:`stopped_by` becomes ``"wall_clock"``.
        """
        if self.cancelled:
            # a search with no budget: the solver's statistics stay readable for the caller
            solver.parameters.max_time_in_seconds = 0.0
            solver.parameters.max_deterministic_time = 0.0
            return solver.solve(model)
        with self.watch(solver.stop_search, phase):
            status = solver.solve(model)
        self._note_cp_sat_stop(solver, status)
        return status

    def watch_routing(self, routing: Any, phase: str) -> Any:
        """Watch an OR-Tools routing model's search (call before ``Solve*``).

        When ``cancel`` or ``progress`` is given, adds a search monitor that OR-Tools calls,
        in the planner's own thread, for every candidate local-search move (tens of thousands
        a second; every 256th call looks): it stops the search (``FinishCurrentSearch``, the
        best solution so far is kept) once ``cancel`` is set, and sends throttled progress
        heartbeats. The Python code running there also lets other threads — the one that sets
        ``cancel`` — run during a long search. The monitor accepts every move, as OR-Tools'
        default does, so the search is unchanged. Returns the monitor (keep a reference while
        the search runs) or ``None``.
        """
        if self.cancel is None and self.progress is None:
            return None
        from ortools.constraint_solver import pywrapcp

        control = self
        solver = routing.solver()

        class _Monitor(pywrapcp.SearchMonitor):  # type: ignore[misc,unused-ignore]
            def __init__(self) -> None:
                super().__init__(solver)
                self.calls = 0

            def _look(self) -> None:
                # nothing may propagate out of a search callback (it would leave OR-Tools'
                # solver broken): a progress error finishes the search and is re-raised by the
                # planner's next report
                if control._error is not None or control.cancelled:
                    solver.FinishCurrentSearch()  # again at each look: sub-searches end too
                elif control.progress is not None:
                    try:
                        control.report(phase)
                    except BaseException as exc:
                        control._error = exc
                        solver.FinishCurrentSearch()

            def AcceptDelta(self, delta: Any, deltadelta: Any) -> bool:  # noqa: N802
                self.calls += 1
                if not self.calls & 255:
                    self._look()
                return True

            def AtSolution(self) -> bool:  # noqa: N802 - OR-Tools' name
                self._look()
                return True

        monitor = _Monitor()
        routing.AddSearchMonitor(monitor)
        return monitor

    def _note_cp_sat_stop(self, solver: Any, status: Any) -> None:
        from ortools.sat.python import cp_model

        if self.cancelled or status in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
            return
        # an unproven search stops on its deterministic budget or on the wall clock: short of
        # the budget, the clock (a safety cap) is what stopped it, however close the wall time
        # came to the cap (CP-SAT looks at the clock only now and then)
        if solver.deterministic_time < 0.98 * solver.parameters.max_deterministic_time:
            self.stopped_by = self.stopped_by or "wall_clock"


class _Watcher:
    """Helper thread of :meth:`SolveControl.watch`."""

    def __init__(self, control: SolveControl, stop: Callable[[], None], phase: str) -> None:
        self.control = control
        self.stop = stop
        self.phase = phase
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Watcher:
        c = self.control
        if c.cancel is None and c.progress is None:
            return self
        c.report(self.phase, force=True)
        self._thread = threading.Thread(target=self._run, name="commgov-watch", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        c = self.control
        stopped = False
        while not self._done.wait(POLL_S):
            if not stopped and c.cancel is not None and c.cancel.is_set():
                c.stopped_by = "cancel"
                self.stop()
                stopped = True
            now = time.monotonic()
            if c._error is not None:  # the callback failed: stop; re-raised on exit
                if not stopped:
                    self.stop()
                    stopped = True
            elif c.progress is not None and now - c._last >= HEARTBEAT_S:
                c._send(self.phase, None, now)

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        c = self.control
        if c._error is not None and exc[0] is None:
            error, c._error = c._error, None
            raise error


def integer_bound(optimum: float | None, best_bound: float | None) -> float | None:
    """A proven lower bound on a whole-number objective that CP-SAT minimised, ≥ 0.

    ``optimum`` when the tier was solved to optimality, else CP-SAT's ``best_bound`` rounded
    up (less 1e-6 of float noise); ``None`` when neither is known or the bound is not finite.
    """
    if optimum is not None:
        return float(optimum)
    if best_bound is None or not math.isfinite(best_bound):
        return None
    return float(max(0, math.ceil(best_bound - 1e-6)))
