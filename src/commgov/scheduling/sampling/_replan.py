"""Re-planning a sampling round mid-window (private).

A building becomes sealed, or a point loses a lane or closes, at an instant ``at`` during the
window. :func:`replan_sampling` keeps every batch already called (slots starting before
``at``: those residents are served, or queueing under the old plan) exactly as it was and
re-plans the rest of the window, changing as few buildings' notices as possible.

Method
------
1. **Freeze.** ``s0`` = number of slots that start before ``at``. Assignments in slots
   ``< s0`` are kept verbatim. The fluid backlog (F2) of every point at the end of slot
   ``s0 − 1`` is recomputed from the frozen assignments with the *old* capacities.
2. **Tail problem.** A :class:`~commgov.scheduling.sampling.SamplingProblem` over the rest of
   the window ``[start of slot s0, window end)``: the remaining batches (not frozen), sealed
   buildings sealed (their remaining batches go door to door), points with their new lane
   count, closed points (or zero lanes) removed, and, for every point that carries a
   backlog into slot ``s0``, a *carry-over* pseudo-building ``"<point id>~backlog"`` standing
   at the point (walk 0 m) with one batch of that many people, designated to that point and
   fixed to its first open slot of the tail. Arriving then with an empty queue is the same, in
   the F2 recursion, as carrying the backlog over, so the tail problem is an ordinary sampling
   problem that :func:`~commgov.scheduling.sampling.is_valid_sampling_plan` checks exactly
   (:attr:`Replan.tail_problem`, :attr:`Replan.tail_plan`).
3. **Tail model.** A small CP-SAT model, time-expanded (``x[k,p,t]``, the F2 queue of
   :mod:`commgov.scheduling.sampling._solve_cpsat`, one point per building through
   ``y[b,p]``), solved in
   four lexicographic tiers, each fixing the previous optimum and hinted with the previous
   solution (the first with the old plan): (1) max people served, (2) **min changed notices**,
   (3) min walking person-metres, (4) min Σ backlog over (point, slot) (people queueing at a
   slot's end, summed: least queueing; Σ people·slot is not minimised, because calling
   residents earlier than the lanes can swab them only lengthens queues). A building's notice
   changes when any of its remaining batches gets another (point, slot) than before — moved,
   newly served or newly unserved — or when it is newly sealed with batches left. The model
   is built with the planner's own routines (data preparation, greedy completion, plan
   records), so capacities, reach and reasons are the same definitions as
   :func:`~commgov.scheduling.sampling.plan_sampling`'s. ``plan_sampling`` itself
   has no hook for fixed assignments or a "keep" tier, hence this model.
4. **Merge.** The full-window plan: frozen assignments, then the tail's shifted back by ``s0``;
   loads recomputed with the old capacity before ``s0`` and the new one from ``s0``.

Deterministic: one worker, the given random seed, a deterministic-time budget shared by the
tiers, the model built in id order; the wall-clock limit is only a safety cap
(:class:`commgov._control.SolveControl`; ``info.stopped_by == "wall_clock"`` says when it cut a
tier short).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from commgov._control import CancelToken, ProgressCallback, SolveControl
from commgov._options import check_options
from commgov._records import FrozenModel
from commgov.errors import expect_type
from commgov.org import ZoneRegime
from commgov.results import SolveInfo, SolveStatus, library_versions
from commgov.scheduling.sampling._data import Data, prepare
from commgov.scheduling.sampling._finish import complete
from commgov.scheduling.sampling._plan import PointSlotLoad, SamplingPlan, SamplingTotals
from commgov.scheduling.sampling._problem import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingProblem,
    check_problem,
)
from commgov.scheduling.sampling._records import build_plan
from commgov.scheduling.sampling._rules import slot_capacity
from commgov.types import TimeWindow

__all__ = ["CARRY_SUFFIX", "Replan", "replan_sampling"]

#: Suffix of the carry-over pseudo-buildings (and batches) of the tail problem.
CARRY_SUFFIX = "~backlog"

#: Share of ``time_limit_s`` given to CP-SAT as deterministic time when ``deterministic_time``
#: is not given. One unit took 1 s of wall time on the idle 2-core reference machine and 2.5 s
#: under a load average of 4.7 (measured on 虎池苑社区), so the rest is headroom: the
#: wall-clock cap, a safety net only, should not cut a tier short on a slower or busier
#: machine (which would break determinism; pass ``deterministic_time`` with a generous
#: ``time_limit_s`` to rule that out).
DET_SHARE = 0.25

#: Names of the tail model's tiers, in lexicographic order.
TIERS = ("served", "changed_notices", "walk_person_m", "queue_person_slots")


class Replan(FrozenModel):
    """Outcome of :func:`replan_sampling`.

    Attributes
    ----------
    plan : SamplingPlan
        The whole window: frozen assignments (slots ``< frozen_slots``, unchanged) and the
        re-planned rest. ``building_points`` gives a building's point for its remaining
        batches when it has any, else its frozen point. ``loads`` use the old capacity before
        ``frozen_slots`` and the new one from it (0 at a closed point). ``door_to_door`` lists,
        for a newly sealed building, only its households and residents not yet served (its
        remaining batches plus mobility-limited residents). ``info.objective`` holds the four
        tiers (``served``, ``changed_notices``, ``walk_person_m``, ``queue_person_slots`` =
        Σ backlog over every (point, slot)) over the whole window, and ``person_slots``
        (reported, not minimised); ``changed_notices`` is a count of buildings.
    changed_buildings : list of str
        Buildings whose notice changes, by id.
    frozen_slots : int
        ``s0``: slots ``0 … s0−1`` start before ``at`` and are kept as they were.
    unfinished_queue : dict of str to int
        People still queueing (F2 backlog) at a closed point when it closes, by point id;
        they are assumed to be swabbed by that point's staff before it closes (empty when no
        closed point had a queue).
    tail_problem : SamplingProblem
        The changed problem over the rest of the window, with carry-over pseudo-buildings
        (ids ending in :data:`CARRY_SUFFIX`).
    tail_plan : SamplingPlan
        The re-planned rest as a plan of ``tail_problem`` (slots counted from ``s0``,
        carry-over batches included); ``is_valid_sampling_plan(tail_problem, tail_plan)``
        holds. Both ``None`` when ``at`` is at or after the end of the window (nothing is
        re-planned and ``plan`` is the old plan).
    """

    plan: SamplingPlan
    changed_buildings: list[str]
    frozen_slots: int
    unfinished_queue: dict[str, int]
    tail_problem: SamplingProblem | None
    tail_plan: SamplingPlan | None

    @property
    def changed_notices(self) -> int:
        """Number of buildings whose notice changes."""
        return len(self.changed_buildings)


def _frozen_slots(problem: SamplingProblem, at: datetime) -> int:
    """Slots that start strictly before ``at`` (0 … T)."""
    delta = timedelta(minutes=problem.policy.slot_minutes)
    elapsed = at - problem.window.start
    if elapsed <= timedelta(0):
        return 0
    return min(problem.n_slots, math.ceil(elapsed / delta))


def _check_ids(name: str, ids: Iterable[str], known: set[str]) -> list[str]:
    out = sorted(set(ids))
    unknown = [i for i in out if i not in known]
    if unknown:
        raise ValueError(f"{name}: unknown ids {unknown}")
    return out


def _queue_row(caps: list[int], arrivals: list[int]) -> list[tuple[int, int, int, int]]:
    """F2 rows ``(arrivals, capacity, served, backlog)`` for one point."""
    q = 0
    rows = []
    for a, c in zip(arrivals, caps, strict=True):
        served = min(q + a, c)
        q = q + a - served
        rows.append((a, c, served, q))
    return rows


def _tail_problem(
    problem: SamplingProblem,
    s0: int,
    sealed: set[str],
    new_lanes: dict[str, int],
    closed: set[str],
    remaining: dict[str, list[SamplingBatch]],
    carry: dict[str, int],
) -> tuple[SamplingProblem, dict[str, str]]:
    """The changed problem over slots ``s0 … T−1`` (see the module docstring, step 2).

    Returns the problem and the carry-over building id → point id map.
    """
    start = problem.slot_start(s0)
    window = TimeWindow(start=start, end=problem.window.end)
    points: list[SamplingPoint] = []
    for p in problem.points:
        if p.id in closed:
            continue
        points.append(p.model_copy(update={"lanes": new_lanes.get(p.id, p.lanes)}))
    open_ids = {p.id for p in points}
    buildings: list[SamplingBuilding] = []
    taken = {b.id for b in problem.buildings} | {k.id for b in problem.buildings for k in b.batches}
    for b in problem.buildings:
        zone = ZoneRegime.SEALED if b.id in sealed and b.zone.rank < 2 else b.zone
        allowed = (
            None
            if b.allowed_point_ids is None
            else [pid for pid in b.allowed_point_ids if pid in open_ids]
        )
        buildings.append(
            b.model_copy(
                update={
                    "zone": zone,
                    "batches": remaining.get(b.id, []),
                    "allowed_point_ids": allowed,
                }
            )
        )
    carry_of: dict[str, str] = {}
    pmap = {p.id: p for p in points}
    for pid, people in sorted(carry.items()):
        bid = pid + CARRY_SUFFIX
        while bid in taken:
            bid += "~"
        taken.add(bid)
        carry_of[bid] = pid
        buildings.append(
            SamplingBuilding(
                id=bid,
                location=pmap[pid].location,
                allowed_point_ids=[pid],
                batches=[SamplingBatch(id=bid, building_id=bid, households=0, people=people)],
            )
        )
    tail = SamplingProblem(
        schema_version=problem.schema_version,
        timezone=problem.timezone,
        window=window,
        buildings=buildings,
        points=points,
        policy=problem.policy,
    )
    return tail, carry_of


def _solve_tail(
    d: Data,
    prev: dict[str, tuple[str, int] | None],
    carry_of: dict[str, str],
    seed: int,
    det_budget: float,
    ctl: SolveControl,
) -> tuple[dict[str, tuple[str, int]], list[tuple[str, Any, int | None]]]:
    """Tiers 1-4 of the tail model (module docstring, step 3).

    Each tier gets the deterministic budget left divided by the tiers left; no tier is started
    with less than ``MIN_TIER_S`` wall-clock seconds left or after a cancel, and a cancel
    stops a running tier (its best solution so far is kept).

    Returns the placement ``batch → (point, tail slot)`` of the last tier solved and, per tier,
    ``(name, CP-SAT status, value)``.
    """
    from ortools.sat.python import cp_model

    from commgov.scheduling.sampling._solve_cpsat import MIN_TIER_S, hint_tier

    m = cp_model.CpModel()
    y: dict[tuple[str, str], Any] = {}
    for b in d.buildings:
        for pid in d.reach[b.id]:
            y[b.id, pid] = m.new_bool_var(f"y[{b.id},{pid}]")
        if len(d.reach[b.id]) > 1:
            m.add_at_most_one(y[b.id, pid] for pid in d.reach[b.id])
    x: dict[tuple[str, str, int], Any] = {}
    srv: dict[str, Any] = {}
    for k in d.batches:
        bid = k.building_id
        keys = [(pid, t) for pid in d.reach[bid] for t in d.open[pid]]
        if not keys:
            continue
        for pid, t in keys:
            x[k.id, pid, t] = m.new_bool_var(f"x[{k.id},{pid},{t}]")
        for pid in d.reach[bid]:
            m.add(sum(x[k.id, pid, t] for t in d.open[pid]) <= y[bid, pid])
        srv[k.id] = m.new_bool_var(f"s[{k.id}]")
        m.add(sum(x[k.id, pid, t] for pid, t in keys) == srv[k.id])
        if bid in carry_of:  # the carried queue: at its point, first open slot of the tail
            m.add(x[k.id, carry_of[bid], d.open[carry_of[bid]][0]] == 1)
        elif k.people == 0:
            m.add(srv[k.id] == 1)
    people = {k.id: k.people for k in d.batches}
    building_of = {k.id: k.building_id for k in d.batches}
    at_point: dict[str, dict[int, list[tuple[int, Any]]]] = defaultdict(lambda: defaultdict(list))
    for (kid, pid, t), v in x.items():
        if people[kid]:
            at_point[pid][t].append((people[kid], v))
    backlog: list[Any] = []  # q[p,t]: people queueing at the end of slot t (F2)
    qmax = d.problem.policy.max_queue
    for p in d.points:
        opened = set(d.open[p.id])
        arr = at_point[p.id]
        if not any(arr.get(t) for t in opened):
            continue
        q_prev: Any = 0
        for t in range(min(opened), d.T):
            c = d.cap[p.id] if t in opened else 0
            a = sum(w * v for w, v in arr.get(t, []))
            if t == d.T - 1:
                m.add(q_prev + a - c <= 0)
            else:
                q = m.new_int_var(0, qmax, f"q[{p.id},{t}]")
                m.add(q >= q_prev + a - c)
                backlog.append(q)
                q_prev = q
    # changed notices
    changed: list[Any] = []
    for b in d.buildings:
        if b.id in carry_of or not b.batches:
            continue
        ch = m.new_bool_var(f"ch[{b.id}]")
        changed.append(ch)
        for k in b.batches:
            before = prev.get(k.id)
            if before is None:
                if k.id in srv:
                    m.add(ch >= srv[k.id])
            elif (k.id, *before) in x:
                m.add(ch >= 1 - x[k.id, before[0], before[1]])
            else:  # its point or slot no longer exists
                m.add(ch == 1)
    exprs = {
        "served": sum(people[kid] * v for (kid, _p, _t), v in x.items()),
        "changed_notices": sum(changed),
        "walk_person_m": sum(
            people[kid] * d.dist[building_of[kid], pid] * v for (kid, pid, _t), v in x.items()
        ),
        "queue_person_slots": sum(backlog),
    }
    hint: dict[str, tuple[str, int]] = {
        kid: before for kid, before in prev.items() if before is not None and (kid, *before) in x
    }
    for k in d.batches:
        if k.building_id in carry_of:
            pid = carry_of[k.building_id]
            hint[k.id] = (pid, d.open[pid][0])
    placed: dict[str, tuple[str, int]] = {}
    report: list[tuple[str, Any, int | None]] = []
    for i, name in enumerate(TIERS):
        if not x:
            report.append((name, cp_model.OPTIMAL, 0))
            continue
        if ctl.should_stop(MIN_TIER_S):
            report.append((name, cp_model.UNKNOWN, None))
            break
        if name == "served":
            m.maximize(exprs[name])
        else:
            m.minimize(exprs[name])
        m.clear_hints()  # type: ignore[no-untyped-call]
        hint_tier(m, hint, building_of, y, x, srv)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        # the deterministic budget left is shared by the tiers left
        solver.parameters.max_deterministic_time = max(MIN_TIER_S, det_budget / (len(TIERS) - i))
        solver.parameters.max_time_in_seconds = max(MIN_TIER_S, ctl.remaining())
        status = ctl.solve_cp_sat(solver, m, f"tier {name}")
        det_budget -= solver.response_proto.deterministic_time
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            report.append((name, status, None))
            break
        value = round(solver.objective_value)
        report.append((name, status, value))
        placed = {kid: (pid, t) for (kid, pid, t), v in x.items() if solver.boolean_value(v)}
        hint = placed
        m.add(exprs[name] >= value if name == "served" else exprs[name] <= value)
    if not placed and x:
        placed = {kid: hint[kid] for kid in hint if building_of[kid] in carry_of}
    return placed, report


def replan_sampling(
    problem: SamplingProblem,
    plan: SamplingPlan,
    *,
    at: datetime,
    seal_buildings: Iterable[str] = (),
    lanes: Mapping[str, int] | None = None,
    close_points: Iterable[str] = (),
    time_limit_s: float = 10.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    deterministic_time: float | None = None,
) -> Replan:
    """Re-plan the rest of a sampling window after a building is sealed or a point changes.

    Slots that start before ``at`` are frozen: their assignments stay exactly as they are
    (those residents are served). The rest of the window is re-planned on the changed problem
    with the lexicographic objective max people served → **fewest changed notices** → least
    walking → least queueing; see the module docstring for the method.

    Parameters
    ----------
    problem : SamplingProblem
        The problem ``plan`` was made for.
    plan : SamplingPlan
        The plan in force (typically from :func:`~commgov.scheduling.plan_sampling`).
    at : datetime
        Timezone-aware instant of the change. Slots starting strictly before it are frozen; a
        slot starting at or after it is re-planned. Before the window: everything is
        re-planned; at or after its end: nothing is.
    seal_buildings : iterable of str
        Buildings sealed from ``at``: their remaining batches are sampled door to door.
    lanes : mapping of str to int, optional
        Point id → lane count from ``at`` (≥ 0; 0 closes the point).
    close_points : iterable of str
        Points closed from ``at``.
    time_limit_s : float, default 10.0
        Wall-clock seconds for the whole call, in (0, 3600]: a safety cap only (a run cut by
        it may differ from run to run, and says so in ``info.stopped_by``).
    seed : int, default 0
        CP-SAT random seed.
    progress : callable, optional
        Called with a :class:`commgov.ProgressEvent` at each tier and at least once a second
        while CP-SAT runs, ending with phase ``"done"``.
    cancel : threading.Event or any object with ``is_set()``, optional
        Once set, the run stops within a fraction of a second and returns the best re-plan so
        far with status ``CANCELLED`` (batches not tried get the reason ``CANCELLED``).
    deterministic_time : float, optional
        CP-SAT deterministic time (units ≈ seconds) shared by the four tiers (each gets the
        budget left divided by the tiers left): the stopping rule that makes the result
        repeat byte for byte on any machine. Default: ``DET_SHARE × time_limit_s`` (a
        quarter of the time limit).

    Returns
    -------
    Replan
        The whole-window plan, the buildings whose notice changes, the frozen slot count and
        the tail problem and plan (checkable with
        :func:`~commgov.scheduling.sampling.is_valid_sampling_plan`). Status ``OPTIMAL`` when
        all four tiers are proven, else ``FEASIBLE`` (``LIMIT`` when the greedy completion was
        cut short, ``CANCELLED`` when ``cancel`` stopped the run).

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``time_limit_s``, ``seed``, ``progress``, ``cancel`` or ``deterministic_time`` is
        of the wrong type or out of range.
    TypeError
        If ``problem`` or ``plan`` is not the right record or ``at`` is not a datetime.
    ValueError
        If ``at`` is naive, an id is unknown, a lane count is negative or not an integer,
        ``plan`` names batches, points or slots the problem does not have, or the carried
        queue of a point cannot be cleared by its new capacity before the end of the window.
    ProblemError
        If ``problem`` breaks a cross-record rule.

    Notes
    -----
    The tail model has O(remaining batches · points in reach · T) variables; its four tiers
    are solved by CP-SAT within the deterministic budget (exponential in the worst case).
    """
    check_options(
        "replan_sampling",
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
        cancel=cancel,
        deterministic_time=deterministic_time,
    )
    ctl = SolveControl("replan_sampling", time_limit_s, progress, cancel)
    expect_type(problem, SamplingProblem, "problem")
    expect_type(plan, SamplingPlan, "plan")
    expect_type(at, datetime, "at")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be a timezone-aware datetime")
    check_problem(problem)
    point_ids = {p.id for p in problem.points}
    building_ids = {b.id for b in problem.buildings}
    sealed = set(_check_ids("seal_buildings", seal_buildings, building_ids))
    closed = set(_check_ids("close_points", close_points, point_ids))
    new_lanes: dict[str, int] = {}
    for pid, n in sorted((lanes or {}).items()):
        _check_ids("lanes", [pid], point_ids)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"lanes[{pid!r}] must be an integer ≥ 0, got {n!r}")
        if n == 0:
            closed.add(pid)
        else:
            new_lanes[pid] = n
    for pid in closed:
        new_lanes.pop(pid, None)

    n_slots = problem.n_slots
    s0 = _frozen_slots(problem, at)
    batches = {k.id: k for b in problem.buildings for k in b.batches}
    pol = problem.policy
    for asg in plan.assignments:
        if (
            asg.batch_id not in batches
            or asg.point_id not in point_ids
            or not 0 <= asg.slot < n_slots
        ):
            raise ValueError(
                f"plan assignment {asg.batch_id!r} → {asg.point_id!r}@{asg.slot} "
                "does not fit the problem"
            )
    frozen = sorted((a for a in plan.assignments if a.slot < s0), key=lambda a: a.batch_id)
    frozen_ids = {a.batch_id for a in frozen}
    prev_at = {a.batch_id: a for a in plan.assignments}
    remaining: dict[str, list[SamplingBatch]] = {}
    for b in problem.buildings:
        remaining[b.id] = sorted(
            (k for k in b.batches if k.id not in frozen_ids), key=lambda k: k.id
        )
    old_caps = {p.id: problem.capacity(p) for p in problem.points}
    open_old = {p.id: set(problem.open_slots(p)) for p in problem.points}
    arrivals: dict[str, list[int]] = {p.id: [0] * n_slots for p in problem.points}
    for a in frozen:
        arrivals[a.point_id][a.slot] += batches[a.batch_id].people
    carry: dict[str, int] = {}
    unfinished: dict[str, int] = {}
    if 0 < s0 < n_slots:
        for p in problem.points:
            caps = [old_caps[p.id] if t in open_old[p.id] else 0 for t in range(s0)]
            q = _queue_row(caps, arrivals[p.id][:s0])[-1][3]
            if q > 0:
                if p.id in closed:
                    unfinished[p.id] = q
                elif not any(t >= s0 for t in open_old[p.id]):
                    raise ValueError(
                        f"point {p.id} carries {q} people into slot {s0} but is "
                        "not open again before the end of the window"
                    )
                else:
                    carry[p.id] = q

    if s0 >= n_slots:  # the window is over: nothing left to re-plan
        ctl.done()
        info = plan.info.model_copy(
            update={"objective": {**plan.info.objective, "changed_notices": 0.0}}
        )
        return Replan(
            plan=plan.model_copy(update={"info": info}),
            changed_buildings=[],
            frozen_slots=s0,
            unfinished_queue={},
            tail_problem=None,
            tail_plan=None,
        )
    tail_problem, carry_of = _tail_problem(problem, s0, sealed, new_lanes, closed, remaining, carry)
    new_caps = {pid: old_caps[pid] for pid in point_ids}
    for pid, n in new_lanes.items():
        p = next(pp for pp in problem.points if pp.id == pid)
        new_caps[pid] = slot_capacity(
            n, p.rate_per_lane_per_hour, pol.slot_minutes, pol.utilisation
        )
    for pid in closed:
        new_caps[pid] = 0

    det_budget = (
        DET_SHARE * float(time_limit_s) if deterministic_time is None else float(deterministic_time)
    )
    options = {
        "at": at.isoformat(),
        "seal_buildings": sorted(sealed),
        "lanes": dict(sorted(new_lanes.items())),
        "close_points": sorted(closed),
        "time_limit_s": float(time_limit_s),
        "deterministic_time": det_budget,
        "num_workers": 1,
        "random_seed": seed,
    }
    placed: dict[str, tuple[str, int]] = {}
    d = prepare(tail_problem.canonical())
    prev: dict[str, tuple[str, int] | None] = {}
    for k in d.batches:
        if k.building_id in carry_of:
            continue
        old = prev_at.get(k.id)
        prev[k.id] = None if old is None else (old.point_id, old.slot - s0)
    placed, report = _solve_tail(d, prev, carry_of, seed, det_budget, ctl)
    from ortools.sat.python import cp_model

    proven = len(report) == len(TIERS) and all(r[1] == cp_model.OPTIMAL for r in report)
    ctl.report("completion")
    added, completed = complete(d, placed, ctl.should_stop)
    if ctl.stopped_by == "cancel":
        status = SolveStatus.CANCELLED
    elif not completed:
        status = SolveStatus.LIMIT
    elif proven and not added:
        status = SolveStatus.OPTIMAL
    else:
        status = SolveStatus.FEASIBLE
    tail_plan = build_plan(d, placed, status, None, options, seed=seed, stopped_by=ctl.stopped_by)

    # ---- changed notices ------------------------------------------------------------------
    changed: list[str] = []
    for b in problem.buildings:
        rest = remaining[b.id]
        if not rest or b.zone.rank >= 2:
            continue
        if b.id in sealed:
            changed.append(b.id)
            continue
        for k in rest:
            old = prev_at.get(k.id)
            before = None if old is None else (old.point_id, old.slot - s0)
            if placed.get(k.id) != before:
                changed.append(b.id)
                break

    # ---- the whole-window plan ------------------------------------------------------------
    tail_assign = [a for a in tail_plan.assignments if a.building_id not in carry_of]
    assignments = list(frozen) + [
        a.model_copy(update={"slot": a.slot + s0, "slot_start": problem.slot_start(a.slot + s0)})
        for a in tail_assign
    ]
    assignments.sort(key=lambda a: a.batch_id)
    building_points = {a.building_id: a.point_id for a in frozen}
    building_points.update({a.building_id: a.point_id for a in tail_assign})
    for a in tail_assign:
        arrivals[a.point_id][a.slot + s0] += a.people
    loads: list[PointSlotLoad] = []
    max_backlog = 0
    queued = 0
    for p in sorted(problem.points, key=lambda p: p.id):
        caps = [
            (old_caps[p.id] if t < s0 else new_caps[p.id]) if t in open_old[p.id] else 0
            for t in range(n_slots)
        ]
        for t, (a_pt, c, s, q) in enumerate(_queue_row(caps, arrivals[p.id])):
            max_backlog = max(max_backlog, q)
            queued += q
            if t in open_old[p.id]:
                loads.append(
                    PointSlotLoad(
                        point_id=p.id, slot=t, arrivals=a_pt, capacity=c, served=s, backlog=q
                    )
                )
    unserved = [u for u in tail_plan.unserved if u.building_id not in carry_of]
    served = sum(a.people for a in assignments)
    walk = sum(a.people * a.walk_m for a in assignments)
    pslots = sum(a.people * a.slot for a in assignments)
    unserved_people = sum(u.people for u in unserved)
    totals = SamplingTotals(
        walk_in_people=served + unserved_people,
        served_people=served,
        unserved_people=unserved_people,
        walk_person_m=walk,
        person_slots=pslots,
        max_backlog=max_backlog,
        last_slot=max((a.slot for a in assignments if a.people > 0), default=-1),
    )
    info = SolveInfo(
        status=status,
        solver="cp-sat",
        objective={
            "served": float(served),
            "changed_notices": float(len(changed)),
            "walk_person_m": float(walk),
            "queue_person_slots": float(queued),
            "person_slots": float(pslots),
        },
        options=options,
        seed=seed,
        versions=library_versions("ortools"),
        stopped_by=ctl.stopped_by,
    )
    tail_info = tail_plan.info.model_copy(
        update={"objective": {**tail_plan.info.objective, "changed_notices": float(len(changed))}}
    )
    tail_plan = tail_plan.model_copy(update={"info": tail_info})
    full = SamplingPlan(
        assignments=assignments,
        building_points=dict(sorted(building_points.items())),
        loads=loads,
        door_to_door=tail_plan.door_to_door,
        home_visits=tail_plan.home_visits,
        unserved=unserved,
        totals=totals,
        info=info,
    )
    ctl.done(float(walk))
    return Replan(
        plan=full,
        changed_buildings=changed,
        frozen_slots=s0,
        unfinished_queue=unfinished,
        tail_problem=tail_problem,
        tail_plan=tail_plan,
    )
