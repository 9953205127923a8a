"""Sites with normal and emergency functions (平战结合), and the duty posts at them.

A site is used in normal times for one set of functions (a party micro-site 小巷红韵, a
service centre) and switches in an emergency to others: nucleic-acid sampling point
核酸采样点, supply transit station 物资中转站, temporary service point 临时服务点. Duty posts
(门岗 / 卡口) are staffed in shifts for health-code checks, temperature, registration and
patrol. Terms: docs/glossary.md (sites and zones).
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise
from typing import Self

from pydantic import Field, model_validator

from commgov.org._base import Record
from commgov.types import GeoPoint, Id, TimeWindow

__all__ = ["EMERGENCY_FUNCTIONS", "DutyPost", "DutyTask", "Site", "SiteFunction"]


class SiteFunction(StrEnum):
    """What a site is used for, in normal times or an emergency.

    ``SERVICE_CENTRE`` 党群服务中心 / 站, ``PARTY_MICRO_SITE`` party micro-site (e.g. 小巷红韵),
    ``SAMPLING_POINT`` 核酸采样点, ``SUPPLY_TRANSIT`` 物资中转站 (supply transit station),
    ``TEMP_SERVICE`` 临时服务点 (temporary service point), ``CLINIC``, ``GATE_POST`` 门岗.
    """

    SERVICE_CENTRE = "service_centre"
    PARTY_MICRO_SITE = "party_micro_site"
    SAMPLING_POINT = "sampling_point"
    SUPPLY_TRANSIT = "supply_transit"
    TEMP_SERVICE = "temp_service"
    CLINIC = "clinic"
    GATE_POST = "gate_post"


#: Functions that only exist in an emergency (a site takes them on when it switches).
EMERGENCY_FUNCTIONS = frozenset(
    {SiteFunction.SAMPLING_POINT, SiteFunction.SUPPLY_TRANSIT, SiteFunction.TEMP_SERVICE}
)


class Site(Record):
    """A physical site, such as a lane micro-site that becomes a sampling point.

    Edges in :class:`~commgov.org.OrgGraph`: ``LOCATED_IN`` to ``parent_id``; ``COVERS`` to
    each of ``covers`` (or, when empty, to nothing: the site then serves its ``parent_id``).

    Attributes
    ----------
    name : str
    parent_id : str
        The territorial unit the site stands in (community or neighbourhood unit).
    location : GeoPoint
        WGS84.
    brand : str or None
        Local brand as data (``"小巷红韵"``).
    normal_functions : list of SiteFunction
        Functions in normal times; emergency-only functions (:data:`EMERGENCY_FUNCTIONS`)
        are refused here.
    emergency_functions : list of SiteFunction
        Functions the site switches to in an emergency.
    covers : list of str
        Places (neighbourhood units, buildings, entrances) the site serves; empty = the place
        it stands in.
    lanes : int
        Sampling lanes (desks) when used as a sampling point, ≥ 0.
    rate_per_lane_per_hour : float
        People one lane swabs per hour (guideline anchor: 100).
    opening : TimeWindow or None
        When the site is open in its emergency function; ``None`` = whenever asked.

    Raises
    ------
    pydantic.ValidationError
        An emergency-only function among the normal ones, or a function or place listed twice.
    """

    name: str = Field(min_length=1)
    parent_id: Id
    location: GeoPoint
    brand: str | None = None
    normal_functions: list[SiteFunction] = Field(default_factory=list)
    emergency_functions: list[SiteFunction] = Field(default_factory=list)
    covers: list[Id] = Field(default_factory=list)
    lanes: int = Field(default=0, ge=0, le=100)
    rate_per_lane_per_hour: float = Field(default=100.0, gt=0, le=10_000)
    opening: TimeWindow | None = None

    @model_validator(mode="after")
    def _functions(self) -> Self:
        misplaced = sorted(f.value for f in EMERGENCY_FUNCTIONS.intersection(self.normal_functions))
        if misplaced:
            raise ValueError(
                f"{', '.join(misplaced)} is an emergency function: list it in emergency_functions"
            )
        for field in ("normal_functions", "emergency_functions", "covers"):
            items = getattr(self, field)
            if len(set(items)) != len(items):
                raise ValueError(f"{field} lists an item more than once")
        return self


class DutyTask(StrEnum):
    """Tasks at a duty post (docs/glossary.md).

    查码 ``HEALTH_CODE_CHECK``, 测温 ``TEMPERATURE``, 登记 ``REGISTRATION`` (of people and
    vehicles), 巡逻 ``PATROL``.
    """

    HEALTH_CODE_CHECK = "health_code_check"
    TEMPERATURE = "temperature"
    REGISTRATION = "registration"
    PATROL = "patrol"


class DutyPost(Record):
    """A duty post (门岗 gate post, 卡口 checkpoint) at a site, staffed in shifts.

    Edges in :class:`~commgov.org.OrgGraph`: ``LOCATED_IN`` to ``site_id``; ``ATTACHED_TO`` to
    ``zone_designation_id``.

    Attributes
    ----------
    site_id : str
        The :class:`Site` (usually one with function ``GATE_POST``).
    title : str
        ``"3号门岗"``.
    tasks : list of DutyTask
    shifts : list of TimeWindow
        Half-open, tz-aware, in time order and not overlapping (back-to-back is fine).
    staff_per_shift : int
        People needed on each shift, ≥ 1.
    zone_designation_id : str or None
        The zone designation the post was set up for, if any.

    Raises
    ------
    pydantic.ValidationError
        Shifts out of order or overlapping, or a task listed twice.
    """

    site_id: Id
    title: str = Field(min_length=1)
    tasks: list[DutyTask] = Field(default_factory=list)
    shifts: list[TimeWindow] = Field(default_factory=list)
    staff_per_shift: int = Field(default=1, ge=1, le=1000)
    zone_designation_id: Id | None = None

    @model_validator(mode="after")
    def _shifts(self) -> Self:
        for a, b in pairwise(self.shifts):
            if b.start < a.end:
                raise ValueError(
                    f"shifts must be in time order without overlap: {b.start.isoformat()} "
                    f"starts before {a.end.isoformat()}"
                )
        if len(set(self.tasks)) != len(self.tasks):
            raise ValueError("tasks lists a task more than once")
        return self
