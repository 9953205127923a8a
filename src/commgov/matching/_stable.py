"""Deferred acceptance for the ``stable`` objective (being implemented)."""

from __future__ import annotations

from commgov.matching.problem import Assignment, MatchingProblem


def match_stable(problem: MatchingProblem, *, propose: str = "tasks") -> Assignment:
    """Not available yet: raises ``ValueError``."""
    raise ValueError("objective 'stable' is not implemented yet; use 'min_cost' or 'fair'")
