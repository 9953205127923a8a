"""Supply plans: the fixture, the mutation table and a Hypothesis strategy (testing only).

Operators that change the plan's structure (which station serves which compound, which
stations open) then recompute every figure, total and objective from it (:func:`_refigure`,
with the verifier's own :func:`~commgov.scheduling.supply._verify.expected_figures`), so
that :func:`~commgov.scheduling.supply.is_valid_supply_plan` reports exactly the one code.
"""

from __future__ import annotations

from hypothesis import strategies as st

from commgov.results import Reason, SolveStatus
from commgov.scheduling.supply import (
    CandidateStation,
    OpenStation,
    SupplyCompound,
    SupplyPlan,
    SupplyPolicy,
    SupplyProblem,
    SupplyReasonCode,
    SupplyViolationCode,
    UnservedCompound,
)
from commgov.scheduling.supply._rules import carry_m
from commgov.scheduling.supply._verify import expected_figures
from commgov.testing._mutation import Mutation, MutationTable, bumped, drop_first, with_first
from commgov.types import GeoPoint

__all__ = ["SUPPLY_MUTATIONS", "supply_fixtures", "supply_problems"]

_V = SupplyViolationCode
_TABLE = MutationTable("supply")


def _at(x_m: float, y_m: float) -> GeoPoint:
    """A point ``x_m`` metres east and ``y_m`` north of a corner of Gusu."""
    return GeoPoint(lon=round(120.62 + x_m / 95_000, 6), lat=round(31.31 + y_m / 111_000, 6))


def supply_fixtures() -> dict[str, SupplyProblem]:
    """``{"default": problem}``: stations A and B 900 m apart, C between them, D north of A
    (small, one volunteer) and E far north (four volunteers); eleven compounds near them,
    one 7 km away (no station in reach) and one without parcels; a pool of eight volunteers
    and a 700 m limit."""
    stations = [
        CandidateStation(id="A", location=_at(0, 0), capacity_parcels=1000, staff=2),
        CandidateStation(id="B", location=_at(900, 0), capacity_parcels=900, staff=2),
        CandidateStation(id="C", location=_at(450, 300), capacity_parcels=500, staff=3),
        CandidateStation(id="D", location=_at(0, 600), capacity_parcels=300, staff=1),
        CandidateStation(id="E", location=_at(0, 3000), capacity_parcels=400, staff=4),
    ]
    spots = [
        (-100, 0, 310),
        (0, 150, 260),
        (120, -80, 190),
        (-60, -200, 140),
        (850, 50, 220),
        (1000, -150, 180),
        (1100, 100, 130),
        (475, 250, 90),
        (500, 380, 70),
        (30, 620, 160),
        (-80, 700, 110),
    ]
    compounds = [
        SupplyCompound(id=f"c{k:02d}", gate=_at(x, y), households=p, parcels=p)
        for k, (x, y, p) in enumerate(spots)
    ]
    compounds.append(SupplyCompound(id="far", gate=_at(7000, 0), households=40, parcels=40))
    compounds.append(SupplyCompound(id="empty", gate=_at(10, 10), households=0, parcels=0))
    problem = SupplyProblem(
        compounds=compounds,
        stations=stations,
        volunteers=8,
        policy=SupplyPolicy(max_walk_m=700),
    )
    return {"default": problem}


@st.composite
def supply_problems(draw: st.DrawFn, max_compounds: int = 12) -> SupplyProblem:
    """Small supply problems on a 1.5 km square: 1-5 stations (capacity 100-1,500 parcels,
    1-4 volunteers), up to ``max_compounds`` compounds (0-600 parcels), sometimes a pool."""
    xy = st.tuples(st.integers(0, 1500), st.integers(0, 1500))
    n_s = draw(st.integers(1, 5))
    stations = [
        CandidateStation(
            id=f"s{k}",
            location=_at(*draw(xy)),
            capacity_parcels=draw(st.integers(100, 1500)),
            staff=draw(st.integers(1, 4)),
        )
        for k in range(n_s)
    ]
    compounds = [
        SupplyCompound(id=f"c{k:02d}", gate=_at(*draw(xy)), parcels=draw(st.integers(0, 600)))
        for k in range(draw(st.integers(0, max_compounds)))
    ]
    return SupplyProblem(
        compounds=compounds,
        stations=stations,
        volunteers=draw(st.none() | st.integers(0, 12)),
        policy=SupplyPolicy(max_walk_m=draw(st.sampled_from([300, 600, 1000]))),
    )


def _refigure(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan:
    """``plan`` with every station figure, total and objective tier recomputed from its
    structure; the bound and gap dropped (they were the unchanged plan's)."""
    fig = expected_figures(problem, plan)
    stations = [o.model_copy(update=fig["stations"].get(o.station_id, {})) for o in plan.stations]
    totals = plan.totals.model_copy(update=fig["totals"])
    objective = {k: float(v) for k, v in fig["objective"]._asdict().items()}
    status = plan.info.status
    if status == SolveStatus.OPTIMAL:  # a changed plan claims no proof
        status = SolveStatus.FEASIBLE
    info = plan.info.model_copy(
        update={"objective": objective, "bound": None, "gap": None, "status": status}
    )
    return plan.model_copy(update={"stations": stations, "totals": totals, "info": info})


def _moved(problem: SupplyProblem, plan: SupplyPlan, k: int, station_id: str) -> SupplyPlan:
    """Assignment ``k`` sent to ``station_id`` (its leg recomputed), then refigured."""
    a = plan.assignments[k]
    compound = next(c for c in problem.compounds if c.id == a.compound_id)
    station = next(s for s in problem.stations if s.id == station_id)
    new = a.model_copy(update={"station_id": station_id, "carry_m": carry_m(compound, station)})
    items = [*plan.assignments[:k], new, *plan.assignments[k + 1 :]]
    return _refigure(problem, plan.model_copy(update={"assignments": items}))


@_TABLE.add(_V.UNKNOWN_RECORD)
def mutate_ghost_unserved(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """An unserved compound the problem does not have."""
    ghost = UnservedCompound(
        compound_id="ghost",
        parcels=1,
        reasons=[Reason(code=SupplyReasonCode.NO_STATION_IN_REACH, params={"limit_m": 700})],
    )
    return plan.model_copy(update={"unserved": [*plan.unserved, ghost]})


@_TABLE.add(_V.DUPLICATE_RECORD)
def mutate_assigned_twice(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """The first compound assigned twice (the same station)."""
    if not plan.assignments:
        return None
    first = plan.assignments[0]
    return plan.model_copy(update={"assignments": [first, *plan.assignments]})


@_TABLE.add(_V.MISSING_COMPOUND)
def mutate_compound_dropped(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """The first assignment removed; figures recomputed."""
    dropped = drop_first(plan, "assignments")
    return None if dropped is None else _refigure(problem, dropped)


@_TABLE.add(_V.OUT_OF_REACH)
def mutate_sent_too_far(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """A compound sent to an opened station beyond the limit that still has room for it."""
    limit = problem.policy.max_walk_m
    fig = expected_figures(problem, plan)
    stations = {s.id: s for s in problem.stations}
    compounds = {c.id: c for c in problem.compounds}
    for k, a in enumerate(plan.assignments):
        c = compounds[a.compound_id]
        for o in plan.stations:
            s = stations[o.station_id]
            room = fig["load"].get(s.id, 0) + c.parcels <= s.capacity_parcels
            if s.id != a.station_id and carry_m(c, s) > limit and room:
                return _moved(problem, plan, k, s.id)
    return None


@_TABLE.add(_V.STATION_NOT_OPENED)
def mutate_station_closed(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """The first opened station removed while its compounds still come from it."""
    dropped = drop_first(plan, "stations")
    return None if dropped is None else _refigure(problem, dropped)


@_TABLE.add(_V.OVER_CAPACITY)
def mutate_station_overfull(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """A compound moved to another opened station in reach without room for it."""
    limit = problem.policy.max_walk_m
    fig = expected_figures(problem, plan)
    stations = {s.id: s for s in problem.stations}
    compounds = {c.id: c for c in problem.compounds}
    for k, a in enumerate(plan.assignments):
        c = compounds[a.compound_id]
        for o in plan.stations:
            s = stations[o.station_id]
            full = fig["load"].get(s.id, 0) + c.parcels > s.capacity_parcels
            if s.id != a.station_id and carry_m(c, s) <= limit and full:
                return _moved(problem, plan, k, s.id)
    return None


@_TABLE.add(_V.POOL_EXCEEDED)
def mutate_pool_exceeded(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """A closed station opened (serving nothing) that takes more volunteers than are left."""
    if problem.volunteers is None:
        return None
    opened = {o.station_id for o in plan.stations}
    used = sum(s.staff for s in problem.stations if s.id in opened)
    for s in problem.stations:
        if s.id not in opened and used + s.staff > problem.volunteers:
            extra = OpenStation(
                station_id=s.id,
                compounds=0,
                households=0,
                parcels=0,
                capacity_parcels=s.capacity_parcels,
                utilisation=0.0,
                staff=s.staff,
            )
            stations = sorted([*plan.stations, extra], key=lambda o: o.station_id)
            return _refigure(problem, plan.model_copy(update={"stations": stations}))
    return None


@_TABLE.add(_V.FIGURES_MISMATCH)
def mutate_station_parcels(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """The first opened station claims one parcel more."""
    return with_first(plan, "stations", lambda o: bumped(o, "parcels"))


@_TABLE.add(_V.REASON_WRONG)
def mutate_reason_full(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """A compound with no station in reach said to find its stations full."""
    k = next(
        (
            k
            for k, u in enumerate(plan.unserved)
            if u.reasons[0].code == SupplyReasonCode.NO_STATION_IN_REACH
        ),
        None,
    )
    if k is None:
        return None
    u = plan.unserved[k]
    reason = Reason(code=SupplyReasonCode.STATIONS_FULL, params={"parcels": u.parcels})
    wrong = u.model_copy(update={"reasons": [reason]})
    return plan.model_copy(
        update={"unserved": [*plan.unserved[:k], wrong, *plan.unserved[k + 1 :]]}
    )


@_TABLE.add(_V.TOTALS_MISMATCH)
def mutate_totals_stations(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """The totals claim one station more."""
    return plan.model_copy(update={"totals": bumped(plan.totals, "stations_opened")})


@_TABLE.add(_V.OBJECTIVE_MISMATCH)
def mutate_objective_served(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """``info.objective`` claims one parcel more served."""
    objective = dict(plan.info.objective)
    objective["served"] += 1
    return plan.model_copy(update={"info": plan.info.model_copy(update={"objective": objective})})


def _claimed(plan: SupplyPlan, **update: object) -> SupplyPlan:
    return plan.model_copy(update={"info": plan.info.model_copy(update=update)})


@_TABLE.add(_V.BOUND_PAST_OBJECTIVE)
def mutate_bound_above_staff(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """``info.bound`` claims more volunteers than the plan uses (gap left as it was)."""
    staff = plan.info.objective["staff"]
    return _claimed(plan, bound=staff + 98)


@_TABLE.add(_V.GAP_WRONG)
def mutate_gap_negative(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """``info.gap`` of -5 (bound and value unchanged)."""
    if plan.info.bound is None:
        return None
    return _claimed(plan, gap=-5.0)


@_TABLE.add(_V.OPTIMAL_UNPROVEN)
def mutate_optimal_below_bound(problem: SupplyProblem, plan: SupplyPlan) -> SupplyPlan | None:
    """Status ``OPTIMAL`` with a bound one volunteer below the plan (the gap to match)."""
    staff = plan.info.objective["staff"]
    if staff < 2:
        return None
    bound = staff - 1
    return _claimed(
        plan, status=SolveStatus.OPTIMAL, stopped_by=None, bound=bound, gap=(staff - bound) / bound
    )


@_TABLE.add(_V.OPTIMAL_UNPROVEN, name="optimal_with_empty_station")
def mutate_optimal_with_empty_station(
    problem: SupplyProblem, plan: SupplyPlan
) -> SupplyPlan | None:
    """An ``OPTIMAL`` plan opens a closed station that serves nothing (within the pool);
    figures refigured, bound and gap dropped."""
    opened = {o.station_id for o in plan.stations}
    used = sum(s.staff for s in problem.stations if s.id in opened)
    for s in problem.stations:
        if s.id in opened or (
            problem.volunteers is not None and used + s.staff > problem.volunteers
        ):
            continue
        extra = OpenStation(
            station_id=s.id,
            compounds=0,
            households=0,
            parcels=0,
            capacity_parcels=s.capacity_parcels,
            utilisation=0.0,
            staff=s.staff,
        )
        stations = sorted([*plan.stations, extra], key=lambda o: o.station_id)
        wide = _refigure(problem, plan.model_copy(update={"stations": stations}))
        return _claimed(wide, status=SolveStatus.OPTIMAL, stopped_by=None, bound=None, gap=None)
    return None


#: name → :class:`~commgov.testing.Mutation` of supply plans.
SUPPLY_MUTATIONS: dict[str, Mutation] = _TABLE.mutations
