"""Volunteer ↔ task matching: exact, explained, organisation-aware, with independent checks.

:func:`match_volunteers` solves a :class:`MatchingProblem` with the objective ``min_cost``
(most priority served, then fewest changes to a previous plan, then least scope penalty +
travel metres; min-cost flow, Ahuja, Magnanti & Orlin 1993, OR-Tools ``SimpleMinCostFlow``),
``fair`` (the same, with loads as even as possible before cost) or ``stable`` (deferred
acceptance). Volunteers are taken from the building's team first, then the compound, the
community pool, partner teams and riders (:func:`scope_level`); pinned pairs are kept; minute
budgets switch to CP-SAT. Every match carries a ``MATCHED`` reason and every unmatched task one
primary reason. :func:`is_valid_assignment` re-checks any result from the records alone,
importing no solver code.
"""

from __future__ import annotations

__all__: list[str] = []

# ---- volunteers (BEGIN) -----------------------------------------------------------------
from commgov.matching.volunteers import (
    MAX_ARCS,
    OBJECTIVES,
    PROPOSE_SIDES,
    SCHEMA_VERSION,
    SCOPE_ORDER,
    Assignment,
    BlockingPair,
    Match,
    MatchingObjective,
    MatchingProblem,
    MatchingReasonCode,
    MatchingTotals,
    MatchingViolationCode,
    Pin,
    ScopeLevel,
    ScopePenalties,
    Task,
    Unmatched,
    Volunteer,
    VolunteerLoad,
    blocking_pairs,
    has_skill,
    is_available,
    is_eligible,
    is_stable,
    is_valid_assignment,
    match_volunteers,
    matching_problem_from_org,
    pair_cost_m,
    scope_level,
    task_day,
    travel_distance_m,
)

__all__ += [
    "MAX_ARCS",
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
# ---- volunteers (END) -------------------------------------------------------------------

# ---- relay (BEGIN) ----------------------------------------------------------------------
from commgov.matching.relay import (
    RELAY_SCHEMA_VERSION,
    GateVolunteer,
    Parcel,
    RelayBuilding,
    RelayDelivery,
    RelayObjective,
    RelayPlan,
    RelayProblem,
    RelayReasonCode,
    RelayTotals,
    RelayTrip,
    RelayViolationCode,
    UndeliveredParcel,
    VolunteerHours,
    is_valid_relay_plan,
    plan_relay,
)

__all__ += [
    "RELAY_SCHEMA_VERSION",
    "GateVolunteer",
    "Parcel",
    "RelayBuilding",
    "RelayDelivery",
    "RelayObjective",
    "RelayPlan",
    "RelayProblem",
    "RelayReasonCode",
    "RelayTotals",
    "RelayTrip",
    "RelayViolationCode",
    "UndeliveredParcel",
    "VolunteerHours",
    "is_valid_relay_plan",
    "plan_relay",
]
# ---- relay (END) ------------------------------------------------------------------------
