"""People with roles, skills and availability.

Only people the model needs are recorded (volunteers, party members, grid workers, vulnerable
residents): a district's residents are counts on buildings and entrances. Names and phone
numbers are personal data: they are optional, and ids are pseudonymous.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from commgov.org._base import Record
from commgov.types import GeoPoint, Id, SkillLevel, TimeWindow

__all__ = ["Person", "Role"]


class Role(StrEnum):
    """Roles a person holds in the community (GLOSSARY: people, teams, partners)."""

    VOLUNTEER = "volunteer"
    PARTY_MEMBER = "party_member"
    GRID_WORKER = "grid_worker"
    BUILDING_CAPTAIN = "building_captain"
    COMMUNITY_WORKER = "community_worker"
    MEDIATOR = "mediator"
    RIDER = "rider"


class Person(Record):
    """A person the organisation model needs to know about.

    Attributes
    ----------
    roles : list of Role
    enrolments : list of str
        Local programmes the person is enrolled in, as data (``"海棠先锋"``).
    skills : dict of str to int
        Skill name → level (1 = basic … 5 = expert).
    home_id : str or None
        Where the person lives: a building, entrance or household id.
    location : GeoPoint or None
        Where the person starts from (usually home), WGS84.
    availability : list of TimeWindow
        When the person can serve, half-open and tz-aware.
    name : str or None
        Personal data (PIPL): optional.
    """

    roles: list[Role] = Field(default_factory=list)
    enrolments: list[str] = Field(default_factory=list)
    skills: dict[str, SkillLevel] = Field(default_factory=dict)
    home_id: Id | None = None
    location: GeoPoint | None = None
    availability: list[TimeWindow] = Field(default_factory=list)
    name: str | None = Field(default=None, json_schema_extra={"sensitive": True})
