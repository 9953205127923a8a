"""Supply transit stations: which sites serve as 物资中转站 and which compounds each serves.

The first leg of the relay delivery (接力配送): parcels reach a supply transit station,
carriers take each compound's parcels from its station to the compound's gate, and gate
volunteers carry them to the doors (the gate → door leg: :func:`commgov.matching.plan_relay`
and the ``relay`` submodel of :mod:`commgov.sim`). A sub-district decides before a
lockdown day which micro-sites to open as stations and which compounds each serves.

Entry points:

* :func:`plan_supply_stations` — the plan (methods :data:`METHODS`: ``"highs"``, ``"cpsat"``), a
  :class:`SupplyPlan`; lexicographic: parcels of compounds in reach served within the
  volunteer pool → fewest volunteers running stations → least parcel-metres carried;
* :func:`supply_lower_bound` — the LP relaxation (HiGHS), a
  :class:`commgov.results.ObjectiveBound` on parcels served, volunteers and parcel-metres;
* :func:`is_valid_supply_plan` — the independent verifier, a
  :class:`commgov.verification.VerificationReport` with :class:`SupplyViolationCode`;
* :func:`supply_problem_from_org` — the stations and compounds of a place (a community, a
  sub-district, the district) of an organisation model as a :class:`SupplyProblem`.

A plan's station per compound is where the compound's relay starts
(``plan.station_of(compound_id)``); :func:`commgov.sim.station_relay_gate` turns a station of
a plan into the relay simulation's shelf, its walks the station → gate leg plus the gate →
door walk.
Reasons for a compound left without a station are :class:`SupplyReasonCode` (family
``"supply"``). OR-Tools is imported only when the planner runs, HiGHS only by the bound.
"""

from __future__ import annotations

from commgov.scheduling.supply._bound import supply_lower_bound
from commgov.scheduling.supply._from_org import STATION_FUNCTIONS, supply_problem_from_org
from commgov.scheduling.supply._plan import (
    CompoundStation,
    OpenStation,
    SupplyPlan,
    SupplyTotals,
    UnservedCompound,
)
from commgov.scheduling.supply._problem import (
    MAX_STATION_PARCELS,
    SCHEMA_VERSION,
    CandidateStation,
    SupplyCompound,
    SupplyPolicy,
    SupplyProblem,
)
from commgov.scheduling.supply._reasons import SupplyReasonCode
from commgov.scheduling.supply._solve import METHODS, plan_supply_stations
from commgov.scheduling.supply._verify import (
    SupplyObjective,
    SupplyViolationCode,
    is_valid_supply_plan,
)

__all__ = [
    "MAX_STATION_PARCELS",
    "METHODS",
    "SCHEMA_VERSION",
    "STATION_FUNCTIONS",
    "CandidateStation",
    "CompoundStation",
    "OpenStation",
    "SupplyCompound",
    "SupplyObjective",
    "SupplyPlan",
    "SupplyPolicy",
    "SupplyProblem",
    "SupplyReasonCode",
    "SupplyTotals",
    "SupplyViolationCode",
    "UnservedCompound",
    "is_valid_supply_plan",
    "plan_supply_stations",
    "supply_lower_bound",
    "supply_problem_from_org",
]
