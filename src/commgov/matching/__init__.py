"""Volunteer ↔ task matching, solved exactly, with an independent verifier.

:func:`match_volunteers` solves a :class:`MatchingProblem` as a min-cost flow (Ahuja,
Magnanti & Orlin 1993; OR-Tools ``SimpleMinCostFlow``, imported only when solving): it
maximises the sum of priorities served, then minimises travel in metres. Every unmatched task
carries one machine-readable reason. :func:`is_valid_assignment` re-checks any result from the
records alone, importing no solver code.
"""

from commgov.matching._flow import MAX_ARCS, match_volunteers
from commgov.matching._from_org import matching_problem_from_org
from commgov.matching.problem import (
    SCHEMA_VERSION,
    Assignment,
    Match,
    MatchingProblem,
    MatchingTotals,
    Task,
    Unmatched,
    Volunteer,
    VolunteerLoad,
    has_skill,
    is_available,
    is_eligible,
    task_day,
    travel_distance_m,
)
from commgov.matching.verify import (
    MatchingObjective,
    VerificationReport,
    Violation,
    ViolationCode,
    is_valid_assignment,
)

__all__ = [
    "MAX_ARCS",
    "SCHEMA_VERSION",
    "Assignment",
    "Match",
    "MatchingObjective",
    "MatchingProblem",
    "MatchingTotals",
    "Task",
    "Unmatched",
    "VerificationReport",
    "Violation",
    "ViolationCode",
    "Volunteer",
    "VolunteerLoad",
    "has_skill",
    "is_available",
    "is_eligible",
    "is_valid_assignment",
    "match_volunteers",
    "matching_problem_from_org",
    "task_day",
    "travel_distance_m",
]
