"""Where and how many: which sampling sites to open, their lanes and staff, and who goes where.

A sub-district's decision before every round: of the candidate sites (micro-sites, open
spaces), which to open, how many lanes each needs in each slot to keep the wait within a
target, how many swabbers, registrars and orderlies staff them — within the staff pool —
and which site each building's residents walk to.

Entry points:

* :func:`plan_sites` — the plan (methods :data:`METHODS`: ``"cpsat"``), a :class:`SitesPlan`;
  lexicographic: residents in reach served within the staff pool → fewest staff-hours
  (opening work included) → least walking; the waiting target is a constraint and the
  expected waiting is reported;
* :func:`sites_lower_bound` — the LP relaxation (HiGHS), a
  :class:`commgov.results.ObjectiveBound` on served residents, staff-hours and walking;
* :func:`is_valid_sites_plan` — the independent verifier, a
  :class:`commgov.verification.VerificationReport` with :class:`SitesViolationCode`;
* :func:`sites_problem_from_org` — the sites and buildings of a place (a community, a
  sub-district, the district) of an organisation model as a :class:`SitesProblem`.

The arrival model (a documented choice): a site's residents arrive evenly over the slots it
is open, a Poisson stream of ``λ = R / H`` per hour to an M/M/c queue of ``c`` lanes; the
lanes are the fewest whose Erlang-C quantile wait meets the target, so they — and the staff —
are the same in every open slot of a site. Staff per open slot: ``c`` swabbers per lane plus
one relief swabber per started group of ``relief_every_lanes`` lanes (default 4: 1.25
swabbers a lane, for breaks in protective equipment), registrars per lane, one orderly per
started group of ``lanes_per_orderly`` lanes, and more orderlies up to a site's
``min_staff``. Which residents come in which slot is
:func:`commgov.scheduling.sampling.plan_sampling`'s job on the opened sites.

Reasons for a building left without a site are :class:`SitesReasonCode` (family
``"sites"``). OR-Tools is imported only when the planner runs, HiGHS only by the bound.
"""

from __future__ import annotations

from commgov.scheduling.sites._bound import sites_lower_bound
from commgov.scheduling.sites._from_org import sites_problem_from_org
from commgov.scheduling.sites._plan import (
    BuildingSite,
    OpenSite,
    SiteSlot,
    SitesPlan,
    SitesTotals,
    UnservedBuilding,
)
from commgov.scheduling.sites._problem import (
    MAX_SITE_LANES,
    SCHEMA_VERSION,
    CandidateSite,
    SitesBuilding,
    SitesPolicy,
    SitesProblem,
    StaffPool,
    StaffRole,
)
from commgov.scheduling.sites._reasons import SitesReasonCode
from commgov.scheduling.sites._solve import METHODS, plan_sites
from commgov.scheduling.sites._verify import (
    SitesObjective,
    SitesViolationCode,
    is_valid_sites_plan,
)

__all__ = [
    "MAX_SITE_LANES",
    "METHODS",
    "SCHEMA_VERSION",
    "BuildingSite",
    "CandidateSite",
    "OpenSite",
    "SiteSlot",
    "SitesBuilding",
    "SitesObjective",
    "SitesPlan",
    "SitesPolicy",
    "SitesProblem",
    "SitesReasonCode",
    "SitesTotals",
    "SitesViolationCode",
    "StaffPool",
    "StaffRole",
    "UnservedBuilding",
    "is_valid_sites_plan",
    "plan_sites",
    "sites_lower_bound",
    "sites_problem_from_org",
]
