"""Volunteer ↔ task matching: exact, explained, organisation-aware, with independent checks.

Entry points:

* :func:`match_volunteers` — solve a :class:`MatchingProblem` with the objective ``min_cost``
  (most priority served, then fewest changes to a previous plan, then least scope penalty +
  travel metres), ``fair`` (the same, with loads as even as possible before cost) or
  ``stable`` (deferred acceptance), by one of :data:`METHODS` (min-cost flow, CP-SAT for
  minute budgets, deferred acceptance). Volunteers are taken from the building's team first,
  then the compound, the community pool, partner teams and riders (:func:`scope_level`);
  pinned pairs are kept. Every match carries a ``MATCHED`` reason and every unmatched task one
  primary reason (:class:`MatchingReasonCode`).
* :func:`is_valid_assignment` — re-check any result from the records alone, importing no
  solver code; returns the shared :class:`~commgov.verification.VerificationReport` with
  :class:`MatchingViolationCode` codes and the recomputed :class:`MatchingObjective`.
* :func:`blocking_pairs`, :func:`is_stable` — weak stability under the ``stable`` preferences.
* :func:`matching_problem_from_org` — a problem from an organisation model.
* The predicates solvers and verifier share: :func:`is_eligible`, :func:`has_skill`,
  :func:`is_available`, :func:`scope_level`, :func:`travel_distance_m`,
  :func:`pair_cost_m`, :func:`task_day`.
"""

from __future__ import annotations

from commgov.matching.volunteers._from_org import matching_problem_from_org
from commgov.matching.volunteers._match import (
    METHODS,
    OBJECTIVES,
    PROPOSE_SIDES,
    match_volunteers,
)
from commgov.matching.volunteers._problem import (
    SCHEMA_VERSION,
    SCOPE_ORDER,
    Assignment,
    Match,
    MatchingProblem,
    MatchingTotals,
    Pin,
    ScopeLevel,
    ScopePenalties,
    Task,
    Unmatched,
    Volunteer,
    VolunteerLoad,
)
from commgov.matching.volunteers._rules import (
    MatchingReasonCode,
    has_skill,
    is_available,
    is_eligible,
    pair_cost_m,
    scope_level,
    task_day,
    travel_distance_m,
)
from commgov.matching.volunteers._solve_flow import MAX_ARCS
from commgov.matching.volunteers._verify import (
    MatchingObjective,
    MatchingViolationCode,
    is_valid_assignment,
)
from commgov.matching.volunteers._verify_stability import (
    BlockingPair,
    blocking_pairs,
    is_stable,
)

__all__ = [
    "MAX_ARCS",
    "METHODS",
    "OBJECTIVES",
    "PROPOSE_SIDES",
    "SCHEMA_VERSION",
    "SCOPE_ORDER",
    "Assignment",
    "BlockingPair",
    "Match",
    "MatchingObjective",
    "MatchingProblem",
    "MatchingReasonCode",
    "MatchingTotals",
    "MatchingViolationCode",
    "Pin",
    "ScopeLevel",
    "ScopePenalties",
    "Task",
    "Unmatched",
    "Volunteer",
    "VolunteerLoad",
    "blocking_pairs",
    "has_skill",
    "is_available",
    "is_eligible",
    "is_stable",
    "is_valid_assignment",
    "match_volunteers",
    "matching_problem_from_org",
    "pair_cost_m",
    "scope_level",
    "task_day",
    "travel_distance_m",
]
