"""The site plan: result records, greedy completion and assembly (private).

:func:`complete` inserts every building still unassigned where it fits (one pass, cheapest
staff increase first), so that each building left out has a reason that holds;
:func:`build_plan` turns a building → site assignment into the plan records. The lanes of a
site are the fewest that meet the waiting target for the residents it receives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime

from commgov._records import FrozenRecord
from commgov.results import (
    CommonReasonCode,
    PlanResult,
    Reason,
    SolveInfo,
    SolveStatus,
    library_versions,
)
from commgov.scheduling.sites._data import SitesData
from commgov.scheduling.sites._problem import SCHEMA_VERSION
from commgov.scheduling.sites._reasons import SitesReasonCode
from commgov.scheduling.sites._rules import queue_of
from commgov.types import Id

__all__ = [
    "BuildingSite",
    "OpenSite",
    "SiteSlot",
    "SitesPlan",
    "SitesTotals",
    "UnservedBuilding",
    "build_plan",
    "complete",
]


class SiteSlot(FrozenRecord):
    """Lanes and staff of an open site in one slot.

    Attributes
    ----------
    slot : int
    start : datetime
        Start of the slot, aware, in the problem's zone.
    lanes, swabbers, registrars, orderlies : int
    """

    slot: int
    start: AwareDatetime
    lanes: int
    swabbers: int
    registrars: int
    orderlies: int


class OpenSite(FrozenRecord):
    """A site the plan opens.

    Attributes
    ----------
    site_id : str
    lanes : int
        Lanes in each open slot (the fewest meeting the waiting target).
    residents, buildings : int
        Residents and buildings assigned.
    open_slots : int
        Slots the site is open.
    arrivals_per_hour : float
        ``λ`` = residents / open hours.
    utilisation : float
        ``λ / (lanes · μ)``.
    mean_wait_min, quantile_wait_min : float
        Erlang-C mean wait and the policy's quantile of the wait, minutes.
    staff_hours : float
        Staff-hours of the site (every role, every open slot, and the opening work).
    slots : list of SiteSlot
        One per open slot, in order.
    """

    site_id: Id
    lanes: int
    residents: int
    buildings: int
    open_slots: int
    arrivals_per_hour: float
    utilisation: float
    mean_wait_min: float
    quantile_wait_min: float
    staff_hours: float
    slots: list[SiteSlot]


class BuildingSite(FrozenRecord):
    """A building and the site its residents go to.

    Attributes
    ----------
    building_id, site_id : str
    residents : int
    walk_m : int
        Great-circle metres, rounded.
    """

    building_id: Id
    site_id: Id
    residents: int
    walk_m: int


class UnservedBuilding(FrozenRecord):
    """A building the plan sends to no site, with why.

    Attributes
    ----------
    building_id : str
    residents : int
    reasons : list of Reason
        :class:`SitesReasonCode` (or a common stop reason).
    """

    building_id: Id
    residents: int
    reasons: list[Reason]


class SitesTotals(FrozenRecord):
    """Totals of a site plan.

    Attributes
    ----------
    residents : int
        Residents of every building with residents.
    residents_in_reach : int
        Of them, those with a site open in the window within the walking limit.
    served : int
        Residents assigned to a site.
    sites_opened, lanes : int
        Sites opened; lanes summed over them (per slot).
    staff_hours : float
        Over every role, site and slot, with the opening work.
    swabber_hours, registrar_hours, orderly_hours : float
        By role (without the opening work).
    walk_person_m : int
        Σ residents × walk_m.
    wait_person_min : float
        Σ residents × the site's Erlang-C mean wait (expected waiting person-minutes).
    max_quantile_wait_min : float
        Largest quantile wait over the open sites.
    """

    residents: int
    residents_in_reach: int
    served: int
    sites_opened: int
    lanes: int
    staff_hours: float
    swabber_hours: float
    registrar_hours: float
    orderly_hours: float
    walk_person_m: int
    wait_person_min: float
    max_quantile_wait_min: float


class SitesPlan(PlanResult):
    """Sites opened, their lanes and staff per slot, and the building → site assignment.

    Attributes
    ----------
    schema_version : str
    sites : list of OpenSite
        By site id.
    assignments : list of BuildingSite
        By building id.
    unserved : list of UnservedBuilding
        By building id.
    totals : SitesTotals
    info : SolveInfo
        ``objective``: ``served``, ``staff_hours``, ``walk_person_m``, ``wait_person_min`` (the
        lexicographic tiers, in order); ``bound`` and ``gap`` on ``staff_hours``.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    sites: list[OpenSite]
    assignments: list[BuildingSite]
    unserved: list[UnservedBuilding]
    totals: SitesTotals
    info: SolveInfo

    #: Column names of :meth:`rows`, in order.
    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "kind",
        "site_id",
        "building_id",
        "slot",
        "start",
        "lanes",
        "swabbers",
        "registrars",
        "orderlies",
        "residents",
        "walk_m",
        "reason_code",
        "reason",
    )

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        """One row per (open site, slot) (``kind="slot"``), per assignment
        (``"assignment"``) and per unserved building (``"unserved"``); empty strings where a
        column does not apply."""
        out: list[dict[str, Any]] = []

        def row(kind: str, **values: Any) -> None:
            r: dict[str, Any] = dict.fromkeys(self.ROW_COLUMNS, "")
            r.update(kind=kind, **values)
            out.append(r)

        for s in self.sites:
            for sl in s.slots:
                row(
                    "slot",
                    site_id=s.site_id,
                    slot=sl.slot,
                    start=sl.start.isoformat(),
                    lanes=sl.lanes,
                    swabbers=sl.swabbers,
                    registrars=sl.registrars,
                    orderlies=sl.orderlies,
                )
        for a in self.assignments:
            row(
                "assignment",
                site_id=a.site_id,
                building_id=a.building_id,
                residents=a.residents,
                walk_m=a.walk_m,
            )
        for u in self.unserved:
            row(
                "unserved",
                building_id=u.building_id,
                residents=u.residents,
                reason_code=";".join(str(r.code) for r in u.reasons),
                reason="; ".join(r.text(lang) for r in u.reasons),
            )
        return out


# ---- greedy completion -------------------------------------------------------------------


class _Load:
    """Residents, lanes and staff in use, per site, slot and role."""

    def __init__(self, data: SitesData, assign: dict[int, int]) -> None:
        self.data = data
        self.res = [0] * data.n_sites
        for b, s in assign.items():
            self.res[s] += data.residents(b)
        self.lanes = [data.lanes_for(s, r) or 0 for s, r in enumerate(self.res)]
        n_t = data.problem.n_slots
        self.at = [[0] * n_t for _ in range(3)]
        self.total = [0, 0, 0]
        for s, lanes in enumerate(self.lanes):
            self._add(s, data.staff[s][lanes], 1)

    def _add(self, s: int, staff: tuple[int, int, int], sign: int) -> None:
        slots = self.data.slots_of[s]
        for r in range(3):
            for t in slots:
                self.at[r][t] += sign * staff[r]
            self.total[r] += sign * staff[r] * len(slots)

    def fits(self, s: int, lanes: int) -> bool:
        """Whether site ``s`` may go from its lanes to ``lanes`` within the pool."""
        old, new = self.data.staff[s][self.lanes[s]], self.data.staff[s][lanes]
        slots = self.data.slots_of[s]
        for r, (people, hours) in self.data.limits.items():
            more = new[r] - old[r]
            if more <= 0:
                continue
            if self.total[r] + more * len(slots) > hours:
                return False
            if any(self.at[r][t] + more > people for t in slots):
                return False
        return True

    def move(self, s: int, residents: int, lanes: int) -> None:
        self._add(s, self.data.staff[s][self.lanes[s]], -1)
        self._add(s, self.data.staff[s][lanes], 1)
        self.lanes[s] = lanes
        self.res[s] += residents


def complete(
    data: SitesData,
    assign: dict[int, int],
    stop: Callable[[], bool] | None = None,
) -> tuple[dict[int, int], dict[int, Reason]]:
    """Insert the unassigned buildings where they fit; the reason of each left out.

    Buildings by id; each goes to the site in reach whose lanes it needs cost the fewest
    extra staff-minutes, then the shortest walk, then the site order. O(B·reach·Lmax).
    ``stop()``, asked every 256 buildings, leaves the rest with no reason (the caller gives
    the stop reason).
    """
    out = dict(assign)
    load = _Load(data, out)
    limit = data.problem.policy.max_walk_m
    reasons: dict[int, Reason] = {}
    for k, b in enumerate(data.measured()):
        if b in out:
            continue
        if not k & 255 and stop is not None and stop():
            break
        r_b = data.residents(b)
        if b not in data.reach:
            params: dict[str, str | int | float] = {"limit_m": limit}
            if b in data.nearest:
                params["distance_m"] = data.nearest[b]
            reasons[b] = Reason(code=SitesReasonCode.NO_SITE_IN_REACH, params=params)
            continue
        best: tuple[int, int, int, int] | None = None
        room = False
        for s, w in data.reach[b]:
            lanes = data.lanes_for(s, load.res[s] + r_b)
            if lanes is None:
                continue
            room = True
            if not load.fits(s, lanes):
                continue
            extra = data.staff_minutes(s, lanes) - data.staff_minutes(s, load.lanes[s])
            cand = (extra, w, s, lanes)
            if best is None or cand < best:
                best = cand
        if best is not None:
            out[b] = best[2]
            load.move(best[2], r_b, best[3])
        else:
            code = SitesReasonCode.STAFF_POOL_EXHAUSTED if room else SitesReasonCode.SITES_FULL
            reasons[b] = Reason(code=code, params={"residents": r_b})
    return out, reasons


# ---- assembly ----------------------------------------------------------------------------


def build_plan(
    data: SitesData,
    assign: dict[int, int],
    reasons: dict[int, Reason],
    status: SolveStatus,
    bound_minutes: float | None,
    options: dict[str, Any],
    seed: int | None,
    solver: str,
    *,
    stopped_by: Literal["cancel", "wall_clock"] | None = None,
) -> SitesPlan:
    """The plan records of ``assign`` (building index → site index) on the canonical problem.

    A building with residents neither assigned nor in ``reasons`` gets the stop reason
    (``CANCELLED`` with status ``CANCELLED``, else ``TIME_LIMIT_REACHED``).
    """
    problem = data.problem
    pol = problem.policy
    m = pol.slot_minutes
    load = _Load(data, assign)
    per_site: dict[int, list[int]] = {}
    for b, s in assign.items():
        per_site.setdefault(s, []).append(b)
    opened: list[OpenSite] = []
    role_minutes = [0, 0, 0]
    staff_minutes = 0
    wait_person = 0.0
    max_q = 0.0
    for s in sorted(per_site):
        site = problem.sites[s]
        lanes, res = load.lanes[s], load.res[s]
        n_open = len(data.slots_of[s])
        sw, rg, od = data.staff[s][lanes]
        lam, rho, mean_w, q_w = queue_of(problem, site, n_open, lanes, res)
        minutes = data.staff_minutes(s, lanes)
        staff_minutes += minutes
        for r, n in enumerate((sw, rg, od)):
            role_minutes[r] += n * n_open * m
        wait_person += res * mean_w
        max_q = max(max_q, q_w)
        opened.append(
            OpenSite(
                site_id=site.id,
                lanes=lanes,
                residents=res,
                buildings=len(per_site[s]),
                open_slots=n_open,
                arrivals_per_hour=lam,
                utilisation=rho,
                mean_wait_min=mean_w,
                quantile_wait_min=q_w,
                staff_hours=minutes / 60,
                slots=[
                    SiteSlot(
                        slot=t,
                        start=problem.slot_start(t),
                        lanes=lanes,
                        swabbers=sw,
                        registrars=rg,
                        orderlies=od,
                    )
                    for t in data.slots_of[s]
                ],
            )
        )
    assignments = []
    walk = 0
    for b, s in sorted(assign.items()):
        w = dict(data.reach[b])[s]
        r_b = data.residents(b)
        walk += r_b * w
        assignments.append(
            BuildingSite(
                building_id=problem.buildings[b].id,
                site_id=problem.sites[s].id,
                residents=r_b,
                walk_m=w,
            )
        )
    stop_code = (
        CommonReasonCode.CANCELLED
        if status is SolveStatus.CANCELLED
        else CommonReasonCode.TIME_LIMIT_REACHED
    )
    unserved = []
    everyone = sorted([*data.measured(), *data.unmeasured])
    for b in everyone:
        if b in assign:
            continue
        reason = reasons.get(b)
        if reason is None:
            params: dict[str, str | int | float] = {}
            if stop_code is CommonReasonCode.TIME_LIMIT_REACHED:
                params["time_limit_s"] = options["time_limit_s"]
            reason = Reason(code=stop_code, params=params)
        unserved.append(
            UnservedBuilding(
                building_id=problem.buildings[b].id, residents=data.residents(b), reasons=[reason]
            )
        )
    served = sum(data.residents(b) for b in assign)
    totals = SitesTotals(
        residents=sum(data.residents(b) for b in everyone),
        residents_in_reach=sum(data.residents(b) for b in data.reach),
        served=served,
        sites_opened=len(opened),
        lanes=sum(o.lanes for o in opened),
        staff_hours=staff_minutes / 60,
        swabber_hours=role_minutes[0] / 60,
        registrar_hours=role_minutes[1] / 60,
        orderly_hours=role_minutes[2] / 60,
        walk_person_m=walk,
        wait_person_min=wait_person,
        max_quantile_wait_min=max_q,
    )
    bound = None if bound_minutes is None else bound_minutes / 60
    gap: float | None = None
    if bound is not None:
        gap = (
            (totals.staff_hours - bound) / bound
            if bound > 0
            else (0.0 if totals.staff_hours == 0 else None)
        )
    info = SolveInfo(
        status=status,
        solver=solver,
        objective={
            "served": float(served),
            "staff_hours": totals.staff_hours,
            "walk_person_m": float(walk),
            "wait_person_min": wait_person,
        },
        bound=bound,
        gap=gap,
        options=options,
        seed=seed,
        versions=library_versions("ortools", "highspy"),
        stopped_by=stopped_by,
    )
    return SitesPlan(
        sites=opened, assignments=assignments, unserved=unserved, totals=totals, info=info
    )
