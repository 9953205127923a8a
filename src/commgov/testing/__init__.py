"""Testing tools for commgov and for code built on it.

* :mod:`commgov.testing.strategies` — Hypothesis strategies of records and problems;
* :data:`MUTATIONS` — family → its mutation table (:data:`SAMPLING_MUTATIONS`,
  :data:`DOOR_TO_DOOR_MUTATIONS`, :data:`NOTIFICATION_MUTATIONS`, :data:`ROSTER_MUTATIONS`,
  :data:`MATCHING_MUTATIONS`, :data:`RELAY_MUTATIONS`, :data:`ALLOCATION_MUTATIONS`,
  :data:`SITES_MUTATIONS`, :data:`SUPPLY_MUTATIONS`): name →
  :class:`Mutation`, an operator that breaks a valid result of :func:`fixture` in one known
  way, rejected by the family's verifier with exactly its code; together they cover every
  violation code (:func:`mutation_codes_covered`);
* :func:`check_planner` — the generic conformance runner: a planner (the family's own or a
  third party's with the same signature) on the family's fixture problems must return the
  result type, pass the verifier, be deterministic and order-invariant, refuse bad time
  limits, honour a pre-set cancel and report progress; :func:`check_staffing` checks the
  staffing formulas; :func:`parametrize_with_checks` turns (family, check) pairs into a
  ``pytest.mark.parametrize``;
* :func:`check_matcher` — conformance check a third-party matcher can run: on seeded
  instances and edge cases (:func:`matching_edge_cases`, :func:`with_scopes`) its results must
  pass :func:`~commgov.matching.is_valid_assignment`, be deterministic and independent of input
  order, and (``min_cost``, ``fair``) reach the objective tiers of commgov's exact solver;
  built on :func:`check_planner`; every runner returns a :class:`ConformanceReport`;
* :func:`check_scheduler` — on generated problems a sampling scheduler's plans must pass
  :func:`~commgov.scheduling.is_valid_sampling_plan`.

Nothing in the commgov runtime imports this package; it needs the ``testing`` extra.
"""

from __future__ import annotations

from collections.abc import Callable

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    from commgov.errors import MissingExtraError

    raise MissingExtraError("hypothesis", "testing") from exc

from hypothesis import HealthCheck, given, settings

from commgov.scheduling import SamplingPlan, SamplingProblem, is_valid_sampling_plan
from commgov.testing._check import (
    PLANNER_CHECKS,
    STAFFING_CHECKS,
    check_planner,
    check_staffing,
    parametrize_with_checks,
)
from commgov.testing._conformance import (
    check_matcher,
    matching_edge_cases,
    with_scopes,
)
from commgov.testing._families import (
    FAMILIES,
    MUTATIONS,
    Family,
    fixture,
    mutation_codes_covered,
)
from commgov.testing._mut_allocation import ALLOCATION_MUTATIONS, AllocationCase
from commgov.testing._mut_door_to_door import DOOR_TO_DOOR_MUTATIONS
from commgov.testing._mut_matching import MATCHING_MUTATIONS
from commgov.testing._mut_notification import NOTIFICATION_MUTATIONS
from commgov.testing._mut_relay import RELAY_MUTATIONS
from commgov.testing._mut_roster import ROSTER_MUTATIONS
from commgov.testing._mut_sampling import SAMPLING_MUTATIONS
from commgov.testing._mut_sites import SITES_MUTATIONS
from commgov.testing._mut_supply import SUPPLY_MUTATIONS
from commgov.testing._mutation import Mutation
from commgov.testing._report import ConformanceCheck, ConformanceFailure, ConformanceReport
from commgov.testing._sampling import sampling_problems

__all__ = [
    "ALLOCATION_MUTATIONS",
    "DOOR_TO_DOOR_MUTATIONS",
    "FAMILIES",
    "MATCHING_MUTATIONS",
    "MUTATIONS",
    "NOTIFICATION_MUTATIONS",
    "PLANNER_CHECKS",
    "RELAY_MUTATIONS",
    "ROSTER_MUTATIONS",
    "SAMPLING_MUTATIONS",
    "SITES_MUTATIONS",
    "STAFFING_CHECKS",
    "SUPPLY_MUTATIONS",
    "AllocationCase",
    "ConformanceCheck",
    "ConformanceFailure",
    "ConformanceReport",
    "Family",
    "Mutation",
    "check_matcher",
    "check_planner",
    "check_scheduler",
    "check_staffing",
    "fixture",
    "matching_edge_cases",
    "mutation_codes_covered",
    "parametrize_with_checks",
    "with_scopes",
]


def check_scheduler(
    scheduler: Callable[[SamplingProblem], SamplingPlan], *, max_examples: int = 15
) -> None:
    """Check a sampling scheduler: every plan must pass :func:`is_valid_sampling_plan`.

    Parameters
    ----------
    scheduler : callable
        Takes a :class:`~commgov.scheduling.SamplingProblem`, returns a
        :class:`~commgov.scheduling.SamplingPlan`.
    max_examples : int, default 15
        Problems to generate.

    Raises
    ------
    AssertionError
        With the verifier's violations for the first failing problem.
    """

    @settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(sampling_problems())
    def run(problem: SamplingProblem) -> None:
        report = is_valid_sampling_plan(problem, scheduler(problem))
        assert report.ok, report.violations

    run()
