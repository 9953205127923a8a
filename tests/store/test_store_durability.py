"""Done-when figures of the store: concurrent writers lose no update; kill -9 loses no commit."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from store_helpers import KEY, open_and_write, shift, shifts_worker, start_state, volunteers

import commgov
from commgov.live import apply_events, hours_served
from commgov.store import Store

HERE = Path(__file__).parent

WRITERS = 8
SHIFTS = 63  # 8 writers x 63 shifts x 2 events = 1,008 events, one event per write


@pytest.mark.slow
def test_concurrent_writers_lose_no_update(store_url):
    with Store(store_url) as store:
        store.save_state(KEY, start_state(), expected_version=None, actor="setup")
    vids = volunteers()[:WRITERS]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WRITERS) as pool:
        conflicts = pool.starmap(shifts_worker, [(store_url, v, SHIFTS) for v in vids])
    n = WRITERS * SHIFTS * 2
    with Store(store_url) as store:
        stored = store.events(KEY, reveal=True)
        final = store.state(KEY, reveal=True)
        history = store.history(KEY, kind="events")
    assert [e.seq for e in stored] == list(range(2, n + 2))  # dense, nothing lost
    assert Counter(e.value.volunteer_id for e in stored) == dict.fromkeys(vids, SHIFTS * 2)
    for v in vids:  # each writer's events in its own order
        assert [e.value for e in stored if e.value.volunteer_id == v] == [
            ev for i in range(SHIFTS) for ev in shift(v, i)
        ]
    serial = apply_events(start_state(), [e.value for e in stored])
    assert final.version == n + 1 and final.value == serial
    served = {v.volunteer_id: v.minutes for v in hours_served(final.value).volunteers}
    assert served == dict.fromkeys(vids, sum(i + 1 for i in range(SHIFTS)))
    assert len(history) == n and sum(conflicts) >= 0
    print(f"{n} events from {WRITERS} processes; conflicts retried: {sum(conflicts)}")


def _child_env() -> dict[str, str]:
    paths = [str(Path(commgov.__file__).parents[1]), str(HERE)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


@pytest.mark.slow
def test_kill_9_inside_a_transaction_leaves_no_trace(store_url):
    """The writer is killed after inserting its events, before the commit."""
    with Store(store_url) as store:
        store.save_state(KEY, start_state(), expected_version=None, actor="setup")
    child = subprocess.Popen(
        [sys.executable, str(HERE / "store_helpers.py"), "stuck", store_url, volunteers()[0]],
        stdout=subprocess.PIPE,
        env=_child_env(),
        text=True,
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline() == "3\n"  # acknowledged: state 1, events 2 and 3
        assert child.stdout.readline() == "inside\n"  # events 4 and 5 inserted, not committed
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    with Store(store_url) as store:
        assert store.version(KEY, "live") == 3
        assert [e.value for e in store.events(KEY, reveal=True)] == shift(volunteers()[0], 0)
        assert [c.version for c in store.history(KEY)] == [1, 3]
        # the next writer is not held up by the dead one
        store.append_events(KEY, shift(volunteers()[0], 1), expected_version=3, actor="next")


@pytest.mark.slow
def test_kill_9_during_writes_loses_no_committed_event(store_url):
    with Store(store_url) as store:
        store.save_state(KEY, start_state(), expected_version=None, actor="setup")
    vid = volunteers()[0]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(commgov.__file__).parents[1]), str(HERE)]),
    }
    acked: list[int] = []
    for round_ in range(3):  # kill at three different moments
        child = subprocess.Popen(
            [sys.executable, str(HERE / "store_helpers.py"), "kill", store_url, vid],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert child.stdout is not None
        seen = 0
        while seen < 5 + 7 * round_:
            line = child.stdout.readline()
            if not line:
                pytest.fail(f"the writer stopped: exit code {child.wait()}")
            acked.append(int(line))
            seen += 1
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        acked.extend(int(x) for x in child.stdout.read().split())  # acknowledged, not yet read
        assert child.returncode == -signal.SIGKILL
        if "://" not in store_url:  # the file is sound after the crash
            with sqlite3.connect(store_url) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        with Store(store_url) as store:  # opens cleanly, every acknowledged write is there
            stored = store.events(KEY, reveal=True)
            head = store.version(KEY, "live")
            batches = store.history(KEY, kind="events")
            assert head is not None and max(acked) <= head
            assert [e.seq for e in stored] == list(range(2, head + 1))
            # every write is whole: two events per write, a killed write left nothing
            assert all(b.version - b.first_version == 1 for b in batches)
            assert (head - 1) % 2 == 0
            assert store.state(KEY, reveal=True).value == apply_events(
                start_state(), [e.value for e in stored]
            )
            # and the stream continues where it stopped
            i = (head - 1) // 2
            store.append_events(KEY, shift(vid, i), expected_version=head, actor="after")
            acked.append(head + 2)


@pytest.mark.slow
def test_processes_opening_a_new_database_at_once_create_it_once(store_url):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        assert pool.starmap(open_and_write, [(store_url, n) for n in range(4)]) == [1] * 4
