"""Testing tools for commgov and for code built on it.

* :mod:`commgov.testing.strategies` — Hypothesis strategies of records and problems;
* :data:`SAMPLING_MUTATIONS`, :data:`MATCHING_MUTATIONS` — operators that break a valid result in
  one known way, with the verifier code that must reject it;
* :func:`check_matcher`, :func:`check_scheduler` — conformance checks a third-party solver can
  run: on generated problems its results must pass commgov's independent verifiers.

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

from commgov.matching import Assignment, MatchingProblem, is_valid_assignment
from commgov.scheduling import SamplingPlan, SamplingProblem, is_valid_sampling_plan
from commgov.testing._matching import MATCHING_MUTATIONS, matching_problems
from commgov.testing._sampling import SAMPLING_MUTATIONS, sampling_problems

__all__ = ["MATCHING_MUTATIONS", "SAMPLING_MUTATIONS", "check_matcher", "check_scheduler"]


def check_matcher(
    matcher: Callable[[MatchingProblem], Assignment], *, max_examples: int = 25
) -> None:
    """Check a matcher on generated problems: every result must pass :func:`is_valid_assignment`.

    Parameters
    ----------
    matcher : callable
        Takes a :class:`~commgov.matching.MatchingProblem`, returns an
        :class:`~commgov.matching.Assignment`.
    max_examples : int, default 25
        Problems to generate.

    Raises
    ------
    AssertionError
        With the verifier's violations for the first failing problem (Hypothesis shrinks it).
    """

    @settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(matching_problems())
    def run(problem: MatchingProblem) -> None:
        report = is_valid_assignment(problem, matcher(problem))
        assert report.ok, report.violations

    run()


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
