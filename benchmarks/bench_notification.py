"""Notification plans: makespan, proven bound and gap, against plain OR-Tools routing.

Instances: 虎池苑社区 from the embedded Gusu dataset (20 Haitang Pioneers, 1,765 households,
158 buildings) and seeded synthetic communities. For each: ``plan_notification`` (default
options) — makespan, bound, gap, wall time — and, beside it, plain OR-Tools routing on the same
model (the same transit matrices, global span cost and arc costs) with
``DefaultRoutingSearchParameters()`` and a time limit equal to our wall time (at least 1 s);
``ratio`` = our makespan / plain makespan (< 1: we are better).

Run: python benchmarks/bench_notification.py [--quick]
"""

import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commgov.datasets import HUCHIYUAN, gusu, synthetic_community
from commgov.scheduling.notification import (
    is_valid_notification_plan,
    notification_problem_from_org,
    plan_notification,
)
from commgov.scheduling.notification._rules import NotificationTimes, evaluate
from commgov.scheduling.notification._solve_routing import plain_routing
from commgov.types import TimeWindow

START = datetime(2022, 4, 11, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WINDOW = TimeWindow(start=START, end=START + timedelta(hours=2))
#: (name, community code, households, volunteers, seed)
SYNTHETIC = (
    ("synthetic 800 hh / 9 vol", "320508001001", 800, 9, 1),
    ("synthetic 1765 hh / 20 vol", "320508001002", 1765, 20, 2),
    ("synthetic 3000 hh / 30 vol", "320508001003", 3000, 30, 3),
    ("synthetic 3000 hh / 12 vol", "320508001004", 3000, 12, 4),
)


def instances(quick: bool):
    model = gusu(seed=0, communities=[HUCHIYUAN])
    yield "虎池苑社区 (Gusu dataset)", notification_problem_from_org(
        model, HUCHIYUAN, window=WINDOW, enrolment="海棠先锋", use_availability=False)
    for name, code, households, volunteers, seed in SYNTHETIC[: 1 if quick else None]:
        m = synthetic_community(code, households=households, volunteers=volunteers, seed=seed)
        yield name, notification_problem_from_org(m, code, window=WINDOW, use_availability=False)


def main() -> None:
    quick = "--quick" in sys.argv
    header = (f"{'instance':28} {'bldg':>5} {'vol':>4} {'ours min':>9} {'bound':>7} "
              f"{'gap':>6} {'time s':>7} {'plain min':>10} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    for name, problem in instances(quick):
        clock = time.perf_counter()
        plan = plan_notification(problem)
        ours_s = time.perf_counter() - clock
        assert is_valid_notification_plan(problem, plan)
        routes = plain_routing(problem, max(1.0, ours_s))
        plain = evaluate(NotificationTimes(problem), routes)[0] if routes else None
        t = plan.totals
        ratio = f"{t.makespan_s / plain:.3f}" if plain else "—"
        plain_min = f"{plain / 60:.1f}" if plain else "none"
        print(f"{name:28} {t.buildings:5d} {t.volunteers:4d} {t.makespan_minutes:9.1f} "
              f"{t.bound_s / 60:7.1f} {t.gap:6.1%} {ours_s:7.1f} {plain_min:>10} {ratio:>6}")


if __name__ == "__main__":
    main()
