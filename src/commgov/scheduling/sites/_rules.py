"""The rules the site planner, its bound and its verifier share (private; no solver).

The queue of a site (the arrival model)
---------------------------------------
The residents assigned to a site arrive spread evenly over the slots the site is open, as a
Poisson stream of ``λ = R / H`` people per hour (``R`` residents, ``H`` open hours); each of
``c`` lanes swabs ``μ`` people per hour (exponential service); one FCFS queue (M/M/c). The
site meets the waiting target with ``c`` lanes when ``λ < cμ`` and the ``q``-quantile of the
wait, ``ln(C(c, λ/μ) / (1 − q)) / (cμ − λ)`` (0 when ``q ≤ 1 − C``), is at most the target
(:func:`commgov.scheduling.staffing.wait_quantile_min`). Since the arrival rate is the same
in every open slot, so are the lanes and the staff; *which* residents come in which slot is
:func:`commgov.scheduling.sampling.plan_sampling`'s job on the chosen sites.

Staff per open slot for ``c`` lanes: ``swabbers = c·swabbers_per_lane + ⌈c / relief⌉``,
``registrars = c·registrars_per_lane``, ``orderlies = ⌈c / lanes_per_orderly⌉``, and more
orderlies up to the site's ``min_staff``. All are non-decreasing in ``c``.
"""

from __future__ import annotations

import math
from datetime import timedelta
from fractions import Fraction

from commgov.scheduling.sites._problem import (
    CandidateSite,
    SitesBuilding,
    SitesProblem,
    StaffRole,
)
from commgov.scheduling.staffing import mean_wait_min, wait_quantile_min
from commgov.types import haversine_m

__all__ = [
    "ROLES",
    "arrivals_per_hour",
    "capacity",
    "lanes_needed",
    "meets_wait",
    "open_slots",
    "pool_limits",
    "queue_of",
    "site_rate",
    "staff_for",
    "walk_m",
]

#: The roles in the order of every per-role tuple.
ROLES: tuple[StaffRole, ...] = (StaffRole.SWABBER, StaffRole.REGISTRAR, StaffRole.ORDERLY)


def open_slots(problem: SitesProblem, site: CandidateSite) -> list[int]:
    """The slots (indices) the site is open for in whole; O(T)."""
    n_t = problem.n_slots
    if site.opening is None:
        return list(range(n_t))
    delta = timedelta(minutes=problem.policy.slot_minutes)
    start = problem.window.start
    first = max(0, -((start - site.opening.start) // delta))
    last = min(n_t, (site.opening.end - start) // delta)
    return list(range(first, last)) if first < last else []


def site_rate(problem: SitesProblem, site: CandidateSite) -> float:
    """People one lane of the site swabs per hour."""
    rate = site.rate_per_lane_per_hour
    return problem.policy.rate_per_lane_per_hour if rate is None else rate


def walk_m(building: SitesBuilding, site: CandidateSite) -> int:
    """Great-circle distance building → site, rounded to whole metres."""
    a, b = building.location, site.location
    return round(haversine_m(a.lon, a.lat, b.lon, b.lat))


def arrivals_per_hour(residents: int, n_open: int, slot_minutes: int) -> float:
    """``λ = residents / open hours`` (0 when the site is open for no slot)."""
    if n_open == 0:
        return 0.0
    return residents * 60 / (n_open * slot_minutes)


def meets_wait(
    problem: SitesProblem, site: CandidateSite, n_open: int, lanes: int, residents: int
) -> bool:
    """Whether ``lanes`` lanes keep the quantile wait of ``residents`` within the target."""
    if residents == 0:
        return True
    if lanes <= 0 or n_open == 0:
        return False
    lam = arrivals_per_hour(residents, n_open, problem.policy.slot_minutes)
    mu = site_rate(problem, site)
    if lam >= lanes * mu:
        return False
    pol = problem.policy
    return wait_quantile_min(lanes, lam, mu, pol.wait_quantile) <= pol.target_wait_min


def capacity(problem: SitesProblem, site: CandidateSite, n_open: int, lanes: int) -> int:
    """Most residents ``lanes`` lanes serve within the waiting target (bisection, O(c log R))."""
    if lanes <= 0 or n_open == 0:
        return 0
    hours = n_open * problem.policy.slot_minutes / 60
    lo, hi = 0, math.ceil(lanes * site_rate(problem, site) * hours) + 1  # meets(lo), not hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets_wait(problem, site, n_open, lanes, mid):
            lo = mid
        else:
            hi = mid
    return lo


def lanes_needed(
    problem: SitesProblem, site: CandidateSite, n_open: int, residents: int
) -> int | None:
    """Fewest lanes meeting the target for ``residents`` (0 for none; ``None``: more than
    the site's ``max_lanes``)."""
    if residents == 0:
        return 0
    for lanes in range(1, site.max_lanes + 1):
        if meets_wait(problem, site, n_open, lanes, residents):
            return lanes
    return None


def staff_for(problem: SitesProblem, site: CandidateSite, lanes: int) -> tuple[int, int, int]:
    """Staff present in each open slot for ``lanes`` lanes: (swabbers, registrars, orderlies).

    ``(0, 0, 0)`` for a closed site (0 lanes).
    """
    if lanes <= 0:
        return (0, 0, 0)
    pol = problem.policy
    relief = -(-lanes // pol.relief_every_lanes) if pol.relief_every_lanes else 0
    swabbers = lanes * pol.swabbers_per_lane + relief
    registrars = lanes * pol.registrars_per_lane
    orderlies = -(-lanes // pol.lanes_per_orderly)
    orderlies += max(0, site.min_staff - swabbers - registrars - orderlies)
    return (swabbers, registrars, orderlies)


def pool_limits(problem: SitesProblem) -> dict[StaffRole, tuple[int, int]]:
    """Role → (people at once, staff-slots over the window) for the roles in the pool.

    Hours convert to whole slots rounding down (``hours_each`` of 1.9 on 30-minute slots is
    3 slots).
    """
    m = problem.policy.slot_minutes
    out: dict[StaffRole, tuple[int, int]] = {}
    for p in problem.pool:
        each = math.floor(Fraction(repr(float(p.hours_each))) * 60 / m)
        out[p.role] = (p.people, p.people * each)
    return out


def queue_of(
    problem: SitesProblem, site: CandidateSite, n_open: int, lanes: int, residents: int
) -> tuple[float, float, float, float]:
    """(arrivals per hour, utilisation, mean wait min, quantile wait min) of a site."""
    lam = arrivals_per_hour(residents, n_open, problem.policy.slot_minutes)
    mu = site_rate(problem, site)
    if lanes <= 0 or residents == 0:
        return (lam, 0.0, 0.0, 0.0)
    q = problem.policy.wait_quantile
    return (
        lam,
        lam / (lanes * mu),
        mean_wait_min(lanes, lam, mu),
        wait_quantile_min(lanes, lam, mu, q),
    )
