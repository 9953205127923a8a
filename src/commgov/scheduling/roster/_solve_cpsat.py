"""The roster's CP-SAT method: shift options, a greedy start and the tiered model (private).

OR-Tools is imported only inside :func:`solve_cpsat`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

from commgov._control import SolveControl, integer_bound
from commgov._redact import get_logger
from commgov.errors import SolverError, check_size
from commgov.results import SolveStatus
from commgov.scheduling.roster._problem import RosterProblem, available_slots, is_eligible
from commgov.scheduling.roster._result import TierResult

__all__ = [
    "MAX_ASSIGNMENT_VARS",
    "MAX_AVAILABILITY_CELLS",
    "MAX_SCAN_CELLS",
    "PROBING_LEVEL",
    "check_roster_size",
    "solve_cpsat",
]

log = get_logger("commgov.scheduling")

#: Most assignment cells (person × post × slot, over every possible shift) a roster model may
#: have.
MAX_ASSIGNMENT_VARS = 2_000_000
#: Size guard, checked before anything is built: staff × slots (the availability table) and
#: staff × posts × slots (the eligibility scan).
MAX_AVAILABILITY_CELLS = 2_000_000
MAX_SCAN_CELLS = 50_000_000

#: CP-SAT presolve probing level: 0 skips probing, which on a week of gate posts spends most
#: of a small budget without fixing anything (measured: 3 rounds, ≈1 deterministic unit each).
PROBING_LEVEL = 0

#: Share of the deterministic-time budget of each tier, by number of tiers.
_SHARES = {1: [1.0], 2: [0.6, 0.4], 3: [0.5, 0.3, 0.2], 4: [0.4, 0.2, 0.25, 0.15]}


def check_roster_size(problem: RosterProblem) -> None:
    """Refuse, from counts alone, a roster whose tables would not fit (:func:`check_size`)."""
    n_t, n_s, n_p = problem.n_slots, len(problem.staff), len(problem.posts)
    change = "roster fewer staff or a shorter window at once, or use longer slots"
    check_size("roster: staff × slots", n_s * n_t, MAX_AVAILABILITY_CELLS, change)
    check_size("roster: staff × posts × slots", n_s * n_p * n_t, MAX_SCAN_CELLS, change)


def _shift_options(
    problem: RosterProblem, stop: Callable[[], bool] | None = None
) -> list[tuple[int, int, int, int]] | None:
    """Every shift a person may work: ``(staff index, post index, start slot, length)``.

    A shift at post ``p`` from ``t`` for ``ℓ`` slots is possible when the person is eligible,
    available in every slot of it, ``min_shift ≤ ℓ ≤ max_shift``, it ends inside the window
    and (unless over-cover is allowed) the post asks for staff in every slot of it.
    ``None`` when ``stop()`` (asked for each person) says so; :class:`SizeLimitError` as soon
    as the shifts cover more than :data:`MAX_ASSIGNMENT_VARS` person-post-slot cells.
    """
    n_t = problem.n_slots
    lim = problem.limits()
    lo, hi = lim["min_shift"], lim["max_shift"]
    over_ok = problem.policy.allow_overcover
    out = []
    n_cells = 0
    for i, s in enumerate(problem.staff):
        if stop is not None and stop():
            return None
        avail = available_slots(problem, s)
        for j, p in enumerate(problem.posts):
            if not is_eligible(p, s):
                continue
            ok = [avail[t] and (over_ok or p.demand[t] > 0) for t in range(n_t)]
            run = 0  # length of the run of usable slots ending at t
            runs = [0] * n_t
            for t in range(n_t - 1, -1, -1):  # run of usable slots starting at t
                run = run + 1 if ok[t] else 0
                runs[t] = run
            for t in range(n_t):
                for length in range(lo, min(hi, runs[t]) + 1):
                    out.append((i, j, t, length))
                    n_cells += length
            check_size("roster model: person-post-slot cells", n_cells, MAX_ASSIGNMENT_VARS,
                       "roster fewer staff, posts or slots at once, or use longer slots")
    return out


def _greedy(problem: RosterProblem, options: list[tuple[int, int, int, int]],
            stop: Callable[[], bool] | None = None) -> list[int]:
    """A feasible roster to start from, built slot by slot.

    Post by post (by id), what is still uncovered is filled with the allowed shift of the
    least-loaded person (longest first, then id).

    Each chosen shift respects every hard rule: its blocked interval ``[t, t + ℓ + rest)``
    meets no other of the person's, daily and total maxima hold, and (without over-cover) it
    only covers slots still short. ``stop()``, asked before each slot, ends it early with the
    shifts chosen so far.
    """
    n_t = problem.n_slots
    rest = problem.limits()["min_rest"]
    over_ok = problem.policy.allow_overcover
    staff, posts = problem.staff, problem.posts
    days = [problem.slot_day(t) for t in range(n_t)]
    starting: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for k, (i, j, t, n) in enumerate(options):
        starting.setdefault((j, t), []).append((i, n, k))
    left = [list(p.demand) for p in posts]
    blocks: list[list[tuple[int, int]]] = [[] for _ in staff]
    per_day: list[dict[date, int]] = [{} for _ in staff]
    load = [0] * len(staff)
    day_cap = [problem.max_day_slots(s) for s in staff]
    total_cap = [problem.max_total_slots(s) for s in staff]
    chosen = [0] * len(options)

    def fits(i: int, j: int, t: int, n: int) -> bool:
        lo, hi = t, t + n + rest
        if any(a < hi and lo < b for a, b in blocks[i]):
            return False
        if not over_ok and any(left[j][u] <= 0 for u in range(t, t + n)):
            return False
        cap = total_cap[i]
        if cap is not None and load[i] + n > cap:
            return False
        need: dict[date, int] = {}
        for u in range(t, t + n):
            need[days[u]] = need.get(days[u], 0) + 1
        return all(per_day[i].get(d, 0) + k <= day_cap[i] for d, k in need.items())

    for t in range(n_t):
        if stop is not None and stop():
            break
        for j in range(len(posts)):
            cands = sorted(starting.get((j, t), []), key=lambda c: (load[c[0]], -c[1], c[0]))
            for i, n, k in cands:
                if left[j][t] <= 0:
                    break
                if not fits(i, j, t, n):
                    continue
                chosen[k] = 1
                blocks[i].append((t, t + n + rest))
                load[i] += n
                for u in range(t, t + n):
                    left[j][u] -= 1
                    per_day[i][days[u]] = per_day[i].get(days[u], 0) + 1
    return chosen


def solve_cpsat(problem: RosterProblem, ctl: SolveControl, dtime: float, seed: int) -> tuple[
        dict[str, list[str | None]], SolveStatus, list[TierResult], float | None]:
    """Shift-based CP-SAT model of the canonical ``problem``, solved tier by tier.

    ``y[i,j,t,ℓ]`` = person ``i`` works post ``j`` from slot ``t`` for ``ℓ`` slots. A shift
    *blocks* its slots and the ``min_rest`` slots after it, ``[t, t + ℓ + rest)``; for each
    person and slot at most one chosen shift blocks it, which is at once "one post at a
    time", "shifts are maximal runs" and "rest between shifts" (an interval-matrix clique,
    whose LP relaxation is tight per person).

    Returns ``work[staff_id][t]`` (post id or ``None``), the status (``OPTIMAL``,
    ``FEASIBLE``, or ``CANCELLED`` once ``ctl`` is cancelled: the greedy roster or the last
    tier's solution, both keeping every hard rule), the tiers and the proven lower bound on
    the shortfall in staff-slots (``None`` when tier 1 did not finish).
    """
    from ortools.sat.python import cp_model

    n_t = problem.n_slots
    rest = problem.limits()["min_rest"]
    over_ok = problem.policy.allow_overcover
    posts, staff = problem.posts, problem.staff

    def stop() -> bool:
        ctl.report("model")
        return ctl.should_stop()

    check_roster_size(problem)
    found = _shift_options(problem, stop)
    if found is None:  # stopped while listing the shifts: the empty roster is valid
        status = SolveStatus.CANCELLED if ctl.stopped_by == "cancel" else SolveStatus.LIMIT
        names = ["shortfall_slots", *(["overcover_slots"] * over_ok), "max_staff_slots",
                 *(["preferred_slots"] * any(s.preferred_post_ids for s in staff))]
        return ({s.id: [None] * n_t for s in staff}, status,
                [TierResult(name=k, status="NOT_RUN", value=None, bound=None) for k in names],
                None)
    options = found
    m = cp_model.CpModel()
    y = [m.new_bool_var(f"y[{i},{j},{t},{n}]") for i, j, t, n in options]
    block: dict[tuple[int, int], list[Any]] = {}
    cover: dict[tuple[int, int], list[Any]] = {}
    day_load: dict[tuple[int, date], list[tuple[int, Any]]] = {}
    load: dict[int, list[tuple[int, Any]]] = {}
    pref: list[tuple[int, Any]] = []
    prefs = [set(s.preferred_post_ids) for s in staff]
    days = [problem.slot_day(t) for t in range(n_t)]
    for k_opt, ((i, j, t, n), v) in enumerate(zip(options, y, strict=True)):
        if not k_opt & 4095 and stop():
            break
        for u in range(t, min(n_t, t + n + rest)):
            block.setdefault((i, u), []).append(v)
        per_day: dict[date, int] = {}
        for u in range(t, t + n):
            cover.setdefault((j, u), []).append(v)
            per_day[days[u]] = per_day.get(days[u], 0) + 1
        for day, k in per_day.items():
            day_load.setdefault((i, day), []).append((k, v))
        load.setdefault(i, []).append((n, v))
        if posts[j].id in prefs[i]:
            pref.append((n, v))
    for key in sorted(block):
        if len(block[key]) > 1:
            m.add_at_most_one(block[key])
    for (i, _day), terms in sorted(day_load.items()):
        cap = problem.max_day_slots(staff[i])
        if sum(k for k, _v in terms) > cap:
            m.add(sum(k * v for k, v in terms) <= cap)
    hours: list[Any] = []
    for i, s in enumerate(staff):
        terms = load.get(i, [])
        if not terms:
            continue
        total = problem.max_total_slots(s)
        expr = sum(k * v for k, v in terms)
        if total is not None and sum(k for k, _v in terms) > total:
            m.add(expr <= total)
        hours.append(expr)
    short_vars: list[Any] = []
    over_vars: list[Any] = []
    cells: list[tuple[int, int, Any, Any]] = []  # (post, slot, short var, over var or None)
    const_short = 0
    for j, p in enumerate(posts):
        for t in range(n_t):
            d = p.demand[t]
            vs = cover.get((j, t), [])
            if not vs:
                const_short += d
                continue
            if d == 0 and not over_ok:
                raise SolverError("a shift covers a slot without demand")  # ruled out above
            sh = m.new_int_var(0, d, f"short[{j},{t}]")
            ov = None
            if over_ok:
                ov = m.new_int_var(0, len(vs), f"over[{j},{t}]")
                m.add(sum(vs) + sh - ov == d)
                over_vars.append(ov)
            else:
                m.add(sum(vs) + sh == d)
            short_vars.append(sh)
            cells.append((j, t, sh, ov))
    maxh = m.new_int_var(0, n_t, "max_staff_slots")
    for h in hours:
        m.add(maxh >= h)
    tier_defs: list[tuple[str, Any, bool]] = [
        ("shortfall_slots", sum(short_vars) + const_short, False)]
    if over_ok:
        tier_defs.append(("overcover_slots", sum(over_vars), False))
    tier_defs.append(("max_staff_slots", maxh, False))
    if pref:
        tier_defs.append(("preferred_slots", sum(k * v for k, v in pref), True))
    shares = _SHARES[len(tier_defs)]
    tiers: list[TierResult] = []
    chosen = _greedy(problem, options, stop)
    greedy_only = True  # no tier has improved on (or confirmed) the greedy start yet

    def hint(sol: list[int]) -> None:
        """A complete, feasible hint: the shifts and the cover, shortfall and load they give."""
        m.clear_hints()  # type: ignore[no-untyped-call]
        cov: dict[tuple[int, int], int] = {}
        load_of = [0] * len(staff)
        for (i, j, t, n), v, val in zip(options, y, sol, strict=True):
            m.add_hint(v, val)
            if val:
                load_of[i] += n
                for u in range(t, t + n):
                    cov[j, u] = cov.get((j, u), 0) + 1
        for j, t, sh, ov in cells:
            c, d = cov.get((j, t), 0), posts[j].demand[t]
            m.add_hint(sh, max(0, d - c))
            if ov is not None:
                m.add_hint(ov, max(0, c - d))
        m.add_hint(maxh, max(load_of, default=0))

    bound: float | None = None
    carried = 0.0
    all_optimal = True
    work: dict[str, list[str | None]] = {s.id: [None] * n_t for s in staff}
    if not y:  # nothing to decide: every tier is at its only value
        for name, _expr, _max in tier_defs:
            value = float(const_short) if name == "shortfall_slots" else 0.0
            tiers.append(TierResult(name=name, status="OPTIMAL", value=value, bound=value))
        return work, SolveStatus.OPTIMAL, tiers, float(const_short)
    for k, (name, expr, maximise) in enumerate(tier_defs):
        budget = dtime * shares[k] + carried
        if ctl.cancelled or ctl.expired(0.01):
            tiers.append(TierResult(name=name, status="NOT_RUN", value=None, bound=None))
            all_optimal = False
            continue
        ctl.report(f"tier {name}", k / len(tier_defs))
        if maximise:
            m.maximize(expr)
        else:
            m.minimize(expr)
        hint(chosen)
        solver = cp_model.CpSolver()
        prm = solver.parameters
        prm.num_workers = 1
        prm.random_seed = seed
        prm.max_time_in_seconds = max(0.01, ctl.remaining())
        prm.max_deterministic_time = max(0.01, budget)
        prm.cp_model_probing_level = PROBING_LEVEL
        st = ctl.solve_cp_sat(solver, m, f"tier {name}")
        carried = max(0.0, budget - solver.response_proto.deterministic_time)
        if st in (cp_model.MODEL_INVALID, cp_model.INFEASIBLE):
            raise SolverError(f"CP-SAT returned {solver.status_name(st)} on roster tier "
                              f"{name!r}: {m.validate()}")
        if st == cp_model.UNKNOWN:
            tiers.append(TierResult(name=name, status="UNKNOWN", value=None,
                                    bound=_finite(solver.best_objective_bound)))
            all_optimal = False
            break
        value = round(solver.objective_value)
        b = _finite(solver.best_objective_bound)
        tiers.append(TierResult(name=name, status=solver.status_name(st), value=float(value),
                                bound=b))
        if k == 0 and b is not None:
            bound = integer_bound(None, b)
        if st != cp_model.OPTIMAL:
            all_optimal = False
        chosen = [int(solver.boolean_value(v)) for v in y]
        greedy_only = False
        m.add(expr >= value if maximise else expr <= value)
    for (i, j, t, n), val in zip(options, chosen, strict=True):
        if val:
            for u in range(t, t + n):
                work[staff[i].id][u] = posts[j].id
    done = len(tiers) == len(tier_defs)
    status = SolveStatus.OPTIMAL if all_optimal and done else SolveStatus.FEASIBLE
    if ctl.stopped_by == "cancel" and status is not SolveStatus.OPTIMAL:
        status = SolveStatus.CANCELLED
    if greedy_only:
        log.info("roster: CP-SAT found nothing in its budget; the greedy roster is returned")
    return work, status, tiers, bound



def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None

