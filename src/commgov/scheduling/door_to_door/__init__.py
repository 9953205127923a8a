"""Door-to-door rounds (上门采样): two-person teams visiting sealed and home-bound households.

Households of sealed buildings (封控区, residents stay home: "1 household, 1 tube") and
registered mobility-limited residents (行动不便) are sampled at their door by two-person teams
(one swabs, one registers) who leave a base (the community office or a sampling point), visit
households and come back, inside their shift. A plan minimises, lexicographically:

1. ``uncovered``: households left out (each with a checkable reason,
   :class:`DoorToDoorReasonCode`);
2. ``makespan_s``: the latest return to the base, counted from the earliest shift start of
   any team (the plan's ``origin``);
3. ``travel_s``: total travel of all teams (walking, stairs or lift, between doors).

Entry points
------------
* :class:`DoorToDoorProblem` (with :class:`RoundBuilding`, :class:`RoundHousehold`,
  :class:`RoundTeam`, :class:`RoundPolicy`) — the problem;
  :func:`door_to_door_problem_from_org` builds one from an organisation model.
* :func:`plan_door_to_door` — the planner (methods :data:`METHODS`), returning a
  :class:`DoorToDoorPlan`.
* :func:`door_to_door_lower_bound` — the analytic bound
  (:class:`commgov.results.ObjectiveBound`).
* :func:`is_valid_door_to_door_plan` — the independent verifier
  (:class:`DoorToDoorViolationCode`).
* The time rules the solver, the bound and the verifier share: :func:`leg_seconds`,
  :func:`service_seconds`, :func:`floor_seconds`, :func:`walk_matrix`,
  :func:`walk_seconds`, :func:`walk_metres`, :func:`team_units`.
* :func:`sealed_household_layout` and :func:`building_leaves` — the layout rule of sealed
  entrances, shared with the simulation's extra sealing.

Synthetic instances: :func:`commgov.datasets.door_to_door_instance`. OR-Tools is imported
only when :func:`plan_door_to_door` runs.

The time model (whole seconds)
------------------------------
* A **building** is one stairwell: the households reached from one ground-floor door by one
  stair or lift. Climbing one floor, up or down, takes :func:`floor_seconds` (default 2 min
  by stairs, 0.1 min by lift).
* **Walking** between two places (the base, buildings) takes :func:`walk_seconds`: the
  great-circle distance × ``detour_factor`` (1.3) at ``walking_speed_m_per_min`` (80 m/min),
  closed under shortest paths (:func:`walk_matrix`) so that it obeys the triangle inequality.
* A **leg** (:func:`leg_seconds`) inside a building takes ``door_gap + floor_s·|f − f'|``;
  between buildings, down to the ground, across and up.
* **Service** at a household takes :func:`service_seconds` (default 2.5 min + 0.5 min per
  resident).
* A team unit departs at its shift start, serves its households in order without waiting and
  must be back by ``min(shift.end, shift.start + max_minutes)`` (:func:`team_units`).

The analytic lower bound (:func:`door_to_door_lower_bound`)
-----------------------------------------------------------
The textbook bound is ``max(Σ_h (service_h + least inbound travel_h) / teams,
max_h (2·d(base, h) + service_h))``: a work bound (all the work shared perfectly) and the
farthest household served alone. Here both terms are computed so that the climbing every
stairwell needs is counted once ("building-level aggregation") while staying valid for plans
that split a building between teams or visits:

* every leg decomposes into a *horizontal* part (a walk, or ``door_gap`` inside a building)
  and a *vertical* part (floors climbed or descended in one building). Cut the households of
  building ``b`` into *visits* (maximal runs of one route inside ``b``). A visit is entered by
  a walk of at least ``wmin(b)`` (the shortest walk into ``b`` from the base or another
  covered building), climbs to its highest floor ``t`` and back down (``2·floor_s(b)·(t −
  1)``), and has one ``door_gap`` per household after the first. Charge the entry and the
  climb to the visit's highest household and a ``door_gap`` to each other household: the
  highest household of ``b`` is always charged the first, any other household ``h`` at least
  ``min(door_gap, wmin(b) + 2·floor_s(b)·(f_h − 1))``. So the work is
  ``W = Σ_h service_h + Σ_b [wmin(b) + 2·floor_s(b)·(F_b − 1) + Σ_{h ≠ top} min(door_gap,
  wmin(b) + 2·floor_s(b)·(f_h − 1))]`` — the "least inbound travel" at building level,
  valid for plans that split a building between routes or visits;
* every used route also walks out from the base (at least ``min_b walk(base, b) − wmin(b)``
  beyond what ``wmin`` counted) and back (``min_b walk(b, base)``): ``ρ`` per route;
* team units start at ``S_k`` and must be back by ``E_k`` (seconds after the origin): the
  makespan ``M`` satisfies ``Σ_k max(0, min(M, E_k) − S_k − ρ) ≥ W``; the **work term** is the
  least such ``M`` (with equal starts and no limits it is ``S + W/teams + ρ``);
* the **farthest term**: each household ``h`` is served by some unit that can do it alone,
  which returns no earlier than ``S_k + alone_h``, ``alone_h = walk(base, b) + climb +
  service + climb + walk(b, base)`` (walking obeys the triangle inequality, so no route
  reaches ``h`` sooner);
* the textbook formula itself (household-level least inbound leg, shared over the units'
  available time as above) is also computed (``formula_s``); the bound is the largest of the
  three.

Every term is a lower bound on the makespan of *any* plan covering the same households, so the
plan is proven optimal in makespan when it reaches the bound.
"""

# Importing _reasons registers the family's reason codes.
from commgov.scheduling.door_to_door._bound import door_to_door_lower_bound
from commgov.scheduling.door_to_door._from_org import (
    building_leaves,
    door_to_door_problem_from_org,
    sealed_household_layout,
)
from commgov.scheduling.door_to_door._plan import (
    DoorToDoorPlan,
    RoundStop,
    RoundTotals,
    TeamRoute,
    UncoveredHousehold,
)
from commgov.scheduling.door_to_door._problem import (
    SCHEMA_VERSION,
    Access,
    DoorToDoorProblem,
    RoundBuilding,
    RoundHousehold,
    RoundPolicy,
    RoundTeam,
    VisitKind,
)
from commgov.scheduling.door_to_door._reasons import DoorToDoorReasonCode
from commgov.scheduling.door_to_door._rules import (
    floor_seconds,
    leg_seconds,
    service_seconds,
    team_units,
    walk_matrix,
    walk_metres,
    walk_seconds,
)
from commgov.scheduling.door_to_door._solve import MAX_HOUSEHOLDS, METHODS, plan_door_to_door
from commgov.scheduling.door_to_door._verify import (
    DoorToDoorViolationCode,
    is_valid_door_to_door_plan,
)

__all__ = [
    "MAX_HOUSEHOLDS",
    "METHODS",
    "SCHEMA_VERSION",
    "Access",
    "DoorToDoorPlan",
    "DoorToDoorProblem",
    "DoorToDoorReasonCode",
    "DoorToDoorViolationCode",
    "RoundBuilding",
    "RoundHousehold",
    "RoundPolicy",
    "RoundStop",
    "RoundTeam",
    "RoundTotals",
    "TeamRoute",
    "UncoveredHousehold",
    "VisitKind",
    "building_leaves",
    "door_to_door_lower_bound",
    "door_to_door_problem_from_org",
    "floor_seconds",
    "is_valid_door_to_door_plan",
    "leg_seconds",
    "plan_door_to_door",
    "sealed_household_layout",
    "service_seconds",
    "team_units",
    "walk_matrix",
    "walk_metres",
    "walk_seconds",
]
