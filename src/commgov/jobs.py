"""Long solves in an app: every planner as a background job, with progress and cancel.

A request handler must not hold a connection for a 30-second solve. :func:`submit` starts any
planner of the shared contract (``plan_<family>``, ``match_volunteers``, ``allocate``: they
take ``progress=`` and ``cancel=``) in an executor and returns a :class:`Job` at once: its
latest :class:`~commgov.ProgressEvent` for a progress endpoint, :meth:`Job.cancel` for a
cancel button (the planner returns its best valid result, status ``CANCELLED``, within about a
second), and :meth:`Job.result`. :func:`run_async` awaits a planner from ``asyncio`` code
(FastAPI, aiohttp); cancelling the awaiting task cancels the solve.

Thread safety: records are frozen and planners keep no global state, so one problem, and one
:class:`~commgov.org.OrgGraph` (its summaries are computed once and cached idempotently),
may be shared by concurrent jobs and requests; the same input and options give the same
result bytes in every thread. Solves run in threads: CP-SAT and the min-cost flows release
the interpreter, the pure-Python phases share it, so give the executor about as many workers
as cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Generic, Literal, TypeVar

from commgov._control import ProgressEvent
from commgov._options import check_options
from commgov.errors import InvalidParameterError

__all__ = ["Job", "JobStatus", "run_async", "submit"]

R = TypeVar("R")

#: What a job is doing: queued, running, finished with a result, failed with an error, or
#: finished after :meth:`Job.cancel` (its result then has status ``CANCELLED`` or is complete).
JobStatus = Literal["pending", "running", "done", "failed", "cancelled"]

_ids = itertools.count(1)
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _default_pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            import os

            _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                       thread_name_prefix="commgov-job")
        return _POOL


class Job(Generic[R]):
    """One planner call running in an executor (made by :func:`submit`).

    Attributes
    ----------
    id : str
        ``"job-<n>"``, unique in the process.
    planner : str
        The planner's name (``"plan_sampling"``).
    """

    def __init__(self, planner: Callable[..., R], future: Future[R] | None = None) -> None:
        self.id = f"job-{next(_ids)}"
        self.planner = getattr(planner, "__name__", type(planner).__name__)
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._latest: ProgressEvent | None = None
        self._started = threading.Event()
        self._cancelled_early = False
        self._future: Future[R] | None = future

    # -- what the planner calls -------------------------------------------------------------
    def _progress(self, user: Callable[[ProgressEvent], Any] | None) -> Callable[..., None]:
        def record(event: ProgressEvent) -> None:
            with self._lock:
                self._latest = event
            if user is not None:
                user(event)

        return record

    # -- what the app calls -----------------------------------------------------------------
    @property
    def progress(self) -> ProgressEvent | None:
        """The latest progress event (``None`` before the planner's first report)."""
        with self._lock:
            return self._latest

    @property
    def status(self) -> JobStatus:
        """``pending``, ``running``, ``done``, ``failed`` or ``cancelled``."""
        future = self._future
        if future is None:
            return "pending"
        if future.done():
            if future.cancelled():
                return "cancelled"
            if future.exception() is not None:
                return "failed"
            return "cancelled" if self._cancelled_early else "done"
        return "running" if self._started.is_set() else "pending"

    def cancel(self) -> None:
        """Ask the planner to stop.

        It returns its best valid result (status ``CANCELLED``) within about a second; a job
        not yet started never starts; a finished job is left as it is.
        """
        if self._future is not None and self._future.done():
            return
        self._cancelled_early = True
        self._cancel.set()
        if self._future is not None:
            self._future.cancel()  # only succeeds while it waits in the queue

    def done(self) -> bool:
        """Whether the job has finished (with a result, an error, or cancelled)."""
        return self._future is not None and self._future.done()

    def result(self, timeout: float | None = None) -> R:
        """The planner's result, waiting up to ``timeout`` seconds.

        Raises
        ------
        TimeoutError
            If the job has not finished within ``timeout``.
        concurrent.futures.CancelledError
            If the job was cancelled before it started.
        Exception
            Whatever the planner raised (an invalid problem, a size guard …).
        """
        if self._future is None:
            raise RuntimeError("this job was not started: make jobs with commgov.jobs.submit")
        return self._future.result(timeout)

    def add_done_callback(self, fn: Callable[[Job[R]], Any]) -> None:
        """Call ``fn(job)`` when the job finishes (in the worker thread, or at once)."""
        if self._future is None:
            raise RuntimeError("this job was not started: make jobs with commgov.jobs.submit")
        self._future.add_done_callback(lambda _f: fn(self))

    def __repr__(self) -> str:
        return f"Job({self.id}, {self.planner}, {self.status})"


def submit(
    planner: Callable[..., R],
    problem: Any,
    /,
    *,
    executor: Executor | None = None,
    **options: Any,
) -> Job[R]:
    """Start ``planner(problem, progress=…, cancel=…, **options)`` in the background.

    Parameters
    ----------
    planner : callable
        Any planner of the shared contract (``plan_sampling``, ``plan_door_to_door``,
        ``plan_notification``, ``plan_roster``, ``plan_relay``, ``match_volunteers``,
        ``allocate`` …): it takes the problem first and the keywords ``progress`` and
        ``cancel``.
    problem : object
        Its problem (``allocate`` takes the three lists).
    executor : concurrent.futures.Executor, optional
        Where to run it (a thread pool; default: commgov's shared pool, one worker per core).
    **options
        The planner's other keywords (``time_limit_s``, ``seed``, ``method`` …; checked by
        the planner when it starts). A ``progress`` callback given here is called too.

    Returns
    -------
    Job
        At once; the planner runs in the executor.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``planner`` is not callable, ``progress`` is not callable, ``executor`` is not a
        thread pool, or ``cancel`` is given (the job owns it: :meth:`Job.cancel`).

    Examples
    --------
    >>> from commgov.datasets import sampling_instance
    >>> from commgov.scheduling import plan_sampling
    >>> job = submit(plan_sampling, sampling_instance("C"), time_limit_s=10)
    >>> plan = job.result(timeout=60)
    >>> job.status, str(plan.info.status)
    ('done', 'OPTIMAL')
    """
    if not callable(planner):
        raise InvalidParameterError("planner", planner, "a planner function", "submit")
    if "cancel" in options:
        raise InvalidParameterError("cancel", options["cancel"],
                                    "left to the job (use Job.cancel())", "submit")
    if executor is not None and (not isinstance(executor, Executor)
                                 or isinstance(executor, ProcessPoolExecutor)):
        raise InvalidParameterError(
            "executor", type(executor).__name__,
            "a thread pool (concurrent.futures.ThreadPoolExecutor): the job's cancel token and "
            "progress live in this process", "submit")
    user = options.pop("progress", None)
    check_options("submit", progress=user)
    job: Job[R] = Job(planner)

    def run() -> R:
        job._started.set()
        return planner(problem, progress=job._progress(user), cancel=job._cancel, **options)

    job._future = (executor or _default_pool()).submit(run)
    return job


async def run_async(planner: Callable[..., R], problem: Any, /, **options: Any) -> R:
    """Await a planner from ``asyncio`` code without blocking the event loop.

    The planner runs in commgov's thread pool (:func:`submit`); cancelling the awaiting
    task (a client that went away, ``asyncio.timeout``) cancels the solve, waits for the
    planner to return (about a second) and re-raises :class:`asyncio.CancelledError`.

    Raises
    ------
    asyncio.CancelledError
        When the awaiting task is cancelled.
    Exception
        Whatever the planner raised.
    """
    job = submit(planner, problem, **options)
    assert job._future is not None
    wrapped = asyncio.wrap_future(job._future)
    try:
        return await asyncio.shield(wrapped)
    except asyncio.CancelledError:
        job.cancel()
        with contextlib.suppress(BaseException):  # the cancellation is what is re-raised
            await asyncio.wait_for(asyncio.shield(wrapped), timeout=5.0)
        raise
