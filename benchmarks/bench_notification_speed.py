"""Notification planning speed (issue 12, item 10): before/after ratios in one run.

The "before" figures run the pure-Python tables that ``plan_notification`` computed before
issue 12 (copied below as the reference: the walking tables, the reach Dijkstra per volunteer,
the least walk into each building and the predecessor-assignment arcs), the "after" figures
the numpy versions now in ``commgov.scheduling.notification``; both on the same instances,
and the tables are checked equal. Then the whole ``plan_notification`` (default options) on
the same instances, with the makespan, bound and gap.

Run: python benchmarks/bench_notification_speed.py [--quick]
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from commgov.datasets import synthetic_community
from commgov.scheduling.notification import (
    NotificationProblem,
    is_valid_notification_plan,
    notification_problem_from_org,
    plan_notification,
)
from commgov.scheduling.notification._bound import predecessor_walk_bound
from commgov.scheduling.notification._rules import (
    NotificationTimes,
)
from commgov.types import TimeWindow

# the reference: the pure-Python tables before issue 12, kept once, beside the tests that
# check the numpy tables against it
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "scheduling"))
from notification_reference import (
    PythonTimes,
    predecessor_walk_bound as reference_bound,
)

START = datetime(2022, 4, 11, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WINDOW = TimeWindow(start=START, end=START + timedelta(hours=2))
SIZES = (1765, 5000, 10_000)


# ---- the run -------------------------------------------------------------------------------


def instance(households: int) -> NotificationProblem:
    code = "320508001001"
    model = synthetic_community(code, households=households, seed=1)
    return notification_problem_from_org(model, code, window=WINDOW, use_availability=False)


def clock(call):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    out = call()
    return out, time.perf_counter() - began


def main() -> None:
    sizes = SIZES[:2] if "--quick" in sys.argv else SIZES
    print(
        f"{'households':>10} {'bldg':>5} {'vol':>4} {'tables py s':>11} {'numpy s':>8} "
        f"{'ratio':>6} {'plan s':>7} {'makespan':>8} {'bound':>6} {'gap':>6}"
    )
    for households in sizes:
        problem = instance(households)
        (old, pred_old, reach_old, into_old), before = clock(
            lambda p=problem: (
                (t := PythonTimes(p)),
                reference_bound(t),
                t.reach(),
                t.walk_in(),
            )
        )
        (new, pred_new, first, into_new), after = clock(
            lambda p=problem: (
                (t := NotificationTimes(p)),
                predecessor_walk_bound(t),
                t.reach_first(),
                t.walk_in(),
            )
        )
        assert new.home_s == old.home_s and new.between_s == old.between_s
        assert pred_new == pred_old and into_new == into_old
        assert first == [min(col) for col in zip(*reach_old, strict=True)]
        plan, plan_s = clock(lambda p=problem: plan_notification(p))
        assert is_valid_notification_plan(problem, plan)
        t = plan.totals
        print(
            f"{households:10d} {t.buildings:5d} {t.volunteers:4d} {before:11.2f} "
            f"{after:8.2f} {before / after:6.1f} {plan_s:7.2f} {t.makespan_s:8d} "
            f"{t.bound_s:6d} {t.gap:6.1%}"
        )


if __name__ == "__main__":
    main()
