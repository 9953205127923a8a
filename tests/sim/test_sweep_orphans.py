"""Killing the parent of `commgov simulate --workers 2` leaves no worker or resource tracker."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from sweep_helpers import ToyScenario, pid_runner, toy_runner

from commgov.sim import Experiment, run_sweep, worker_pool
from commgov.sim._workers import terminate_pool

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is in the dev environment
    psutil = None

HERE = Path(__file__).parent

SCENARIO = """
name = "slow"
start = 2022-04-11T19:00:00+08:00
horizon_min = 600

[community]
dataset = "gusu"
community = "320508017016"

[submodels."sweep_orphan_plugin:orphan_slow_tick"]
ticks = 5
sleep_s = 0.4
"""


def _children_proc(pid: int) -> set[int]:
    """Every descendant of pid, from /proc (Linux without psutil)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
    out: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - out
        out |= frontier
    return out


def _descendants(pid: int) -> set[int]:
    if psutil is not None:
        try:
            return {c.pid for c in psutil.Process(pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()
    return _children_proc(pid)


def _alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        if psutil is not None:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    out.add(pid)
            except psutil.NoSuchProcess:
                pass
            continue
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def _kill_all(pids: set[int]) -> None:
    for pid in _alive(pids):  # only processes this test started
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


needs_process_table = pytest.mark.skipif(
    psutil is None and not Path("/proc/self/stat").exists(),
    reason="needs psutil or /proc to list child processes",
)


@pytest.mark.slow
@needs_process_table
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_simulate_leaves_no_worker_behind(tmp_path, sig):
    scenario = tmp_path / "slow.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "out"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    cmd = [
        sys.executable, "-m", "commgov", "simulate", str(scenario), "--replicates", "200",
        "--workers", "2", "--batch-size", "1", "--plugin", "sweep_orphan_plugin",
        "--plots", "none", "--out", str(out),
    ]  # fmt: skip
    parent = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    seen: set[int] = set()
    try:
        # wait until both workers run batches (a batch file is written) and the tracker is up
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and parent.poll() is None:
            seen |= _descendants(parent.pid)
            if len(seen) >= 3 and list((out / "store").glob("batch-*.json")):
                break
            time.sleep(0.2)
        assert parent.poll() is None, parent.stderr.read().decode() if parent.stderr else ""
        seen |= _descendants(parent.pid)
        assert len(seen) >= 3, seen  # two workers and the resource tracker
        parent.send_signal(sig)
        parent.wait(30)
        # every worker and the tracker leave within seconds, not after their batches
        end = time.monotonic() + 10
        while _alive(seen) and time.monotonic() < end:
            time.sleep(0.2)
        assert not _alive(seen), f"still running after 10 s: {sorted(_alive(seen))}"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        _kill_all(seen | _descendants(parent.pid))
        if parent.stderr:
            parent.stderr.close()


# ------------------------------------------------------------------------------ worker_pool


def _parent_of_pool(conn) -> None:
    """A process that starts a worker_pool, reports its workers' pids, then hangs."""
    with worker_pool(2) as pool:
        [f.result() for f in [pool.submit(os.getpid) for _ in range(4)]]
        procs = getattr(pool, "_processes", {})
        conn.send(sorted(procs))
        time.sleep(600)


def _plain_parent(conn) -> None:
    """The same with a plain ProcessPoolExecutor: its workers are watched from their first
    batch of run_sweep on (reports the workers that ran one)."""
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(2, mp_context=ctx)
    exp = Experiment(ToyScenario(), replicates=12)
    result = run_sweep(exp, executor=pool, runner=pid_runner, batch_size=1)
    conn.send(sorted({int(row.kpis["pid"]) for row in result.rows}))
    time.sleep(600)


@pytest.mark.slow
@needs_process_table
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("target", [_parent_of_pool, _plain_parent])
def test_pool_workers_leave_when_their_parent_is_killed(target):
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    parent = ctx.Process(target=target, args=(send,))
    parent.start()
    workers: set[int] = set()
    family: set[int] = set()
    try:
        assert receive.poll(120), "the parent never reported its workers"
        workers = set(receive.recv())
        assert workers and _alive(workers) == workers
        family = _descendants(parent.pid)  # workers and the resource tracker
        watched = workers if target is _plain_parent else family
        os.kill(parent.pid, signal.SIGKILL)
        parent.join(10)
        end = time.monotonic() + 10
        while _alive(watched) and time.monotonic() < end:
            time.sleep(0.2)
        assert not _alive(watched)
    finally:
        if parent.is_alive():
            parent.kill()
        _kill_all(workers | family)


def test_worker_pool_refuses_bad_sizes():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers"), worker_pool(bad):
            pass


def test_worker_pool_runs_a_sweep_like_serial():
    exp = Experiment(ToyScenario(), {"households": [100, 200]}, replicates=3, root_seed=4)
    serial = run_sweep(exp, runner=toy_runner)
    with worker_pool(2) as pool:
        pooled = run_sweep(exp, executor=pool, runner=toy_runner, batch_size=2)
    assert pooled.csv_text() == serial.csv_text()


class _StopError(Exception):
    pass


def test_an_error_in_the_with_block_terminates_the_workers():
    with pytest.raises(_StopError), worker_pool(2) as pool:
        [f.result() for f in [pool.submit(os.getpid) for _ in range(2)]]
        processes = list(pool._processes.values())
        pool.submit(time.sleep, 60)  # a long task: not waited for
        raise _StopError
    # terminate_pool already waited for each (and killed it by pid when it had to); a loaded
    # machine may still take a while to reap them
    deadline = time.monotonic() + 30
    for process in processes:
        while process.is_alive() and time.monotonic() < deadline:
            process.join(0.5)
        assert not process.is_alive(), f"worker {process.pid} outlived its pool"


def test_terminate_pool_of_an_idle_pool():
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    assert pool.submit(os.getpid).result(60) > 0
    terminate_pool(pool)
    assert all(not p.is_alive() for p in pool._processes.values()) if pool._processes else True


def test_watch_parent_is_a_no_op_in_the_main_process():
    from commgov.sim._workers import watch_parent

    assert multiprocessing.parent_process() is None or threading.current_thread()
    if multiprocessing.parent_process() is None:
        assert watch_parent() is False


def test_a_pool_given_no_work_stops_its_workers_on_leaving():
    """A sweep resumed from its store submits nothing: the workers started eagerly must still
    leave with the pool (before, they waited for a task forever and the interpreter's exit,
    which joins every child, hung)."""
    with worker_pool(2) as pool:
        processes = list(pool._processes.values())
        time.sleep(3)  # the workers are up and wait for a task that never comes
    assert processes  # started when the pool was made
    for process in processes:
        process.join(15)
        assert not process.is_alive(), f"worker {process.pid} outlived its pool"
