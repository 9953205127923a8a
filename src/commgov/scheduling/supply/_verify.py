"""The independent verifier of supply plans (private; imports no solver).

It rebuilds every figure from the problem and the plan's structure (which station serves
which compound) with the shared rule of :mod:`._rules`, and checks every rule and reason.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, NamedTuple

from commgov.errors import expect_type
from commgov.results import Reason, SolveStatus
from commgov.scheduling.supply._plan import SupplyPlan
from commgov.scheduling.supply._problem import SupplyCompound, SupplyProblem
from commgov.scheduling.supply._reasons import SupplyReasonCode
from commgov.scheduling.supply._rules import carry_m
from commgov.verification import VerificationReport, add_figure_faults, stop_reason_fault

__all__ = ["SupplyObjective", "SupplyViolationCode", "expected_figures", "is_valid_supply_plan"]

_TOL = 1e-9


class SupplyViolationCode(StrEnum):
    """What :func:`is_valid_supply_plan` finds wrong with a supply plan.

    * ``UNKNOWN_RECORD``: a station or compound the problem does not have (or a compound
      with no parcels);
    * ``DUPLICATE_RECORD``: a station opened twice, or a compound assigned twice or both
      assigned and unserved;
    * ``MISSING_COMPOUND``: a compound with parcels neither assigned nor unserved;
    * ``OUT_OF_REACH``: a compound served from a station beyond the walking limit;
    * ``STATION_NOT_OPENED``: a compound served from a station the plan does not open;
    * ``OVER_CAPACITY``: more parcels through a station than its capacity;
    * ``POOL_EXCEEDED``: the opened stations take more volunteers than the pool has;
    * ``FIGURES_MISMATCH``: a station's or a record's figures differ from the recomputed
      ones;
    * ``REASON_WRONG``: an unserved compound's reason does not hold (or is not one reason);
    * ``TOTALS_MISMATCH``: the totals differ from the recomputed ones;
    * ``OBJECTIVE_MISMATCH``: ``info.objective`` differs from the recomputed tiers;
    * ``BOUND_PAST_OBJECTIVE``, ``GAP_WRONG``, ``OPTIMAL_UNPROVEN``: ``info.bound``,
      ``info.gap`` or the status ``OPTIMAL`` claim what the recomputed ``staff`` does not
      bear out (:func:`commgov.verification.claim_faults`); ``OPTIMAL_UNPROVEN`` also
      for an ``OPTIMAL`` plan that opens a station serving no compound.
    """

    UNKNOWN_RECORD = "UNKNOWN_RECORD"
    DUPLICATE_RECORD = "DUPLICATE_RECORD"
    MISSING_COMPOUND = "MISSING_COMPOUND"
    OUT_OF_REACH = "OUT_OF_REACH"
    STATION_NOT_OPENED = "STATION_NOT_OPENED"
    OVER_CAPACITY = "OVER_CAPACITY"
    POOL_EXCEEDED = "POOL_EXCEEDED"
    FIGURES_MISMATCH = "FIGURES_MISMATCH"
    REASON_WRONG = "REASON_WRONG"
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    OBJECTIVE_MISMATCH = "OBJECTIVE_MISMATCH"
    BOUND_PAST_OBJECTIVE = "BOUND_PAST_OBJECTIVE"
    GAP_WRONG = "GAP_WRONG"
    OPTIMAL_UNPROVEN = "OPTIMAL_UNPROVEN"


class SupplyObjective(NamedTuple):
    """The objective tiers recomputed from a plan (see :func:`plan_supply_stations`)."""

    served: int
    staff: int
    carry_parcel_m: int


_V = SupplyViolationCode


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_TOL, abs_tol=_TOL)


def expected_figures(problem: SupplyProblem, plan: SupplyPlan) -> dict[str, Any]:
    """Every figure of ``plan`` recomputed from its structure: per opened station (by id)
    its compounds, households, parcels, capacity, utilisation and staff; the totals; the
    objective. Records the problem does not know are skipped (a compound's first assignment
    counts). O(C·S) for the reach of the totals."""
    stations = {s.id: s for s in problem.stations}
    compounds = {c.id: c for c in problem.compounds}
    count: dict[str, int] = {}
    households: dict[str, int] = {}
    load: dict[str, int] = {}
    carry = 0
    longest = 0
    once: set[str] = set()
    for a in plan.assignments:
        c, s = compounds.get(a.compound_id), stations.get(a.station_id)
        if a.compound_id in once or c is None or c.parcels == 0 or s is None:
            continue
        once.add(a.compound_id)
        count[s.id] = count.get(s.id, 0) + 1
        households[s.id] = households.get(s.id, 0) + c.households
        load[s.id] = load.get(s.id, 0) + c.parcels
        w = carry_m(c, s)
        carry += c.parcels * w
        longest = max(longest, w)
    per_station: dict[str, dict[str, Any]] = {}
    staff = 0
    for o in plan.stations:
        s = stations.get(o.station_id)
        if s is None or o.station_id in per_station:
            continue
        staff += s.staff
        per_station[o.station_id] = {
            "compounds": count.get(s.id, 0),
            "households": households.get(s.id, 0),
            "parcels": load.get(s.id, 0),
            "capacity_parcels": s.capacity_parcels,
            "utilisation": load.get(s.id, 0) / s.capacity_parcels,
            "staff": s.staff,
        }
    limit = problem.policy.max_walk_m
    with_parcels = [c for c in problem.compounds if c.parcels > 0]
    in_reach = [c for c in with_parcels if any(carry_m(c, s) <= limit for s in problem.stations)]
    served = sum(compounds[k].parcels for k in once)
    totals = {
        "parcels": sum(c.parcels for c in with_parcels),
        "parcels_in_reach": sum(c.parcels for c in in_reach),
        "served": served,
        "compounds_served": len(once),
        "stations_opened": len(plan.stations),
        "staff": staff,
        "carry_parcel_m": carry,
        "longest_carry_m": longest,
    }
    objective = SupplyObjective(served, staff, carry)
    return {"stations": per_station, "load": load, "totals": totals, "objective": objective}


def is_valid_supply_plan(problem: SupplyProblem, plan: SupplyPlan) -> VerificationReport:
    """Check a supply plan against its problem, independently of the planner.

    Checks every rule (codes :class:`SupplyViolationCode`): each compound with parcels is
    served by one opened station within the walking limit of its gate, or listed unserved
    with one reason that holds; no station takes more parcels than its capacity; the opened
    stations' staff stay within the volunteer pool; every figure, total and objective tier
    matches the recomputed one.

    Parameters
    ----------
    problem : SupplyProblem
    plan : SupplyPlan

    Returns
    -------
    commgov.verification.VerificationReport
        ``objective``: :class:`SupplyObjective` recomputed.

    Raises
    ------
    TypeError
        If ``problem`` or ``plan`` is of the wrong type.

    Notes
    -----
    O(C·S) for C compounds and S stations. Imports no solver.
    """
    expect_type(problem, SupplyProblem, "problem")
    expect_type(plan, SupplyPlan, "plan")
    rep = VerificationReport("supply")
    limit = problem.policy.max_walk_m
    stations = {s.id: s for s in problem.stations}
    compounds = {c.id: c for c in problem.compounds}
    figures = expected_figures(problem, plan)
    load: dict[str, int] = figures["load"]
    # ---- opened stations
    opened: set[str] = set()
    for o in plan.stations:
        s = stations.get(o.station_id)
        if s is None:
            rep.add(_V.UNKNOWN_RECORD, o.station_id, "no candidate station has this id")
            continue
        if o.station_id in opened:
            rep.add(_V.DUPLICATE_RECORD, o.station_id, "station opened twice")
            continue
        opened.add(o.station_id)
        if load.get(s.id, 0) > s.capacity_parcels:
            rep.add(
                _V.OVER_CAPACITY,
                s.id,
                f"{load[s.id]} parcels a day, capacity {s.capacity_parcels}",
            )
        for key, value in figures["stations"][s.id].items():
            if not _close(float(getattr(o, key)), float(value)):
                rep.add(_V.FIGURES_MISMATCH, s.id, f"{key} {getattr(o, key)}, recomputed {value}")
    if plan.info.status == SolveStatus.OPTIMAL:
        for k in sorted(opened):
            if not load.get(k, 0):
                rep.add(_V.OPTIMAL_UNPROVEN, k, "OPTIMAL, but the station serves no compound")
    used = sum(stations[k].staff for k in opened)
    if problem.volunteers is not None and used > problem.volunteers:
        rep.add(
            _V.POOL_EXCEEDED,
            "volunteers",
            f"the opened stations take {used} volunteers, the pool has {problem.volunteers}",
        )
    # ---- assignments
    seen: set[str] = set()
    for a in plan.assignments:
        c, s = compounds.get(a.compound_id), stations.get(a.station_id)
        if c is None or c.parcels == 0:
            rep.add(_V.UNKNOWN_RECORD, a.compound_id, "unknown compound or no parcels")
            continue
        if a.compound_id in seen:
            rep.add(_V.DUPLICATE_RECORD, a.compound_id, "compound assigned twice")
            continue
        seen.add(a.compound_id)
        if s is None:
            rep.add(_V.UNKNOWN_RECORD, a.compound_id, f"no candidate station {a.station_id}")
            continue
        w = carry_m(c, s)
        if w > limit:
            rep.add(_V.OUT_OF_REACH, a.compound_id, f"{w} m to {s.id} (limit {limit} m)")
        if s.id not in opened:
            rep.add(_V.STATION_NOT_OPENED, a.compound_id, f"station {s.id} is not opened")
        if a.parcels != c.parcels or a.carry_m != w:
            rep.add(
                _V.FIGURES_MISMATCH,
                a.compound_id,
                f"parcels {a.parcels}, carry {a.carry_m} m; recomputed {c.parcels}, {w} m",
            )
    # ---- unserved
    for u in plan.unserved:
        c = compounds.get(u.compound_id)
        if c is None or c.parcels == 0:
            rep.add(_V.UNKNOWN_RECORD, u.compound_id, "unknown compound or no parcels")
            continue
        if u.compound_id in seen:
            rep.add(_V.DUPLICATE_RECORD, u.compound_id, "compound assigned and unserved")
            continue
        seen.add(u.compound_id)
        if u.parcels != c.parcels:
            rep.add(
                _V.FIGURES_MISMATCH, u.compound_id, f"parcels {u.parcels}, recomputed {c.parcels}"
            )
        fault = _reason_fault(problem, plan, c, u.reasons, load, opened, used)
        if fault:
            rep.add(_V.REASON_WRONG, u.compound_id, fault)
    for c in problem.compounds:
        if c.parcels > 0 and c.id not in seen:
            rep.add(_V.MISSING_COMPOUND, c.id, "neither assigned nor unserved")
    # ---- totals, objective and claims
    add_figure_faults(
        rep,
        SupplyViolationCode,
        plan.totals,
        figures["totals"],
        plan.info,
        figures["objective"],
        "staff",
        _close,
    )
    return rep


def _reason_fault(
    problem: SupplyProblem,
    plan: SupplyPlan,
    compound: SupplyCompound,
    reasons: list[Reason],
    load: dict[str, int],
    opened: set[str],
    used: int,
) -> str:
    """What is wrong with an unserved compound's reasons (``""``: they hold)."""
    if len(reasons) != 1:
        return f"{len(reasons)} reasons, one expected"
    reason = reasons[0]
    stop = stop_reason_fault(reason, plan.info.status, plan.info.options)
    if stop is not None:
        return stop
    limit = problem.policy.max_walk_m
    dist = {s.id: carry_m(compound, s) for s in problem.stations}
    in_reach = [s for s in problem.stations if dist[s.id] <= limit]
    code = reason.code
    if code == SupplyReasonCode.NO_STATION_IN_REACH:
        if in_reach:
            return f"NO_STATION_IN_REACH but {in_reach[0].id} is {dist[in_reach[0].id]} m away"
        if reason.params.get("limit_m") != limit:
            return f"limit_m {reason.params.get('limit_m')}, the policy's is {limit}"
        nearest = min(dist.values(), default=None)
        if reason.params.get("distance_m") != nearest:
            return f"distance_m {reason.params.get('distance_m')}, the nearest is {nearest}"
        return ""
    largest = max((s.capacity_parcels for s in in_reach), default=None)
    if code == SupplyReasonCode.TOO_LARGE:
        if largest is None:
            return "TOO_LARGE but no station is in reach"
        if compound.parcels <= largest:
            return f"TOO_LARGE but a station in reach takes {largest} parcels a day"
        got = (reason.params.get("parcels"), reason.params.get("capacity_parcels"))
        if got != (compound.parcels, largest):
            return f"parcels, capacity_parcels {got}; expected {(compound.parcels, largest)}"
        return ""
    if largest is not None and compound.parcels > largest:
        return f"{code} but the compound exceeds every capacity in reach (TOO_LARGE)"
    if code not in (SupplyReasonCode.STATIONS_FULL, SupplyReasonCode.VOLUNTEERS_EXHAUSTED):
        return f"{code} is no reason of the supply family"
    if reason.params.get("parcels") != compound.parcels:
        return f"parcels {reason.params.get('parcels')}, the compound has {compound.parcels}"
    if not in_reach:
        return f"{code} but no station is in reach"
    pool = problem.volunteers
    room = False
    for s in in_reach:
        if load.get(s.id, 0) + compound.parcels > s.capacity_parcels:
            continue
        room = True
        if s.id in opened or pool is None or used + s.staff <= pool:
            return f"{code} but {s.id} could take the compound"
    if code == SupplyReasonCode.STATIONS_FULL and room:
        return "STATIONS_FULL but a closed station in reach has room"
    if code == SupplyReasonCode.VOLUNTEERS_EXHAUSTED and not room:
        return "VOLUNTEERS_EXHAUSTED but every station in reach is full"
    return ""
