"""Testing tools for commgov and for code built on it.

* :mod:`commgov.testing.strategies` — Hypothesis strategies of records and problems;
* :data:`SAMPLING_MUTATIONS`, :data:`MATCHING_MUTATIONS` — operators that break a valid result in
  one known way, with the verifier code that must reject it;
* :func:`check_matcher` — conformance check a third-party matcher can run: on seeded
  instances and edge cases (:func:`matching_edge_cases`, :func:`with_scopes`) its results must
  pass :func:`~commgov.matching.is_valid_assignment`, be deterministic and independent of input
  order, and (``min_cost``, ``fair``) reach the objective tiers of commgov's exact solver;
  returns a :class:`ConformanceReport`;
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
from commgov.testing._conformance import (
    ConformanceCheck,
    ConformanceFailure,
    ConformanceReport,
    check_matcher,
    matching_edge_cases,
    with_scopes,
)
from commgov.testing._matching_mutations import MATCHING_MUTATIONS
from commgov.testing._sampling import SAMPLING_MUTATIONS, sampling_problems

__all__ = [
    "MATCHING_MUTATIONS",
    "SAMPLING_MUTATIONS",
    "ConformanceCheck",
    "ConformanceFailure",
    "ConformanceReport",
    "check_matcher",
    "check_scheduler",
    "matching_edge_cases",
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
