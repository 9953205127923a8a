"""Volunteer ↔ task matching: the fixtures and the mutation table (testing only).

The operators are those of :data:`~commgov.testing._matching_mutations.MATCHING_MUTATION_SPECS`
(which also run on random problems there); here each gets the fixture on which it applies and
the verifier reports exactly its code. A fixture name is ``<problem>-<objective>``: the problem
of :func:`matching_fixtures` solved with that objective.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commgov.matching import MatchingProblem, Pin, Task, Volunteer
from commgov.testing._matching_mutations import MATCHING_MUTATION_SPECS
from commgov.testing._mutation import Mutation, MutationTable
from commgov.types import GeoPoint, TimeWindow

__all__ = ["MATCHING_MUTATIONS", "matching_fixtures", "shuffled"]

_TZ = ZoneInfo("Asia/Shanghai")


def _at(dx: float) -> GeoPoint:
    return GeoPoint(lon=120.62 + dx / (111_195.0 * math.cos(math.radians(31.31))), lat=31.31)


def _win(hour: int, hours: int = 1, day: int = 10) -> TimeWindow:
    start = datetime(2022, 4, day, 0, tzinfo=_TZ) + timedelta(hours=hour)
    return TimeWindow(start=start, end=start + timedelta(hours=hours))


def _task(tid: str, skill: str = "delivery", *, hour: int = 9, dx: float = 0.0,
          **kw: Any) -> Task:
    return Task(id=tid, skill=skill, location=_at(dx), window=_win(hour), **kw)


def _vol(vid: str, skills: dict[str, int] | None = None, *, dx: float = 0.0,
         availability: list[TimeWindow] | None = None, per_slot: int = 1, per_day: int = 8,
         **kw: Any) -> Volunteer:
    return Volunteer(id=vid, location=_at(dx),
                     skills={"delivery": 3} if skills is None else skills,
                     availability=[_win(0, 24 * 4, day=9)] if availability is None
                     else availability,
                     capacity_per_slot=per_slot, capacity_per_day=per_day, **kw)


def matching_fixtures() -> dict[str, MatchingProblem]:
    """Three small problems: ``"plain"`` (capacities, a task nobody can do, volunteers
    lacking the skill, too far or out of window), ``"scoped"`` (organisation scopes with an
    out-of-scope volunteer, a pin, a previous plan, a task left for want of capacity) and
    ``"budgets"`` (minute budgets) and ``"declined"`` (declined pairs: a task every volunteer
    declined, one some declined)."""
    plain = MatchingProblem(timezone="Asia/Shanghai", tasks=[
        _task("a1", dx=50), _task("a2", dx=60), _task("a3", dx=70),
        _task("b1", hour=10, dx=50), _task("c1", hour=11, dx=40), _task("m1", "medic"),
    ], volunteers=[
        _vol("v1", per_day=2), _vol("v2", dx=20, per_day=2), _vol("v3", dx=30, per_day=2),
        _vol("cook", {"cook": 5}), _vol("far", dx=5000),
        _vol("late", availability=[_win(20, 2)]),
    ])
    west: dict[str, Any] = {"compound_id": "c1", "community_id": "west"}
    scoped = MatchingProblem(timezone="Asia/Shanghai", tasks=[
        _task("p1", dx=40, building_id="b1", **west),
        _task("p2", dx=60, building_id="b2", **west),
        _task("p3", hour=10, dx=30, building_id="b1", **west),
        _task("p4", hour=10, dx=80, building_id="b2", **west),
        _task("p5", hour=10, dx=90, building_id="b2", **west),
    ], volunteers=[
        _vol("w1", per_day=2, building_ids=["b1"], **west),
        _vol("w2", dx=20, per_day=2, building_ids=["b2"], **west),
        _vol("w3", dx=50, per_day=1, community_id="west"),
        _vol("e1", dx=10, community_id="east"),
        _vol("r1", dx=100, availability=[_win(9)], partner=True),
    ], pinned=[Pin(task_id="p2", volunteer_id="w2")],
        previous=[Pin(task_id="p1", volunteer_id="w1"), Pin(task_id="p3", volunteer_id="gone")])
    budgets = MatchingProblem(timezone="Asia/Shanghai", tasks=[
        _task(t, hour=h, dx=10 * h, duration_min=60)
        for t, h in (("k1", 9), ("k2", 10), ("k3", 11))
    ], volunteers=[
        _vol("x1", per_day=3, minutes_per_day=90),
        _vol("x2", dx=20, per_day=3, minutes_per_day=90),
        _vol("x3", dx=40, per_day=3, minutes_per_day=120),
    ])
    declined = MatchingProblem(timezone="Asia/Shanghai", tasks=[
        _task("d1", dx=40), _task("d2", dx=50), _task("d3", hour=10, dx=30),
    ], volunteers=[
        _vol("u1", per_day=2), _vol("u2", dx=20, per_day=2),
    ], declined=[Pin(task_id="d1", volunteer_id="u1"), Pin(task_id="d3", volunteer_id="u1"),
                 Pin(task_id="d3", volunteer_id="u2")])
    return {"plain": plain, "scoped": scoped, "budgets": budgets, "declined": declined}


#: The fixture (``<problem>-<objective>``) each operator is checked on.
_FIXTURE = {
    "skill_missing": "plain-min_cost", "out_of_scope": "scoped-min_cost",
    "too_far": "plain-min_cost", "out_of_window": "plain-min_cost",
    "double_booked": "plain-min_cost", "over_day_capacity": "plain-min_cost",
    "over_minutes": "budgets-min_cost", "pin_broken": "scoped-min_cost",
    "pinned_flag_false": "scoped-min_cost", "pin_claimed": "scoped-min_cost",
    "blocking_pair": "plain-stable", "cost_mismatch": "plain-min_cost",
    "match_cost_mismatch": "plain-min_cost", "totals_mismatch": "plain-min_cost",
    "changes_mismatch": "plain-min_cost", "load_mismatch": "plain-min_cost",
    "objective_mismatch": "plain-min_cost", "objective_order": "plain-min_cost",
    "priority_mismatch": "plain-min_cost", "slot_mismatch": "plain-min_cost",
    "scope_mismatch": "scoped-min_cost", "dropped_task": "plain-min_cost",
    "duplicate_task": "plain-min_cost", "unknown_volunteer": "plain-min_cost",
    "unknown_task": "plain-min_cost", "reason_false": "plain-min_cost",
    "time_limit_false": "plain-min_cost", "cancelled_false": "plain-min_cost",
    "unmatch_servable": "plain-min_cost", "matched_reason_false": "plain-min_cost",
    "pinned_reason_missing": "scoped-min_cost", "declined_pair": "declined-min_cost",
}

_TABLE = MutationTable("matching")
for _name, _spec in MATCHING_MUTATION_SPECS.items():
    _TABLE.add(_spec.code, name=_name, fixture=_FIXTURE[_name])(_spec.operator)
#: name → :class:`~commgov.testing.Mutation` of matching results.
MATCHING_MUTATIONS: dict[str, Mutation] = _TABLE.mutations


def shuffled(problem: MatchingProblem, seed: int) -> MatchingProblem:
    """The problem with every list (and skills dict) in a seeded random order."""
    rnd = random.Random(seed)
    data = problem.model_dump()

    def mix(items: list[Any]) -> list[Any]:
        items = list(items)
        rnd.shuffle(items)
        return items

    for vol in data["volunteers"]:
        vol["skills"] = dict(mix(list(vol["skills"].items())))
        vol["availability"] = mix(vol["availability"])
        vol["building_ids"] = mix(vol["building_ids"])
    for name in ("tasks", "volunteers", "pinned", "previous", "declined"):
        if name in data:  # declined is not written when empty
            data[name] = mix(data[name])
    return MatchingProblem.model_validate(data)
