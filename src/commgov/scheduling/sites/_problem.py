"""Site-selection records: candidate sites, buildings, the staff pool and the policy (private).

Shared definitions (solver, bound and verifier use the same ones, from :mod:`._rules`):

* slots ``t = 0 … T-1``, ``slot t = [window.start + tΔ, window.start + (t+1)Δ)``;
* a site is open in slot ``t`` when its ``opening`` (``None``: the whole window) contains the
  whole slot; its open hours ``H`` are its open slots times Δ;
* a building is in reach of a site when the site is open in at least one slot and the
  great-circle distance, rounded to whole metres, is at most ``policy.max_walk_m``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from commgov._problem import CheckedProblem
from commgov._records import FrozenRecord
from commgov.errors import InputIssue
from commgov.types import GeoPoint, Headcount, Id, TimeWindow, is_iana_zone

__all__ = [
    "MAX_SITE_LANES",
    "SCHEMA_VERSION",
    "CandidateSite",
    "SitesBuilding",
    "SitesPolicy",
    "SitesProblem",
    "StaffPool",
    "StaffRole",
]

#: Schema version of the persisted site-selection records.
SCHEMA_VERSION: Literal["1.0"] = "1.0"
#: Most lanes one candidate site may have.
MAX_SITE_LANES = 50

_WHAT = "sites problem"


class StaffRole(StrEnum):
    """The roles a sampling site is staffed with.

    ``SWABBER`` 采样人员 (one per lane, plus relief for breaks), ``REGISTRAR`` 信息登记 /
    扫码人员 (one per lane), ``ORDERLY`` 秩序维护 (queue order and spacing).
    """

    SWABBER = "swabber"
    REGISTRAR = "registrar"
    ORDERLY = "orderly"


class CandidateSite(FrozenRecord):
    """A place that may be opened as a sampling site (a micro-site, an open space).

    Attributes
    ----------
    id : str
    location : GeoPoint
        WGS84.
    max_lanes : int
        Most lanes (sampling desks) the site can hold, 1 … :data:`MAX_SITE_LANES`.
    opening : TimeWindow or None
        When the site can be open; ``None``: the whole window. Only whole slots count.
    rate_per_lane_per_hour : float or None
        People one lane swabs per hour (``None``: the policy's).
    opening_staff_minutes : int
        Staff-minutes of setting the site up and clearing it (tents, desks, disinfection),
        counted once when it opens (default 0).
    min_staff : int
        Fewest staff present in each open slot, whatever the lanes (default 0); orderlies
        make up the difference.
    name : str or None
        Display name.
    """

    id: Id
    location: GeoPoint
    max_lanes: int = Field(ge=1, le=MAX_SITE_LANES)
    opening: TimeWindow | None = None
    rate_per_lane_per_hour: float | None = Field(default=None, gt=0, le=10_000, allow_inf_nan=False)
    opening_staff_minutes: int = Field(default=0, ge=0, le=100_000)
    min_staff: int = Field(default=0, ge=0, le=1_000)
    name: str | None = None


class SitesBuilding(FrozenRecord):
    """A building whose residents come to a site to be sampled.

    Attributes
    ----------
    id : str
    location : GeoPoint
        WGS84 (the entrance or the building's centre).
    residents : int
        Walk-in residents to sample (≥ 0; a building with none is not planned).
    name : str or None
        Display name.
    """

    id: Id
    location: GeoPoint
    residents: Headcount
    name: str | None = None


class StaffPool(FrozenRecord):
    """The staff of one role the sites may draw on.

    Attributes
    ----------
    role : StaffRole
    people : int
        Headcount: at most this many of the role at work in any slot.
    hours_each : float
        Most hours one person of the role works in the window (rounded down to whole slots);
        the role's staff-hours are at most ``people × hours_each``.
    """

    role: StaffRole
    people: Headcount
    hours_each: float = Field(default=24.0, ge=0, le=24 * 31, allow_inf_nan=False)


class SitesPolicy(FrozenRecord):
    """The rules of a site plan: walking, slots, service, waiting and staffing ratios.

    Defaults are the round of the 运筹与管理 2024 study and the guideline of March 2022:
    a 500 m walk, 100 people per lane per hour, one swabber and one registrar per lane.

    Attributes
    ----------
    slot_minutes : int
        Slot length, minutes; divides 24 h (default 30).
    max_walk_m : int
        Longest walk from a building to its site, metres (default 500).
    rate_per_lane_per_hour : float
        People one lane swabs per hour where a site gives none (default 100).
    target_wait_min : float
        Waiting target in minutes on the ``wait_quantile`` of the M/M/c wait (default 15).
    wait_quantile : float
        The quantile the target is on, in (0, 1) (default 0.95: 95 % wait at most the
        target).
    swabbers_per_lane, registrars_per_lane : int
        Staff per open lane (defaults 1 and 1).
    relief_every_lanes : int
        One relief swabber for every started group of this many lanes, so swabbers in
        protective equipment can take their breaks without closing a lane (default 4: a
        ratio of 1.25 swabbers per lane; 0: no relief).
    lanes_per_orderly : int
        One orderly for every started group of this many lanes (default 4).
    """

    slot_minutes: int = Field(default=30, ge=1, le=24 * 60)
    max_walk_m: int = Field(default=500, ge=0, le=100_000)
    rate_per_lane_per_hour: float = Field(default=100.0, gt=0, le=10_000, allow_inf_nan=False)
    target_wait_min: float = Field(default=15.0, ge=0, le=24 * 60, allow_inf_nan=False)
    wait_quantile: float = Field(default=0.95, gt=0, lt=1, allow_inf_nan=False)
    swabbers_per_lane: int = Field(default=1, ge=1, le=10)
    registrars_per_lane: int = Field(default=1, ge=0, le=10)
    relief_every_lanes: int = Field(default=4, ge=0, le=MAX_SITE_LANES)
    lanes_per_orderly: int = Field(default=4, ge=1, le=MAX_SITE_LANES)

    @model_validator(mode="after")
    def _grid(self) -> Self:
        if (24 * 60) % self.slot_minutes:
            raise ValueError(f"slot_minutes={self.slot_minutes} must divide 24 h (1440 min)")
        return self


class SitesProblem(CheckedProblem, FrozenRecord):
    """Which sites to open, with how many lanes and staff, and which building goes where.

    Constructing one (directly, with ``model_validate`` or ``model_validate_json``) checks
    every cross-record rule and raises :class:`~commgov.errors.ProblemError` listing all
    issues.

    Attributes
    ----------
    schema_version : str
    timezone : str
        IANA zone of the result's instants (``"Asia/Shanghai"``).
    window : TimeWindow
        The round; a whole number of slots.
    sites : list of CandidateSite
    buildings : list of SitesBuilding
    pool : list of StaffPool
        At most one entry per role; a role not listed is not limited.
    policy : SitesPolicy

    Raises
    ------
    commgov.errors.ProblemError
        Unknown time zone; a window that is not a whole number of slots; duplicate site,
        building or pool-role entries.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    timezone: str = "Asia/Shanghai"
    window: TimeWindow
    sites: list[CandidateSite] = Field(default_factory=list)
    buildings: list[SitesBuilding] = Field(default_factory=list)
    pool: list[StaffPool] = Field(default_factory=list)
    policy: SitesPolicy = Field(default_factory=SitesPolicy)

    problem_what: ClassVar[str] = _WHAT
    problem_record: ClassVar[str] = "sites_problem"

    def cross_issues(self) -> list[InputIssue]:
        """Every cross-record rule the problem breaks (see the class's ``Raises``)."""
        issues: list[InputIssue] = []
        rec = self.problem_record
        if not is_iana_zone(self.timezone):
            issues.append(
                InputIssue(rec, "timezone", self.timezone, "must be an IANA time zone name")
            )
        delta = timedelta(minutes=self.policy.slot_minutes)
        if self.window.duration % delta or self.window.duration < delta:
            issues.append(
                InputIssue(
                    rec,
                    "window",
                    self.window.minutes,
                    f"window length (minutes) must be a positive multiple of "
                    f"slot_minutes={self.policy.slot_minutes}",
                )
            )
        for kind, records in (("site", self.sites), ("building", self.buildings)):
            seen: set[str] = set()
            for r in records:
                if r.id in seen:
                    issues.append(InputIssue(r.id, "id", r.id, f"duplicate {kind} id"))
                seen.add(r.id)
        roles: set[str] = set()
        for p in self.pool:
            if p.role in roles:
                issues.append(InputIssue(rec, "pool", str(p.role), "role listed twice"))
            roles.add(p.role)
        return issues

    @property
    def tz(self) -> ZoneInfo:
        """The problem's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def n_slots(self) -> int:
        """Number of slots T."""
        return int(self.window.duration // timedelta(minutes=self.policy.slot_minutes))

    def slot_start(self, t: int) -> datetime:
        """Start of slot ``t`` (``t`` may be ``T``), aware, in the problem's zone."""
        start = self.window.start + t * timedelta(minutes=self.policy.slot_minutes)
        return start.astimezone(self.tz)

    def canonical(self) -> Self:
        """The same problem with sites, buildings and pool entries sorted (by id, by role)."""
        return self.model_copy(
            update={
                "sites": sorted(self.sites, key=lambda s: s.id),
                "buildings": sorted(self.buildings, key=lambda b: b.id),
                "pool": sorted(self.pool, key=lambda p: p.role),
            }
        )
