"""Benchmark commgov.store against writing and reading the same JSON as plain files.

Usage::

    python benchmarks/bench_store.py [--events 300] [--runs 3] [--postgres URL]

For ``commgov.datasets.gusu()`` (Gusu district, about 24 MB of JSON) it times, the median of
``--runs`` runs each:

* ``save``        ``Store.save_model`` on SQLite (serialise, hash, zlib, one transaction with
  the history row, fsync) against the reference ``OrgModel.save`` (``model_dump_json`` and an
  atomic file write, no fsync);
* ``load``        ``Store.get(..., reveal=True).value`` (query, decompress, validate) against
  ``OrgModel.load`` (read and validate the file);
* ``load masked`` ``Store.get(...).data`` (personal data masked) against the same reference;

and for the live stream, ``--events`` check-in/check-out events appended one per call
(``Store.append_events``: version check, validation by applying the event to the cached
state, one transaction) against appending one JSON line per event to a file with
``flush`` + ``fsync`` (the same durability per event). With ``--postgres`` (or
``COMMGOV_TEST_POSTGRES_URL`` set) the same runs on PostgreSQL too.

It prints seconds and the ratios store / reference (below 1: the store is faster). Wall-clock
figures depend on the machine and its load; the issue's bounds are ``gusu()`` saved in ≤ 10 s
and loaded in ≤ 5 s on SQLite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from commgov.datasets import gusu, synthetic_community
from commgov.live import CheckedIn, CheckedOut, CommunityState
from commgov.org import OrgModel
from commgov.store import Store

KEY = "320508017016"


def _median(fn: Callable[[int], Any], runs: int) -> float:
    times = []
    for i in range(runs):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _models(
    store: Store, model: OrgModel, folder: Path, runs: int
) -> list[tuple[str, float, float]]:
    path = folder / "gusu.json"
    ref_save = _median(lambda i: model.save(path), runs)
    save = _median(
        lambda i: store.save_model("320508", model, expected_version=i or None, actor="bench"),
        runs,
    )
    ref_load = _median(lambda i: OrgModel.load(path), runs)
    load = _median(lambda i: store.get("320508", "model", reveal=True).value, runs)
    masked = _median(lambda i: store.get("320508", "model").data, runs)
    return [
        ("gusu save", save, ref_save),
        ("gusu load", load, ref_load),
        ("gusu load masked", masked, ref_load),
    ]


def _events(store: Store, folder: Path, n: int) -> tuple[str, float, float]:
    model = synthetic_community(KEY, households=200, volunteers=10, seed=1)
    vid = sorted(p.id for p in model.people if "volunteer" in p.roles)[0]
    t0 = datetime(2022, 4, 12, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    events = []
    for i in range(n // 2):
        start = t0 + timedelta(hours=2 * i)
        events += [
            CheckedIn(at=start, volunteer_id=vid),
            CheckedOut(at=start + timedelta(minutes=30), volunteer_id=vid),
        ]
    version = store.save_state(
        KEY, CommunityState.start(model, KEY), expected_version=None, actor="bench"
    )
    t = time.perf_counter()
    for e in events:
        version = store.append_events(KEY, [e], expected_version=version, actor="bench")
    stored = time.perf_counter() - t
    t = time.perf_counter()
    with open(folder / "events.jsonl", "a", encoding="utf-8") as f:
        for e in events:
            f.write(e.model_dump_json() + "\n")
            f.flush()
            os.fsync(f.fileno())
    ref = time.perf_counter() - t
    return (f"{len(events)} event appends", stored, ref)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("COMMGOV_TEST_POSTGRES_URL"))
    args = parser.parse_args(argv)
    model = gusu()
    rows: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        targets = [("sqlite", str(folder / "store.db"))]
        if args.postgres:
            targets.append(("postgresql", args.postgres))
        for backend, target in targets:
            with Store(target) as store:
                if store.version("320508", "model") is not None:
                    print(f"{backend}: the database is not empty; skipped", file=sys.stderr)
                    continue
                for what, got, ref in _models(store, model, folder, args.runs):
                    rows.append((backend, what, got, ref))
                what, got, ref = _events(store, folder, args.events)
                rows.append((backend, what, got, ref))
    print(f"{'backend':<11} {'what':<22} {'store s':>9} {'reference s':>12} {'ratio':>7}")
    for backend, what, got, ref in rows:
        print(f"{backend:<11} {what:<22} {got:>9.3f} {ref:>12.3f} {got / ref:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
