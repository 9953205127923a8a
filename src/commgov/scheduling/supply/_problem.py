"""Supply-station records: compounds, candidate stations, the policy, the problem (private).

Shared definitions (solver, bound and verifier use the same ones, from :mod:`._rules`): a
compound is in reach of a station when the great-circle distance from the station to the
compound's gate, rounded to whole metres, is at most ``policy.max_walk_m``.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import Field

from commgov._problem import CheckedProblem
from commgov._records import FrozenRecord
from commgov.errors import InputIssue
from commgov.types import GeoPoint, Headcount, Id, TimeWindow, is_iana_zone

__all__ = [
    "MAX_STATION_PARCELS",
    "SCHEMA_VERSION",
    "CandidateStation",
    "SupplyCompound",
    "SupplyPolicy",
    "SupplyProblem",
]

#: Schema version of the persisted supply-station records.
SCHEMA_VERSION: Literal["1.0"] = "1.0"
#: Most parcels a day one station, or one compound, may have.
MAX_STATION_PARCELS = 1_000_000


class SupplyCompound(FrozenRecord):
    """A compound (小区, or a lane 街巷) whose parcels come through a supply station.

    Attributes
    ----------
    id : str
    gate : GeoPoint
        WGS84 position of the gate where the station's carriers hand over (the relay's
        gate: from there volunteers carry to the doors).
    households : int
        Households behind the gate (reported; the plan moves ``parcels``).
    parcels : int
        Parcels a day for the compound, 0 … :data:`MAX_STATION_PARCELS` (a compound with
        none is not planned).
    name : str or None
        Display name.
    """

    id: Id
    gate: GeoPoint
    households: Headcount = 0
    parcels: int = Field(ge=0, le=MAX_STATION_PARCELS)
    name: str | None = None


class CandidateStation(FrozenRecord):
    """A place that may be opened as a supply transit station (物资中转站).

    Attributes
    ----------
    id : str
    location : GeoPoint
        WGS84.
    capacity_parcels : int
        Most parcels a day the station receives, sorts and sends on, 1 …
        :data:`MAX_STATION_PARCELS`.
    staff : int
        Volunteers who run the station for the day when it is opened, 1 … 1,000
        (default 2: one receives, one sorts). The cost of opening it.
    name : str or None
        Display name.
    """

    id: Id
    location: GeoPoint
    capacity_parcels: int = Field(ge=1, le=MAX_STATION_PARCELS)
    staff: int = Field(default=2, ge=1, le=1_000)
    name: str | None = None


class SupplyPolicy(FrozenRecord):
    """The rules of a supply plan.

    Attributes
    ----------
    max_walk_m : int
        Longest leg from a station to a compound's gate that carriers walk (with a cart),
        metres, 0 … 100,000 (default 1,000).
    """

    max_walk_m: int = Field(default=1_000, ge=0, le=100_000)


class SupplyProblem(CheckedProblem, FrozenRecord):
    """Which stations to open and which station serves each compound.

    Constructing one (directly, with ``model_validate`` or ``model_validate_json``) checks
    every cross-record rule and raises :class:`~commgov.errors.ProblemError` listing all
    issues.

    Attributes
    ----------
    schema_version : str
    timezone : str
        IANA zone (``"Asia/Shanghai"``).
    window : TimeWindow or None
        The day the plan is for (informational; capacities and parcels are per day).
    compounds : list of SupplyCompound
    stations : list of CandidateStation
    volunteers : int or None
        Most volunteers the opened stations may take together (their ``staff``); ``None``:
        not limited.
    policy : SupplyPolicy

    Raises
    ------
    commgov.errors.ProblemError
        Unknown time zone; duplicate compound or station ids; a negative ``volunteers``.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    timezone: str = "Asia/Shanghai"
    window: TimeWindow | None = None
    compounds: list[SupplyCompound] = Field(default_factory=list)
    stations: list[CandidateStation] = Field(default_factory=list)
    volunteers: int | None = Field(default=None, ge=0, le=10_000_000)
    policy: SupplyPolicy = Field(default_factory=SupplyPolicy)

    problem_what: ClassVar[str] = "supply problem"
    problem_record: ClassVar[str] = "supply_problem"

    def cross_issues(self) -> list[InputIssue]:
        """Every cross-record rule the problem breaks (see the class's ``Raises``)."""
        issues: list[InputIssue] = []
        if not is_iana_zone(self.timezone):
            issues.append(
                InputIssue(
                    self.problem_record, "timezone", self.timezone, "must be an IANA time zone name"
                )
            )
        for kind, records in (("compound", self.compounds), ("station", self.stations)):
            seen: set[str] = set()
            for r in records:
                if r.id in seen:
                    issues.append(InputIssue(r.id, "id", r.id, f"duplicate {kind} id"))
                seen.add(r.id)
        return issues

    def canonical(self) -> Self:
        """The same problem with compounds and stations sorted by id."""
        return self.model_copy(
            update={
                "compounds": sorted(self.compounds, key=lambda c: c.id),
                "stations": sorted(self.stations, key=lambda s: s.id),
            }
        )
