"""Party organisations laid over the territory (党组织).

Levels follow the CPC regulations on party branch work (中国共产党支部工作条例（试行）,
2018): working committee 党工委 (a dispatched organ, street level),
committee 党委 (≥ 100 members), general branch 党总支 (> 50), branch 党支部 (3–50), joint
branch 联合党支部 (several small units), small group 党小组 (a subdivision of a branch). The
kind says what the organisation is for: a regular territorial or unit organisation, a compound
co-governance organisation (小区共治党组织), or a temporary action branch (临时党支部 / 行动支部)
set up for a zone designation and dissolved afterwards. An expanded committee (大党委 / 大工委)
has part-time seats held by people from partner units, who keep their own affiliation.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from commgov._records import FrozenRecord
from commgov.org._base import Record
from commgov.org._text import article
from commgov.types import Id, TimeWindow

__all__ = ["PartyOrg", "PartyOrgKind", "PartyOrgLevel", "Seat"]


class PartyOrgLevel(StrEnum):
    """Level of a party organisation (中国共产党支部工作条例（试行）, 2018).

    ``WORKING_COMMITTEE`` 党工委, ``COMMITTEE`` 党委, ``GENERAL_BRANCH`` 党总支, ``BRANCH``
    党支部, ``JOINT_BRANCH`` 联合党支部, ``SMALL_GROUP`` 党小组.
    """

    WORKING_COMMITTEE = "working_committee"
    COMMITTEE = "committee"
    GENERAL_BRANCH = "general_branch"
    BRANCH = "branch"
    JOINT_BRANCH = "joint_branch"
    SMALL_GROUP = "small_group"

    @property
    def rank(self) -> int:
        """Height in the hierarchy: 5 = working committee … 1 = small group."""
        return _RANK[self.value]


_RANK = {
    "working_committee": 5,
    "committee": 4,
    "general_branch": 3,
    "branch": 2,
    "joint_branch": 2,
    "small_group": 1,
}

_L = PartyOrgLevel
#: Levels a party organisation of each level may be ``SUBORDINATE_TO`` (a
#: working committee is dispatched by a committee; a small group subdivides a branch).
ALLOWED_PARENT_LEVELS: dict[PartyOrgLevel, frozenset[PartyOrgLevel]] = {
    _L.WORKING_COMMITTEE: frozenset({_L.COMMITTEE}),
    _L.COMMITTEE: frozenset({_L.WORKING_COMMITTEE, _L.COMMITTEE}),
    _L.GENERAL_BRANCH: frozenset({_L.WORKING_COMMITTEE, _L.COMMITTEE}),
    _L.BRANCH: frozenset({_L.WORKING_COMMITTEE, _L.COMMITTEE, _L.GENERAL_BRANCH}),
    _L.JOINT_BRANCH: frozenset({_L.WORKING_COMMITTEE, _L.COMMITTEE, _L.GENERAL_BRANCH}),
    _L.SMALL_GROUP: frozenset({_L.BRANCH, _L.JOINT_BRANCH}),
}


class PartyOrgKind(StrEnum):
    """What a party organisation is for.

    ``REGULAR``: a standing territorial organisation (社区党组织, grid branch) or the party
    organisation of a unit. ``CO_GOVERNANCE``: a compound (lane, courtyard) co-governance party
    organisation 小区(街巷、院落)共治党组织, which leads at least one neighbourhood unit.
    ``ACTION_BRANCH``: a temporary action branch 临时党支部 / 行动支部, tied to a zone
    designation and in force only while it is.
    """

    REGULAR = "regular"
    CO_GOVERNANCE = "co_governance"
    ACTION_BRANCH = "action_branch"


class Seat(FrozenRecord):
    """A seat on a party organisation's committee (支委 / 委员), full-time or part-time.

    Part-time seats (兼职委员) make an expanded committee (大党委): the holder keeps the
    affiliation of their home unit and takes no community post.

    Attributes
    ----------
    person_id : str
        The holder (a :class:`~commgov.org.Person`).
    title : str
        ``"secretary"``, ``"deputy secretary"``, ``"member"`` …
    part_time : bool
        A part-time seat of an expanded committee.
    home_body_id : str or None
        For a part-time seat: the body (partner unit, property company …) the holder comes from.
    term : TimeWindow or None
        The term of office, half-open; ``None`` = not recorded.
    """

    person_id: Id
    title: str = Field(default="member", min_length=1)
    part_time: bool = False
    home_body_id: Id | None = None
    term: TimeWindow | None = None


class PartyOrg(Record):
    """A party organisation (党组织).

    Edges in :class:`~commgov.org.OrgGraph`: ``SUBORDINATE_TO`` to ``parent_id``; ``LEADS`` to
    each of ``leads`` (places, grids, teams, bodies); ``ATTACHED_TO`` to
    ``zone_designation_id``; ``REPORTS_TO`` to ``reports_to_community_id`` (双报到 of a unit's
    party organisation); ``MEMBER_OF`` from each seat holder.

    Attributes
    ----------
    level : PartyOrgLevel
    kind : PartyOrgKind
    name : str
    parent_id : str or None
        The party organisation it is subordinate to; ``None`` at the top of the model (the
        district committee is usually not modelled).
    leads : list of str
        What it is accountable for (“committee grips branches …”): a sub-district, community,
        neighbourhood unit, building, entrance or grid; a team; a body.
    expanded : bool
        An expanded committee (大党委 / 大工委), which may have part-time seats.
    seats : list of Seat
        Committee seats (full-time and part-time).
    zone_designation_id : str or None
        For an action branch: the zone designation it was set up for (required then, refused
        otherwise).
    valid : TimeWindow or None
        When the organisation exists, half-open; required for an action branch (and inside its
        designation's window, checked by the graph), ``None`` = standing.
    reports_to_community_id : str or None
        For a unit's party organisation: the community it reports to (双报到).
    brand : str or None
        Local brand as data.

    Raises
    ------
    pydantic.ValidationError
        An action branch without a zone designation or window, a zone designation on another
        kind, an action branch that is not a branch level, part-time seats on a committee that
        is not expanded, or a person holding two seats.
    """

    level: PartyOrgLevel
    kind: PartyOrgKind = PartyOrgKind.REGULAR
    name: str = Field(min_length=1)
    parent_id: Id | None = None
    leads: list[Id] = Field(default_factory=list)
    expanded: bool = False
    seats: list[Seat] = Field(default_factory=list)
    zone_designation_id: Id | None = None
    valid: TimeWindow | None = None
    reports_to_community_id: Id | None = None
    brand: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind is PartyOrgKind.ACTION_BRANCH:
            if self.zone_designation_id is None:
                raise ValueError("an action branch needs the zone_designation_id it serves")
            if self.valid is None:
                raise ValueError("an action branch needs its valid window (it is temporary)")
            if self.level not in (PartyOrgLevel.BRANCH, PartyOrgLevel.JOINT_BRANCH):
                raise ValueError(f"an action branch is a branch, not {article(self.level)}")
        elif self.zone_designation_id is not None:
            raise ValueError("only an action branch is tied to a zone designation")
        if not self.expanded and any(s.part_time for s in self.seats):
            raise ValueError("part-time seats need an expanded committee (expanded=True)")
        holders = [s.person_id for s in self.seats]
        if len(set(holders)) != len(holders):
            raise ValueError("a person holds at most one seat on a committee")
        if len(set(self.leads)) != len(self.leads):
            raise ValueError("leads lists an id more than once")
        return self
