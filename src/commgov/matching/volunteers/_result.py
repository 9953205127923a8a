"""Assemble an :class:`~commgov.matching.Assignment` from chosen pairs (all solvers share it).

Each match carries a ``MATCHED`` reason whose parameters are the facts the verifier re-checks:
the skill and level, the distance and limit, the volunteer's final load in the slot and on
the day with the capacities (and minutes with the budget when there is one), and the scope
level; pinned pairs also carry ``PINNED``. Each unmatched task carries its primary reason
(:func:`~commgov.matching.volunteers._pairs.primary_reason`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from commgov._control import SolveControl
from commgov.matching.volunteers._pairs import (
    REASON_FIELDS,
    Prepared,
    _fast,
    _limit_param,
    primary_reason,
)
from commgov.matching.volunteers._problem import (
    SCOPE_ORDER,
    Assignment,
    Match,
    MatchingTotals,
    Unmatched,
    VolunteerLoad,
)
from commgov.matching.volunteers._rules import MatchingReasonCode
from commgov.results import CommonReasonCode, Reason, SolveInfo, SolveStatus

_PINNED = Reason(code=MatchingReasonCode.PINNED)
_CANCELLED = Reason(code=CommonReasonCode.CANCELLED)

#: Seconds past the deadline that explaining unmatched tasks may still take (within the one
#: second of grace every planner has): the slow reasons (no eligible volunteer at all) are
#: then given as ``TIME_LIMIT_REACHED``.
REASON_GRACE_S = 0.5


def stop_reason(ctl: SolveControl) -> Reason:
    """The reason of a task never tried because ``ctl`` stopped the run: ``CANCELLED`` or
    ``TIME_LIMIT_REACHED(time_limit_s)``."""
    if ctl.stopped_by == "cancel":
        return _CANCELLED
    return Reason(
        code=CommonReasonCode.TIME_LIMIT_REACHED,
        params={"time_limit_s": _limit_param(ctl.time_limit_s)},
    )


def stop_status(reason: Reason) -> SolveStatus:
    """``CANCELLED`` or ``LIMIT``, matching :func:`stop_reason`'s reason."""
    if reason.code == CommonReasonCode.CANCELLED:
        return SolveStatus.CANCELLED
    return SolveStatus.LIMIT


def stop_options(options: dict[str, Any], reason: Reason) -> dict[str, Any]:
    """``options`` with ``time_limit_s`` recorded when the time limit stopped the run."""
    if reason.code == CommonReasonCode.TIME_LIMIT_REACHED:
        return {**options, "time_limit_s": reason.params["time_limit_s"]}
    return options


_MATCH_FIELDS = frozenset(Match.model_fields)
_UNMATCHED_FIELDS = frozenset(Unmatched.model_fields)
_LOAD_FIELDS = frozenset(VolunteerLoad.model_fields)


def changes_against_previous(prep: Prepared, chosen_vol: dict[int, int]) -> int:
    """Number of ``previous`` tasks not served by their previous volunteer.

    Parameters
    ----------
    prep : Prepared
        The prepared problem.
    chosen_vol : dict of int to int
        Task index → volunteer index of the matches.
    """
    if not prep.problem.previous:
        return 0
    t_index = {t.id: i for i, t in enumerate(prep.tasks)}
    changes = 0
    for pin in prep.problem.previous:
        vi = chosen_vol.get(t_index[pin.task_id])
        if vi is None or prep.vols[vi].id != pin.volunteer_id:
            changes += 1
    return changes


def build_assignment(
    prep: Prepared,
    chosen: dict[int, int],
    *,
    solver: str,
    status: SolveStatus,
    options: dict[str, Any],
    versions: dict[str, str],
    extra_tiers: dict[str, float] | None = None,
    bound: float | None = None,
    gap: float | None = None,
    unmatched_reason: Reason | None = None,
    tried: Any = None,
    ctl: SolveControl | None = None,
) -> Assignment:
    """Build the result record from ``chosen`` (task index → pair index into ``prep``).

    Parameters
    ----------
    prep : Prepared
        The prepared problem.
    chosen : dict of int to int
        For each matched task index, the index of its pair in ``prep.pt``/``prep.pv``.
    solver, status, options, versions, bound, gap
        The :class:`~commgov.results.SolveInfo` fields.
    extra_tiers : dict, optional
        Objective tiers placed between ``changes`` and ``cost_m`` (``load_squares`` for
        ``fair``), or after ``cost_m`` (names starting with ``"_"`` are not used).
    unmatched_reason : Reason, optional
        Reason given to every unmatched task instead of its primary reason (for example
        ``TIME_LIMIT_REACHED`` when a limit stopped the search); with ``tried`` (a boolean
        mask over the tasks), only to the tasks not tried, the others get their primary
        reason.
    ctl : SolveControl, optional
        Asked before each slow reason (a task without any eligible volunteer, O(V) work):
        once it says stop with :data:`REASON_GRACE_S` of grace spent, the remaining such
        tasks get :func:`stop_reason` and the status becomes ``LIMIT`` (or ``CANCELLED``).
    """
    problem = prep.problem
    tasks, vols = prep.tasks, prep.vols
    zone = problem.zone
    limit = _limit_param(problem.max_distance_m)
    pv, pd, pl, pc = prep.pv, prep.pd, prep.pl, prep.pc
    t_slot = prep.t_slot.tolist()
    slot_day = prep.slot_day.tolist()
    ks = list(chosen.values())
    picks = dict(
        zip(
            chosen,
            zip(pv[ks].tolist(), pd[ks].tolist(), pl[ks].tolist(), pc[ks].tolist(), strict=True),
            strict=True,
        )
    )
    slot_load: Counter[tuple[int, int]] = Counter()
    day_load: Counter[tuple[int, int]] = Counter()
    minutes: Counter[tuple[int, int]] = Counter()
    for ti, (vi, _d, _l, _c) in picks.items():
        slot_load[(vi, t_slot[ti])] += 1
        day = slot_day[t_slot[ti]]
        day_load[(vi, day)] += 1
        minutes[(vi, day)] += tasks[ti].duration_min or 0
    pinned = {(p.task_id, p.volunteer_id) for p in problem.pinned}
    slot_start = [start.astimezone(zone) for start, _ in prep.slot_keys]  # once per slot
    matches: list[Match] = []
    unmatched: list[Unmatched] = []
    loads = [0] * len(vols)
    travel = cost = served = 0
    eligible = prep.eligible_count
    cut: Reason | None = None
    for ti, task in enumerate(tasks):
        pick = picks.get(ti)
        if pick is None:
            if unmatched_reason is not None and (tried is None or not tried[ti]):
                reason = unmatched_reason
            elif cut is not None and not eligible[ti]:
                reason = cut
            elif ctl is not None and not eligible[ti] and ctl.should_stop(-REASON_GRACE_S):
                reason = cut = stop_reason(ctl)
            else:
                reason = primary_reason(prep, ti)
            unmatched.append(
                _fast(
                    Unmatched,
                    {"task_id": task.id, "priority": task.priority, "reasons": [reason]},
                    _UNMATCHED_FIELDS,
                )
            )
            continue
        vi, dist, rank, pair_cost = pick
        vol = vols[vi]
        loads[vi] += 1
        travel += dist
        cost += pair_cost
        served += task.priority
        day = slot_day[t_slot[ti]]
        level = SCOPE_ORDER[rank]
        params: dict[str, str | int | float] = {
            "skill": task.skill,
            "level": vol.skills[task.skill],
            "min_level": task.min_level,
            "distance_m": dist,
            "limit_m": limit,
            "slot_load": slot_load[(vi, t_slot[ti])],
            "slot_capacity": vol.capacity_per_slot,
            "day_load": day_load[(vi, day)],
            "day_capacity": vol.capacity_per_day,
            "scope": level.value,
        }
        if vol.minutes_per_day is not None:
            params["minutes_used"] = minutes[(vi, day)]
            params["minutes_budget"] = vol.minutes_per_day
        is_pinned = (task.id, vol.id) in pinned
        matched = {"code": MatchingReasonCode.MATCHED, "params": params}
        reasons = [_fast(Reason, matched, REASON_FIELDS)]
        if is_pinned:
            reasons.append(_PINNED)
        matches.append(
            _fast(
                Match,
                {
                    "task_id": task.id,
                    "volunteer_id": vol.id,
                    "distance_m": dist,
                    "slot_start": slot_start[t_slot[ti]],
                    "priority": task.priority,
                    "scope": level,
                    "cost_m": pair_cost,
                    "pinned": is_pinned,
                    "reasons": reasons,
                },
                _MATCH_FIELDS,
            )
        )
    changes = changes_against_previous(prep, {ti: p[0] for ti, p in picks.items()})
    tiers: dict[str, float] = {"priority_served": float(served)}
    if problem.previous:
        tiers["changes"] = float(changes)
    tiers.update(extra_tiers or {})
    tiers["cost_m"] = float(cost)
    tiers["travel_m"] = float(travel)
    tiers["scope_penalty_m"] = float(cost - travel)
    if cut is not None:
        status = stop_status(cut)
        options = stop_options(options, cut)
    info = SolveInfo(
        status=status,
        solver=solver,
        objective=tiers,
        bound=bound,
        gap=gap,
        options=options,
        versions=versions,
    )
    return Assignment(
        matches=matches,
        unmatched=unmatched,
        totals=MatchingTotals(
            tasks=len(tasks),
            matched=len(matches),
            unmatched=len(unmatched),
            priority_served=served,
            priority_total=sum(t.priority for t in tasks),
            travel_m=travel,
            cost_m=cost,
            scope_penalty_m=cost - travel,
            changes=changes,
        ),
        loads=[
            _fast(VolunteerLoad, {"volunteer_id": v.id, "tasks": loads[i]}, _LOAD_FIELDS)
            for i, v in enumerate(vols)
        ],
        info=info,
    )


def pinned_pairs(prep: Prepared) -> dict[int, int]:
    """Task index → index of its pinned pair in ``prep``'s pairs (pins are eligible)."""
    import numpy as np

    if not prep.problem.pinned:
        return {}
    t_index = {t.id: i for i, t in enumerate(prep.tasks)}
    v_index = {v.id: i for i, v in enumerate(prep.vols)}
    out: dict[int, int] = {}
    for pin in prep.problem.pinned:
        ti, vi = t_index[pin.task_id], v_index[pin.volunteer_id]
        lo = int(np.searchsorted(prep.pt, ti, side="left"))
        hi = int(np.searchsorted(prep.pt, ti, side="right"))
        k = lo + int(np.searchsorted(prep.pv[lo:hi], vi))
        if k >= hi or int(prep.pv[k]) != vi:  # pragma: no cover - the problem validates pins
            raise ValueError(f"pinned pair ({pin.task_id}, {pin.volunteer_id}) is not eligible")
        out[ti] = k
    return dict(sorted(out.items()))


def build_stopped(
    prep: Prepared,
    ctl: SolveControl,
    *,
    solver: str,
    options: dict[str, Any],
    versions: dict[str, str],
    chosen: dict[int, int] | None = None,
    tried: Any = None,
    extra_tiers: dict[str, float] | None = None,
) -> Assignment:
    """The result of a run that ``ctl`` stopped before its solve finished: status
    ``CANCELLED`` or ``LIMIT``; ``chosen`` (default: the pins, which fit every capacity) is
    kept, every task not ``tried`` (default: none) is unmatched with reason ``CANCELLED`` or
    ``TIME_LIMIT_REACHED``, the tried ones with their primary reason."""
    import numpy as np

    if chosen is None:
        chosen = pinned_pairs(prep)
    reason = stop_reason(ctl)
    extra = dict(extra_tiers or {})
    if options.get("objective") == "fair" and "load_squares" not in extra:
        loads = np.bincount(
            prep.pv[list(chosen.values())].astype(np.int64), minlength=len(prep.vols)
        )
        extra["load_squares"] = float(int((loads * loads).sum()))
    return build_assignment(
        prep,
        dict(sorted(chosen.items())),
        solver=solver,
        status=stop_status(reason),
        options=stop_options(options, reason),
        versions=versions,
        extra_tiers=extra,
        unmatched_reason=reason,
        tried=tried,
    )
