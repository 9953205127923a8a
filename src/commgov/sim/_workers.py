"""Sweep worker processes that die with their parent (private; see :func:`worker_pool`).

A :class:`~concurrent.futures.ProcessPoolExecutor` worker waits for tasks on a queue whose
pipe every worker holds open, so when the parent is killed (SIGKILL, or SIGTERM without a
handler) nothing tells the workers: they finish their batch, then wait forever, and the
multiprocessing resource tracker, whose pipe they also hold, waits with them.

Each worker therefore runs a watchdog thread (:func:`watch_parent`), started by the pool's
initializer and again, idempotently, by the first batch a worker of any executor runs. It waits
on the parent's *sentinel* — the pipe to the parent that multiprocessing gives every child
process, which reaches end-of-file when the parent dies, however it dies — and checks
``os.getppid()`` once a second (a child whose parent has died is adopted by another process);
either way the worker leaves at once with ``os._exit``. On Linux the initializer also asks the
kernel (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) to kill the worker when the thread that started it
ends, which holds even while a long C call keeps the watchdog from running; this is only done
when the pool is created on the main thread, which then starts every worker at once (a worker
started later from another thread would die when that thread ends). With the workers gone the
resource tracker reads end-of-file and exits too.

When the parent itself stops a sweep with an exception (Ctrl+C, a handled SIGTERM),
:func:`worker_pool` cancels what is queued and terminates the workers instead of waiting for
their running batches.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import wait

__all__ = ["watch_parent", "worker_pool"]

#: Seconds between two looks at the parent's process id.
_POLL_S = 1.0

_started = False
_lock = threading.Lock()


def _watch(parent_pid: int | None, sentinel: int | None) -> None:
    while True:
        if sentinel is not None:
            try:
                if wait([sentinel], timeout=_POLL_S):
                    break
            except OSError:
                break
        else:
            threading.Event().wait(_POLL_S)
        if parent_pid is not None and os.getppid() != parent_pid:
            break
    os._exit(1)  # the parent is gone: nobody will read this worker's results


def watch_parent(parent_pid: int | None = None) -> bool:
    """Make this process leave as soon as its multiprocessing parent dies (once per process).

    Parameters
    ----------
    parent_pid : int, optional
        The parent's process id (default: ``multiprocessing.parent_process().pid``).

    Returns
    -------
    bool
        True when a watchdog runs in this process (started now or before); False in a process
        that multiprocessing did not start (the main process, a Dask worker thread's process
        started otherwise), where there is no parent to watch.
    """
    global _started
    with _lock:
        if _started:
            return True
        parent = multiprocessing.parent_process()
        if parent is None and parent_pid is None:
            return False
        sentinel = getattr(parent, "sentinel", None) if parent is not None else None
        if parent_pid is None and parent is not None:
            parent_pid = parent.pid
        if parent_pid is not None and os.getppid() != parent_pid:
            os._exit(1)  # the parent died before this worker started
        thread = threading.Thread(
            target=_watch, args=(parent_pid, sentinel), name="commgov-parent-watch", daemon=True
        )
        thread.start()
        _started = True
        return True


def _die_with_thread_parent() -> None:
    """Linux only: SIGKILL this process when the thread that started it ends."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


def _init_worker(parent_pid: int, pdeathsig: bool) -> None:
    if pdeathsig:
        _die_with_thread_parent()
    watch_parent(parent_pid)


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A spawn-context process pool for :func:`~commgov.sim.run_sweep` whose workers die with it.

    Parameters
    ----------
    workers : int
        Number of worker processes (≥ 1).

    Yields
    ------
    concurrent.futures.ProcessPoolExecutor
        Its workers leave within about a second when this process dies, even by SIGKILL
        (see the module notes). On leaving the ``with`` block normally the pool is shut down
        after its work (a pool given no work at all has its idle workers terminated); on an
        exception queued batches are cancelled and the workers are terminated at once.

    Raises
    ------
    ValueError
        If ``workers`` is not a whole number ≥ 1.

    Examples
    --------
    >>> from commgov.sim import worker_pool
    >>> with worker_pool(2) as pool:  # doctest: +SKIP
    ...     result = run_sweep(experiment, executor=pool)
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number ≥ 1, got {workers!r}")
    # the kernel's parent-death signal follows the thread that started a worker: only when
    # that is the main thread, with every worker started here and now (none started later)
    eager = (
        sys.platform.startswith("linux")
        and threading.current_thread() is threading.main_thread()
        and callable(getattr(ProcessPoolExecutor, "_launch_processes", None))
    )
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(os.getpid(), eager),
    )
    if eager:
        try:
            pool._launch_processes()  # type: ignore[attr-defined]
        except BaseException:
            terminate_pool(pool)
            raise
    try:
        yield pool
    except BaseException:
        terminate_pool(pool)
        raise
    if getattr(pool, "_executor_manager_thread", True) is None:
        # nothing was submitted (a sweep resumed whole from its store): no manager thread
        # exists to send the eagerly started workers their stop sentinels, so shutdown would
        # leave them waiting for a task forever — and the interpreter's exit, which joins
        # every child process, would wait for them
        terminate_pool(pool)
    else:
        pool.shutdown(wait=True)


def terminate_pool(pool: ProcessPoolExecutor, timeout_s: float = 5.0) -> None:
    """Cancel a pool's queued work and terminate its workers without waiting for their tasks.

    Parameters
    ----------
    pool : concurrent.futures.ProcessPoolExecutor
        The pool.
    timeout_s : float, default 5.0
        How long to wait for each worker to exit after SIGTERM before SIGKILL.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout_s)
            if process.is_alive():
                process.kill()
                process.join(1.0)
    for process in processes:  # last resort, by pid: nothing above may have reached it
        pid = getattr(process, "pid", None)
        with contextlib.suppress(Exception):
            if pid is not None and process.is_alive():
                os.kill(pid, signal.SIGKILL)
                process.join(1.0)
