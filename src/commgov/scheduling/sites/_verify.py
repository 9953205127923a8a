"""The independent verifier of site plans (private; imports no solver).

It rebuilds every figure from the problem and the plan's structure (who goes where, the
lanes and staff of each slot) with the shared rules of :mod:`._rules` and the staffing
formulas, and checks every rule and every reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple

from commgov.errors import expect_type
from commgov.scheduling.sites._plan import SitesPlan
from commgov.scheduling.sites._problem import SitesProblem
from commgov.scheduling.sites._reasons import SitesReasonCode
from commgov.scheduling.sites._rules import (
    ROLES,
    lanes_needed,
    meets_wait,
    open_slots,
    pool_limits,
    queue_of,
    staff_for,
    walk_m,
)
from commgov.verification import VerificationReport, add_figure_faults, stop_reason_fault

__all__ = ["SitesObjective", "SitesViolationCode", "expected_figures", "is_valid_sites_plan"]

_TOL = 1e-6


class SitesViolationCode(StrEnum):
    """What :func:`is_valid_sites_plan` finds wrong with a site plan.

    * ``UNKNOWN_RECORD``: a site or building the problem does not have (or one with no
      residents);
    * ``DUPLICATE_RECORD``: a site opened twice, or a building assigned twice or both
      assigned and unserved;
    * ``MISSING_BUILDING``: a building with residents neither assigned nor unserved;
    * ``OUT_OF_REACH``: a building sent beyond the walking limit or to a site open in no slot;
    * ``SITE_NOT_OPENED``: a building sent to a site the plan does not open;
    * ``LANES_OVER_MAX``: more lanes than the site holds;
    * ``WAIT_TARGET_MISSED``: too few lanes for the waiting target (Erlang C);
    * ``SLOTS_MISMATCH``: a site's slots are not its open slots, or their lanes differ from
      the site's;
    * ``STAFF_BELOW_RULE``: fewer staff of a role in a slot than the policy's ratios ask;
    * ``POOL_EXCEEDED``: more staff of a role at once, or more staff-hours, than the pool has;
    * ``FIGURES_MISMATCH``: a site's or a record's figures differ from the recomputed ones;
    * ``REASON_WRONG``: an unserved building's reason does not hold (or is not one reason);
    * ``TOTALS_MISMATCH``: the totals differ from the recomputed ones;
    * ``OBJECTIVE_MISMATCH``: ``info.objective`` differs from the recomputed tiers;
    * ``BOUND_PAST_OBJECTIVE``, ``GAP_WRONG``, ``OPTIMAL_UNPROVEN``: ``info.bound``,
      ``info.gap`` or the status ``OPTIMAL`` claim what the recomputed ``staff_hours`` does not
      bear out (:func:`commgov.verification.claim_faults`).
    """

    UNKNOWN_RECORD = "UNKNOWN_RECORD"
    DUPLICATE_RECORD = "DUPLICATE_RECORD"
    MISSING_BUILDING = "MISSING_BUILDING"
    OUT_OF_REACH = "OUT_OF_REACH"
    SITE_NOT_OPENED = "SITE_NOT_OPENED"
    LANES_OVER_MAX = "LANES_OVER_MAX"
    WAIT_TARGET_MISSED = "WAIT_TARGET_MISSED"
    SLOTS_MISMATCH = "SLOTS_MISMATCH"
    STAFF_BELOW_RULE = "STAFF_BELOW_RULE"
    POOL_EXCEEDED = "POOL_EXCEEDED"
    FIGURES_MISMATCH = "FIGURES_MISMATCH"
    REASON_WRONG = "REASON_WRONG"
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    OBJECTIVE_MISMATCH = "OBJECTIVE_MISMATCH"
    BOUND_PAST_OBJECTIVE = "BOUND_PAST_OBJECTIVE"
    GAP_WRONG = "GAP_WRONG"
    OPTIMAL_UNPROVEN = "OPTIMAL_UNPROVEN"


class SitesObjective(NamedTuple):
    """The objective tiers recomputed from a plan (see :func:`plan_sites`)."""

    served: int
    staff_hours: float
    walk_person_m: int
    wait_person_min: float


_V = SitesViolationCode


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_TOL, abs_tol=_TOL)


def expected_figures(problem: SitesProblem, plan: SitesPlan) -> dict[str, Any]:
    """Every figure of ``plan`` recomputed from its structure: per site (by id) the
    residents, buildings, open slots, queue figures and staff-hours; the totals; the
    objective. Records the problem does not know are skipped. O(B + S·T)."""
    sites = {s.id: s for s in problem.sites}
    buildings = {b.id: b for b in problem.buildings}
    m = problem.policy.slot_minutes
    res: dict[str, int] = {}
    count: dict[str, int] = {}
    walk = 0
    once: set[str] = set()
    for a in plan.assignments:
        if a.building_id in once:
            continue
        once.add(a.building_id)
        if a.building_id in buildings and a.site_id in sites:
            r = buildings[a.building_id].residents
            res[a.site_id] = res.get(a.site_id, 0) + r
            count[a.site_id] = count.get(a.site_id, 0) + 1
            walk += r * walk_m(buildings[a.building_id], sites[a.site_id])
    per_site: dict[str, dict[str, Any]] = {}
    role_slots = [0, 0, 0]
    staff_minutes = 0
    wait = 0.0
    max_q = 0.0
    for o in plan.sites:
        site = sites.get(o.site_id)
        if site is None:
            continue
        n_open = len(open_slots(problem, site))
        r = res.get(o.site_id, 0)
        lam, rho, mean_w, q_w = queue_of(problem, site, n_open, o.lanes, r)
        slots = sum(sl.swabbers + sl.registrars + sl.orderlies for sl in o.slots)
        for sl in o.slots:
            for k, n in enumerate((sl.swabbers, sl.registrars, sl.orderlies)):
                role_slots[k] += n
        minutes = slots * m + (site.opening_staff_minutes if o.slots else 0)
        staff_minutes += minutes
        wait += r * mean_w
        max_q = max(max_q, q_w)
        per_site[o.site_id] = {
            "residents": r,
            "buildings": count.get(o.site_id, 0),
            "open_slots": n_open,
            "arrivals_per_hour": lam,
            "utilisation": rho,
            "mean_wait_min": mean_w,
            "quantile_wait_min": q_w,
            "staff_hours": minutes / 60,
        }
    reach_cache: dict[str, bool] = {}
    limit = problem.policy.max_walk_m
    usable = [s for s in problem.sites if open_slots(problem, s)]
    for b in problem.buildings:
        if b.residents > 0:
            reach_cache[b.id] = any(walk_m(b, s) <= limit for s in usable)
    served = sum(buildings[k].residents for k in once if k in buildings)
    totals = {
        "residents": sum(b.residents for b in problem.buildings),
        "residents_in_reach": sum(buildings[k].residents for k, v in reach_cache.items() if v),
        "served": served,
        "sites_opened": len(plan.sites),
        "lanes": sum(o.lanes for o in plan.sites),
        "staff_hours": staff_minutes / 60,
        "swabber_hours": role_slots[0] * m / 60,
        "registrar_hours": role_slots[1] * m / 60,
        "orderly_hours": role_slots[2] * m / 60,
        "walk_person_m": walk,
        "wait_person_min": wait,
        "max_quantile_wait_min": max_q,
    }
    objective = SitesObjective(served, staff_minutes / 60, walk, wait)
    return {"sites": per_site, "totals": totals, "objective": objective}


def is_valid_sites_plan(problem: SitesProblem, plan: SitesPlan) -> VerificationReport:
    """Check a site plan against its problem, independently of the planner.

    Checks every rule (codes :class:`SitesViolationCode`): each building with residents is
    assigned to one opened site within the walking limit, or listed unserved with one
    reason that holds; each opened site has at most its lanes, enough lanes for the waiting
    target (Erlang C), one slot record per open slot with the site's lanes, and at least
    the policy's staff per role; the staff at once and the staff-hours per role stay within
    the pool; every figure, total and objective tier matches the recomputed one.

    Parameters
    ----------
    problem : SitesProblem
    plan : SitesPlan

    Returns
    -------
    commgov.verification.VerificationReport
        ``objective``: :class:`SitesObjective` recomputed.

    Raises
    ------
    TypeError
        If ``problem`` or ``plan`` is of the wrong type.

    Notes
    -----
    O(B·S + S·T·c) for B buildings, S sites, T slots and c lanes. Imports no solver.
    """
    expect_type(problem, SitesProblem, "problem")
    expect_type(plan, SitesPlan, "plan")
    rep = VerificationReport("sites")
    pol = problem.policy
    sites = {s.id: s for s in problem.sites}
    buildings = {b.id: b for b in problem.buildings}
    slots_of = {s.id: open_slots(problem, s) for s in problem.sites}
    figures = expected_figures(problem, plan)
    # ---- opened sites
    opened: dict[str, Any] = {}
    for o in plan.sites:
        site = sites.get(o.site_id)
        if site is None:
            rep.add(_V.UNKNOWN_RECORD, o.site_id, "no candidate site has this id")
            continue
        if o.site_id in opened:
            rep.add(_V.DUPLICATE_RECORD, o.site_id, "site opened twice")
            continue
        opened[o.site_id] = o
        n_open = len(slots_of[o.site_id])
        if o.lanes > site.max_lanes:
            rep.add(
                _V.LANES_OVER_MAX, o.site_id, f"{o.lanes} lanes, the site holds {site.max_lanes}"
            )
        res = figures["sites"][o.site_id]["residents"]
        if not meets_wait(problem, site, n_open, o.lanes, res):
            rep.add(
                _V.WAIT_TARGET_MISSED,
                o.site_id,
                f"{o.lanes} lanes for {res} residents "
                f"miss the {pol.wait_quantile:g}-quantile wait of {pol.target_wait_min:g} min",
            )
        if (
            [sl.slot for sl in o.slots] != slots_of[o.site_id]
            or any(sl.lanes != o.lanes for sl in o.slots)
            or any(
                sl.start != problem.slot_start(sl.slot)
                for sl in o.slots
                if 0 <= sl.slot <= problem.n_slots
            )
        ):
            rep.add(
                _V.SLOTS_MISMATCH,
                o.site_id,
                "slots differ from the site's open slots with its lanes",
            )
        need = staff_for(problem, site, o.lanes)
        for sl in o.slots:
            have = (sl.swabbers, sl.registrars, sl.orderlies)
            short = [str(r) for r, h, n in zip(ROLES, have, need, strict=True) if h < n]
            if short:
                rep.add(
                    _V.STAFF_BELOW_RULE,
                    f"{o.site_id}@{sl.slot}",
                    f"fewer {', '.join(short)} than {need} for {o.lanes} lanes",
                )
        for key, value in figures["sites"][o.site_id].items():
            if not _close(float(getattr(o, key)), float(value)):
                rep.add(
                    _V.FIGURES_MISMATCH, o.site_id, f"{key} {getattr(o, key)}, recomputed {value}"
                )
    # ---- pool
    usage = _usage(problem, plan, opened)
    for r, (people, hours) in _limits(problem).items():
        peak = max(usage[0][r], default=0)
        if peak > people or usage[1][r] > hours:
            rep.add(
                _V.POOL_EXCEEDED,
                str(ROLES[r]),
                f"up to {peak} at once of {people}; {usage[1][r]} staff-slots of {hours}",
            )
    # ---- assignments
    seen: set[str] = set()
    for a in plan.assignments:
        b, site = buildings.get(a.building_id), sites.get(a.site_id)
        if b is None or b.residents == 0:
            rep.add(_V.UNKNOWN_RECORD, a.building_id, "unknown building or no residents")
            continue
        if a.building_id in seen:
            rep.add(_V.DUPLICATE_RECORD, a.building_id, "building assigned twice")
            continue
        seen.add(a.building_id)
        if site is None:
            rep.add(_V.UNKNOWN_RECORD, a.building_id, f"no candidate site {a.site_id}")
            continue
        w = walk_m(b, site)
        if w > pol.max_walk_m or not slots_of[a.site_id]:
            rep.add(
                _V.OUT_OF_REACH,
                a.building_id,
                f"{w} m to {a.site_id} (limit "
                f"{pol.max_walk_m} m, {len(slots_of[a.site_id])} open slots)",
            )
        if a.site_id not in opened:
            rep.add(_V.SITE_NOT_OPENED, a.building_id, f"site {a.site_id} is not opened")
        if a.residents != b.residents or a.walk_m != w:
            rep.add(
                _V.FIGURES_MISMATCH,
                a.building_id,
                f"residents {a.residents}, walk {a.walk_m} m; recomputed {b.residents}, {w} m",
            )
    # ---- unserved
    for u in plan.unserved:
        b = buildings.get(u.building_id)
        if b is None or b.residents == 0:
            rep.add(_V.UNKNOWN_RECORD, u.building_id, "unknown building or no residents")
            continue
        if u.building_id in seen:
            rep.add(_V.DUPLICATE_RECORD, u.building_id, "building assigned and unserved")
            continue
        seen.add(u.building_id)
        if u.residents != b.residents:
            rep.add(
                _V.FIGURES_MISMATCH,
                u.building_id,
                f"residents {u.residents}, recomputed {b.residents}",
            )
        fault = _reason_fault(problem, plan, b, u.reasons, figures, usage, slots_of)
        if fault:
            rep.add(_V.REASON_WRONG, u.building_id, fault)
    for b in problem.buildings:
        if b.residents > 0 and b.id not in seen:
            rep.add(_V.MISSING_BUILDING, b.id, "neither assigned nor unserved")
    # ---- totals, objective and claims
    add_figure_faults(
        rep,
        SitesViolationCode,
        plan.totals,
        figures["totals"],
        plan.info,
        figures["objective"],
        "staff_hours",
        _close,
    )
    return rep


def _limits(problem: SitesProblem) -> dict[int, tuple[int, int]]:
    lim = pool_limits(problem)
    return {r: lim[role] for r, role in enumerate(ROLES) if role in lim}


def _usage(
    problem: SitesProblem,
    plan: SitesPlan,
    opened: Mapping[str, Any],
) -> tuple[list[list[int]], list[int]]:
    """Staff per role and slot, and staff-slots per role, over the opened sites."""
    n_t = problem.n_slots
    at = [[0] * n_t for _ in range(3)]
    total = [0, 0, 0]
    for o in opened.values():
        for sl in o.slots:
            for r, n in enumerate((sl.swabbers, sl.registrars, sl.orderlies)):
                if 0 <= sl.slot < n_t:
                    at[r][sl.slot] += n
                total[r] += n
    return at, total


def _reason_fault(
    problem: SitesProblem,
    plan: SitesPlan,
    building: Any,
    reasons: list[Any],
    figures: dict[str, Any],
    usage: tuple[list[list[int]], list[int]],
    slots_of: dict[str, list[int]],
) -> str:
    """What is wrong with an unserved building's reasons (``""``: they hold)."""
    if len(reasons) != 1:
        return f"{len(reasons)} reasons, one expected"
    reason = reasons[0]
    stop = stop_reason_fault(reason, plan.info.status, plan.info.options)
    if stop is not None:
        return stop
    pol = problem.policy
    usable = [s for s in problem.sites if slots_of[s.id]]
    dist = {s.id: walk_m(building, s) for s in usable}
    in_reach = [s for s in usable if dist[s.id] <= pol.max_walk_m]
    code = reason.code
    if code == SitesReasonCode.NO_SITE_IN_REACH:
        if in_reach:
            return f"NO_SITE_IN_REACH but {in_reach[0].id} is {dist[in_reach[0].id]} m away"
        if reason.params.get("limit_m") != pol.max_walk_m:
            return f"limit_m {reason.params.get('limit_m')}, the policy's is {pol.max_walk_m}"
        nearest = min(dist.values(), default=None)
        if reason.params.get("distance_m") != nearest:
            return f"distance_m {reason.params.get('distance_m')}, the nearest is {nearest}"
        return ""
    if code not in (SitesReasonCode.SITES_FULL, SitesReasonCode.STAFF_POOL_EXHAUSTED):
        return f"{code} is no reason of the sites family"
    if reason.params.get("residents") != building.residents:
        return f"residents {reason.params.get('residents')}, the building has {building.residents}"
    if not in_reach:
        return f"{code} but no site is in reach"
    opened = {o.site_id: o for o in plan.sites}
    limits = _limits(problem)
    room = False
    for s in in_reach:
        res = figures["sites"].get(s.id, {}).get("residents", 0)
        lanes = lanes_needed(problem, s, len(slots_of[s.id]), res + building.residents)
        if lanes is None:
            continue
        room = True
        o = opened.get(s.id)
        now = (
            (0, 0, 0)
            if o is None or not o.slots
            else (o.slots[0].swabbers, o.slots[0].registrars, o.slots[0].orderlies)
        )
        new = staff_for(problem, s, lanes)
        n_open = len(slots_of[s.id])
        fits = True
        for r, (people, hours) in limits.items():
            more = max(0, new[r] - now[r])
            if more and (
                usage[1][r] + more * n_open > hours
                or any(usage[0][r][t] + more > people for t in slots_of[s.id])
            ):
                fits = False
        if fits:
            return f"{code} but {s.id} could take the building within the pool"
    if code == SitesReasonCode.SITES_FULL and room:
        return "SITES_FULL but a site in reach has room for more lanes"
    if code == SitesReasonCode.STAFF_POOL_EXHAUSTED and not room:
        return "STAFF_POOL_EXHAUSTED but every site in reach is full"
    return ""
