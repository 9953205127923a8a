"""The arrays the site planner, its greedy completion and its bound share (private).

:class:`SitesData` holds, for the canonical problem: each site's open slots, each building's
sites in reach with the walk, each site's capacity table (most residents per number of
lanes, :func:`._rules.capacity`) and staff table (:func:`._rules.staff_for`), and the pool
in staff-slots.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from commgov.errors import check_size
from commgov.scheduling._location import measure_reach
from commgov.scheduling.sites._problem import SitesProblem
from commgov.scheduling.sites._rules import (
    ROLES,
    capacity,
    open_slots,
    pool_limits,
    staff_for,
    walk_m,
)

__all__ = ["MAX_PAIRS", "SitesData", "sites_data"]

#: Most building × candidate-site pairs measured (size guard, checked before measuring).
MAX_PAIRS = 50_000_000
_CHUNK = 2048


@dataclass
class SitesData:
    """Solver arrays of a canonical :class:`SitesProblem` (sites and buildings by id)."""

    problem: SitesProblem
    slots_of: list[list[int]]  # per site: its open slots
    reach: dict[int, list[tuple[int, int]]]  # building (residents > 0) → [(site, walk_m)]
    nearest: dict[int, int]  # building without reach → walk to the nearest open site
    unmeasured: list[int] = field(default_factory=list)  # buildings not measured (stopped)
    caps: list[list[int]] = field(default_factory=list)  # per site: caps[L], L = 0 … Lmax
    staff: list[list[tuple[int, int, int]]] = field(default_factory=list)  # per site, per L
    limits: dict[int, tuple[int, int]] = field(default_factory=dict)  # role → (people, slots)

    def measured(self) -> list[int]:
        """The buildings with residents whose reach is known, by index: in reach of a site,
        or not (with the walk to the nearest open site when one is open at all)."""
        left = set(self.unmeasured)
        return [
            b for b, bd in enumerate(self.problem.buildings) if bd.residents > 0 and b not in left
        ]

    @property
    def n_sites(self) -> int:
        return len(self.problem.sites)

    def residents(self, b: int) -> int:
        return self.problem.buildings[b].residents

    def lanes_for(self, s: int, residents: int) -> int | None:
        """Fewest lanes of site ``s`` for ``residents`` (``None``: beyond its table)."""
        for lanes, cap in enumerate(self.caps[s]):
            if cap >= residents:
                return lanes
        return None

    def staff_minutes(self, s: int, lanes: int) -> int:
        """Staff-minutes of site ``s`` with ``lanes`` lanes (opening work included)."""
        if lanes == 0:
            return 0
        site = self.problem.sites[s]
        per_slot = sum(self.staff[s][lanes])
        m = self.problem.policy.slot_minutes
        return per_slot * len(self.slots_of[s]) * m + site.opening_staff_minutes


def sites_data(problem: SitesProblem, stop: Callable[[], bool] | None = None) -> SitesData:
    """The arrays of the canonical ``problem``; O(B·S) distances, in chunks of buildings.

    Capacity tables stop at the site's ``max_lanes`` or at the first number of lanes that
    takes every resident in reach of the site. ``stop()`` is asked between chunks; when it
    says so the reach found so far is returned (the plan then only uses those pairs).
    """
    sites, buildings = problem.sites, problem.buildings
    check_size(
        "sites problem: buildings × candidate sites",
        len(sites) * len(buildings),
        MAX_PAIRS,
        "plan a smaller area at once (a subdistrict or a community)",
    )
    slots_of = [open_slots(problem, s) for s in sites]
    usable = [k for k, sl in enumerate(slots_of) if sl]
    todo = [b for b, bd in enumerate(buildings) if bd.residents > 0]
    reach, nearest, unmeasured = measure_reach(
        [b.location for b in buildings],
        todo,
        [s.location for s in sites],
        usable,
        problem.policy.max_walk_m,
        lambda b, s: walk_m(buildings[b], sites[s]),
        stop,
        _CHUNK,
    )
    demand = [0] * len(sites)
    for b, pairs in reach.items():
        for s, _w in pairs:
            demand[s] += buildings[b].residents
    caps: list[list[int]] = []
    staff: list[list[tuple[int, int, int]]] = []
    for s, site in enumerate(sites):
        table = [0]
        if demand[s]:
            for lanes in range(1, site.max_lanes + 1):
                table.append(capacity(problem, site, len(slots_of[s]), lanes))
                if table[-1] >= demand[s]:
                    break
        caps.append(table)
        staff.append([staff_for(problem, site, lanes) for lanes in range(len(table))])
    lim = pool_limits(problem)
    limits = {r: lim[role] for r, role in enumerate(ROLES) if role in lim}
    return SitesData(problem, slots_of, reach, nearest, unmeasured, caps, staff, limits)
