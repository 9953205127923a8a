"""Benchmark commgov.plan_roster on a week of gate posts against a plain CP-SAT model.

Usage::

    python benchmarks/bench_roster.py [--seeds 0 1 2] [--limit 60] [--staff 40] [--posts 4]

Instance (synthetic, seeded): ``--posts`` gate posts × 24 h × 7 days on an hourly grid; one
person per post and hour, two at the 07-09 and 17-19 peaks; ``--staff`` volunteers, three in
four day people (available 07-21 on 5-6 days) and one in four night people (19-09 on 4-5
nights); shifts 2-4 h, 4 h rest, 8 h a day, 40 h a week. For each seed it prints:

* commgov  ``plan_roster`` (shift-based model, tiers shortfall → max hours, one worker,
  deterministic-time budget ``--limit``): status, shortfall, proven bound, gap, max load, time;
* plain    the same rules as a direct slot-based CP-SAT model (``x[person, post, hour]``,
  ``w = Σ x``, run/rest/length constraints on ``w``, the shortfall objective only), default
  parameters (all cores) and a ``--limit`` s wall-clock limit: status, shortfall, bound, time,
  and its time as a ratio of ours.

Nothing here imports commgov solver internals: only the public records and the shared
definitions ``available_slots``, ``is_eligible``; every roster is checked with
``is_valid_roster``.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from ortools.sat.python import cp_model

from commgov.scheduling.roster import (
    Post,
    PostTask,
    RosterPolicy,
    RosterProblem,
    Staff,
    available_slots,
    is_eligible,
    is_valid_roster,
    plan_roster,
)
from commgov.types import TimeWindow

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2022, 4, 11, tzinfo=TZ)


def week_instance(seed: int, n_staff: int = 40, n_posts: int = 4) -> RosterProblem:
    rng = np.random.default_rng(seed)
    n = 24 * 7
    demand = [2 if (t % 24) in (7, 8, 17, 18) else 1 for t in range(n)]
    posts = [Post(id=f"GATE{k + 1}", name=f"{k + 1}号门岗",
                  tasks=[PostTask.HEALTH_CODE_CHECK, PostTask.TEMPERATURE,
                         PostTask.REGISTRATION], demand=demand) for k in range(n_posts)]
    staff = []
    for k in range(n_staff):
        night = rng.random() < 0.25
        days = sorted(rng.choice(7, size=int(rng.integers(4, 6) if night
                                             else rng.integers(5, 7)), replace=False))
        windows = []
        for d in days:
            lo, hi = (19, 33) if night else (7, 21)
            windows.append(TimeWindow(start=MONDAY + timedelta(days=int(d), hours=lo),
                                      end=MONDAY + timedelta(days=int(d), hours=hi)))
        staff.append(Staff(id=f"V{k:03d}", availability=windows))
    return RosterProblem(
        window=TimeWindow(start=MONDAY, end=MONDAY + timedelta(days=7)), posts=posts,
        staff=staff, policy=RosterPolicy(min_shift_hours=2, max_shift_hours=4,
                                         min_rest_hours=4, max_hours_per_day=8))


def with_week_cap(problem: RosterProblem, hours: float = 40) -> RosterProblem:
    staff = [s.model_copy(update={"max_hours_total": hours}) for s in problem.staff]
    return problem.model_copy(update={"staff": staff})


def plain_model(problem: RosterProblem, limit: float) -> dict[str, Any]:
    """The roster rules as a direct slot-based CP-SAT model, default parameters."""
    n_t = problem.n_slots
    lim = problem.limits()
    lo, hi, rest = lim["min_shift"], lim["max_shift"], lim["min_rest"]
    m = cp_model.CpModel()
    x: dict[tuple[int, int, int], Any] = {}
    for i, s in enumerate(problem.staff):
        avail = available_slots(problem, s)
        for j, p in enumerate(problem.posts):
            if is_eligible(p, s):
                for t in range(n_t):
                    if avail[t] and p.demand[t] > 0:
                        x[i, j, t] = m.new_bool_var("")
    w: dict[tuple[int, int], Any] = {}
    for i in range(len(problem.staff)):
        for t in range(n_t):
            vs = [x[i, j, t] for j in range(len(problem.posts)) if (i, j, t) in x]
            if vs:
                w[i, t] = m.new_bool_var("")
                m.add(sum(vs) == w[i, t])

    def ww(i: int, t: int) -> Any:
        return w.get((i, t), 0)

    for i, s in enumerate(problem.staff):
        for t in range(n_t):
            if (i, t) not in w:
                continue
            for j in range(len(problem.posts)):  # a shift keeps its post
                if (i, j, t) in x and (i, t + 1) in w:
                    m.add(x.get((i, j, t + 1), 0) >= x[i, j, t] + w[i, t + 1] - 1)
            for k in range(1, lo):  # a start needs a whole minimum shift
                m.add(ww(i, t + k) >= w[i, t] - ww(i, t - 1))
            for g in range(2, rest + 1):  # rest after an end
                m.add(ww(i, t + g) <= 1 - w[i, t] + ww(i, t + 1))
        for t0 in range(n_t - hi):
            m.add(sum(ww(i, t) for t in range(t0, t0 + hi + 1)) <= hi)
        for d in range(n_t // 24):
            m.add(sum(ww(i, t) for t in range(24 * d, 24 * d + 24)) <= problem.max_day_slots(s))
        cap = problem.max_total_slots(s)
        if cap is not None:
            m.add(sum(ww(i, t) for t in range(n_t)) <= cap)
    short = []
    for j, p in enumerate(problem.posts):
        for t in range(n_t):
            cov = sum(x[i, j, t] for i in range(len(problem.staff)) if (i, j, t) in x)
            m.add(cov <= p.demand[t])
            short.append(p.demand[t] - cov)
    m.minimize(sum(short))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    t0 = time.perf_counter()
    status = solver.solve(m)
    seconds = time.perf_counter() - t0
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {"status": solver.status_name(status), "seconds": seconds,
            "shortfall": solver.objective_value if found else None,
            "bound": solver.best_objective_bound, "vars": len(x) + len(w)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--staff", type=int, default=40)
    ap.add_argument("--posts", type=int, default=4)
    args = ap.parse_args()
    print(f"{'seed':>4} {'solver':8} {'status':9} {'short_h':>8} {'bound':>7} {'gap':>6} "
          f"{'max_h':>6} {'time_s':>7} {'ratio':>6}")
    for seed in args.seeds:
        prob = with_week_cap(week_instance(seed, args.staff, args.posts))
        t0 = time.perf_counter()
        r = plan_roster(prob, time_limit_s=args.limit * 4)
        ours = time.perf_counter() - t0
        report = is_valid_roster(prob, r)
        assert report.ok, report.violations[:5]
        gap = "-" if r.info.gap is None else f"{r.info.gap:.3f}"
        bound = "-" if r.info.bound is None else f"{r.info.bound:g}"
        print(f"{seed:>4} {'commgov':8} {r.info.status.value:9} "
              f"{r.totals.shortfall_hours:>8g} {bound:>7} {gap:>6} "
              f"{r.totals.max_staff_hours:>6g} {ours:>7.2f} {1.0:>6.2f}")
        plain = plain_model(prob, args.limit)
        sh = "-" if plain["shortfall"] is None else f"{plain['shortfall']:g}"
        pgap = "-"
        if plain["shortfall"] is not None and plain["bound"] > 0:
            pgap = f"{(plain['shortfall'] - plain['bound']) / plain['bound']:.3f}"
        elif plain["shortfall"] == 0:
            pgap = "0.000"
        print(f"{seed:>4} {'plain':8} {plain['status']:9} {sh:>8} "
              f"{plain['bound']:>7g} {pgap:>6} {'-':>6} {plain['seconds']:>7.2f} "
              f"{plain['seconds'] / ours:>6.2f}")


if __name__ == "__main__":
    main()
