"""Build assignments by hand for verifier tests, from the public predicates only (no solver)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from commgov.matching import (
    Assignment,
    Match,
    MatchingProblem,
    MatchingReasonCode,
    MatchingTotals,
    Task,
    Unmatched,
    VolunteerLoad,
    has_skill,
    is_available,
    is_eligible,
    pair_cost_m,
    scope_level,
    task_day,
    travel_distance_m,
)
from commgov.matching.volunteers._rules import has_capacity_for
from commgov.results import Reason, SolveInfo, SolveStatus


def naive_reason(p: MatchingProblem, t: Task) -> Reason:
    """The primary reason, pool → skill → scope → distance → window → capacity, by brute
    force."""
    if not p.volunteers:
        return Reason(code=MatchingReasonCode.NO_VOLUNTEERS)
    skilled = [v for v in p.volunteers if has_skill(t, v)]
    if not skilled:
        return Reason(code=MatchingReasonCode.SKILL_MISSING,
                      params={"skill": t.skill, "level": t.min_level})
    inside = [v for v in skilled if scope_level(t, v) is not None]
    if not inside:
        return Reason(code=MatchingReasonCode.OUT_OF_SCOPE, params={"skilled": len(skilled)})
    d = {v.id: travel_distance_m(t, v, p.detour_factor) for v in inside}
    near = [v for v in inside if d[v.id] <= p.max_distance_m]
    if not near:
        limit = p.max_distance_m
        return Reason(code=MatchingReasonCode.TOO_FAR, params={
            "distance_m": min(d.values()),
            "limit_m": int(limit) if float(limit).is_integer() else limit})
    ok = [v for v in near if is_available(t, v)]
    if not ok:
        return Reason(code=MatchingReasonCode.OUT_OF_WINDOW)
    none = sum(1 for v in ok if not has_capacity_for(t, v))
    if none == len(ok):
        return Reason(code=MatchingReasonCode.NO_CAPACITY, params={"eligible": len(ok)})
    params = {"eligible": len(ok)} | ({"no_capacity": none} if none else {})
    return Reason(code=MatchingReasonCode.CAPACITY_USED, params=params)


def build(
    p: MatchingProblem,
    pairs: dict[str, str],
    *,
    objective: str = "min_cost",
    status: SolveStatus = SolveStatus.OPTIMAL,
    reasons: dict[str, list[Reason]] | None = None,
    extra_tiers: dict[str, float] | None = None,
    time_limit_s: float = 10.0,
) -> Assignment:
    """An assignment serving ``pairs`` (task id → volunteer id), self-consistent in every
    reported figure; unmatched tasks get :func:`naive_reason` unless ``reasons`` says."""
    tasks = {t.id: t for t in p.tasks}
    vols = {v.id: v for v in p.volunteers}
    pinned = {(x.task_id, x.volunteer_id) for x in p.pinned}
    slot: Counter[tuple[str, Any]] = Counter()
    day: Counter[tuple[str, Any]] = Counter()
    minutes: Counter[tuple[str, Any]] = Counter()
    for tid, vid in pairs.items():
        t = tasks[tid]
        slot[(vid, t.window)] += 1
        day[(vid, task_day(p, t))] += 1
        minutes[(vid, task_day(p, t))] += t.duration_min or 0
    matches, unmatched = [], []
    loads: Counter[str] = Counter()
    travel = cost = served = 0
    for tid in sorted(tasks):
        t = tasks[tid]
        if tid not in pairs:
            rs = (reasons or {}).get(tid) or [naive_reason(p, t)]
            unmatched.append(Unmatched(task_id=tid, priority=t.priority, reasons=rs))
            continue
        v = vols[pairs[tid]]
        level = scope_level(t, v)
        dist = travel_distance_m(t, v, p.detour_factor)
        c = pair_cost_m(p, t, v) if level is not None else dist
        travel += dist
        cost += c
        served += t.priority
        loads[v.id] += 1
        d = task_day(p, t)
        params: dict[str, str | int | float] = {
            "skill": t.skill, "level": v.skills.get(t.skill, 0), "min_level": t.min_level,
            "distance_m": dist,
            "limit_m": int(p.max_distance_m) if float(p.max_distance_m).is_integer()
            else p.max_distance_m,
            "slot_load": slot[(v.id, t.window)], "slot_capacity": v.capacity_per_slot,
            "day_load": day[(v.id, d)], "day_capacity": v.capacity_per_day,
            "scope": level.value if level is not None else "community",
        }
        if v.minutes_per_day is not None:
            params["minutes_used"] = minutes[(v.id, d)]
            params["minutes_budget"] = v.minutes_per_day
        rs = [Reason(code=MatchingReasonCode.MATCHED, params=params)]
        is_pin = (tid, v.id) in pinned
        if is_pin:
            rs.append(Reason(code=MatchingReasonCode.PINNED))
        matches.append(Match(
            task_id=tid, volunteer_id=v.id, distance_m=dist, slot_start=t.window.start,
            priority=t.priority, scope=level or "community", cost_m=c, pinned=is_pin, reasons=rs))
    changes = sum(1 for x in p.previous if pairs.get(x.task_id) != x.volunteer_id)
    tiers: dict[str, float] = {"priority_served": float(served)}
    if p.previous:
        tiers["changes"] = float(changes)
    if objective == "fair":
        tiers["load_squares"] = float(sum(n * n for n in loads.values()))
    tiers.update(extra_tiers or {})
    tiers.update({"cost_m": float(cost), "travel_m": float(travel),
                  "scope_penalty_m": float(cost - travel)})
    return Assignment(
        matches=matches,
        unmatched=unmatched,
        totals=MatchingTotals(
            tasks=len(tasks), matched=len(matches), unmatched=len(unmatched),
            priority_served=served, priority_total=sum(t.priority for t in p.tasks),
            travel_m=travel, cost_m=cost, scope_penalty_m=cost - travel, changes=changes),
        loads=[VolunteerLoad(volunteer_id=v, tasks=loads[v]) for v in sorted(vols)],
        info=SolveInfo(status=status, solver="hand", objective=tiers,
                       options={"objective": objective, "time_limit_s": time_limit_s}),
    )


def eligible_vols(p: MatchingProblem, t: Task) -> list[str]:
    return sorted(v.id for v in p.volunteers if is_eligible(p, t, v))
