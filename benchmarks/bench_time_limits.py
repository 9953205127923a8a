"""How planners keep their time limits and answer a cancel, measured (not asserted in tests).

For each planner on a seeded instance, in one run:

* ``limit``: wall seconds of a call against its ``time_limit_s`` (ratio ≤ 1 means the limit
  held; the wall clock is only a safety cap, searches stop on deterministic budgets);
* ``cancel``: a ``threading.Event`` set ``--cancel-after`` seconds into the call; printed are
  the seconds from the event to the return (the contract: within one second), the status
  (``CANCELLED``) and whether the independent verifier accepts the result;
* ``gap``: the longest wall time between two progress events (or the start and the first
  event, or the last event and the return) of the uncancelled call (the contract: at least one
  event a second while a solver runs);
* ``repeat``: whether two calls with the same input and options gave byte-identical JSON, and
  what stopped each search when something other than its own rule did (``stopped_by``:
  ``wall_clock`` marks a result that may differ between runs on a loaded machine).

Usage::

    python benchmarks/bench_time_limits.py [--quick]

``--quick`` skips the district-scale sampling tier (D48 takes ~40 s per uncancelled call).
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from commgov.datasets import (
    door_to_door_instance,
    matching_instance,
    sampling_instance,
    synthetic_community,
)
from commgov.matching import is_valid_assignment, match_volunteers
from commgov.org import OrgGraph
from commgov.scheduling import (
    is_valid_door_to_door_plan,
    is_valid_notification_plan,
    is_valid_sampling_plan,
    notification_problem_from_org,
    plan_door_to_door,
    plan_notification,
    plan_sampling,
    sampling_problem_from_org,
)


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = call()
    return out, time.perf_counter() - t0


def _cancelled(call: Callable[[threading.Event], Any], after: float) -> tuple[Any, float]:
    event = threading.Event()
    set_at: list[float] = []

    def fire() -> None:
        set_at.append(time.perf_counter())
        event.set()

    timer = threading.Timer(after, fire)
    timer.start()
    out = call(event)
    done = time.perf_counter()
    timer.cancel()
    latency = done - set_at[0] if set_at else float("nan")
    return out, latency


def _huchiyuan_notification() -> Any:
    """The evening notice of examples/notify_huchiyuan.py: 20 Haitang Pioneers, 1,765 households."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from commgov.datasets import HUCHIYUAN, gusu
    from commgov.types import TimeWindow

    start = datetime(2022, 4, 11, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    return notification_problem_from_org(
        gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN,
        window=TimeWindow(start=start, end=start + timedelta(hours=2)),
        enrolment="海棠先锋", use_availability=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the D48 sampling tier")
    parser.add_argument("--cancel-after", type=float, default=0.5)
    args = parser.parse_args()

    code = "320508017016"
    large = sampling_problem_from_org(
        OrgGraph(synthetic_community(code, households=20_000, seed=0)), code)
    cases: list[tuple[str, Any, Callable[..., Any], Callable[..., Any], float]] = [
        ("sampling 20k households", large, plan_sampling, is_valid_sampling_plan, 5.0),
        ("door-to-door H seed 0", door_to_door_instance("H", 0), plan_door_to_door,
         is_valid_door_to_door_plan, 5.0),
        ("matching subdistrict seed 0", matching_instance("subdistrict", 0), match_volunteers,
         is_valid_assignment, 10.0),
        ("notification 虎池苑", _huchiyuan_notification(), plan_notification,
         is_valid_notification_plan, 30.0),
    ]
    if not args.quick:
        cases.insert(0, ("sampling D48 seed 0", sampling_instance("D48", 0), plan_sampling,
                         is_valid_sampling_plan, 60.0))
    print(f"{'planner / instance':32} {'limit s':>8} {'took s':>8} {'ratio':>6} "
          f"{'gap s':>6} {'cancel->return s':>17} {'status':>10} {'valid':>6} {'repeat':>7}  "
          "stopped_by")
    for name, problem, plan, verify, limit in cases:
        stamps: list[float] = []
        t0 = time.perf_counter()
        first, took = _timed(lambda p=problem, f=plan, t=limit, s=stamps: f(
            p, time_limit_s=t, progress=lambda _e: s.append(time.perf_counter())))
        marks = [t0, *stamps, t0 + took]
        gap = max(b - a for a, b in itertools.pairwise(marks))
        second = plan(problem, time_limit_s=limit)
        same = first.to_json() == second.to_json()
        stopped, latency = _cancelled(
            lambda ev, p=problem, f=plan, t=limit: f(p, time_limit_s=t, cancel=ev),
            args.cancel_after)
        ok = verify(problem, stopped).ok
        print(f"{name:32} {limit:8.1f} {took:8.2f} {took / limit:6.2f} {gap:6.2f} {latency:17.2f} "
              f"{stopped.info.status:>10} {ok!s:>6} {same!s:>7}  "
              f"{first.info.stopped_by}/{second.info.stopped_by}")


if __name__ == "__main__":
    main()
