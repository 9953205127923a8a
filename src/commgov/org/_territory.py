"""Territory records: the ``CONTAINS`` tree from district to household.

========================  ==================================================  ====================
kind (Chinese)            record                                              parent kinds
========================  ==================================================  ====================
district 区               :class:`AdminArea` (``level=DISTRICT``)             —
sub-district 街道         :class:`AdminArea` (``level=SUBDISTRICT``)          district
community 社区 / 村       :class:`Community`                                  sub-district
compound 小区, lane 街巷,  :class:`NeighbourhoodUnit`                          community; a
courtyard 院落                                                                courtyard also lane
building 楼栋             :class:`Building`                                   neighbourhood unit
entrance 单元             :class:`Entrance`                                   building
household 户              :class:`Household`                                  entrance, building
========================  ==================================================  ====================

Divisions keep their official statistical codes as ids (``320508``, ``320508017``,
``320508017016``); ids below are derived (``320508017016/C03/B12/E2``). Households are counted
on the leaf level (an entrance, or a building without entrances) with :class:`HouseholdCounts`;
individual :class:`Household` records exist only where they are known or needed.

Grids (网格) and micro-grids (微网格) are not in this tree: a :class:`Grid` belongs to a community
and covers buildings (``COVERS``), many-to-many with neighbourhood units.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from commgov._records import FrozenModel
from commgov.org._base import SENSITIVE, Record
from commgov.types import GeoPoint, Headcount, Id, TimeZoneName

#: Most residents one household record may have (a dormitory or care home counts as one).
MAX_HOUSEHOLD_RESIDENTS = 10_000

__all__ = [
    "AdminArea",
    "AdminLevel",
    "Building",
    "Community",
    "CommunityKind",
    "Entrance",
    "Grid",
    "GridKind",
    "Household",
    "HouseholdCounts",
    "NeighbourhoodKind",
    "NeighbourhoodUnit",
    "PropertyManagement",
]


class AdminLevel(StrEnum):
    """Level of an administrative area above the community."""

    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"


class CommunityKind(StrEnum):
    """Kind of village-level unit: residents' committee 社区居委会, villagers' committee 村委会."""

    RESIDENTS = "residents"
    VILLAGE = "village"


class NeighbourhoodKind(StrEnum):
    """Kind of neighbourhood unit: compound 小区, lane 街巷 or courtyard 院落."""

    COMPOUND = "compound"
    LANE = "lane"
    COURTYARD = "courtyard"


class GridKind(StrEnum):
    """Kind of grid (docs/glossary.md).

    ``GRID`` 网格 (≈ 300–500 households, one grid worker); ``MICRO_GRID`` 微网格 (a few
    buildings or one, inside a grid).
    """

    GRID = "grid"
    MICRO_GRID = "micro_grid"


class PropertyManagement(StrEnum):
    """How a neighbourhood unit is managed (无物业小区 = ``NONE``)."""

    PROFESSIONAL = "professional"
    SELF_MANAGED = "self_managed"
    NONE = "none"
    COMMUNITY_FALLBACK = "community_fallback"


class HouseholdCounts(FrozenModel):
    """Counts of households and residents at one place.

    Attributes
    ----------
    households : int
        Households (户), ≥ 0.
    residents : int
        Residents, ≥ households when there are households.
    mobility_limited : int
        Residents who cannot walk to a sampling point (行动不便), ≤ residents.
    """

    households: Headcount = 0
    residents: Headcount = 0
    mobility_limited: Headcount = 0

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.residents < self.households:
            raise ValueError(
                f"residents ({self.residents}) must be at least households ({self.households})"
            )
        if self.mobility_limited > self.residents:
            raise ValueError(
                f"mobility_limited ({self.mobility_limited}) must not exceed residents "
                f"({self.residents})"
            )
        return self

    def __add__(self, other: HouseholdCounts) -> HouseholdCounts:
        return HouseholdCounts(
            households=self.households + other.households,
            residents=self.residents + other.residents,
            mobility_limited=self.mobility_limited + other.mobility_limited,
        )


class AdminArea(Record):
    """A district (区) or sub-district (街道) with its official statistical code.

    Attributes
    ----------
    id : str
        Official code: 6 digits for a district, 9 for a sub-district.
    level : AdminLevel
    name : str
        Official name (``白洋湾街道``).
    short_name : str
        Name in everyday use.
    parent_id : str or None
        Code of the parent area (``None`` for a district: its city is not modelled).
    vintage : str
        Vintage of the code table (``"2023"``).
    """

    level: AdminLevel
    name: str = Field(min_length=1)
    short_name: str = Field(min_length=1)
    parent_id: Id | None = None
    vintage: str = ""


class Community(Record):
    """A community (社区, area of one residents' committee) or village (村委会).

    Attributes
    ----------
    id : str
        Official 12-digit code (``320508017016``).
    kind : CommunityKind
    name : str
        Official name (``虎池苑社区居委会``).
    short_name : str
        Name in everyday use (``虎池苑社区``).
    parent_id : str
        Code of the sub-district.
    vintage : str
        Vintage of the code table.
    timezone : str
        IANA time zone of the community (``Asia/Shanghai``).
    location : GeoPoint or None
        A representative point (office or centroid), WGS84.
    """

    kind: CommunityKind = CommunityKind.RESIDENTS
    name: str = Field(min_length=1)
    short_name: str = Field(min_length=1)
    parent_id: Id
    vintage: str = ""
    timezone: TimeZoneName = "Asia/Shanghai"
    location: GeoPoint | None = None


class NeighbourhoodUnit(Record):
    """A compound (小区), lane (街巷) or courtyard (院落) inside a community.

    Attributes
    ----------
    kind : NeighbourhoodKind
    name : str
    parent_id : str
        The community, or (for a courtyard) a lane.
    property_management : PropertyManagement
    location : GeoPoint or None
        Main gate or centroid, WGS84.
    """

    kind: NeighbourhoodKind
    name: str = Field(min_length=1)
    parent_id: Id
    property_management: PropertyManagement = PropertyManagement.PROFESSIONAL
    location: GeoPoint | None = None


class Building(Record):
    """A building (楼栋) in a neighbourhood unit.

    Attributes
    ----------
    label : str
        Label as residents know it (``12幢``).
    parent_id : str
        The neighbourhood unit.
    location : GeoPoint
        WGS84.
    floors : int
        Storeys above ground, ≥ 1.
    has_lift : bool
    counts : HouseholdCounts or None
        Households living directly in the building; required when it has no entrances,
        absent when its households are counted on its entrances.
    """

    label: str = Field(min_length=1)
    parent_id: Id
    location: GeoPoint
    floors: int = Field(default=1, ge=1, le=200)
    has_lift: bool = False
    counts: HouseholdCounts | None = None


class Entrance(Record):
    """An entrance / stairwell (单元) of a building — not a flat.

    Attributes
    ----------
    label : str
        ``1单元``.
    parent_id : str
        The building.
    counts : HouseholdCounts
        Households reached through this entrance.
    """

    label: str = Field(min_length=1)
    parent_id: Id
    counts: HouseholdCounts


class Household(Record):
    """An individual household (户), recorded only where it is known or needed.

    Attributes
    ----------
    parent_id : str
        The entrance, or the building where there is no entrance.
    residents : int
        Residents, ≥ 1.
    mobility_limited : int
        Residents who cannot walk to a sampling point (sensitive: health data, masked in
        errors and default exports as on :class:`~commgov.org.Person`).
    elderly_alone : bool
        Elderly person living alone (独居老人; sensitive, masked likewise).
    """

    parent_id: Id
    residents: int = Field(default=1, ge=1, le=MAX_HOUSEHOLD_RESIDENTS)
    mobility_limited: Headcount = Field(default=0, json_schema_extra=SENSITIVE)
    elderly_alone: bool = Field(default=False, json_schema_extra=SENSITIVE)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.mobility_limited > self.residents:
            raise ValueError(
                f"mobility_limited ({self.mobility_limited}) must not exceed residents "
                f"({self.residents})"
            )
        return self


class Grid(Record):
    """A grid (网格) or micro-grid (微网格): a management partition of a community.

    A grid is the unit of work assignment of a grid worker; it covers buildings, many-to-many
    with neighbourhood units (a large compound may hold several grids, a grid several small
    compounds or lanes). A micro-grid sits inside a grid and covers some of its buildings
    (docs/glossary.md). Edges in :class:`~commgov.org.OrgGraph`: ``LOCATED_IN`` to
    ``community_id`` and, for a micro-grid, to ``parent_id``; ``COVERS`` to each building.

    Attributes
    ----------
    kind : GridKind
    name : str
    community_id : str
        The community the grid partitions.
    parent_id : str or None
        For a micro-grid: the grid it sits in (required then, refused for a grid).
    covers : list of str
        Building ids, each once; a micro-grid's are among its grid's.
    households_estimate : int or None
        Households as counted by the grid office, when known.

    Raises
    ------
    pydantic.ValidationError
        A micro-grid without ``parent_id``, a grid with one, or a building listed twice.
    """

    kind: GridKind = GridKind.GRID
    name: str = Field(min_length=1)
    community_id: Id
    parent_id: Id | None = None
    covers: list[Id] = Field(default_factory=list)
    households_estimate: Headcount | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind is GridKind.MICRO_GRID and self.parent_id is None:
            raise ValueError("a micro-grid needs the parent_id of the grid it sits in")
        if self.kind is GridKind.GRID and self.parent_id is not None:
            raise ValueError("a grid has no parent grid (make it a micro_grid)")
        if len(set(self.covers)) != len(self.covers):
            raise ValueError("covers lists a building more than once")
        return self
