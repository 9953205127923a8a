"""plan_sites: exact against an independent MILP, valid, deterministic, stoppable."""

from __future__ import annotations

import math
import random
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commgov.results import SolveStatus
from commgov.scheduling.sites import (
    CandidateSite,
    SitesBuilding,
    SitesPolicy,
    SitesProblem,
    SitesReasonCode,
    StaffPool,
    StaffRole,
    is_valid_sites_plan,
    plan_sites,
    sites_lower_bound,
    sites_problem_from_org,
)
from commgov.scheduling.staffing import wait_quantile_min
from commgov.types import GeoPoint, TimeWindow, haversine_m

START = datetime(2022, 4, 12, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _at(x_m: float, y_m: float) -> GeoPoint:
    return GeoPoint(lon=round(120.62 + x_m / 95_000, 6), lat=round(31.31 + y_m / 111_000, 6))


def instance(seed: int) -> SitesProblem:
    """A small seeded problem: 2-5 sites, 4-14 buildings on a 1.2 km square, sometimes
    partial opening hours, opening work, minimum staff and a binding staff pool."""
    g = random.Random(seed)
    slot = g.choice([30, 60])
    hours = g.choice([2, 3, 4])
    window = TimeWindow(start=START, end=START + timedelta(hours=hours))
    sites = []
    for k in range(g.randint(2, 5)):
        opening = None
        if g.random() < 0.3:
            a = g.randint(0, hours - 1)
            opening = TimeWindow(
                start=START + timedelta(hours=a),
                end=START + timedelta(hours=g.randint(a + 1, hours)),
            )
        sites.append(
            CandidateSite(
                id=f"s{k}",
                location=_at(g.uniform(0, 1200), g.uniform(0, 1200)),
                max_lanes=g.randint(1, 5),
                opening=opening,
                rate_per_lane_per_hour=g.choice([None, 60.0, 120.0]),
                opening_staff_minutes=g.choice([0, 0, 30, 90]),
                min_staff=g.choice([0, 0, 4]),
            )
        )
    buildings = [
        SitesBuilding(
            id=f"b{k:02d}",
            location=_at(g.uniform(0, 1200), g.uniform(0, 1200)),
            residents=g.randint(0, 400),
        )
        for k in range(g.randint(4, 14))
    ]
    pool = []
    for role in StaffRole:
        if g.random() < 0.4:
            pool.append(
                StaffPool(role=role, people=g.randint(1, 8), hours_each=g.choice([1.0, 2.5, 4.0]))
            )
    policy = SitesPolicy(
        slot_minutes=slot,
        max_walk_m=g.choice([400, 600, 900]),
        target_wait_min=g.choice([5.0, 15.0]),
        relief_every_lanes=g.choice([0, 2, 4]),
    )
    return SitesProblem(window=window, sites=sites, buildings=buildings, pool=pool, policy=policy)


# ---- the independent model: written here from the problem, with HiGHS ----------------------


def _meets(lanes: int, residents: int, hours: float, mu: float, pol: SitesPolicy) -> bool:
    if residents == 0:
        return True
    lam = residents / hours
    if lam >= lanes * mu:
        return False
    return wait_quantile_min(lanes, lam, mu, pol.wait_quantile) <= pol.target_wait_min


def reference_tiers(problem: SitesProblem) -> tuple[int, int, int]:
    """(served, staff-minutes, walking person-metres), lexicographically optimal, from a
    MILP built here from the problem's definitions alone and solved by HiGHS."""
    import highspy

    pol = problem.policy
    n_t = int(problem.window.duration / timedelta(minutes=pol.slot_minutes))
    slots = []
    for s in problem.sites:
        open_t = []
        for t in range(n_t):
            a = problem.window.start + timedelta(minutes=pol.slot_minutes * t)
            b = a + timedelta(minutes=pol.slot_minutes)
            if s.opening is None or (s.opening.start <= a and b <= s.opening.end):
                open_t.append(t)
        slots.append(open_t)
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

    load: dict[int, list[tuple[int, float]]] = {k: [] for k in range(len(problem.sites))}
    for b in problem.buildings:
        if b.residents == 0:
            continue
        row = []
        for k, s in enumerate(problem.sites):
            d = round(haversine_m(b.location.lon, b.location.lat, s.location.lon, s.location.lat))
            if slots[k] and d <= pol.max_walk_m:
                j = var((b.residents, 0, b.residents * d))
                row.append(j)
                load[k].append((j, float(b.residents)))
        if row:
            h.addRow(-inf, 1.0, len(row), row, [1.0] * len(row))
    roles = {p.role: p for p in problem.pool}
    at: dict[tuple[str, int], list[tuple[int, float]]] = {}
    total: dict[str, list[tuple[int, float]]] = {}
    for k, s in enumerate(problem.sites):
        if not load[k]:
            continue
        hours = len(slots[k]) * pol.slot_minutes / 60
        mu = s.rate_per_lane_per_hour or pol.rate_per_lane_per_hour
        most = sum(int(v) for _j, v in load[k])
        zs, caps = [], []
        for lanes in range(1, s.max_lanes + 1):
            cap = 0
            while cap < most and _meets(lanes, cap + 1, hours, mu, pol):
                cap += 1
            sw = lanes + (
                math.ceil(lanes / pol.relief_every_lanes) if pol.relief_every_lanes else 0
            )
            rg = lanes
            od = math.ceil(lanes / pol.lanes_per_orderly)
            od += max(0, s.min_staff - sw - rg - od)
            cost = (sw + rg + od) * len(slots[k]) * pol.slot_minutes + s.opening_staff_minutes
            j = var((0, cost, 0))
            zs.append(j)
            caps.append(cap)
            for role, n in (
                (StaffRole.SWABBER, sw),
                (StaffRole.REGISTRAR, rg),
                (StaffRole.ORDERLY, od),
            ):
                for t in slots[k]:
                    at.setdefault((role, t), []).append((j, float(n)))
                total.setdefault(role, []).append((j, float(n * len(slots[k]))))
        h.addRow(-inf, 1.0, len(zs), zs, [1.0] * len(zs))
        idx = [j for j, _v in load[k]] + zs
        val = [v for _j, v in load[k]] + [-float(c) for c in caps]
        h.addRow(-inf, 0.0, len(idx), idx, val)
    for role, p in roles.items():
        each = math.floor(p.hours_each * 60 / pol.slot_minutes + 1e-9)
        for t in range(n_t):
            terms = at.get((role, t), [])
            if terms:
                h.addRow(
                    -inf, float(p.people), len(terms), [j for j, _ in terms], [v for _, v in terms]
                )
        terms = total.get(role, [])
        if terms:
            h.addRow(
                -inf,
                float(p.people * each),
                len(terms),
                [j for j, _ in terms],
                [v for _, v in terms],
            )
    n = len(obj)
    if not n:
        return (0, 0, 0)
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


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(50))
def test_plan_equals_an_independent_milp(seed):
    """On 50 seeded small problems the plan is proven optimal, valid, and its three tiers
    equal those of a MILP written here and solved by HiGHS."""
    problem = instance(seed)
    plan = plan_sites(problem, deterministic_time=30.0)
    assert plan.info.status == SolveStatus.OPTIMAL
    report = is_valid_sites_plan(problem, plan)
    assert report.ok, report.summary()
    got = (
        round(plan.info.objective["served"]),
        round(plan.info.objective["staff_hours"] * 60),
        round(plan.info.objective["walk_person_m"]),
    )
    assert got == reference_tiers(problem)


@pytest.mark.parametrize("seed", range(5))
def test_bound_brackets_the_plan(seed):
    """The LP relaxation serves at least as many and needs at most the staff-hours and the
    walking of the optimal plan (at the same served)."""
    problem = instance(seed)
    plan = plan_sites(problem)
    bound = sites_lower_bound(problem)
    assert bound.tiers["served"] >= plan.totals.served - 1e-6
    if bound.tiers["served"] <= plan.totals.served + 1e-6:
        assert bound.tiers["staff_hours"] <= plan.totals.staff_hours + 1e-6
    assert plan.info.bound is not None and plan.info.bound <= plan.totals.staff_hours


def test_same_input_any_order_same_json():
    """Determinism: the same problem, and its records reversed, give byte-identical JSON."""
    problem = instance(7)
    again = problem.model_copy(
        update={"sites": problem.sites[::-1], "buildings": problem.buildings[::-1]}
    )
    assert plan_sites(problem).to_json() == plan_sites(again).to_json()


def test_a_preset_cancel_gives_a_valid_cancelled_plan():
    """Cancelled before it starts: status CANCELLED, and the plan keeps every rule."""
    problem = instance(3)
    stop = threading.Event()
    stop.set()
    plan = plan_sites(problem, cancel=stop)
    assert plan.info.status == SolveStatus.CANCELLED
    assert is_valid_sites_plan(problem, plan).ok


def test_a_tiny_time_limit_still_gives_a_valid_plan():
    """A time limit far too short to prove anything still returns a plan that verifies."""
    problem = instance(11)
    plan = plan_sites(problem, time_limit_s=1e-4)
    assert plan.info.status in (SolveStatus.LIMIT, SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert is_valid_sites_plan(problem, plan).ok


def _two_sites(pool: list[StaffPool], max_lanes: int = 5) -> SitesProblem:
    window = TimeWindow(start=START, end=START + timedelta(hours=2))
    sites = [CandidateSite(id="near", location=_at(0, 0), max_lanes=max_lanes)]
    buildings = [
        SitesBuilding(id="b1", location=_at(100, 0), residents=300),
        SitesBuilding(id="b2", location=_at(0, 100), residents=300),
        SitesBuilding(id="far", location=_at(5000, 0), residents=10),
    ]
    return SitesProblem(window=window, sites=sites, buildings=buildings, pool=pool)


def test_reasons_say_why_a_building_is_left_out():
    """No site in reach, the sites full at their most lanes, and the staff pool: each its
    reason, and the verifier accepts them."""
    free = _two_sites([])
    plan = plan_sites(free)
    assert {u.building_id: u.reasons[0].code for u in plan.unserved} == {
        "far": SitesReasonCode.NO_SITE_IN_REACH
    }
    assert plan.unserved[0].reasons[0].params == {"limit_m": 500, "distance_m": 5000}
    full = _two_sites([], max_lanes=2)
    plan = plan_sites(full)
    codes = {u.building_id: u.reasons[0].code for u in plan.unserved}
    assert codes["b1"] == SitesReasonCode.SITES_FULL
    assert is_valid_sites_plan(full, plan).ok
    short = _two_sites([StaffPool(role=StaffRole.SWABBER, people=3)])
    plan = plan_sites(short)
    codes = {u.building_id: u.reasons[0].code for u in plan.unserved}
    assert codes["b1"] == SitesReasonCode.STAFF_POOL_EXHAUSTED
    assert is_valid_sites_plan(short, plan).ok


def test_lanes_meet_the_p95_target_with_erlang_c():
    """Every opened site's lanes keep the 95th-percentile wait within 15 minutes, and one
    lane fewer would not."""
    problem = instance(5)
    plan = plan_sites(problem)
    for o in plan.sites:
        assert o.quantile_wait_min <= problem.policy.target_wait_min
        assert o.utilisation < 1


def test_from_org_huchiyuan_plans_and_verifies():
    """The builder takes a community's micro-sites and buildings; the plan verifies."""
    from commgov.datasets import HUCHIYUAN, gusu

    problem = sites_problem_from_org(gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN)
    plan = plan_sites(problem)
    assert plan.info.status == SolveStatus.OPTIMAL
    assert plan.totals.served == plan.totals.residents_in_reach
    assert is_valid_sites_plan(problem, plan).ok


def test_the_verifier_imports_no_solver():
    """The verifier's module imports neither OR-Tools nor HiGHS nor a solving module, and
    verifying a plan loads neither."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import commgov.scheduling.sites._verify as verify

    tree = ast.parse(Path(verify.__file__).read_text(encoding="utf-8"))
    names = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(
        k in name for name in names for k in ("ortools", "highspy", "_solve", "_bound", "_improve")
    )
    code = (
        "import sys, json; from commgov.testing._mut_sites import sites_fixtures; "
        "from commgov.scheduling.sites import SitesPlan, is_valid_sites_plan; "
        "p = sites_fixtures()['default']; plan = SitesPlan.model_validate_json(sys.stdin.read()); "
        "assert is_valid_sites_plan(p, plan).ok; "
        "print('ortools' in sys.modules, 'highspy' in sys.modules)"
    )
    from commgov.testing import fixture

    _problem, plan = fixture("sites")
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=plan.to_json(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False False"


def test_the_builder_accounts_for_every_site_and_building():
    """Records in = records placed + records in ``left_out``: a site without lanes and a
    building without walk-in residents are reported, with their reasons."""
    from commgov.datasets import gusu_divisions, synthetic_community
    from commgov.org import NodeKind, OrgGraph
    from commgov.results import LeftOutReasonCode

    code = "320508017003"
    detail = synthetic_community(code, households=300, volunteers=4, seed=1)
    spare = detail.sites[0].model_copy(update={"id": f"{code}/S99", "lanes": 0})
    sites = [spare, *detail.sites]
    graph = OrgGraph(
        gusu_divisions().merge(detail.model_copy(update={"sites": sites}), on_conflict="replace")
    )
    window = TimeWindow(start=START, end=START + timedelta(hours=4))
    problem = sites_problem_from_org(graph, code, window=window)
    left = {(lo.kind, lo.record): lo.code for lo in problem.left_out}
    assert left[("site", sites[0].id)] == LeftOutReasonCode.NO_LANES
    in_scope = {s.id for s in sites if s.parent_id in {code, *graph.descendants(code)}}
    assert {s.id for s in problem.sites} | {r for k, r in left if k == "site"} == in_scope
    buildings = set(graph.descendants(code, NodeKind.BUILDING))
    placed = {b.id for b in problem.buildings}
    assert placed | {r for k, r in left if k == "building"} == buildings
    assert all(
        c == LeftOutReasonCode.NO_HOUSEHOLDS for (k, _r), c in left.items() if k == "building"
    )


@pytest.mark.parametrize("seed", [2, 8, 13])
def test_the_neighbourhood_search_keeps_every_rule(seed, monkeypatch):
    """The district-scale path (neighbourhoods re-solved in turn) on a small problem: a
    valid plan, never more served than the exact plan nor (serving as many) fewer
    staff-hours, and the same JSON twice."""
    import commgov.scheduling.sites._solve_cpsat as solve

    problem = instance(seed)
    exact = plan_sites(problem)
    monkeypatch.setattr(solve, "LNS_PAIRS", 0)
    plan = plan_sites(problem, deterministic_time=2.0)
    assert plan.info.status == SolveStatus.FEASIBLE
    assert is_valid_sites_plan(problem, plan).ok
    assert plan.totals.served <= exact.totals.served
    if plan.totals.served == exact.totals.served:
        assert plan.totals.staff_hours >= exact.totals.staff_hours
    assert plan_sites(problem, deterministic_time=2.0).to_json() == plan.to_json()


@pytest.mark.parametrize("seed", range(30))
def test_the_splittable_bound_holds_and_is_at_least_the_lp(seed, monkeypatch):
    """The district path's bound (lanes whole, buildings splittable; ``._relax``) never
    exceeds the optimum of the MILP written here, and never falls below the LP bound; it is
    given only for a plan serving every building that fits a site in reach."""
    import commgov.scheduling.sites._solve_cpsat as solve

    problem = instance(seed)
    served, minutes, _walk = reference_tiers(problem)
    lp = sites_lower_bound(problem)
    monkeypatch.setattr(solve, "LNS_PAIRS", 0)
    plan = plan_sites(problem, deterministic_time=2.0)
    assert is_valid_sites_plan(problem, plan).ok
    if plan.info.bound is None:
        return
    assert plan.totals.served == served
    assert plan.info.bound * 60 <= minutes + 1e-6
    assert plan.info.bound >= lp.tiers["staff_hours"] - 1e-6
    assert plan.info.gap is not None and plan.info.gap >= -1e-9


def test_a_cancel_during_the_relaxation_gives_a_valid_cancelled_plan(monkeypatch):
    """Cancelled while HiGHS solves the relaxation: CANCELLED, no bound, every rule kept."""
    import commgov.scheduling.sites._relax as relax
    import commgov.scheduling.sites._solve_cpsat as solve

    problem = instance(5)
    stop = threading.Event()
    real = relax._run

    def cancel_then_run(h, ctl, phase, reserve_s):
        stop.set()
        return real(h, ctl, phase, reserve_s)

    monkeypatch.setattr(solve, "LNS_PAIRS", 0)
    monkeypatch.setattr(relax, "_run", cancel_then_run)
    plan = plan_sites(problem, cancel=stop)
    assert plan.info.status == SolveStatus.CANCELLED
    assert plan.info.bound is None
    assert is_valid_sites_plan(problem, plan).ok


@pytest.mark.parametrize("case", ["no sites", "none open in the window"])
def test_no_open_site_lists_every_building_with_its_reason(case):
    """No candidate site open in the window (none at all, or every opening outside it):
    every building with residents is unserved with ``NO_SITE_IN_REACH`` and the plan
    verifies (it used to list none of them)."""
    problem = _two_sites([])
    if case == "no sites":
        problem = problem.model_copy(update={"sites": []})
    else:
        later = TimeWindow(start=START + timedelta(hours=5), end=START + timedelta(hours=6))
        site = problem.sites[0].model_copy(update={"opening": later})
        problem = problem.model_copy(update={"sites": [site]})
    plan = plan_sites(problem)
    report = is_valid_sites_plan(problem, plan)
    assert report.ok, report.summary()
    assert sorted(u.building_id for u in plan.unserved) == ["b1", "b2", "far"]
    assert {u.reasons[0].code.value for u in plan.unserved} == {"NO_SITE_IN_REACH"}
    assert plan.totals.residents == 610 and plan.totals.served == 0
