"""Sites with normal and emergency functions (平战结合)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from commgov.org._base import Record
from commgov.types import GeoPoint, Id, TimeWindow

__all__ = ["Site", "SiteFunction"]


class SiteFunction(StrEnum):
    """What a site is used for, in normal times or an emergency."""

    SERVICE_CENTRE = "service_centre"
    PARTY_MICRO_SITE = "party_micro_site"
    SAMPLING_POINT = "sampling_point"
    SUPPLY_TRANSIT = "supply_transit"
    TEMP_SERVICE = "temp_service"
    CLINIC = "clinic"
    GATE_POST = "gate_post"


class Site(Record):
    """A physical site, such as a lane micro-site that becomes a sampling point.

    Attributes
    ----------
    name : str
    parent_id : str
        The territorial unit the site stands in (community or neighbourhood unit).
    location : GeoPoint
        WGS84.
    brand : str or None
        Local brand as data (``"小巷红韵"``).
    normal_functions, emergency_functions : list of SiteFunction
    lanes : int
        Sampling lanes (desks) when used as a sampling point, ≥ 0.
    rate_per_lane_per_hour : float
        People one lane swabs per hour (guideline anchor: 100).
    opening : TimeWindow or None
        When the site is open in its emergency function; ``None`` = whenever asked.
    """

    name: str = Field(min_length=1)
    parent_id: Id
    location: GeoPoint
    brand: str | None = None
    normal_functions: list[SiteFunction] = Field(default_factory=list)
    emergency_functions: list[SiteFunction] = Field(default_factory=list)
    lanes: int = Field(default=0, ge=0, le=100)
    rate_per_lane_per_hour: float = Field(default=100.0, gt=0, le=10_000)
    opening: TimeWindow | None = None
