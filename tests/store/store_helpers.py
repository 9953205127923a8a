"""Shared pieces of the store's tests (module level, so they pickle under spawn)."""

from __future__ import annotations

import functools
import sys
from datetime import datetime, timedelta, timezone

from commgov.datasets import synthetic_community
from commgov.lists import ThreeLists
from commgov.live import CheckedIn, CheckedOut, CommunityState
from commgov.org import OrgModel
from commgov.store import ConflictError, Store

KEY = "320508017016"
T0 = datetime(2022, 4, 12, 8, 0, tzinfo=timezone(timedelta(hours=8)))


@functools.cache
def live_model() -> OrgModel:
    return synthetic_community(KEY, households=200, volunteers=10, seed=1)


def volunteers() -> list[str]:
    return sorted(p.id for p in live_model().people if "volunteer" in p.roles)


def start_state() -> CommunityState:
    return CommunityState.start(live_model(), KEY)


def shift(vid: str, i: int) -> list[CheckedIn | CheckedOut]:
    """The i-th shift of a volunteer: in at T0 + 2i hours, out i + 1 minutes later."""
    start = T0 + timedelta(hours=2 * i)
    return [
        CheckedIn(at=start, volunteer_id=vid, event_id=f"{vid}/in{i}"),
        CheckedOut(at=start + timedelta(minutes=i + 1), volunteer_id=vid, event_id=f"{vid}/out{i}"),
    ]


def append_with_retry(store: Store, events: list, actor: str) -> tuple[int, int]:
    """Append, reloading the version after each conflict; (new version, conflicts seen)."""
    conflicts = 0
    while True:
        try:
            version = store.version(KEY, "live")
            return store.append_events(
                KEY, events, expected_version=version, actor=actor
            ), conflicts
        except ConflictError:
            conflicts += 1


def shifts_worker(url: str, vid: str, shifts: int) -> int:
    """Append ``shifts`` check-in/check-out pairs one event at a time; return the conflicts."""
    total = 0
    with Store(url) as store:
        for i in range(shifts):
            for event in shift(vid, i):
                total += append_with_retry(store, [event], actor=f"w-{vid[-4:]}")[1]
    return total


def open_and_write(url: str, n: int) -> int:
    """Open the store (perhaps creating it) and save one snapshot under a key of its own."""
    with Store(url) as store:
        return store.save_lists(f"{KEY}-{n}", ThreeLists(), expected_version=None, actor="w")


def kill_writer(url: str, vid: str) -> None:
    """Append shifts (two events per write) forever; print each acknowledged version."""
    with Store(url) as store:
        i = 0
        while True:
            version, _ = append_with_retry(store, shift(vid, i), actor="writer")
            sys.stdout.write(f"{version}\n")
            sys.stdout.flush()
            i += 1


def stuck_writer(url: str, vid: str) -> None:
    """One acknowledged write, then a write that stops inside its transaction (events
    inserted, not committed) and says so: the moment for ``kill -9``."""
    import time

    from commgov.store import _live, _schema

    with Store(url) as store:
        version, _ = append_with_retry(store, shift(vid, 0), actor="writer")
        sys.stdout.write(f"{version}\n")
        sys.stdout.flush()
        insert = _live.insert

        def stalled(table):  # the history row comes after the events, in one transaction
            if table is _schema.changes:
                sys.stdout.write("inside\n")
                sys.stdout.flush()
                time.sleep(600)
            return insert(table)

        _live.insert = stalled
        append_with_retry(store, shift(vid, 1), actor="writer")


if __name__ == "__main__":  # python store_helpers.py kill|stuck URL VID
    {"kill": kill_writer, "stuck": stuck_writer}[sys.argv[1]](sys.argv[2], sys.argv[3])
