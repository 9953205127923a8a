"""Needs ↔ resources allocation: exact transportation, reasons, projects, verifier."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from commgov.errors import InputError, InvalidParameterError, LifecycleError, SizeLimitError
from commgov.lists import (
    Allocation,
    AllocationReasonCode,
    AllocationViolationCode,
    Need,
    Project,
    Resource,
    Status,
    ThreeLists,
    allocate,
    apply_allocation,
    is_valid_allocation,
    transition,
)
from commgov.lists.allocation._rules import allocation_distance_m, eligible, scope, unmet_reason
from commgov.results import CommonReasonCode
from commgov.types import GeoPoint, TimeWindow

T0 = datetime(2022, 4, 10, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
# places along a parallel near Suzhou: 0.001° of longitude ≈ 95 m
PLACES = {f"b{k}": GeoPoint(lon=120.60 + 0.001 * k, lat=31.30) for k in range(40)}


def need(nid: str, q: int = 1, *, cat: str = "food_supplies", place: str = "b0", prio: int = 1,
         window: tuple[int, int] | None = None, measure: str = "items", **kw) -> Need:
    return Need(
        id=nid, title=f"need {nid}", category=cat, unit_id="c1", place_id=place, quantity=q,
        measure=measure, priority=prio, raised_at=T0 - 10 * H, recorded_by="w1",
        source="household_visit",
        window=None if window is None else TimeWindow(start=T0 + window[0] * H,
                                                      end=T0 + window[1] * H),
        **kw,
    )


def resource(rid: str, q: int = 1, *, cat: str = "food_supplies", place: str = "b0",
             window: tuple[int, int] | None = None, measure: str = "items",
             provider: str = "org1") -> Resource:
    return Resource(
        id=rid, title=f"offer {rid}", category=cat, unit_id="c1", place_id=place, quantity=q,
        measure=measure, raised_at=T0 - 10 * H, recorded_by="w1", provider_id=provider,
        provider_kind="partner_team", resource_type="goods",
        window=None if window is None else TimeWindow(start=T0 + window[0] * H,
                                                      end=T0 + window[1] * H),
    )


def run(lists: ThreeLists, **kw) -> Allocation:
    kw.setdefault("at", T0)
    if "max_distance_m" in kw:
        kw.setdefault("places", PLACES)
    result = allocate(lists, **kw)
    report = is_valid_allocation(lists, result, places=kw.get("places"))
    assert report, report.summary()
    return result


# --------------------------------------------------------------------------- unit


def test_nearest_resource_first_and_split():
    lists = ThreeLists(
        needs=(need("n1", 5, place="b0"),),
        resources=(resource("r_far", 3, place="b20"), resource("r_near", 3, place="b1")),
    )
    a = run(lists, places=PLACES)
    assert [(f.resource_id, f.quantity) for f in a.flows] == [("r_far", 2), ("r_near", 3)]
    assert a.unmet == () and [(i.resource_id, i.left) for i in a.idle] == [("r_far", 1)]
    assert a.info.status == "OPTIMAL" and a.totals.allocated == 5
    assert a.totals.distance_quantity_m == sum(f.distance_m * f.quantity for f in a.flows)


def test_priority_weighted_quantity_wins_over_distance():
    lists = ThreeLists(
        needs=(need("n_low", 3, prio=1, place="b0"), need("n_high", 2, prio=5, place="b30")),
        resources=(resource("r1", 3, place="b0"),),
    )
    a = run(lists, places=PLACES)
    got = {f.need_id: f.quantity for f in a.flows}
    assert got == {"n_high": 2, "n_low": 1}
    (u,) = a.unmet
    assert (u.need_id, u.short) == ("n_low", 2)
    assert u.reason.code == AllocationReasonCode.RESOURCE_QUANTITY_USED
    assert u.reason.params == {"short": 2, "eligible": 1}
    assert "2 of the quantity" in u.reason.text() and "尚有2" in u.reason.text("zh")


def test_reasons_name_the_first_failing_rule():
    lists = ThreeLists(
        needs=(
            need("n_cat", cat="medical"),
            need("n_measure", measure="hours"),
            need("n_far", place="b30"),
            need("n_time", place="b0", window=(0, 2)),
        ),
        resources=(resource("r1", 5, place="b0", window=(3, 5)),),
    )
    a = run(lists, max_distance_m=1000)
    reasons = {u.need_id: u.reason for u in a.unmet}
    assert reasons["n_cat"].code == AllocationReasonCode.NO_RESOURCE_OF_CATEGORY
    assert reasons["n_cat"].params == {"category": "medical", "measure": "items"}
    assert reasons["n_measure"].params == {"category": "food_supplies", "measure": "hours"}
    assert reasons["n_far"].code == AllocationReasonCode.RESOURCE_TOO_FAR
    assert reasons["n_far"].params["limit_m"] == 1000
    assert 2800 < reasons["n_far"].params["distance_m"] < 2900
    assert reasons["n_time"].code == AllocationReasonCode.NO_RESOURCE_IN_WINDOW
    assert a.flows == () and a.totals.short == 4


def test_time_before_at_does_not_count_and_recurring_needs_use_any_occurrence():
    from commgov.lists import Recurrence

    daily = need("n_daily", window=(0, 1), recurrence=Recurrence(freq="daily", count=3))
    lists = ThreeLists(
        needs=(daily, need("n_past", window=(-5, -1))),
        resources=(resource("r_tomorrow", 2, window=(24, 25)),),
    )
    a = run(lists)
    assert [(f.need_id, f.quantity) for f in a.flows] == [("n_daily", 1)]
    assert [u.reason.code for u in a.unmet] == [AllocationReasonCode.NO_RESOURCE_IN_WINDOW]
    # at after the resource window: nothing left to offer in time
    later = run(lists, at=T0 + 30 * H)
    assert later.flows == ()


def test_items_raised_after_at_or_not_open_are_out_of_scope():
    n2 = need("n2")
    lists = ThreeLists(
        needs=(need("n1"), transition(n2, "claimed", by="w1", at=T0 - H)),
        resources=(resource("r1", 5),),
    )
    a = run(lists, at=T0 - 11 * H)  # before anything was raised
    assert a.totals.needs == 0 and a.totals.resources == 0
    a = run(lists)
    assert [f.need_id for f in a.flows] == ["n1"] and a.totals.needs == 1


def test_empty_lists_and_zero_open_quantities():
    assert run(ThreeLists()).totals.needs == 0
    only_needs = run(ThreeLists(needs=(need("n1", 2),)))
    assert only_needs.unmet[0].reason.code == AllocationReasonCode.NO_RESOURCE_OF_CATEGORY
    only_res = run(ThreeLists(resources=(resource("r1", 2),)))
    assert only_res.flows == () and only_res.idle[0].left == 2
    # fully committed by a pair project: open quantity 0 on both sides
    committed = ThreeLists(
        needs=(need("n1", 2),),
        resources=(resource("r1", 2),),
        projects=(_project("p1", "n1", "r1", 2),),
    )
    a = run(committed)
    assert a.totals.needs == 0 and a.totals.resources == 1 and a.idle == () and a.flows == ()


def _project(pid: str, nid: str, rid: str, q: int, **kw) -> Project:
    return Project(
        id=pid, title="p", category="food_supplies", unit_id="c1", quantity=q,
        raised_at=T0 - 5 * H, recorded_by="w1", need_ids=(nid,), resource_ids=(rid,),
        lead_org_id="org1", formation="self_claimed", **kw,
    )


def test_projects_commit_quantity_and_multi_link_projects_block_items():
    lists = ThreeLists(
        needs=(need("n1", 5), need("n2", 5), need("n3", 5)),
        resources=(resource("r1", 10), resource("r2", 10)),
        projects=(
            _project("p1", "n1", "r1", 2),
            _project("p_dead", "n2", "r1", 5).model_copy(),
            Project(
                id="p_multi", title="p", category="food_supplies", unit_id="c1",
                raised_at=T0 - 5 * H, recorded_by="w1", need_ids=("n3",),
                resource_ids=("r2",), lead_org_id="org1", formation="self_claimed",
                partner_ids=("x",),
            ),
        ),
    )
    dead = transition(lists.item("p_dead"), "cancelled", by="w1", at=T0 - H)
    lists = lists.replace(dead)
    sc = scope(lists, T0)
    assert {k: q for k, (_, q) in sc.needs.items()} == {"n1": 3, "n2": 5, "n3": 4}
    assert {k: q for k, (_, q) in sc.resources.items()} == {"r1": 8, "r2": 9}
    multi = lists.item("p_multi").model_dump()
    multi["resource_ids"] = ("r1", "r2")
    blocked = lists.replace(Project.model_validate(multi))
    sc = scope(blocked, T0)
    assert "n3" not in sc.needs and set(sc.resources) == set()


def test_apply_creates_projects_matches_items_and_reallocates_only_the_rest():
    lists = ThreeLists(
        needs=(need("n1", 3, prio=3, window=(0, 4)), need("n2", 2, cat="medical")),
        resources=(
            resource("r1", 3, window=(1, 2), provider="team9"),
            resource("r2", 1, cat="medical"),
        ),
    )
    a = run(lists)
    applied = apply_allocation(lists, a, by="w7")
    assert lists.needs[0].status == Status.RAISED  # unchanged
    assert {n.id: n.status for n in applied.needs} == {"n1": "matched", "n2": "matched"}
    assert {r.id: r.status for r in applied.resources} == {"r1": "matched", "r2": "matched"}
    projects = {p.id: p for p in applied.projects}
    assert set(projects) == {f"prj:{f.need_id}+{f.resource_id}" for f in a.flows}
    p = projects["prj:n1+r1"]
    assert (p.quantity, p.lead_org_id, p.status, p.recorded_by) == (3, "team9", "raised", "w7")
    assert p.window is not None and p.window.start == T0 + H and p.window.end == T0 + 2 * H
    assert p.need_ids == ("n1",) and p.resource_ids == ("r1",) and p.priority == 3
    assert applied.needs[0].history[-1].at == T0
    # the next allocation sees only what is left open
    again = run(applied, at=T0 + timedelta(minutes=5))
    assert again.flows == () and again.totals.asked == a.totals.short
    # a new resource later: the proposed pair project is updated, a new pair created
    more = applied.replace(resource("r1b", 5, cat="medical"))
    b = run(more, at=T0 + timedelta(minutes=5))
    applied2 = apply_allocation(more, b, by="w7")
    assert {p.id for p in applied2.projects} >= set(projects)
    assert applied2.to_json() == apply_allocation(more, b, by="w7").to_json()
    ThreeLists.from_json(applied2.to_json())


def test_apply_updates_a_proposed_pair_project():
    lists = ThreeLists(
        needs=(need("n1", 5),), resources=(resource("r1", 5),),
        projects=(_project("p1", "n1", "r1", 2),),
    )
    a = run(lists)
    assert [(f.need_id, f.quantity) for f in a.flows] == [("n1", 3)]
    applied = apply_allocation(lists, a, by="w1")
    assert [(p.id, p.quantity) for p in applied.projects] == [("p1", 5)]


def test_apply_refuses_a_stale_allocation_and_writes_nothing():
    lists = ThreeLists(needs=(need("n1", 2),), resources=(resource("r1", 2),))
    a = run(lists)
    stale = lists.replace(transition(lists.item("n1"), "cancelled", by="w1", at=T0))
    with pytest.raises(InputError) as info:
        apply_allocation(stale, a, by="w1")
    issue = info.value.issues[0]
    assert (issue.record, issue.field, issue.value) == ("flow n1+r1", "need_id", "n1")
    back = transition(lists.item("n1"), "escalated", by="w1", at=T0 + H)
    later = lists.replace(transition(back, "raised", by="w1", at=T0 + 2 * H))
    with pytest.raises(LifecycleError, match="append-only"):
        apply_allocation(later, a, by="w1")
    with pytest.raises(InputError, match="by"):
        apply_allocation(lists, a, by="has space")


def test_bad_input_names_record_field_value():
    lists = ThreeLists(needs=(need("n1", place="nowhere"),), resources=(resource("r1"),))
    with pytest.raises(InputError) as info:
        allocate(lists, at=T0, places=PLACES, max_distance_m=100)
    issue = info.value.issues[0]
    assert (issue.record, issue.field, issue.value) == ("n1", "place_id", "nowhere")
    with pytest.raises(ValueError, match="naive"):
        allocate(lists, at=datetime(2022, 4, 10))
    with pytest.raises(TypeError, match="at must be"):
        allocate(lists, at="2022-04-10T08:00+08:00")
    with pytest.raises(ValueError, match="needs places"):
        allocate(lists, at=T0, max_distance_m=10)
    with pytest.raises(ValueError, match="max_distance_m must be"):
        allocate(lists, at=T0, places=PLACES, max_distance_m=-1)
    with pytest.raises(TypeError, match="max_distance_m"):
        allocate(lists, at=T0, places=PLACES, max_distance_m=1.5)
    with pytest.raises(TypeError, match="lists must be"):
        allocate([need("n1")], at=T0)
    with pytest.raises(TypeError, match="places must be"):
        allocate(lists, at=T0, places=[("b0", PLACES["b0"])])


def test_size_guard(monkeypatch):
    import commgov.lists.allocation._network as mod

    monkeypatch.setattr(mod, "MAX_ALLOCATION_ARCS", 1)
    lists = ThreeLists(needs=(need("n1"), need("n2")), resources=(resource("r1"),))
    with pytest.raises(SizeLimitError, match="arcs"):
        allocate(lists, at=T0)


def test_verifier_rejects_each_kind_of_broken_result():
    lists = ThreeLists(
        needs=(need("n1", 3, place="b0"), need("n2", 2, cat="medical")),
        resources=(resource("r1", 2, place="b1"), resource("r2", 4, place="b2")),
    )
    a = run(lists, places=PLACES)
    data = json.loads(a.to_json())

    def broken(mutate) -> list[str]:
        d = json.loads(json.dumps(data))
        mutate(d)
        report = is_valid_allocation(lists, Allocation.model_validate(d), places=PLACES)
        assert not report
        return report.violations

    def more_flow(d):
        d["flows"][0]["quantity"] += 5

    def wrong_distance(d):
        d["flows"][0]["distance_m"] += 1

    def bad_pair(d):
        d["flows"][0]["need_id"] = "n2"

    def wrong_reason(d):
        d["unmet"][0]["reason"] = {"code": "NO_RESOURCE_IN_WINDOW", "params": {}}

    def drop_idle(d):
        d["idle"] = []

    def wrong_totals(d):
        d["totals"]["allocated"] += 1

    def wrong_objective(d):
        d["info"]["objective"]["distance_quantity_m"] = 0.0

    v = AllocationViolationCode
    for mutate, code in ((more_flow, v.NEED_OVER_ALLOCATED), (wrong_distance, v.DISTANCE_MISMATCH),
                         (bad_pair, v.FLOW_NOT_ELIGIBLE), (wrong_reason, v.REASON_FALSE),
                         (drop_idle, v.IDLE_MISMATCH), (wrong_totals, v.TOTALS_MISMATCH),
                         (wrong_objective, v.OBJECTIVE_MISMATCH)):
        assert code in {x.code for x in broken(mutate)}, mutate.__name__
    # a false "quantity used": an eligible resource still has quantity left
    tight = ThreeLists(needs=(need("n1", 3),), resources=(resource("r1", 1), resource("r2", 5)))
    d = json.loads(run(tight).to_json())
    d["flows"] = [f for f in d["flows"] if f["resource_id"] == "r1"]
    d["unmet"] = [{"need_id": "n1", "priority": 1, "asked": 3, "allocated": 1, "short": 2,
                   "reason": {"code": "RESOURCE_QUANTITY_USED",
                              "params": {"short": 2, "eligible": 2}}}]
    report = is_valid_allocation(tight, Allocation.model_validate(d))
    false = [v for v in report.violations if v.code == AllocationViolationCode.REASON_FALSE]
    assert [v.record for v in false] == ["n1"] and "r2 has" in false[0].detail


def test_shared_options_are_checked_before_any_work():
    lists = ThreeLists(needs=(need("n1"),), resources=(resource("r1"),))
    for bad in ("x", -1, float("nan"), float("inf"), 0, 3601, True):
        with pytest.raises(InvalidParameterError, match="time_limit_s"):
            allocate(lists, at=T0, time_limit_s=bad)
    with pytest.raises(InvalidParameterError, match="method"):
        allocate(lists, at=T0, method="simplex")
    with pytest.raises(InvalidParameterError, match="seed"):
        allocate(lists, at=T0, seed=-1)
    with pytest.raises(InvalidParameterError, match="progress"):
        allocate(lists, at=T0, progress=3)
    with pytest.raises(InvalidParameterError, match="cancel"):
        allocate(lists, at=T0, cancel=object())
    a = allocate(lists, at=T0, method="flow", seed=7, time_limit_s=5)
    assert a.info.options["time_limit_s"] == 5
    assert a.to_json() == allocate(lists, at=T0, time_limit_s=5).to_json()


def test_progress_events_end_with_done():
    from commgov import ProgressEvent

    events: list[ProgressEvent] = []
    lists = ThreeLists(needs=(need("n1", 3), need("n2", 2, place="b3")),
                       resources=(resource("r1", 4, place="b1"),))
    a = allocate(lists, at=T0, places=PLACES, max_distance_m=1000, progress=events.append)
    assert events and all(isinstance(e, ProgressEvent) for e in events)
    assert {e.planner for e in events} == {"allocate"}
    phases = [e.phase for e in events]
    assert phases[0] == "scope" and "network" in phases and "solve" in phases
    assert phases[-1] == "done" and events[-1].fraction == 1.0
    assert events[-1].incumbent == a.info.objective["unmet_priority"]
    assert a.info.stopped_by is None and a.info.status == "OPTIMAL"


def test_cancelled_before_the_solve_gives_a_valid_result_with_every_need_untried():
    import threading

    lists = ThreeLists(
        needs=(need("n1", 3, prio=2), need("n2", 2, cat="medical")),
        resources=(resource("r1", 2), resource("r2", 1, cat="medical")),
        projects=(_project("p1", "n1", "r1", 1),),
    )
    cancel = threading.Event()
    cancel.set()
    events = []
    a = allocate(lists, at=T0, cancel=cancel, progress=events.append)
    assert a.info.status == "CANCELLED" and a.info.stopped_by == "cancel"
    assert a.flows == () and [u.need_id for u in a.unmet] == ["n1", "n2"]
    assert {u.reason.code for u in a.unmet} == {CommonReasonCode.CANCELLED}
    assert [(u.asked, u.short) for u in a.unmet] == [(2, 2), (2, 2)]
    assert [(i.resource_id, i.left) for i in a.idle] == [("r1", 1), ("r2", 1)]
    assert a.info.objective == {"unmet_priority": 6.0, "distance_quantity_m": 0.0}
    assert events[-1].phase == "done"
    report = is_valid_allocation(lists, a)
    assert report, report.summary()
    # the verifier accepts CANCELLED exactly when the status says so
    d = json.loads(a.to_json())
    d["info"]["status"] = "OPTIMAL"
    report = is_valid_allocation(lists, Allocation.model_validate(d))
    assert report.codes == {AllocationViolationCode.REASON_FALSE}
    # and a stopped result may not hide the rule reasons behind a wrong one
    d = json.loads(run(lists).to_json())
    limit = d["info"]["options"]["time_limit_s"]
    d["unmet"][0]["reason"] = {"code": "TIME_LIMIT_REACHED", "params": {"time_limit_s": limit}}
    assert not is_valid_allocation(lists, Allocation.model_validate(d))
    d["info"]["status"] = "LIMIT"
    assert is_valid_allocation(lists, Allocation.model_validate(d))


def test_cancel_set_while_the_network_is_built_stops_the_run():
    class CancelAfter:
        """A cancel token that reads as set from its ``n``-th look on."""

        def __init__(self, n: int) -> None:
            self.looks, self.n = 0, n

        def is_set(self) -> bool:
            self.looks += 1
            return self.looks >= self.n

    rng = random.Random(3)
    lists, places = _random_lists(rng, 40, 40, 0.05)
    token = CancelAfter(3)
    a = allocate(lists, at=T0, places=places, max_distance_m=1500, cancel=token)
    assert a.info.status == "CANCELLED" and a.flows == ()
    assert all(u.reason.code == CommonReasonCode.CANCELLED for u in a.unmet)
    assert is_valid_allocation(lists, a, places=places)


def test_time_limit_passed_before_the_solve_gives_status_limit(monkeypatch):
    from commgov import _control

    lists = ThreeLists(needs=(need("n1", 3),), resources=(resource("r1", 2),))
    clock = iter([0.0, *([1000.0] * 50)])
    monkeypatch.setattr(_control.time, "monotonic", lambda: next(clock))
    a = allocate(lists, at=T0, time_limit_s=10)
    assert a.info.status == "LIMIT" and a.info.stopped_by == "wall_clock"
    (u,) = a.unmet
    assert u.reason.code == CommonReasonCode.TIME_LIMIT_REACHED
    assert u.reason.params == {"time_limit_s": 10.0}
    assert is_valid_allocation(lists, a)


def test_verifier_and_rules_import_no_solver():
    """_verify and the rules it uses import neither OR-Tools nor the solver modules."""
    import ast
    from pathlib import Path

    import commgov.lists.allocation as pkg

    root = Path(pkg.__file__).parent
    for name in ("_verify.py", "_rules.py", "_problem.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        imported = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not {m for m in imported if m and ("ortools" in m or "_solve" in m
                                                  or "_network" in m)}, name


def test_rows_and_json_round_trip():
    lists = ThreeLists(needs=(need("n1", 3),), resources=(resource("r1", 1),))
    a = run(lists)
    assert Allocation.model_validate_json(a.to_json()) == a
    kinds = [r["kind"] for r in a.rows()]
    assert kinds == ["flow", "unmet"] and set(a.rows()[0]) == set(Allocation.ROW_COLUMNS)


# --------------------------------------------------------------------------- properties

CATS = ("food_supplies", "medical")


@st.composite
def instances(draw):
    def window():
        if draw(st.booleans()):
            return None
        s = draw(st.integers(-3, 6))
        return (s, s + draw(st.integers(1, 4)))

    needs = tuple(
        need(f"n{k:02d}", draw(st.integers(1, 6)), cat=draw(st.sampled_from(CATS)),
             place=f"b{draw(st.integers(0, 39))}", prio=draw(st.integers(1, 4)),
             window=window())
        for k in range(draw(st.integers(0, 6)))
    )
    resources = tuple(
        resource(f"r{k:02d}", draw(st.integers(1, 8)), cat=draw(st.sampled_from(CATS)),
                 place=f"b{draw(st.integers(0, 39))}", window=window())
        for k in range(draw(st.integers(0, 6)))
    )
    limit = draw(st.sampled_from([None, 300, 1500]))
    return ThreeLists(needs=needs, resources=resources), limit


SETTINGS = settings(max_examples=int(os.environ.get("COMMGOV_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(case=instances(), seed=st.integers(0, 2**32 - 1))
def test_property_valid_deterministic_permutation_invariant(case, seed):
    lists, limit = case
    a = run(lists, places=PLACES, max_distance_m=limit)
    rng = random.Random(seed)
    needs, resources = list(lists.needs), list(lists.resources)
    rng.shuffle(needs)
    rng.shuffle(resources)
    places = dict(rng.sample(sorted(PLACES.items()), len(PLACES)))
    shuffled = ThreeLists.model_construct(needs=tuple(needs), resources=tuple(resources),
                                          projects=())
    b = allocate(shuffled, at=T0, places=places, max_distance_m=limit)
    assert a.to_json() == b.to_json()
    assert a.totals.allocated + a.totals.short == a.totals.asked
    used = sum(i.used for i in a.idle)
    assert used <= a.totals.allocated
    applied = apply_allocation(lists, a, by="w1")
    assert sum(p.quantity for p in applied.projects) == a.totals.allocated


def _linprog_tiers(lists: ThreeLists, limit: int | None) -> tuple[float, float]:
    """Lexicographic optimum (unmet priority, metre-units) by two LPs solved with HiGHS."""
    import numpy as np
    from scipy.optimize import linprog

    sc = scope(lists, T0)
    needs, res = list(sc.needs.values()), list(sc.resources.values())
    arcs = [
        (i, j, allocation_distance_m(n, r, PLACES))
        for i, (n, _) in enumerate(needs)
        for j, (r, _) in enumerate(res)
        if eligible(n, r, at=T0, places=PLACES, max_distance_m=limit)
    ]
    asked = sum(n.priority * q for n, q in needs)
    if not arcs:
        return float(asked), 0.0
    a_ub = np.zeros((len(needs) + len(res), len(arcs)))
    for k, (i, j, _) in enumerate(arcs):
        a_ub[i, k] = 1
        a_ub[len(needs) + j, k] = 1
    b_ub = [q for _, q in needs] + [q for _, q in res]
    prio = np.array([needs[i][0].priority for i, _, _ in arcs], dtype=float)
    first = linprog(-prio, A_ub=a_ub, b_ub=b_ub, method="highs")
    served = -first.fun
    second = linprog(
        np.array([d for _, _, d in arcs], dtype=float),
        A_ub=np.vstack([a_ub, -prio]), b_ub=[*b_ub, -served + 1e-9], method="highs",
    )
    return asked - served, second.fun


@SETTINGS
@given(case=instances())
def test_property_optimum_equals_highs_linprog(case):
    lists, limit = case
    a = run(lists, places=PLACES, max_distance_m=limit)
    t1, t2 = _linprog_tiers(lists, limit)
    assert a.info.objective["unmet_priority"] == pytest.approx(t1, abs=1e-6)
    assert a.info.objective["distance_quantity_m"] == pytest.approx(t2, rel=1e-7, abs=1e-3)


# --------------------------------------------------------------------------- vectorised network


def _reference_network(needs, resources, avail, at, places, limit):
    """The arcs of allocate by the per-pair public predicates, in (need, resource) order."""
    return [
        (i, j, allocation_distance_m(n, r, places))
        for i, n in enumerate(needs)
        for j, r in enumerate(resources)
        if avail[j] > 0 and eligible(n, r, at=at, places=places, max_distance_m=limit)
    ]


def _random_lists(rng: random.Random, n: int, m: int, spread: float):
    """Random needs and resources: 2 categories × 2 measures, shared and far places (up to
    ``spread`` degrees, wrapped across the antimeridian and clipped at the poles), windows
    before and after T0, recurring needs, and resources fully committed by pair projects."""
    from commgov.lists import Recurrence

    def point() -> GeoPoint:
        lat = max(-90.0, min(90.0, 31.3 + rng.uniform(-spread, spread)))
        lon = (120.6 + rng.uniform(-spread, spread) + 180.0) % 360.0 - 180.0
        return GeoPoint(lon=lon, lat=lat)

    places = {f"p{k}": point() for k in range(max(2, (n + m) // 3))}
    names = sorted(places)

    def window():
        if rng.random() < 0.3:
            return None
        s = rng.randint(-6, 8)
        return (s, s + rng.randint(1, 5))

    needs = tuple(
        need(f"n{k:03d}", rng.randint(1, 6), cat=rng.choice(CATS), place=rng.choice(names),
             prio=rng.randint(1, 4), window=(w := window()),
             measure=rng.choice(("items", "hours")),
             recurrence=(Recurrence(freq="daily", count=rng.randint(1, 4))
                         if w is not None and rng.random() < 0.3 else None))
        for k in range(n)
    )
    resources = tuple(
        resource(f"r{k:03d}", rng.randint(1, 5), cat=rng.choice(CATS), place=rng.choice(names),
                 window=window(), measure=rng.choice(("items", "hours")))
        for k in range(m)
    )
    used = [r for r in resources if rng.random() < 0.15]
    projects = tuple(
        _project(f"p{k:03d}", needs[0].id, r.id, r.quantity) for k, r in enumerate(used)
        if needs
    )
    return ThreeLists(needs=needs, resources=resources, projects=projects), places


@pytest.mark.parametrize("seed", range(24))
def test_vectorised_network_equals_the_per_pair_predicate(seed):
    """Arcs, distances, order, counts and reasons equal the per-pair rules, byte for byte."""
    from commgov.lists.allocation._network import _network, _unmet_reason

    rng = random.Random(seed)
    spread = (0.005, 0.05, 2.0, 60.0, 200.0)[seed % 5]
    lists, places = _random_lists(rng, rng.randint(0, 70), rng.randint(0, 70), spread)
    at = T0 + rng.choice((0, 2, 30)) * H
    sc = scope(lists, at)
    needs = [n for n, _ in sc.needs.values()]
    resources = [r for r, _ in sc.resources.values()]
    avail = [q for _, q in sc.resources.values()]
    pair_d = sorted({allocation_distance_m(n, r, places) for n in needs for r in resources})
    limits = [None, 0, 1, 2000, 3_000_000, *rng.sample(pair_d, min(3, len(pair_d)))]
    for use_places in (True, False):
        pl = places if use_places else None
        for limit in limits if use_places else [None]:
            net = _network(needs, resources, avail, at, pl, limit)
            got = list(zip(net.tail.tolist(), net.dist.tolist(), strict=True))
            want = _reference_network(needs, resources, avail, at, pl, limit)
            assert [(i, j, d) for (i, d), j in zip(got, net.head.tolist(), strict=True)] == want
            assert all(type(x) is int for x in net.max_distance())
            for i, n in enumerate(needs):
                reason = _unmet_reason(net, i, n, 2, limit)
                assert reason == unmet_reason(n, 2, resources, at=at, places=pl,
                                              max_distance_m=limit)
                assert reason.model_dump_json() == unmet_reason(
                    n, 2, resources, at=at, places=pl, max_distance_m=limit
                ).model_dump_json()


def test_vectorised_distances_recheck_near_half_metres(monkeypatch):
    """Rechecking every distance with the scalar function changes nothing, and distances whose
    ``x + 0.5`` is within 1e-9 (relative) of a whole metre are always rechecked."""
    import numpy as np

    import commgov.lists.allocation._network as mod

    x = np.array([10.0, 10.0 + 1e-12, 9.999999999999, 1234.5, 1e7 + 0.004, np.nan])
    assert mod._unsure(x, np.floor(x)).tolist() == [True, True, True, False, True, True]
    rng = random.Random(5)
    lists, places = _random_lists(rng, 40, 40, 0.05)
    a = allocate(lists, at=T0, places=places, max_distance_m=1500)
    monkeypatch.setattr(mod, "_unsure", lambda x, fl: np.ones(np.shape(x), dtype=bool))
    assert allocate(lists, at=T0, places=places, max_distance_m=1500).to_json() == a.to_json()
    assert is_valid_allocation(lists, a, places=places)


def test_vectorised_blocks_split_many_needs_and_long_recurrences(monkeypatch):
    """Small blocks (many latitude bands, needs alone in a block) give the same network."""
    import commgov.lists.allocation._network as mod
    from commgov.lists import Recurrence

    rng = random.Random(11)
    lists, places = _random_lists(rng, 60, 60, 0.05)
    long = need("n_long", 3, window=(-2, 1), recurrence=Recurrence(freq="daily", count=400))
    lists = lists.replace(long)
    a = allocate(lists, at=T0, places={**places, **PLACES}, max_distance_m=2500)
    monkeypatch.setattr(mod, "_BLOCK_NEEDS", 3)
    monkeypatch.setattr(mod, "_BLOCK_SPANS", 5)
    b = allocate(lists, at=T0, places={**places, **PLACES}, max_distance_m=2500)
    assert a.to_json() == b.to_json()
    assert is_valid_allocation(lists, b, places={**places, **PLACES})
