"""plan_supply_stations: exact against an independent MILP, valid, deterministic, stoppable."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import HealthCheck, given, settings

from commgov.errors import ProblemError
from commgov.results import SolveStatus
from commgov.scheduling.supply import (
    CandidateStation,
    SupplyCompound,
    SupplyPolicy,
    SupplyProblem,
    SupplyReasonCode,
    is_valid_supply_plan,
    plan_supply_stations,
    supply_lower_bound,
    supply_problem_from_org,
)
from commgov.testing.strategies import supply_problems
from commgov.types import GeoPoint, haversine_m


def _at(x_m: float, y_m: float) -> GeoPoint:
    return GeoPoint(lon=round(120.62 + x_m / 95_000, 6), lat=round(31.31 + y_m / 111_000, 6))


def instance(seed: int) -> SupplyProblem:
    """A small seeded problem: 2-6 stations, 4-16 compounds on a 1.5 km square, capacities
    that bind, stations of unequal staff, sometimes a binding volunteer pool."""
    g = random.Random(seed)
    stations = [
        CandidateStation(
            id=f"s{k}",
            location=_at(g.uniform(0, 1500), g.uniform(0, 1500)),
            capacity_parcels=g.randint(150, 1200),
            staff=g.choice([1, 2, 2, 3, 5]),
        )
        for k in range(g.randint(2, 6))
    ]
    compounds = [
        SupplyCompound(
            id=f"c{k:02d}",
            gate=_at(g.uniform(0, 1500), g.uniform(0, 1500)),
            households=g.randint(0, 500),
            parcels=g.choice([0, g.randint(20, 500), g.randint(20, 500)]),
        )
        for k in range(g.randint(4, 16))
    ]
    volunteers = g.choice([None, None, g.randint(1, 8)])
    policy = SupplyPolicy(max_walk_m=g.choice([500, 800, 1200]))
    return SupplyProblem(
        compounds=compounds, stations=stations, volunteers=volunteers, policy=policy
    )


# ---- the independent model: written here from the problem, with HiGHS ----------------------


def reference_tiers(problem: SupplyProblem) -> tuple[int, int, int]:
    """(parcels served, volunteers, parcel-metres), lexicographically optimal, from a MILP
    built here from the problem's definitions alone and solved by HiGHS."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    inf = highspy.kHighsInf
    obj: list[tuple[int, int, int]] = []

    def var(coefs: tuple[int, int, int]) -> int:
        h.addVar(0.0, 1.0)
        h.changeColIntegrality(len(obj), highspy.HighsVarType.kInteger)
        obj.append(coefs)
        return len(obj) - 1

    y = [var((0, s.staff, 0)) for s in problem.stations]
    load: dict[int, list[tuple[int, float]]] = {k: [] for k in range(len(problem.stations))}
    for c in problem.compounds:
        if c.parcels == 0:
            continue
        row = []
        for k, s in enumerate(problem.stations):
            d = round(haversine_m(c.gate.lon, c.gate.lat, s.location.lon, s.location.lat))
            if d <= problem.policy.max_walk_m:
                j = var((c.parcels, 0, c.parcels * d))
                row.append(j)
                load[k].append((j, float(c.parcels)))
        if row:
            h.addRow(-inf, 1.0, len(row), row, [1.0] * len(row))
    for k, s in enumerate(problem.stations):
        idx = [j for j, _ in load[k]] + [y[k]]
        val = [v for _, v in load[k]] + [-float(s.capacity_parcels)]
        h.addRow(-inf, 0.0, len(idx), idx, val)
    if problem.volunteers is not None:
        h.addRow(
            -inf, float(problem.volunteers), len(y), y, [float(s.staff) for s in problem.stations]
        )
    n = len(obj)
    out = []
    for tier, sense in enumerate(
        (highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize, highspy.ObjSense.kMinimize)
    ):
        coef = [float(c[tier]) for c in obj]
        h.changeColsCost(n, list(range(n)), coef)
        h.changeObjectiveSense(sense)
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        value = round(h.getInfo().objective_function_value)
        out.append(value)
        if tier == 0:
            h.addRow(value - 0.5, inf, n, list(range(n)), coef)
        else:
            h.addRow(-inf, value + 0.5, n, list(range(n)), coef)
    return (out[0], out[1], out[2])


@pytest.mark.parametrize("seed", range(50))
def test_plan_equals_an_independent_milp(seed):
    """On 50 seeded small problems the plan is proven optimal, valid, and its three tiers
    equal those of a MILP written here and solved by HiGHS."""
    problem = instance(seed)
    plan = plan_supply_stations(problem, deterministic_time=30.0)
    assert plan.info.status == SolveStatus.OPTIMAL
    report = is_valid_supply_plan(problem, plan)
    assert report.ok, report.summary()
    got = tuple(round(plan.info.objective[k]) for k in ("served", "staff", "carry_parcel_m"))
    assert got == reference_tiers(problem)


@pytest.mark.parametrize("seed", range(8))
def test_bound_brackets_the_plan(seed):
    """The LP relaxation serves at least as many parcels and, serving as many, needs at most
    the volunteers of the optimal plan (and at most its parcel-metres when it needs as many
    volunteers: tier 3 is bounded only at tier 2's value); the plan's own bound holds."""
    problem = instance(seed)
    plan = plan_supply_stations(problem)
    bound = supply_lower_bound(problem)
    assert bound.tiers["served"] >= plan.totals.served - 1e-6
    if bound.tiers["served"] <= plan.totals.served + 1e-6:
        assert bound.tiers["staff"] <= plan.totals.staff + 1e-6
        if bound.tiers["staff"] >= plan.totals.staff - 1e-5:
            assert bound.tiers["carry_parcel_m"] <= plan.totals.carry_parcel_m + 1e-6
    assert plan.info.bound is not None and plan.info.bound <= plan.totals.staff
    assert bound.figures["parcels_in_reach"] == plan.totals.parcels_in_reach


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(supply_problems())
def test_the_verifier_accepts_every_plan(problem):
    """Property: whatever the problem, the planner's plan passes the independent verifier,
    accounts for every compound with parcels and is proven optimal."""
    plan = plan_supply_stations(problem, deterministic_time=10.0)
    report = is_valid_supply_plan(problem, plan)
    assert report.ok, report.summary()
    assert plan.info.status == SolveStatus.OPTIMAL
    with_parcels = {c.id for c in problem.compounds if c.parcels}
    listed = {a.compound_id for a in plan.assignments} | {u.compound_id for u in plan.unserved}
    assert listed == with_parcels


def test_same_input_any_order_same_json():
    """Determinism: the same problem, and its records reversed, give byte-identical JSON."""
    problem = instance(7)
    again = problem.model_copy(
        update={"stations": problem.stations[::-1], "compounds": problem.compounds[::-1]}
    )
    assert plan_supply_stations(problem).to_json() == plan_supply_stations(again).to_json()


def test_a_preset_cancel_gives_a_valid_cancelled_plan():
    """Cancelled before it starts: status CANCELLED, and the plan keeps every rule."""
    problem = instance(3)
    stop = threading.Event()
    stop.set()
    plan = plan_supply_stations(problem, cancel=stop)
    assert plan.info.status == SolveStatus.CANCELLED
    assert is_valid_supply_plan(problem, plan).ok


def test_a_tiny_time_limit_still_gives_a_valid_plan():
    """A time limit far too short to prove anything still returns a plan that verifies."""
    problem = instance(11)
    plan = plan_supply_stations(problem, time_limit_s=1e-4)
    assert plan.info.status in (SolveStatus.LIMIT, SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert is_valid_supply_plan(problem, plan).ok


def _one_station(capacity: int, volunteers: int | None = None) -> SupplyProblem:
    return SupplyProblem(
        stations=[
            CandidateStation(id="near", location=_at(0, 0), capacity_parcels=capacity),
            CandidateStation(id="spare", location=_at(0, 300), capacity_parcels=500, staff=3),
        ],
        compounds=[
            SupplyCompound(id="c1", gate=_at(100, 0), parcels=300),
            SupplyCompound(id="c2", gate=_at(0, 100), parcels=300),
            SupplyCompound(id="far", gate=_at(5000, 0), parcels=10),
        ],
        volunteers=volunteers,
    )


def test_reasons_say_why_a_compound_is_left_out():
    """No station in reach, the stations full, and the volunteer pool: each its reason,
    and the verifier accepts them."""
    problem = _one_station(capacity=1000)
    plan = plan_supply_stations(problem)
    assert {u.compound_id: u.reasons[0].code for u in plan.unserved} == {
        "far": SupplyReasonCode.NO_STATION_IN_REACH
    }
    assert plan.unserved[0].reasons[0].params == {"limit_m": 1000, "distance_m": 5000}
    assert [o.station_id for o in plan.stations] == ["near"]  # fewest volunteers
    only = _one_station(capacity=400)
    full = only.model_copy(update={"stations": only.stations[:1]})
    plan = plan_supply_stations(full)
    codes = sorted(u.reasons[0].code for u in plan.unserved)
    assert codes == [SupplyReasonCode.NO_STATION_IN_REACH, SupplyReasonCode.STATIONS_FULL]
    assert is_valid_supply_plan(full, plan).ok
    short = _one_station(capacity=400, volunteers=2)
    plan = plan_supply_stations(short)
    codes = sorted(u.reasons[0].code for u in plan.unserved)
    assert codes == [SupplyReasonCode.NO_STATION_IN_REACH, SupplyReasonCode.VOLUNTEERS_EXHAUSTED]
    assert all(u.reasons[0].text("zh") for u in plan.unserved)
    assert is_valid_supply_plan(short, plan).ok


def test_fewest_volunteers_before_shortest_legs():
    """Two compounds, each next to its own station, both within reach of one station with
    room for both: one station opens (fewer volunteers), though the legs are longer."""
    problem = SupplyProblem(
        stations=[
            CandidateStation(id="a", location=_at(0, 0), capacity_parcels=1000),
            CandidateStation(id="b", location=_at(600, 0), capacity_parcels=1000),
        ],
        compounds=[
            SupplyCompound(id="c1", gate=_at(0, 10), parcels=200),
            SupplyCompound(id="c2", gate=_at(600, 10), parcels=300),
        ],
    )
    plan = plan_supply_stations(problem)
    assert [o.station_id for o in plan.stations] == ["b"]  # serves both, the shorter total
    assert plan.totals.staff == 2 and plan.totals.served == 500


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("parcels", -1),
        ("parcels", 1.5),
        ("gate", {"lon": 500, "lat": 0}),
        ("id", "has space"),
    ],
)
def test_bad_compounds_are_refused_naming_record_and_field(field, value):
    """A bad field of a compound raises a ProblemError naming the record and the field."""
    data = {"id": "c1", "gate": {"lon": 120.6, "lat": 31.3}, "parcels": 10, field: value}
    with pytest.raises(ProblemError) as info:
        SupplyProblem.model_validate({"compounds": [data]})
    (issue,) = info.value.issues
    assert issue.field.split(".")[0] == field
    if field != "id":
        assert issue.record == "c1"


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"capacity_parcels": 0}, "capacity_parcels"),
        ({"staff": 0}, "staff"),
        ({"capacity_parcels": float("nan")}, "capacity_parcels"),
    ],
)
def test_bad_stations_are_refused_naming_the_field(update, field):
    data = {"id": "s1", "location": {"lon": 120.6, "lat": 31.3}, "capacity_parcels": 10}
    with pytest.raises(ProblemError, match=field):
        SupplyProblem.model_validate({"stations": [{**data, **update}]})


def test_duplicates_and_bad_pool_are_refused():
    """Every cross-record issue is listed at once: duplicate ids, a bad zone."""
    s = {"id": "s1", "location": {"lon": 120.6, "lat": 31.3}, "capacity_parcels": 10}
    c = {"id": "c1", "gate": {"lon": 120.6, "lat": 31.3}, "parcels": 1}
    with pytest.raises(ProblemError) as info:
        SupplyProblem.model_validate(
            {"stations": [s, s], "compounds": [c, c], "timezone": "Mars/Base"}
        )
    assert len(info.value.issues) == 3
    with pytest.raises(ProblemError, match="volunteers"):
        SupplyProblem.model_validate({"volunteers": -1})
    with pytest.raises(TypeError):
        plan_supply_stations({"stations": []})  # type: ignore[arg-type]


def test_from_org_huchiyuan_plans_and_verifies():
    """The builder takes a community's micro-sites and compounds; the plan verifies and
    serves every compound in reach."""
    from commgov.datasets import HUCHIYUAN, gusu

    problem = supply_problem_from_org(gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN)
    plan = plan_supply_stations(problem)
    assert plan.info.status == SolveStatus.OPTIMAL
    assert plan.totals.served == plan.totals.parcels_in_reach
    assert is_valid_supply_plan(problem, plan).ok
    assert plan.station_of(problem.compounds[0].id) in {s.id for s in problem.stations}


def test_the_builder_accounts_for_every_unit_and_refuses_bad_figures():
    """Units in = compounds placed + units in ``left_out``; figures and places checked."""
    from commgov.datasets import HUCHIYUAN, gusu
    from commgov.org import NodeKind, OrgGraph

    graph = OrgGraph(gusu(0, communities=[HUCHIYUAN]))
    problem = supply_problem_from_org(graph, HUCHIYUAN, parcels_per_household=0.5)
    top = {
        u
        for u in graph.descendants(HUCHIYUAN)
        if graph.kind(u) in (NodeKind.COMPOUND, NodeKind.LANE, NodeKind.COURTYARD)
        and graph.kind(graph.parent(u)) in (NodeKind.COMMUNITY, NodeKind.VILLAGE)
    }
    assert {c.id for c in problem.compounds} | {lo.record for lo in problem.left_out} == top
    for c in problem.compounds:
        assert c.parcels == -(-c.households // 2)
    for kw in ({"parcels_per_household": 0}, {"capacity_parcels": 0}, {"staff_per_station": 1.5}):
        with pytest.raises(ProblemError, match=next(iter(kw))):
            supply_problem_from_org(graph, HUCHIYUAN, **kw)
    with pytest.raises(ProblemError, match="place_id"):
        supply_problem_from_org(graph, "nowhere")


def test_the_verifier_imports_no_solver():
    """The verifier's module imports neither OR-Tools nor HiGHS nor a solving module."""
    import ast
    from pathlib import Path

    import commgov.scheduling.supply._verify as verify

    tree = ast.parse(Path(verify.__file__).read_text(encoding="utf-8"))
    names = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(
        k in name
        for name in names
        for k in ("ortools", "highspy", "_solve", "_bound", "_improve", "_location")
    )


@pytest.mark.slow
def test_district_scale_gusu():
    """All 273 micro-sites and every compound and lane of Gusu (1,554): a plan serving every
    parcel in reach, within a 2 % … 10 % gap of the LP bound on volunteers, verified, in
    well under two minutes."""
    import time

    from commgov.datasets import gusu

    problem = supply_problem_from_org(gusu(0), "320508")
    assert (len(problem.stations), len(problem.compounds)) == (273, 1554)
    t0 = time.process_time()
    plan = plan_supply_stations(problem, method="cpsat", time_limit_s=120, deterministic_time=20.0)
    cpu = time.process_time() - t0
    assert cpu < 120
    assert plan.info.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert plan.totals.served == plan.totals.parcels_in_reach
    assert plan.info.gap is not None and plan.info.gap <= 0.10
    assert is_valid_supply_plan(problem, plan).ok


# ---- issue 14 item 3 (D1): the default method proves the tiers HiGHS proves ----------------

#: The 23 candidate stations of 双塔 (320508021) in the break-tester's restriction.
SHUANGTA_23 = [
    "320508021018/S02",
    "320508021019/S01",
    "320508021019/S02",
    "320508021020/S02",
    "320508021021/S02",
    "320508021022/S02",
    "320508021023/S01",
    "320508021023/S02",
    "320508021024/S01",
    "320508021025/S02",
    "320508021026/S01",
    "320508021026/S02",
    "320508021027/S02",
    "320508021028/S01",
    "320508021031/S01",
    "320508021032/S01",
    "320508021033/S01",
    "320508021033/S02",
    "320508021034/S01",
    "320508021034/S02",
    "320508021035/S02",
    "320508021036/S01",
    "320508021037/S01",
]


def _shuangta() -> SupplyProblem:
    from commgov.datasets import gusu

    return supply_problem_from_org(gusu(0), "320508021")


@pytest.mark.slow
def test_shuangta_23_stations_serves_every_parcel_with_46():
    """The 23-station restriction of 双塔: CP-SAT served 44,948 of 45,181 parcels and said
    "bound 46, gap 0"; every parcel can be served with 46 volunteers, proven."""
    full = _shuangta()
    keep = set(SHUANGTA_23)
    problem = full.model_copy(update={"stations": [s for s in full.stations if s.id in keep]})
    assert len(problem.stations) == 23
    supply_lower_bound(problem)  # an earlier HiGHS solve: its thread pool must not matter
    plan = plan_supply_stations(problem, time_limit_s=120)
    assert plan.totals.served == plan.totals.parcels_in_reach == 45_181
    assert plan.totals.staff == 46
    assert plan.info.status == SolveStatus.OPTIMAL
    assert (plan.info.bound, plan.info.gap) == (46.0, 0.0)
    assert is_valid_supply_plan(problem, plan).ok


@pytest.mark.slow
def test_shuangta_gets_the_proven_46_volunteers():
    """双塔 (35 candidate stations): 48 volunteers before, 46 proven (tiers 1 and 2) now."""
    problem = _shuangta()
    plan = plan_supply_stations(problem, time_limit_s=120)
    assert plan.totals.served == plan.totals.parcels_in_reach
    assert plan.totals.staff == 46
    assert plan.info.bound == 46.0 and plan.info.gap == 0.0
    assert plan.info.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert plan.info.stopped_by is None  # ended by proofs and node limits, not the clock
    assert is_valid_supply_plan(problem, plan).ok


# ---- D7: the verifier checks the optimality claims; D11: a truthful reason for a giant ----


def test_the_verifier_refuses_false_optimality_claims():
    from commgov.scheduling.supply import SupplyViolationCode as V

    problem = instance(3)
    plan = plan_supply_stations(problem)
    assert is_valid_supply_plan(problem, plan).ok
    staff = plan.info.objective["staff"]

    def claim(**update):
        bad = plan.model_copy(update={"info": plan.info.model_copy(update=update)})
        return is_valid_supply_plan(problem, bad).codes

    assert claim(bound=staff + 98, gap=0.0) == {V.BOUND_PAST_OBJECTIVE}
    assert claim(bound=max(1.0, staff), gap=-5.0) == {V.GAP_WRONG}
    if staff >= 2:
        assert claim(bound=staff - 1, gap=1 / (staff - 1)) == {V.OPTIMAL_UNPROVEN}


def test_a_compound_larger_than_any_station_in_reach_is_too_large():
    stations = [
        CandidateStation(id="s1", location=_at(0, 0), capacity_parcels=1000),
        CandidateStation(id="s2", location=_at(300, 0), capacity_parcels=800),
        CandidateStation(id="s3", location=_at(5000, 0), capacity_parcels=9000),  # too far
    ]
    compounds = [
        SupplyCompound(id="big", gate=_at(100, 0), parcels=1500),
        SupplyCompound(id="small", gate=_at(150, 0), parcels=100),
    ]
    problem = SupplyProblem(compounds=compounds, stations=stations)
    plan = plan_supply_stations(problem)
    assert is_valid_supply_plan(problem, plan).ok
    (u,) = plan.unserved
    assert u.compound_id == "big"
    reason = u.reasons[0]
    assert reason.code == SupplyReasonCode.TOO_LARGE
    assert reason.params == {"parcels": 1500, "capacity_parcels": 1000}
    assert "1000" in reason.text("en") and "1000" in reason.text("zh")
    # the old reason no longer passes: no station in reach is full
    from commgov.results import Reason
    from commgov.scheduling.supply import SupplyViolationCode as V

    full = Reason(code=SupplyReasonCode.STATIONS_FULL, params={"parcels": 1500})
    bad = plan.model_copy(update={"unserved": [u.model_copy(update={"reasons": [full]})]})
    assert is_valid_supply_plan(problem, bad).codes == {V.REASON_WRONG}
