"""Independent verifier of sampling plans (private).

:func:`is_valid_sampling_plan` checks every hard rule of a :class:`SamplingPlan` against its
:class:`SamplingProblem` and recomputes every reported figure (loads, costs, totals, objective
tiers, reasons). It imports no solver code and no OR-Tools: only the problem definitions
(:func:`slot_capacity`, :func:`walk_distance_m`, :func:`reach_limit_m` are shared on purpose)
and the standard library. Property tests use it as the oracle; the mutation suite in
:mod:`commgov.testing` proves it rejects each kind of broken plan.

Violation codes (:class:`SamplingViolationCode`): ``UNKNOWN_ID``, ``RECORD_MISMATCH`` (copied
field differs from the problem), ``DUPLICATE_BATCH``, ``DROPPED_BATCH``, ``SEALED_AT_POINT``,
``BUILDING_SPLIT``, ``ZONE_POINT_NOT_ALLOWED``, ``SLOT_OUT_OF_WINDOW``, ``NOT_IN_REACH``,
``OVER_CAPACITY``, ``LOAD_MISMATCH``, ``COST_MISMATCH``, ``REASON_FALSE``,
``DOOR_TO_DOOR_MISMATCH``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

import numpy as np

from commgov._perf import gc_paused
from commgov.errors import expect_type
from commgov.results import CommonReasonCode
from commgov.scheduling.sampling._plan import BatchAssignment, SamplingPlan
from commgov.scheduling.sampling._problem import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingProblem,
)
from commgov.scheduling.sampling._reasons import SamplingReasonCode
from commgov.scheduling.sampling._rules import (
    APPROX_MARGIN_M,
    approx_walk_m,
    reach_limit_m,
    slot_capacity,
    walk_distance_m,
    walk_distances_m,
)
from commgov.verification import VerificationReport, add_claim_faults, stop_reason_fault

__all__ = [
    "SamplingObjective",
    "SamplingViolationCode",
    "is_valid_sampling_plan",
    "recompute_loads",
]


class SamplingViolationCode(StrEnum):
    """Every kind of fault :func:`is_valid_sampling_plan` reports.

    ``BOUND_PAST_OBJECTIVE``, ``GAP_WRONG`` and ``OPTIMAL_UNPROVEN``: ``info.bound``,
    ``info.gap`` or the status ``OPTIMAL`` claim what the recomputed ``walk_person_m`` does
    not bear out (:func:`commgov.verification.claim_faults`).
    """

    UNKNOWN_ID = "UNKNOWN_ID"
    RECORD_MISMATCH = "RECORD_MISMATCH"
    DUPLICATE_BATCH = "DUPLICATE_BATCH"
    DROPPED_BATCH = "DROPPED_BATCH"
    SEALED_AT_POINT = "SEALED_AT_POINT"
    BUILDING_SPLIT = "BUILDING_SPLIT"
    ZONE_POINT_NOT_ALLOWED = "ZONE_POINT_NOT_ALLOWED"
    SLOT_OUT_OF_WINDOW = "SLOT_OUT_OF_WINDOW"
    NOT_IN_REACH = "NOT_IN_REACH"
    OVER_CAPACITY = "OVER_CAPACITY"
    LOAD_MISMATCH = "LOAD_MISMATCH"
    COST_MISMATCH = "COST_MISMATCH"
    REASON_FALSE = "REASON_FALSE"
    DOOR_TO_DOOR_MISMATCH = "DOOR_TO_DOOR_MISMATCH"
    BOUND_PAST_OBJECTIVE = "BOUND_PAST_OBJECTIVE"
    GAP_WRONG = "GAP_WRONG"
    OPTIMAL_UNPROVEN = "OPTIMAL_UNPROVEN"


class SamplingObjective(NamedTuple):
    """The objective tiers of a plan, recomputed from the problem by the verifier."""

    served: int
    walk_person_m: int
    person_slots: int


def _open_slots(problem: SamplingProblem, point: SamplingPoint, n_slots: int) -> set[int]:
    delta = timedelta(minutes=problem.policy.slot_minutes)
    out = set()
    for t in range(n_slots):
        lo = problem.window.start + t * delta
        hi = lo + delta
        if point.opening is None or (point.opening.start <= lo and hi <= point.opening.end):
            out.add(t)
    return out


def recompute_loads(
    problem: SamplingProblem, assignments: list[BatchAssignment]
) -> dict[tuple[str, int], tuple[int, int, int, int]]:
    """Recompute the fluid queue (F2) of every (point, slot) from the assignments alone.

    ``served = min(backlog_before + arrivals, capacity)``, ``backlog = backlog_before +
    arrivals − served``, capacity 0 in closed slots, arrivals from the problem's batch sizes
    (the ``people`` copied on the assignment are not trusted). Assignments naming unknown
    batches or points or slots outside the window are ignored.

    Parameters
    ----------
    problem : SamplingProblem
    assignments : list of BatchAssignment

    Returns
    -------
    dict
        ``(point_id, slot) → (arrivals, capacity, served, backlog)`` for every point and every
        slot of the window (open or not).
    """
    n_slots = int(problem.window.duration // timedelta(minutes=problem.policy.slot_minutes))
    people = {k.id: k.people for b in problem.buildings for k in b.batches}
    arrivals: dict[tuple[str, int], int] = defaultdict(int)
    for a in assignments:
        if a.batch_id in people and 0 <= a.slot < n_slots:
            arrivals[a.point_id, a.slot] += people[a.batch_id]
    out: dict[tuple[str, int], tuple[int, int, int, int]] = {}
    for p in problem.points:
        opened = _open_slots(problem, p, n_slots)
        cap = slot_capacity(
            p.lanes,
            p.rate_per_lane_per_hour,
            problem.policy.slot_minutes,
            problem.policy.utilisation,
        )
        q = 0
        for t in range(n_slots):
            c = cap if t in opened else 0
            a_pt = arrivals[p.id, t]
            served = min(q + a_pt, c)
            q = q + a_pt - served
            out[p.id, t] = (a_pt, c, served, q)
    return out


def _allowed(b: SamplingBuilding, pid: str) -> bool:
    return b.allowed_point_ids is None or pid in b.allowed_point_ids


def is_valid_sampling_plan(problem: SamplingProblem, plan: SamplingPlan) -> VerificationReport:
    """Check a sampling plan against its problem, recomputing every figure.

    Hard rules: every batch of a non-sealed building appears exactly once, in ``assignments``
    or in ``unserved``; no batch of a sealed building is at a point; one point per building;
    controlled-zone designations; slots inside the window and the point open; walk within
    the limit; fluid backlog ≤ ``max_queue`` at every (point, slot) and 0 at the end of the
    window (F2 time-expanded queue). Reported figures recomputed: copied fields, ``walk_m``,
    loads, totals, objective tiers, door-to-door and home-visit lists. Reasons checked as
    predicates: ``NO_POINT_IN_REACH`` needs no allowed open point within reach (and the
    stated distance and limit); ``POINT_CAPACITY_USED`` needs a point in reach and that the
    batch cannot be added to the plan as it stands (at its building's point, or any point in
    reach if the building has none) without breaking the queue rules, which holds for any
    plan that maximises people served.

    Parameters
    ----------
    problem : SamplingProblem
    plan : SamplingPlan

    Returns
    -------
    commgov.verification.VerificationReport
        ``family="sampling"``; ``ok`` (and truthiness), the violations (codes
        :class:`SamplingViolationCode`) and ``objective``: the tiers recomputed from the
        problem (:class:`SamplingObjective`).

    Raises
    ------
    TypeError
        If ``problem`` or ``plan`` is not the right record.

    Notes
    -----
    O(assignments + batches · points + points · T), plus O(points in reach · T²) per unserved
    batch whose ``POINT_CAPACITY_USED`` reason is checked.
    """
    expect_type(problem, SamplingProblem, "problem")
    expect_type(plan, SamplingPlan, "plan")
    with gc_paused():  # ~10⁶ acyclic objects: the collector's passes would cost a third
        return _check(problem, plan)


def _check(problem: SamplingProblem, plan: SamplingPlan) -> VerificationReport:
    V = SamplingViolationCode  # noqa: N806
    rep = VerificationReport(family="sampling")
    pol = problem.policy
    delta = timedelta(minutes=pol.slot_minutes)
    n_slots = int(problem.window.duration // delta)
    limit = reach_limit_m(pol)
    buildings = {b.id: b for b in problem.buildings}
    points = {p.id: p for p in problem.points}
    batches: dict[str, SamplingBatch] = {k.id: k for b in problem.buildings for k in b.batches}
    opened = {p.id: _open_slots(problem, p, n_slots) for p in problem.points}
    caps = {
        p.id: slot_capacity(p.lanes, p.rate_per_lane_per_hour, pol.slot_minutes, pol.utilisation)
        for p in problem.points
    }

    # sealed 封控区 or high risk 高风险区: stay home (the rank looked up once per zone)
    rank_of: dict[object, int] = {}
    sealed_ids = set()
    for b in problem.buildings:
        z = b.zone
        if z not in rank_of:
            rank_of[z] = z.rank
        if rank_of[z] >= 2:
            sealed_ids.add(b.id)

    def sealed(bid: str) -> bool:
        return bid in sealed_ids

    # the start each slot must have, and whether a reported start is it (one check per
    # distinct (slot, start), not per assignment)
    start_ok: dict[tuple[int, datetime, object], str | None] = {}

    def start_issue(slot: int, start: datetime) -> str | None:
        key = (slot, start, start.utcoffset())
        if key not in start_ok:
            expected = problem.window.start + slot * delta
            # compare instants in UTC: PEP 495 makes a repeated-hour time unequal across zones
            local = expected.astimezone(problem.tz)
            bad = start.astimezone(UTC) != expected or start.utcoffset() != local.utcoffset()
            start_ok[key] = (
                f"slot_start {start.isoformat()} is not the start of slot "
                f"{slot} ({local.isoformat()})"
                if bad
                else None
            )
        return start_ok[key]

    walk_of: dict[str, int] = {}  # batch id -> recomputed walk of its assignment

    # ---- assignments ------------------------------------------------------------------------
    seen: dict[str, str] = {}
    valid_assign: list[BatchAssignment] = []
    points_of: dict[str, set[str]] = defaultdict(set)
    # the walks of every assignment of a known batch to a known point, in one vectorised pass
    # (walk_distances_m equals walk_distance_m pair by pair)
    known = [
        (i, buildings[k.building_id].location, points[a.point_id].location)
        for i, a in enumerate(plan.assignments)
        for k in [batches.get(a.batch_id)]
        if k is not None and a.point_id in points
    ]
    n_known = len(known)
    walks = dict(
        zip(
            (i for i, _, _ in known),
            walk_distances_m(
                np.fromiter((g.lon for _, g, _ in known), float, n_known),
                np.fromiter((g.lat for _, g, _ in known), float, n_known),
                np.fromiter((g.lon for _, _, g in known), float, n_known),
                np.fromiter((g.lat for _, _, g in known), float, n_known),
                pol.detour_factor,
            ),
            strict=True,
        )
    )
    del known
    for i_assign, a in enumerate(plan.assignments):
        k = batches.get(a.batch_id)
        if k is None:
            rep.add(V.UNKNOWN_ID, a.batch_id, "assignment of an unknown batch")
            continue
        if a.point_id not in points:
            rep.add(V.UNKNOWN_ID, a.batch_id, f"unknown point {a.point_id!r}")
            continue
        if a.batch_id in seen:
            rep.add(V.DUPLICATE_BATCH, a.batch_id, "batch assigned more than once")
            continue
        seen[a.batch_id] = "assigned"
        b = buildings[k.building_id]
        if a.building_id != b.id:
            rep.add(
                V.RECORD_MISMATCH,
                a.batch_id,
                f"building_id {a.building_id!r}, batch belongs to {b.id!r}",
            )
        if a.people != k.people:
            rep.add(V.RECORD_MISMATCH, a.batch_id, f"people {a.people}, batch has {k.people}")
        if sealed(b.id):
            rep.add(
                V.SEALED_AT_POINT,
                a.batch_id,
                f"building {b.id} is sealed but the batch is sent to {a.point_id}",
            )
        if not _allowed(b, a.point_id):
            rep.add(
                V.ZONE_POINT_NOT_ALLOWED,
                a.batch_id,
                f"point {a.point_id} is not designated for building {b.id}",
            )
        if not 0 <= a.slot < n_slots:
            rep.add(V.SLOT_OUT_OF_WINDOW, a.batch_id, f"slot {a.slot} outside 0..{n_slots - 1}")
        else:
            start = a.slot_start
            skey = (a.slot, start, start.utcoffset())
            issue = start_ok[skey] if skey in start_ok else start_issue(a.slot, start)
            if issue is not None:
                rep.add(V.SLOT_OUT_OF_WINDOW, a.batch_id, issue)
            if a.slot not in opened[a.point_id]:
                rep.add(
                    V.SLOT_OUT_OF_WINDOW,
                    a.batch_id,
                    f"point {a.point_id} is closed in slot {a.slot}",
                )
        dist = walks[i_assign]
        walk_of[a.batch_id] = dist
        if dist > limit:
            rep.add(
                V.NOT_IN_REACH,
                a.batch_id,
                f"walk {dist} m to {a.point_id} exceeds the limit {limit} m",
            )
        if a.walk_m != dist:
            rep.add(V.COST_MISMATCH, a.batch_id, f"walk_m {a.walk_m}, recomputed {dist}")
        points_of[b.id].add(a.point_id)
        valid_assign.append(a)

    for bid, pids in sorted(points_of.items()):
        if len(pids) > 1:
            rep.add(V.BUILDING_SPLIT, bid, f"batches sent to points {sorted(pids)}")
    expected_bp = {bid: next(iter(pids)) for bid, pids in points_of.items() if len(pids) == 1}
    for bid in sorted(set(plan.building_points) | set(expected_bp)):
        if bid in points_of and len(points_of[bid]) > 1:
            continue
        if plan.building_points.get(bid) != expected_bp.get(bid):
            rep.add(
                V.BUILDING_SPLIT,
                bid,
                f"building_points says {plan.building_points.get(bid)!r}, assignments use "
                f"{expected_bp.get(bid)!r}",
            )

    # ---- loads (F2 fluid queue) -----------------------------------------------------------
    loads = recompute_loads(problem, valid_assign)
    max_backlog = 0
    for (pid, t), (_a, _c, _s, q) in sorted(loads.items()):
        max_backlog = max(max_backlog, q)
        if q > pol.max_queue:
            rep.add(V.OVER_CAPACITY, f"{pid}@{t}", f"backlog {q} > max_queue {pol.max_queue}")
        if t == n_slots - 1 and q > 0:
            rep.add(
                V.OVER_CAPACITY, f"{pid}@{t}", f"{q} people still queueing at the end of the window"
            )
    expected_loads = {(pid, t): v for (pid, t), v in loads.items() if t in opened[pid]}
    reported: dict[tuple[str, int], tuple[int, int, int, int]] = {}
    for ld in plan.loads:
        key = (ld.point_id, ld.slot)
        if key in reported:
            rep.add(V.LOAD_MISMATCH, f"{ld.point_id}@{ld.slot}", "reported twice")
        reported[key] = (ld.arrivals, ld.capacity, ld.served, ld.backlog)
    for key in sorted(set(reported) | set(expected_loads)):
        if reported.get(key) != expected_loads.get(key):
            rep.add(
                V.LOAD_MISMATCH,
                f"{key[0]}@{key[1]}",
                f"reported (arrivals, capacity, served, backlog) {reported.get(key)}, "
                f"recomputed {expected_loads.get(key)}",
            )

    # ---- unserved and reasons ---------------------------------------------------------------
    assigned_point = {bid: next(iter(p)) for bid, p in points_of.items() if len(p) == 1}

    usable = [p for p in problem.points if opened[p.id] and caps[p.id] > 0]
    u_lon = np.asarray([p.location.lon for p in usable], dtype=float)
    u_lat = np.asarray([p.location.lat for p in usable], dtype=float)
    u_index = {p.id: j for j, p in enumerate(usable)}
    reach_cache: dict[str, list[tuple[int, str]]] = {}

    def reachable(b: SamplingBuilding) -> list[tuple[int, str]]:
        """(walk, point) of the allowed open points in reach and of the nearest ones, by walk
        (the rule's distances; numpy only screens out points farther than both)."""
        if b.id in reach_cache:
            return reach_cache[b.id]
        if b.allowed_point_ids is None:
            idx = np.arange(len(usable))
        else:
            idx = np.asarray(
                sorted({u_index[pid] for pid in b.allowed_point_ids if pid in u_index}),
                dtype=np.int64,
            )
        out: list[tuple[int, str]] = []
        if len(idx):
            approx = approx_walk_m(
                b.location.lon, b.location.lat, u_lon[idx], u_lat[idx], pol.detour_factor
            )
            near = (approx <= limit + APPROX_MARGIN_M) | (
                approx <= float(approx.min()) + 2 * APPROX_MARGIN_M
            )
            out = sorted(
                (walk_distance_m(b, usable[j], pol), usable[j].id) for j in idx[near].tolist()
            )
        reach_cache[b.id] = out
        return out

    def insertable(k: SamplingBatch, cands: list[str]) -> bool:
        for pid in cands:
            for t in sorted(opened[pid]):
                q = 0
                ok = True
                for s in range(n_slots):
                    arr, c, _sv, _q = loads[pid, s]
                    arr += k.people if s == t else 0
                    q = q + arr - min(q + arr, c)
                    if q > pol.max_queue:
                        ok = False
                        break
                if ok and q == 0:
                    return True
        return False

    for u in plan.unserved:
        k = batches.get(u.batch_id)
        if k is None:
            rep.add(V.UNKNOWN_ID, u.batch_id, "unserved entry for an unknown batch")
            continue
        if u.batch_id in seen:
            rep.add(
                V.DUPLICATE_BATCH,
                u.batch_id,
                "batch both assigned and unserved"
                if seen[u.batch_id] == "assigned"
                else "batch listed twice as unserved",
            )
            continue
        seen[u.batch_id] = "unserved"
        b = buildings[k.building_id]
        if u.building_id != b.id or u.people != k.people:
            rep.add(V.RECORD_MISMATCH, u.batch_id, "building_id or people differ from the batch")
        if sealed(b.id):
            rep.add(
                V.REASON_FALSE,
                u.batch_id,
                "batch of a sealed building: it is sampled door to door, not unserved",
            )
            continue
        if not u.reasons:
            rep.add(V.REASON_FALSE, u.batch_id, "unserved without a reason")
        options = reachable(b)
        in_reach = [pid for dist, pid in options if dist <= limit]
        for r in u.reasons:
            if r.code == SamplingReasonCode.NO_POINT_IN_REACH:
                if in_reach:
                    rep.add(
                        V.REASON_FALSE,
                        u.batch_id,
                        f"NO_POINT_IN_REACH but {in_reach[0]} is within reach",
                    )
                if r.params.get("limit_m") != limit:
                    rep.add(
                        V.REASON_FALSE,
                        u.batch_id,
                        f"limit_m {r.params.get('limit_m')}, policy gives {limit}",
                    )
                nearest = options[0][0] if options else None
                if r.params.get("distance_m") != nearest:
                    rep.add(
                        V.REASON_FALSE,
                        u.batch_id,
                        f"distance_m {r.params.get('distance_m')}, nearest allowed open "
                        f"point is at {nearest}",
                    )
            elif r.code == SamplingReasonCode.POINT_CAPACITY_USED:
                if not in_reach:
                    rep.add(
                        V.REASON_FALSE,
                        u.batch_id,
                        "POINT_CAPACITY_USED but no allowed open point is within reach",
                    )
                    continue
                if r.params.get("people") != k.people:
                    rep.add(
                        V.REASON_FALSE,
                        u.batch_id,
                        f"people {r.params.get('people')}, batch has {k.people}",
                    )
                cands = [assigned_point[b.id]] if b.id in assigned_point else in_reach
                if b.id in points_of and b.id not in assigned_point:
                    cands = []
                if insertable(k, cands):
                    rep.add(
                        V.REASON_FALSE,
                        u.batch_id,
                        "POINT_CAPACITY_USED but the batch fits at a point in reach",
                    )
            elif (fault := stop_reason_fault(r, plan.info.status, plan.info.options)) is not None:
                if fault:
                    rep.add(V.REASON_FALSE, u.batch_id, fault)
                if r.code == CommonReasonCode.CANCELLED and not in_reach:
                    rep.add(
                        V.REASON_FALSE,
                        u.batch_id,
                        "CANCELLED but no allowed open point is within reach",
                    )
            else:
                rep.add(V.REASON_FALSE, u.batch_id, f"unexpected reason {r.code}")

    dropped = [
        kid for kid, k in batches.items() if kid not in seen and k.building_id not in sealed_ids
    ]
    for kid in sorted(dropped):
        rep.add(V.DROPPED_BATCH, kid, "neither assigned nor listed as unserved")

    # ---- door to door and home visits ------------------------------------------------------
    exp_door = {}
    exp_visit = {}
    for b in problem.buildings:
        if b.id in sealed_ids:  # sealed or high risk: door to door
            res = sum(k.people for k in b.batches) + b.mobility_limited
            exp_door[b.id] = (sum(k.households for k in b.batches), res)
        elif b.mobility_limited > 0:
            exp_visit[b.id] = b.mobility_limited
    got_door = {}
    for dd in plan.door_to_door:
        got_door[dd.building_id] = (dd.households, dd.residents)
        if (
            dd.reason.code != SamplingReasonCode.SEALED_ZONE
            or dd.reason.params.get("residents") != dd.residents
        ):
            rep.add(
                V.DOOR_TO_DOOR_MISMATCH, dd.building_id, "reason must be SEALED_ZONE(residents)"
            )
    if len(got_door) != len(plan.door_to_door) or got_door != exp_door:
        rep.add(
            V.DOOR_TO_DOOR_MISMATCH,
            "plan",
            f"door_to_door {sorted(got_door.items())}, expected {sorted(exp_door.items())}",
        )
    got_visit = {h.building_id: h.residents for h in plan.home_visits}
    if len(got_visit) != len(plan.home_visits) or got_visit != exp_visit:
        rep.add(
            V.DOOR_TO_DOOR_MISMATCH,
            "plan",
            f"home_visits {sorted(got_visit.items())}, expected {sorted(exp_visit.items())}",
        )

    # ---- totals and objective -----------------------------------------------------------------
    served = walk = pslots = 0
    last_slot = -1
    for a in valid_assign:
        people = batches[a.batch_id].people
        served += people
        walk += people * walk_of[a.batch_id]
        pslots += people * a.slot
        if people > 0 and a.slot > last_slot:
            last_slot = a.slot
    walk_in = sum(k.people for k in batches.values() if k.building_id not in sealed_ids)
    expected_totals = {
        "walk_in_people": walk_in,
        "served_people": served,
        "unserved_people": walk_in - served,
        "walk_person_m": walk,
        "person_slots": pslots,
        "max_backlog": max_backlog,
        "last_slot": last_slot,
    }
    got_totals = plan.totals.model_dump()
    for name, value in expected_totals.items():
        if got_totals.get(name) != value:
            rep.add(
                V.COST_MISMATCH,
                "plan",
                f"totals.{name} = {got_totals.get(name)}, recomputed {value}",
            )
    expected_obj = {"served": served, "walk_person_m": walk, "person_slots": pslots}
    for name, value in expected_obj.items():
        got = plan.info.objective.get(name)
        if got is None or got != value:
            rep.add(V.COST_MISMATCH, "plan", f"objective[{name!r}] = {got}, recomputed {value}")
    add_claim_faults(rep, V, plan.info, float(walk))
    rep.objective = SamplingObjective(served, walk, pslots)
    return rep
