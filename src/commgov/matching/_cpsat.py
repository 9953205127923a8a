"""CP-SAT variant for minute budgets (being implemented)."""

from __future__ import annotations

from commgov.matching.problem import Assignment, MatchingProblem


def match_minutes(problem: MatchingProblem, *, time_limit_s: float, seed: int) -> Assignment:
    """Not available yet: raises ``ValueError``."""
    raise ValueError("minute budgets are not supported yet; leave minutes_per_day unset")
