"""Teams: volunteer, partner, rider and business-association teams (志愿服务队).

Local brands (海棠先锋 pioneer teams, 海棠合伙人 partner teams, the riders' vanguard) are data
in ``brand``, never kinds. Members join through :class:`~commgov.org.Membership` records.
Terms: docs/glossary.md (people, teams, partners).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from commgov.org._base import Record
from commgov.types import Id

__all__ = ["Team", "TeamKind"]


class TeamKind(StrEnum):
    """Kind of a team.

    ``VOLUNTEER``: residents and party members organised by building or compound (e.g. the
    Haitang Pioneers). ``PARTNER``: a partner team giving professional services (tutoring,
    clinic, repair). ``RIDER``: delivery riders and couriers (新就业群体). ``BUSINESS_ASSOCIATION``:
    a volunteer team raised by a business association (商会).
    """

    VOLUNTEER = "volunteer"
    PARTNER = "partner"
    RIDER = "rider"
    BUSINESS_ASSOCIATION = "business_association"


class Team(Record):
    """A team of people serving some places.

    Edges in :class:`~commgov.org.OrgGraph`: ``LOCATED_IN`` to ``community_id``; ``COVERS`` to
    each of ``covers``; ``PARTNERS`` to each of ``partner_ids``.

    Attributes
    ----------
    kind : TeamKind
    name : str
    community_id : str or None
        The community the team belongs to; ``None`` for a team serving a whole district or
        sub-district (a riders' team).
    covers : list of str
        Buildings, entrances or neighbourhood units the team serves; empty = its whole
        community.
    partner_ids : list of str
        Communities it has a co-building agreement with, and bodies (partner units, business
        associations) it comes from.
    brand : str or None
        Local brand as data (``"海棠先锋"``).
    """

    kind: TeamKind
    name: str = Field(min_length=1)
    community_id: Id | None = None
    covers: list[Id] = Field(default_factory=list)
    partner_ids: list[Id] = Field(default_factory=list)
    brand: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for field in ("covers", "partner_ids"):
            ids = getattr(self, field)
            if len(set(ids)) != len(ids):
                raise ValueError(f"{field} lists an id more than once")
        return self
