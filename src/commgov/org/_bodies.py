"""Bodies: committees, companies, partner units and associations laid over the territory.

A body is an organisation that is not a party organisation and not a team: the residents'
committee of a community (居委会), the villagers' committee of a village (村委会), the property
company (物业) and owners' committee (业委会) of a compound, resident and partner units
(驻区单位), business associations (商会) and social organisations (社会组织). Local brands are
data (``brand``), never kinds. Terms: docs/glossary.md.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from commgov.org._base import Record
from commgov.types import GeoPoint, Id

__all__ = ["Body", "BodyKind"]


class BodyKind(StrEnum):
    """Kind of a body (docs/glossary.md).

    ``RESIDENTS_COMMITTEE`` 居民委员会 (of a community), ``VILLAGERS_COMMITTEE`` 村民委员会 (of
    a village), ``PROPERTY_COMPANY`` 物业服务企业, ``OWNERS_COMMITTEE`` 业主委员会,
    ``PARTNER_UNIT`` 驻区单位 / 共建单位 (a resident unit that signed a co-building agreement),
    ``BUSINESS_ASSOCIATION`` 商会, ``SOCIAL_ORGANISATION`` 社会组织.
    """

    RESIDENTS_COMMITTEE = "residents_committee"
    VILLAGERS_COMMITTEE = "villagers_committee"
    PROPERTY_COMPANY = "property_company"
    OWNERS_COMMITTEE = "owners_committee"
    PARTNER_UNIT = "partner_unit"
    BUSINESS_ASSOCIATION = "business_association"
    SOCIAL_ORGANISATION = "social_organisation"


class Body(Record):
    """A body (组织) based in a community.

    Edges in :class:`~commgov.org.OrgGraph`: ``LOCATED_IN`` to ``community_id``; ``COVERS`` to
    each of ``covers`` (the compounds a property company manages, the compound of an owners'
    committee); ``PARTNERS`` to each of ``partner_community_ids`` (共建, co-building
    agreements).

    Attributes
    ----------
    kind : BodyKind
    name : str
        Official name (``虎池苑社区居民委员会``).
    community_id : str
        The community the body sits in (a residents' committee in a residents' community, a
        villagers' committee in a village).
    covers : list of str
        Neighbourhood units or buildings the body manages or represents.
    partner_community_ids : list of str
        Communities the body has a co-building agreement with (共建).
    brand : str or None
        Local brand as data.
    location : GeoPoint or None
        Office, WGS84.
    """

    kind: BodyKind
    name: str = Field(min_length=1)
    community_id: Id
    covers: list[Id] = Field(default_factory=list)
    partner_community_ids: list[Id] = Field(default_factory=list)
    brand: str | None = None
    location: GeoPoint | None = None
