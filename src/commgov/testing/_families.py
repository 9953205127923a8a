"""The planning families as the testing tools see them (testing only).

One :class:`Family` per family with a planner: how to call a planner of that signature on a
problem, the verifier, the result type, the violation codes, how to permute a problem's records
and the small fixture problems. :func:`fixture` solves a fixture with the family's own planner
(cached: results are frozen).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import BaseModel

from commgov.lists import Allocation, AllocationViolationCode, allocate, is_valid_allocation
from commgov.matching import (
    Assignment,
    MatchingViolationCode,
    is_valid_assignment,
    match_volunteers,
)
from commgov.matching.relay import (
    RelayPlan,
    RelayViolationCode,
    is_valid_relay_plan,
    plan_relay,
)
from commgov.scheduling.door_to_door import (
    DoorToDoorPlan,
    DoorToDoorViolationCode,
    is_valid_door_to_door_plan,
    plan_door_to_door,
)
from commgov.scheduling.notification import (
    NotificationPlan,
    NotificationViolationCode,
    is_valid_notification_plan,
    plan_notification,
)
from commgov.scheduling.roster import Roster, RosterViolationCode, is_valid_roster, plan_roster
from commgov.scheduling.sampling import (
    SamplingPlan,
    SamplingViolationCode,
    is_valid_sampling_plan,
    plan_sampling,
)
from commgov.scheduling.sites import SitesPlan, SitesViolationCode, is_valid_sites_plan, plan_sites
from commgov.scheduling.supply import (
    SupplyPlan,
    SupplyViolationCode,
    is_valid_supply_plan,
    plan_supply_stations,
)
from commgov.testing._mut_allocation import (
    ALLOCATION_MUTATIONS,
    AllocationCase,
    allocation_fixtures,
)
from commgov.testing._mut_door_to_door import DOOR_TO_DOOR_MUTATIONS, door_to_door_fixtures
from commgov.testing._mut_matching import MATCHING_MUTATIONS, matching_fixtures, shuffled
from commgov.testing._mut_notification import NOTIFICATION_MUTATIONS, notification_fixtures
from commgov.testing._mut_relay import RELAY_MUTATIONS, relay_fixtures
from commgov.testing._mut_roster import ROSTER_MUTATIONS, roster_fixtures
from commgov.testing._mut_sampling import SAMPLING_MUTATIONS, sampling_fixtures
from commgov.testing._mut_sites import SITES_MUTATIONS, sites_fixtures
from commgov.testing._mut_supply import SUPPLY_MUTATIONS, supply_fixtures
from commgov.testing._mutation import Mutation
from commgov.verification import VerificationReport

__all__ = ["FAMILIES", "MUTATIONS", "Family", "family", "fixture", "mutation_codes_covered"]


def _permute_model(problem: BaseModel, seed: int) -> Any:
    """``problem`` with every top-level list of records in a seeded random order."""
    rnd = random.Random(seed)
    data = problem.model_dump()
    for key, value in data.items():
        if isinstance(value, (list, tuple)) and len(value) > 1:
            items = list(value)
            rnd.shuffle(items)
            data[key] = items
    return type(problem).model_validate(data)


def _permute_case(case: AllocationCase, seed: int) -> AllocationCase:
    places = None if case.places is None else dict(reversed(list(case.places.items())))
    return AllocationCase(_permute_model(case.lists, seed), case.at, places,
                          case.max_distance_m)


def _call_allocate(planner: Callable[..., Any], case: AllocationCase, **kw: Any) -> Any:
    return planner(case.lists, at=case.at, places=case.places,
                   max_distance_m=case.max_distance_m, **kw)


def _verify_allocation(case: AllocationCase, result: Allocation) -> VerificationReport:
    return is_valid_allocation(case.lists, result, places=case.places)


def _call(planner: Callable[..., Any], problem: Any, **kw: Any) -> Any:
    return planner(problem, **kw)


@dataclass(frozen=True)
class Family:
    """A planning family for the conformance runner and the mutation tests.

    Attributes
    ----------
    name : str
        ``"sampling"``, ``"door_to_door"``, ``"notification"``, ``"roster"``,
        ``"matching"``, ``"relay"``, ``"allocation"``, ``"sites"`` or ``"supply"``.
    planner : callable
        The family's own planner.
    verify : callable
        ``verify(problem, result) -> VerificationReport``.
    result_type : type
        What the planner returns.
    codes : type of enum.StrEnum
        The family's violation codes.
    fixtures : callable
        ``() -> {name: problem}``: small seeded problems.
    mutations : dict of str to Mutation
        The family's mutation table.
    call : callable
        ``call(planner, problem, **options)``: runs a planner of the family's signature.
    permute : callable
        ``permute(problem, seed)``: the same problem with its records in another order.
    """

    name: str
    planner: Callable[..., Any]
    verify: Callable[[Any, Any], VerificationReport]
    result_type: type
    codes: type[StrEnum]
    fixtures: Callable[[], Mapping[str, Any]]
    mutations: dict[str, Mutation]
    call: Callable[..., Any] = _call
    permute: Callable[[Any, int], Any] = _permute_model


#: Every family with a planner, by name (staffing has formulas, checked by
#: :func:`~commgov.testing.check_staffing`).
FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("sampling", plan_sampling, is_valid_sampling_plan, SamplingPlan,
           SamplingViolationCode, sampling_fixtures, SAMPLING_MUTATIONS),
    Family("door_to_door", plan_door_to_door, is_valid_door_to_door_plan, DoorToDoorPlan,
           DoorToDoorViolationCode, door_to_door_fixtures, DOOR_TO_DOOR_MUTATIONS),
    Family("notification", plan_notification, is_valid_notification_plan, NotificationPlan,
           NotificationViolationCode, notification_fixtures, NOTIFICATION_MUTATIONS),
    Family("roster", plan_roster, is_valid_roster, Roster, RosterViolationCode,
           roster_fixtures, ROSTER_MUTATIONS),
    Family("matching", match_volunteers, is_valid_assignment, Assignment,
           MatchingViolationCode, matching_fixtures, MATCHING_MUTATIONS,
           permute=lambda p, seed: shuffled(p, seed)),
    Family("sites", plan_sites, is_valid_sites_plan, SitesPlan, SitesViolationCode,
           sites_fixtures, SITES_MUTATIONS),
    Family("supply", plan_supply_stations, is_valid_supply_plan, SupplyPlan,
           SupplyViolationCode, supply_fixtures, SUPPLY_MUTATIONS),
    Family("relay", plan_relay, is_valid_relay_plan, RelayPlan, RelayViolationCode,
           relay_fixtures, RELAY_MUTATIONS),
    Family("allocation", allocate, _verify_allocation, Allocation, AllocationViolationCode,
           allocation_fixtures, ALLOCATION_MUTATIONS, call=_call_allocate,
           permute=_permute_case),
)}

#: family → its mutation table (name → :class:`~commgov.testing.Mutation`).
MUTATIONS: dict[str, dict[str, Mutation]] = {f.name: f.mutations for f in FAMILIES.values()}


def family(name: str) -> Family:
    """The :class:`Family` called ``name``.

    Raises
    ------
    KeyError
        If there is no such family (the message lists them).
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; families: {sorted(FAMILIES)}") from None


@cache
def _problems(name: str) -> dict[str, Any]:
    return dict(family(name).fixtures())


@cache
def fixture(name: str, which: str = "default") -> tuple[Any, Any]:
    """A valid ``(problem, result)`` pair of a family: a fixture problem solved by the
    family's own planner (cached).

    Parameters
    ----------
    name : str
        The family.
    which : str, default "default"
        The fixture. For matching, ``"<problem>-<objective>"`` (``"plain-min_cost"``,
        ``"scoped-stable"`` …) or a problem name (solved with ``min_cost``).

    Returns
    -------
    tuple
        ``(problem, result)``; the result passes the family's verifier.

    Raises
    ------
    KeyError
        If the family or the fixture is unknown.
    AssertionError
        If the family's own planner's result fails its verifier.
    """
    fam = family(name)
    kwargs: dict[str, Any] = {}
    base = which
    if name == "matching" and which not in _problems(name) and "-" in which:
        base, objective = which.split("-", 1)
        kwargs["objective"] = objective
    elif name == "matching" and which == "default":
        base = "plain"
    problems = _problems(name)
    if base not in problems:
        raise KeyError(f"family {name!r} has no fixture {which!r}; fixtures: {sorted(problems)}")
    problem = problems[base]
    result = fam.call(fam.planner, problem, **kwargs)
    report = fam.verify(problem, result)
    assert report.ok, report.summary()
    return problem, result


def mutation_codes_covered(name: str) -> set[StrEnum]:
    """The violation codes the family's mutation table covers.

    Raises
    ------
    KeyError
        If there is no such family.
    """
    return {m.code for m in family(name).mutations.values()}
