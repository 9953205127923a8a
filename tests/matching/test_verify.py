"""is_valid_assignment on the scoped model: exact pair finding, each reason's predicate, pins,
minute budgets, objective tiers, and hand-made faults of each new kind."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from matching_helpers import TZ_NAME, at, problem, task, vol, win
from verify_helpers import build, eligible_vols

from commgov.matching import (
    MatchingObjective,
    MatchingProblem,
    MatchingReasonCode,
    MatchingViolationCode,
    Pin,
    is_eligible,
    is_valid_assignment,
    match_volunteers,
    scope_level,
    travel_distance_m,
)
from commgov.matching.volunteers._verify_pairs import _PairFinder
from commgov.results import CommonReasonCode, Reason, SolveStatus
from commgov.testing import with_scopes
from commgov.testing._matching import matching_problems
from commgov.types import GeoPoint

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def codes(p: MatchingProblem, a) -> set[MatchingViolationCode]:  # type: ignore[no-untyped-def]
    return is_valid_assignment(p, a).codes


# ------------------------------------------------------------------- exactness of the finder


def _naive_pairs(p: MatchingProblem, available_only: bool) -> list[tuple[str, str, int, int]]:
    from commgov.matching import SCOPE_ORDER, has_skill, is_available

    out = []
    for t in sorted(p.tasks, key=lambda t: t.id):
        for v in sorted(p.volunteers, key=lambda v: v.id):
            level = scope_level(t, v)
            d = travel_distance_m(t, v, p.detour_factor)
            if has_skill(t, v) and level is not None and d <= p.max_distance_m and (
                not available_only or is_available(t, v)
            ):
                out.append((t.id, v.id, d, SCOPE_ORDER.index(level)))
    return out


def _finder_pairs(p: MatchingProblem, available_only: bool) -> list[tuple[str, str, int, int]]:
    f = _PairFinder(p)
    got = f.pairs(list(range(len(f.tasks))), available_only=available_only)
    return [
        (f.tasks[t].id, f.vols[v].id, d, r)
        for t, v, d, r in zip(got.t.tolist(), got.v.tolist(), got.d.tolist(),
                              got.rank.tolist(), strict=True)
    ]


@SETTINGS
@given(matching_problems(max_tasks=10, max_volunteers=8), st.integers(0, 3), st.booleans())
def test_pair_finder_equals_brute_force(p: MatchingProblem, seed: int, avail: bool) -> None:
    q = with_scopes(p, seed) if seed else p
    assert _finder_pairs(q, avail) == _naive_pairs(q, avail)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(179.9995, 10.0), (-179.9995, -20.0), (0.0, 89.99), (120.62, -89.995), (0.0, 0.0)],
)
def test_pair_finder_at_the_antimeridian_and_poles(lon: float, lat: float) -> None:
    """Bands must not lose pairs across ±180° or near the poles."""
    from commgov.matching import Task, Volunteer

    w = win(9)
    tasks = [Task(id=f"t{i}", skill="delivery", location=GeoPoint(lon=lon, lat=lat), window=w)
             for i in range(2)]
    offsets = [(-0.004, 0.0), (0.004, 0.0), (0.0, 0.003), (0.01, -0.002), (0.3, 0.0)]
    vols = []
    for j, (dlon, dlat) in enumerate(offsets):
        x = (lon + dlon + 180.0) % 360.0 - 180.0
        y = max(-90.0, min(90.0, lat + dlat))
        vols.append(Volunteer(id=f"v{j}", location=GeoPoint(lon=x, lat=y),
                              skills={"delivery": 3}, availability=[w]))
    p = MatchingProblem(timezone=TZ_NAME, tasks=tasks, volunteers=vols, max_distance_m=1000.0)
    assert _finder_pairs(p, True) == _naive_pairs(p, True)
    assert len(_naive_pairs(p, True)) >= 4


def test_pair_finder_exact_on_rounding_boundaries() -> None:
    """Volunteers placed so their distances straddle the limit by fractions of a metre."""
    from commgov.matching import Task, Volunteer

    w = win(9)
    t = Task(id="t", skill="delivery", location=at(), window=w)
    vols = [Volunteer(id=f"v{k:03d}", location=at(999.0 + k * 0.01), skills={"delivery": 1},
                      availability=[w]) for k in range(200)]
    p = MatchingProblem(timezone=TZ_NAME, tasks=[t], volunteers=vols, max_distance_m=1000.0)
    assert _finder_pairs(p, True) == _naive_pairs(p, True)


# ------------------------------------------------------------------- solver output verified


@SETTINGS
@given(matching_problems(max_tasks=8, max_volunteers=6), st.integers(1, 3),
       st.sampled_from(["min_cost", "fair"]))
def test_solver_output_on_scoped_problems_passes(p: MatchingProblem, seed: int,
                                                 objective: str) -> None:
    q = with_scopes(p, seed)
    a = match_volunteers(q, objective=objective)
    report = is_valid_assignment(q, a)
    assert report.ok, report.violations
    ob = report.objective
    assert (ob.priority_served, ob.cost_m, ob.travel_m) == (
        a.totals.priority_served, a.totals.cost_m, a.totals.travel_m)
    assert ob.scope_penalty_m == ob.cost_m - ob.travel_m


def test_objective_keys() -> None:
    o = MatchingObjective(priority_served=5, changes=1, cost_m=300, travel_m=100,
                          scope_penalty_m=200, load_squares=9)
    assert o.min_cost_key() == (-5, 1, 300)
    assert o.fair_key() == (-5, 1, 9, 300)
    assert MatchingObjective._fields == ("priority_served", "changes", "cost_m", "travel_m",
                                         "scope_penalty_m", "load_squares")


# ------------------------------------------------------------------- hand cases


def _scoped() -> MatchingProblem:
    return problem(
        [
            task("t1").model_copy(update={"community_id": "c1", "building_id": "b1"}),
            task("t2", hour=10).model_copy(update={"community_id": "c2"}),
            task("t3", hour=11).model_copy(update={"community_id": "c1"}),
        ],
        [
            vol("home", dx=30).model_copy(update={"community_id": "c1", "building_ids": ["b1"]}),
            vol("other", dx=10).model_copy(update={"community_id": "c2"}),
        ],
    )


def test_scope_rules_checked() -> None:
    p = _scoped()
    a = build(p, {"t1": "home", "t2": "other", "t3": "home"})
    report = is_valid_assignment(p, a)
    assert report.ok, report.violations
    assert [m.scope for m in a.matches] == ["building", "community", "community"]
    # the out-of-scope volunteer takes t3
    bad = build(p, {"t1": "home", "t2": "other", "t3": "other"})
    assert MatchingViolationCode.OUT_OF_SCOPE in codes(p, bad)
    # a misreported scope level and cost
    m0 = a.matches[0]
    wrong = a.model_copy(update={"matches": [m0.model_copy(update={"scope": "compound"}),
                                             *a.matches[1:]]})
    assert MatchingViolationCode.RECORD_MISMATCH in codes(p, wrong)
    wrong = a.model_copy(update={"matches": [m0.model_copy(update={"cost_m": m0.cost_m + 1}),
                                             *a.matches[1:]]})
    assert MatchingViolationCode.COST_MISMATCH in codes(p, wrong)


def test_out_of_scope_and_too_far_reasons() -> None:
    p = _scoped()
    # t2 (community c2) unserved while "other" is free: OUT_OF_SCOPE is false (other is in scope)
    a = build(p, {"t1": "home", "t3": "home"},
              reasons={"t2": [Reason(code=MatchingReasonCode.OUT_OF_SCOPE, params={"skilled": 2})]})
    assert MatchingViolationCode.REASON_FALSE in codes(p, a)
    # only "home" remains: t2 is out of its scope, with 1 skilled volunteer
    q = p.model_copy(update={"volunteers": [p.volunteers[0]]})
    ok = build(q, {"t1": "home", "t3": "home"})
    assert [r.code for u in ok.unmatched for r in u.reasons] == [MatchingReasonCode.OUT_OF_SCOPE]
    assert is_valid_assignment(q, ok).ok
    wrong = build(q, {"t1": "home", "t3": "home"},
                  reasons={"t2": [Reason(code=MatchingReasonCode.OUT_OF_SCOPE,
                                         params={"skilled": 2})]})
    assert MatchingViolationCode.REASON_FALSE in codes(q, wrong)
    # TOO_FAR names the nearest *in-scope* volunteer, not a nearer out-of-scope one
    far = problem(
        [task("t").model_copy(update={"community_id": "c1"})],
        [vol("near", dx=100).model_copy(update={"community_id": "c2"}),
         vol("far", dx=3000).model_copy(update={"community_id": "c1"})],
    )
    a = build(far, {})
    (reason,) = a.unmatched[0].reasons
    assert reason.code is MatchingReasonCode.TOO_FAR and reason.params["distance_m"] == 3000
    assert is_valid_assignment(far, a).ok
    lie = build(far, {}, reasons={"t": [Reason(code=MatchingReasonCode.TOO_FAR,
                                               params={"distance_m": 100, "limit_m": 1000})]})
    assert MatchingViolationCode.REASON_FALSE in codes(far, lie)


def test_out_of_window_needs_someone_in_reach() -> None:
    p = problem([task("t", dx=5000)], [vol("v")])
    a = build(p, {}, reasons={"t": [Reason(code=MatchingReasonCode.OUT_OF_WINDOW)]})
    assert MatchingViolationCode.REASON_FALSE in codes(p, a)  # the truth is TOO_FAR
    q = problem([task("t")], [vol("v", availability=[win(20)])])
    assert is_valid_assignment(q, build(q, {})).ok


def test_matched_params_checked() -> None:
    p = problem([task("t1"), task("t2", hour=10)], [vol("v", per_slot=1, per_day=2)])
    a = build(p, {"t1": "v", "t2": "v"})
    assert is_valid_assignment(p, a).ok
    assert a.matches[1].reasons[0].params["day_load"] == 2
    for name, value in [("day_load", 1), ("slot_capacity", 2), ("distance_m", 1),
                        ("scope", "building"), ("level", 1), ("limit_m", 999)]:
        m = a.matches[1]
        r = m.reasons[0]
        broken = r.model_copy(update={"params": {**r.params, name: value}})
        bad = a.model_copy(update={"matches": [a.matches[0],
                                               m.model_copy(update={"reasons": [broken]})]})
        assert MatchingViolationCode.REASON_FALSE in codes(p, bad), name
    no_reason = a.model_copy(update={"matches": [a.matches[0],
                                                 a.matches[1].model_copy(update={"reasons": []})]})
    assert MatchingViolationCode.REASON_FALSE in codes(p, no_reason)


def test_pins_kept_and_flagged() -> None:
    p = problem([task("t1"), task("t2", dx=10)], [vol("v1"), vol("v2", dx=20)],
                pinned=[Pin(task_id="t1", volunteer_id="v2")])
    ok = build(p, {"t1": "v2", "t2": "v1"})
    assert is_valid_assignment(p, ok).ok
    assert ok.matches[0].pinned and [r.code for r in ok.matches[0].reasons][-1] == "PINNED"
    moved = build(p, {"t1": "v1", "t2": "v2"})
    assert MatchingViolationCode.PIN_BROKEN in codes(p, moved)
    dropped = build(p, {"t2": "v1"})
    assert MatchingViolationCode.PIN_BROKEN in codes(p, dropped)
    m0, m1 = ok.matches
    unflagged = ok.model_copy(update={"matches": [m0.model_copy(update={"pinned": False}), m1]})
    assert MatchingViolationCode.PIN_BROKEN in codes(p, unflagged)
    claims = ok.model_copy(update={"matches": [m0, m1.model_copy(update={"pinned": True})]})
    assert MatchingViolationCode.PIN_BROKEN in codes(p, claims)
    no_pin_reason = ok.model_copy(update={"matches": [
        m0.model_copy(update={"reasons": m0.reasons[:1]}), m1]})
    assert MatchingViolationCode.REASON_FALSE in codes(p, no_pin_reason)


def test_minute_budgets() -> None:
    t = [task("t1").model_copy(update={"duration_min": 40}),
         task("t2", hour=10).model_copy(update={"duration_min": 40}),
         task("t3", hour=11).model_copy(update={"duration_min": 30})]
    p = problem(t, [vol("v", per_slot=1, per_day=8).model_copy(update={"minutes_per_day": 90})])
    over = build(p, {"t1": "v", "t2": "v", "t3": "v"})
    assert MatchingViolationCode.OVER_MINUTES in codes(p, over)
    ok = build(p, {"t1": "v", "t2": "v"})  # 80 min used, t3 needs 30 > 10 left
    report = is_valid_assignment(p, ok)
    assert report.ok, report.violations
    assert ok.matches[1].reasons[0].params["minutes_used"] == 80
    assert [r.code for r in ok.unmatched[0].reasons] == [MatchingReasonCode.CAPACITY_USED]
    # with t1 alone, v has 50 min left for t2's 40: CAPACITY_USED is false
    lie = build(p, {"t1": "v"})
    assert MatchingViolationCode.REASON_FALSE in codes(p, lie)
    # minutes reported for a volunteer without a budget
    q = problem(t[:1], [vol("v")])
    a = build(q, {"t1": "v"})
    r = a.matches[0].reasons[0]
    extra = r.model_copy(update={"params": {**r.params, "minutes_used": 40,
                                            "minutes_budget": 90}})
    bad = a.model_copy(update={"matches": [a.matches[0].model_copy(update={"reasons": [extra]})]})
    assert MatchingViolationCode.REASON_FALSE in codes(q, bad)


def test_no_capacity_with_zero_capacities() -> None:
    p = problem([task("t1")], [vol("v0", per_slot=0), vol("v1", dx=5, per_day=0)])
    a = build(p, {})
    assert a.unmatched[0].reasons[0].code is MatchingReasonCode.NO_CAPACITY
    assert a.unmatched[0].reasons[0].params == {"eligible": 2}
    assert is_valid_assignment(p, a).ok
    # the old claim "booked by other tasks" is now false and rejected
    booked = build(p, {}, reasons={"t1": [Reason(code=MatchingReasonCode.CAPACITY_USED,
                                                 params={"eligible": 2})]})
    assert MatchingViolationCode.REASON_FALSE in codes(p, booked)


def test_time_limit_reason_needs_limit_status() -> None:
    p = problem([task("t1")], [vol("v")])
    reason = Reason(code=CommonReasonCode.TIME_LIMIT_REACHED, params={"time_limit_s": 5})
    for status, valid in [(SolveStatus.OPTIMAL, False), (SolveStatus.LIMIT, True),
                          (SolveStatus.FEASIBLE, True)]:
        a = build(p, {}, status=status, reasons={"t1": [reason]}, time_limit_s=5)
        assert is_valid_assignment(p, a).ok is valid, status
    bad = build(p, {}, status=SolveStatus.LIMIT, reasons={"t1": [Reason(
        code=CommonReasonCode.TIME_LIMIT_REACHED, params={"time_limit_s": 0})]})
    assert MatchingViolationCode.REASON_FALSE in codes(p, bad)


def test_objective_tiers_recomputed() -> None:
    p = problem([task("t1"), task("t2", hour=10)], [vol("v1"), vol("v2", dx=10)],
                previous=[Pin(task_id="t1", volunteer_id="v2"),
                          Pin(task_id="t2", volunteer_id="gone")])
    a = build(p, {"t1": "v1", "t2": "v1"}, objective="fair")
    report = is_valid_assignment(p, a)
    assert report.ok, report.violations
    assert report.objective.changes == 2 and report.objective.load_squares == 4
    assert list(a.info.objective) == ["priority_served", "changes", "load_squares", "cost_m",
                                      "travel_m", "scope_penalty_m"]

    def with_tiers(tiers: dict[str, float]):  # type: ignore[no-untyped-def]
        return a.model_copy(update={"info": a.info.model_copy(update={"objective": tiers})})

    tiers = dict(a.info.objective)
    for name in tiers:
        wrong = {**tiers, name: tiers[name] + 1}
        assert MatchingViolationCode.COST_MISMATCH in codes(p, with_tiers(wrong)), name
        missing = {k: x for k, x in tiers.items() if k != name}
        assert MatchingViolationCode.COST_MISMATCH in codes(p, with_tiers(missing)), name
    reordered = dict(reversed(list(tiers.items())))
    assert MatchingViolationCode.COST_MISMATCH in codes(p, with_tiers(reordered))
    totals = a.totals.model_copy(update={"changes": 1})
    assert MatchingViolationCode.COST_MISMATCH in codes(p, a.model_copy(update={"totals": totals}))


def test_eligibility_helper_agrees() -> None:
    p = _scoped()
    t3 = next(t for t in p.tasks if t.id == "t3")
    assert eligible_vols(p, t3) == ["home"]
    assert not is_eligible(p, t3, p.volunteers[1])
