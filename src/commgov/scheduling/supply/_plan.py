"""The supply plan: result records, greedy completion and assembly (private).

:func:`complete` inserts every compound still unassigned where it fits (one pass, by
compound id: an opened station with room first, else the closed station that costs the
fewest volunteers), so that each compound left out has a reason that holds;
:func:`build_plan` turns a compound → station assignment into the plan records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

from commgov._records import FrozenRecord
from commgov.results import (
    CommonReasonCode,
    PlanResult,
    Reason,
    SolveInfo,
    SolveStatus,
    library_versions,
)
from commgov.scheduling.supply._data import SupplyData
from commgov.scheduling.supply._problem import SCHEMA_VERSION
from commgov.scheduling.supply._reasons import SupplyReasonCode
from commgov.types import Id

__all__ = [
    "CompoundStation",
    "OpenStation",
    "SupplyPlan",
    "SupplyTotals",
    "UnservedCompound",
    "build_plan",
    "complete",
]


class OpenStation(FrozenRecord):
    """A station the plan opens.

    Attributes
    ----------
    station_id : str
    compounds : int
        Compounds it serves.
    households : int
        Households behind their gates.
    parcels : int
        Parcels a day through the station.
    capacity_parcels : int
        The station's capacity (parcels a day).
    utilisation : float
        ``parcels / capacity_parcels``.
    staff : int
        Volunteers who run it.
    """

    station_id: Id
    compounds: int
    households: int
    parcels: int
    capacity_parcels: int
    utilisation: float
    staff: int


class CompoundStation(FrozenRecord):
    """A compound and the station its parcels come from (the station → gate leg).

    Attributes
    ----------
    compound_id, station_id : str
    parcels : int
        Parcels a day.
    carry_m : int
        Station → gate, great-circle metres, rounded.
    """

    compound_id: Id
    station_id: Id
    parcels: int
    carry_m: int


class UnservedCompound(FrozenRecord):
    """A compound the plan serves from no station, with why.

    Attributes
    ----------
    compound_id : str
    parcels : int
    reasons : list of Reason
        :class:`SupplyReasonCode` (or a common stop reason).
    """

    compound_id: Id
    parcels: int
    reasons: list[Reason]


class SupplyTotals(FrozenRecord):
    """Totals of a supply plan.

    Attributes
    ----------
    parcels : int
        Parcels a day of every compound with parcels.
    parcels_in_reach : int
        Of them, those of compounds with a candidate station within the walking limit.
    served : int
        Parcels a day sent through a station.
    compounds_served : int
    stations_opened : int
    staff : int
        Volunteers running the opened stations.
    carry_parcel_m : int
        Σ parcels × carry_m (parcel-metres a day, station → gate).
    longest_carry_m : int
        Longest station → gate leg in the plan (0 with none).
    """

    parcels: int
    parcels_in_reach: int
    served: int
    compounds_served: int
    stations_opened: int
    staff: int
    carry_parcel_m: int
    longest_carry_m: int


class SupplyPlan(PlanResult):
    """Stations opened and the compound → station assignment.

    Attributes
    ----------
    schema_version : str
    stations : list of OpenStation
        By station id.
    assignments : list of CompoundStation
        By compound id.
    unserved : list of UnservedCompound
        By compound id.
    totals : SupplyTotals
    info : SolveInfo
        ``objective``: ``served``, ``staff``, ``carry_parcel_m`` (the lexicographic tiers, in
        order); ``bound`` and ``gap`` on ``staff``.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    stations: list[OpenStation]
    assignments: list[CompoundStation]
    unserved: list[UnservedCompound]
    totals: SupplyTotals
    info: SolveInfo

    #: Column names of :meth:`rows`, in order.
    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "kind",
        "station_id",
        "compound_id",
        "parcels",
        "capacity_parcels",
        "staff",
        "carry_m",
        "reason_code",
        "reason",
    )

    def station_of(self, compound_id: str) -> str | None:
        """The station serving ``compound_id`` (``None``: unserved or unknown); O(C)."""
        return next((a.station_id for a in self.assignments if a.compound_id == compound_id), None)

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        """One row per opened station (``kind="station"``), per assignment
        (``"assignment"``) and per unserved compound (``"unserved"``); empty strings where a
        column does not apply."""
        out: list[dict[str, Any]] = []

        def row(kind: str, **values: Any) -> None:
            r: dict[str, Any] = dict.fromkeys(self.ROW_COLUMNS, "")
            r.update(kind=kind, **values)
            out.append(r)

        for s in self.stations:
            row(
                "station",
                station_id=s.station_id,
                parcels=s.parcels,
                capacity_parcels=s.capacity_parcels,
                staff=s.staff,
            )
        for a in self.assignments:
            row(
                "assignment",
                station_id=a.station_id,
                compound_id=a.compound_id,
                parcels=a.parcels,
                carry_m=a.carry_m,
            )
        for u in self.unserved:
            row(
                "unserved",
                compound_id=u.compound_id,
                parcels=u.parcels,
                reason_code=";".join(str(r.code) for r in u.reasons),
                reason="; ".join(r.text(lang) for r in u.reasons),
            )
        return out


def complete(
    data: SupplyData,
    assign: dict[int, int],
    stop: Callable[[], bool] | None = None,
) -> tuple[dict[int, int], dict[int, Reason]]:
    """Insert the unassigned compounds where they fit; the reason of each left out.

    Compounds by id; each goes to the station in reach that costs the fewest extra
    volunteers (0 for an opened station with room), then the shortest leg, then the station
    order. O(C·reach). ``stop()``, asked every 256 compounds, leaves the rest with no reason
    (the caller gives the stop reason).
    """
    p = data.problem
    out = dict(assign)
    load = [0] * len(p.stations)
    for c, s in out.items():
        load[s] += data.parcels(c)
    used = sum(p.stations[s].staff for s in set(out.values()))
    pool = p.volunteers
    reasons: dict[int, Reason] = {}
    todo = [c for c, cd in enumerate(p.compounds) if cd.parcels > 0]
    for k, c in enumerate(todo):
        if c in out:
            continue
        if not k & 255 and stop is not None and stop():
            break
        parcels = data.parcels(c)
        if c not in data.reach:
            params: dict[str, str | int | float] = {"limit_m": p.policy.max_walk_m}
            if c in data.nearest:
                params["distance_m"] = data.nearest[c]
            reasons[c] = Reason(code=SupplyReasonCode.NO_STATION_IN_REACH, params=params)
            continue
        largest = max(p.stations[s].capacity_parcels for s, _w in data.reach[c])
        if parcels > largest:
            reasons[c] = Reason(
                code=SupplyReasonCode.TOO_LARGE,
                params={"parcels": parcels, "capacity_parcels": largest},
            )
            continue
        best: tuple[int, int, int] | None = None
        room = False
        for s, w in data.reach[c]:
            station = p.stations[s]
            if load[s] + parcels > station.capacity_parcels:
                continue
            room = True
            extra = 0 if load[s] else station.staff
            if pool is not None and used + extra > pool:
                continue
            cand = (extra, w, s)
            if best is None or cand < best:
                best = cand
        if best is not None:
            extra, _w, s = best
            out[c] = s
            load[s] += parcels
            used += extra
        else:
            code = SupplyReasonCode.VOLUNTEERS_EXHAUSTED if room else SupplyReasonCode.STATIONS_FULL
            reasons[c] = Reason(code=code, params={"parcels": parcels})
    return out, reasons


def build_plan(
    data: SupplyData,
    assign: dict[int, int],
    reasons: dict[int, Reason],
    status: SolveStatus,
    bound: float | None,
    options: dict[str, Any],
    seed: int | None,
    solver: str,
    *,
    stopped_by: Literal["cancel", "wall_clock"] | None = None,
) -> SupplyPlan:
    """The plan records of ``assign`` (compound index → station index) on the canonical
    problem. A compound with parcels neither assigned nor in ``reasons`` gets the stop reason
    (``CANCELLED`` with status ``CANCELLED``, else ``TIME_LIMIT_REACHED``)."""
    p = data.problem
    per_station: dict[int, list[int]] = {}
    for c, s in assign.items():
        per_station.setdefault(s, []).append(c)
    stations = []
    for s in sorted(per_station):
        st = p.stations[s]
        cs = per_station[s]
        parcels = sum(data.parcels(c) for c in cs)
        stations.append(
            OpenStation(
                station_id=st.id,
                compounds=len(cs),
                households=sum(p.compounds[c].households for c in cs),
                parcels=parcels,
                capacity_parcels=st.capacity_parcels,
                utilisation=parcels / st.capacity_parcels,
                staff=st.staff,
            )
        )
    assignments = []
    carry = 0
    longest = 0
    for c, s in sorted(assign.items()):
        w = dict(data.reach[c])[s]
        carry += data.parcels(c) * w
        longest = max(longest, w)
        assignments.append(
            CompoundStation(
                compound_id=p.compounds[c].id,
                station_id=p.stations[s].id,
                parcels=data.parcels(c),
                carry_m=w,
            )
        )
    stop_code = (
        CommonReasonCode.CANCELLED
        if status is SolveStatus.CANCELLED
        else CommonReasonCode.TIME_LIMIT_REACHED
    )
    unserved = []
    everyone = [c for c, cd in enumerate(p.compounds) if cd.parcels > 0]
    for c in everyone:
        if c in assign:
            continue
        reason = reasons.get(c)
        if reason is None:
            params: dict[str, str | int | float] = {}
            if stop_code is CommonReasonCode.TIME_LIMIT_REACHED:
                params["time_limit_s"] = options["time_limit_s"]
            reason = Reason(code=stop_code, params=params)
        unserved.append(
            UnservedCompound(
                compound_id=p.compounds[c].id, parcels=data.parcels(c), reasons=[reason]
            )
        )
    served = sum(data.parcels(c) for c in assign)
    staff = sum(o.staff for o in stations)
    totals = SupplyTotals(
        parcels=sum(data.parcels(c) for c in everyone),
        parcels_in_reach=sum(data.parcels(c) for c in data.reach),
        served=served,
        compounds_served=len(assign),
        stations_opened=len(stations),
        staff=staff,
        carry_parcel_m=carry,
        longest_carry_m=longest,
    )
    gap: float | None = None
    if bound is not None:
        gap = (staff - bound) / bound if bound > 0 else (0.0 if staff == 0 else None)
    info = SolveInfo(
        status=status,
        solver=solver,
        objective={
            "served": float(served),
            "staff": float(staff),
            "carry_parcel_m": float(carry),
        },
        bound=bound,
        gap=gap,
        options=options,
        seed=seed,
        versions=library_versions("highspy" if solver == "highs" else "ortools"),
        stopped_by=stopped_by,
    )
    return SupplyPlan(
        stations=stations, assignments=assignments, unserved=unserved, totals=totals, info=info
    )
