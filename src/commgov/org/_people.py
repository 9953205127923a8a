"""People with roles, skills and availability; their memberships and liaison assignments.

Only people the model needs are recorded (volunteers, party members, grid workers, vulnerable
residents): a district's residents are counts on buildings and entrances. Names, phone numbers,
health flags and party membership are personal data (PIPL): they are optional, marked
``"sensitive": true`` in the JSON Schema (:func:`commgov.org.sensitive_fields` lists them), and
ids are pseudonymous. Terms (party members, 双报到, "1+10+N", roles, rider duties, health
statuses): docs/glossary.md.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import ConfigDict, Field, model_validator

from commgov.org._base import SENSITIVE, Record
from commgov.types import GeoPoint, Id, SkillLevel, TimeWindow

__all__ = [
    "HealthFlag",
    "Liaison",
    "MemberCategory",
    "Membership",
    "MembershipRole",
    "Person",
    "RiderDuty",
    "Role",
]


class Role(StrEnum):
    """Roles a person holds in the community (docs/glossary.md: people, teams, partners).

    ``VOLUNTEER`` 志愿者, ``PARTY_MEMBER`` 党员, ``GRID_WORKER`` 网格员, ``GRID_HEAD`` 网格长,
    ``BUILDING_CAPTAIN`` 楼栋长 / 单元长, ``COMMUNITY_WORKER`` 社区工作者, ``PARTY_SECRETARY``
    社区书记, ``MEDIATOR`` 老娘舅 (informal mediator), ``OWNERS_COMMITTEE_MEMBER`` 业委会成员,
    ``PROPERTY_STAFF`` 物业人员, ``RIDER`` 骑手 / 快递小哥.
    """

    VOLUNTEER = "volunteer"
    PARTY_MEMBER = "party_member"
    GRID_WORKER = "grid_worker"
    GRID_HEAD = "grid_head"
    BUILDING_CAPTAIN = "building_captain"
    COMMUNITY_WORKER = "community_worker"
    PARTY_SECRETARY = "party_secretary"
    MEDIATOR = "mediator"
    OWNERS_COMMITTEE_MEMBER = "owners_committee_member"
    PROPERTY_STAFF = "property_staff"
    RIDER = "rider"


class MemberCategory(StrEnum):
    """Category of a party member (docs/glossary.md).

    ``RESIDENT``: membership held by the community where the member lives. ``IN_SERVICE``
    在职党员: membership held by the employer; the member reports to the community where they
    live (双报到, ``Person.reports_to_community_id``). ``MOBILE`` 流动党员: away from the
    organisation holding their membership.
    """

    RESIDENT = "resident"
    IN_SERVICE = "in_service"
    MOBILE = "mobile"


class RiderDuty(StrEnum):
    """Duties of a rider in the riders' vanguard (docs/glossary.md).

    ``PUBLICITY`` 流动宣传员 (mobile publicist), ``NEEDS_RELAY`` 需求速递员 (needs courier),
    ``HARDSHIP_RELIEF`` 困难纾解员 (hardship reliever), ``OBSERVATION`` 防疫观察员
    (epidemic-prevention observer).
    """

    PUBLICITY = "publicity"
    NEEDS_RELAY = "needs_relay"
    HARDSHIP_RELIEF = "hardship_relief"
    OBSERVATION = "observation"


class HealthFlag(StrEnum):
    """Health and vulnerability flags of a person (sensitive; docs/glossary.md).

    ``HOME_ISOLATION`` 居家隔离, ``HEALTH_MONITORING`` 居家健康监测, ``CLOSE_CONTACT`` 密接,
    ``SECONDARY_CONTACT`` 次密接, ``MOBILITY_LIMITED`` 行动不便, ``ELDERLY_ALONE`` 独居老人,
    ``CHRONIC_CONDITION`` 慢性病 (needs regular medicine).
    """

    HOME_ISOLATION = "home_isolation"
    HEALTH_MONITORING = "health_monitoring"
    CLOSE_CONTACT = "close_contact"
    SECONDARY_CONTACT = "secondary_contact"
    MOBILITY_LIMITED = "mobility_limited"
    ELDERLY_ALONE = "elderly_alone"
    CHRONIC_CONDITION = "chronic_condition"


class Person(Record):
    """A person the organisation model needs to know about.

    Edges in :class:`~commgov.org.OrgGraph`: ``RESIDES_IN`` to ``home_id``; ``REPORTS_TO`` to
    ``reports_to_community_id`` (双报到).

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
    rider_duties : list of RiderDuty
        Duties of a rider (only with role ``RIDER``).
    party_category : MemberCategory or None
        Party member category (only with role ``PARTY_MEMBER``). Sensitive.
    reports_to_community_id : str or None
        Community an in-service member reports to (双报到): the community where they live
        (checked by the graph when ``home_id`` is known). Only for ``IN_SERVICE`` members.
    name : str or None
        Sensitive.
    phone : str or None
        Sensitive.
    health_flags : list of HealthFlag
        Sensitive.

    Raises
    ------
    pydantic.ValidationError
        Rider duties without the rider role, a party category without the party-member role,
        dual reporting by someone who is not an in-service member.
    """

    # pydantic's own error text would quote the input: a name or phone number must not leak
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    roles: list[Role] = Field(default_factory=list)
    enrolments: list[str] = Field(default_factory=list)
    skills: dict[str, SkillLevel] = Field(default_factory=dict)
    home_id: Id | None = None
    location: GeoPoint | None = None
    availability: list[TimeWindow] = Field(default_factory=list)
    rider_duties: list[RiderDuty] = Field(default_factory=list)
    party_category: MemberCategory | None = Field(default=None, json_schema_extra=SENSITIVE)
    reports_to_community_id: Id | None = None
    name: str | None = Field(default=None, json_schema_extra=SENSITIVE)
    phone: str | None = Field(default=None, max_length=40, json_schema_extra=SENSITIVE)
    health_flags: list[HealthFlag] = Field(default_factory=list, json_schema_extra=SENSITIVE)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.rider_duties and Role.RIDER not in self.roles:
            raise ValueError("rider_duties need the role 'rider'")
        if self.party_category is not None and Role.PARTY_MEMBER not in self.roles:
            raise ValueError("a party_category needs the role 'party_member'")
        if (
            self.reports_to_community_id is not None
            and self.party_category is not MemberCategory.IN_SERVICE
        ):
            raise ValueError(
                "reports_to_community_id (双报到) is for in-service party members "
                "(party_category='in_service')"
            )
        return self


class MembershipRole(StrEnum):
    """A person's role in an organisation they are a member of.

    ``MEMBER``; ``LEADER`` (team leader, committee director, 队长 / 主任); ``DEPUTY``;
    ``SECRETARY`` (party secretary 书记); ``COMMITTEE_MEMBER`` (委员).
    """

    MEMBER = "member"
    LEADER = "leader"
    DEPUTY = "deputy"
    SECRETARY = "secretary"
    COMMITTEE_MEMBER = "committee_member"


class Membership(Record):
    """A person's membership of a party organisation, team or body, with role and dates.

    Edge in :class:`~commgov.org.OrgGraph`: ``MEMBER_OF`` from ``person_id`` to
    ``organisation_id``, keyed ``"MEMBER_OF:<membership id>"``. A membership of a party
    organisation is party-membership data (sensitive): export it only where that is allowed.

    Attributes
    ----------
    person_id : str
    organisation_id : str
        A :class:`~commgov.org.PartyOrg`, :class:`~commgov.org.Team` or
        :class:`~commgov.org.Body`.
    role : MembershipRole
    title : str or None
        Title as written locally (``"楼栋长"``).
    start, end : date or None
        First and last day (inclusive), ``end ≥ start``; ``None`` = open.

    Raises
    ------
    pydantic.ValidationError
        If ``end`` is before ``start``.
    """

    person_id: Id
    organisation_id: Id
    role: MembershipRole = MembershipRole.MEMBER
    title: str | None = None
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(
                f"end {self.end.isoformat()} must not be before start {self.start.isoformat()}"
            )
        return self

    def active_on(self, day: date) -> bool:
        """Whether the membership holds on ``day`` (both ends inclusive).

        Raises
        ------
        TypeError
            If ``day`` is not a date (a datetime too: its day depends on the time zone).
        """
        from commgov.org._args import day as check_day  # here: _args imports people

        check_day(day, "day")
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


class Liaison(Record):
    """A "1+10+N" liaison assignment: one person, a few households, N services.

    Each liaison (usually a party member, the "1") keeps in touch with a fixed set of
    households (about ten; the target ratio is a setting of
    :meth:`~commgov.org.OrgGraph.liaison_coverage`) and offers an open list of services (the
    "N"): explaining policy, collecting opinions, helping households in need.
    Edges in :class:`~commgov.org.OrgGraph`: ``LIAISES`` from ``person_id`` to each household,
    keyed ``"LIAISES:<liaison id>"``.

    Attributes
    ----------
    person_id : str
    household_ids : list of str
        The households (at least one, each once).
    services : list of str
        What the liaison offers, as data (``"政策宣传"``, ``"代购药品"``).
    """

    person_id: Id
    household_ids: list[Id] = Field(min_length=1)
    services: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if len(set(self.household_ids)) != len(self.household_ids):
            raise ValueError("household_ids lists a household more than once")
        return self
