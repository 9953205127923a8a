"""Zone regimes, designations and versioned policy rulebooks (封控区 / 管控区 / 防范区 …).

Regimes attach to places, not to people. A designation puts targets at mixed levels (entrance,
building, neighbourhood unit, community, sub-district; a household or a site) under a regime
for a time window, under one version of the rules. The rules changed several times in
2021–2022, so each version is a :class:`PolicyRulebook` in :data:`RULEBOOKS`: the three-zone
notice in force in spring 2022, the 9th edition of the national plan (high / medium / low risk,
late June 2022), the "20 measures" (November 2022) and the "new 10 measures" (7 December
2022). Each rulebook names its document in ``source``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pydantic import Field

from commgov._records import FrozenModel
from commgov.org._base import Record
from commgov.types import Id, TimeWindow

__all__ = [
    "RULEBOOKS",
    "THREE_ZONE_2021",
    "Movement",
    "PolicyRulebook",
    "RegimeRule",
    "SamplingMode",
    "SupplyMode",
    "ZoneDesignation",
    "ZoneRegime",
    "most_restrictive",
]


class ZoneRegime(StrEnum):
    """Zone regimes of every rulebook version, ordered by :attr:`rank`.

    Spring 2022 (three-zone notice): ``SEALED`` 封控区 (nobody leaves home; sampling door to
    door), ``CONTROLLED`` 管控区 (people do not leave the area; sampling at designated points
    or slots), ``PRECAUTIONARY`` 防范区 (movement limited; sampling at any point). From the
    9th edition (late June 2022): ``HIGH`` 高风险区, ``MEDIUM`` 中风险区, ``LOW`` 低风险区.
    """

    SEALED = "sealed"
    CONTROLLED = "controlled"
    PRECAUTIONARY = "precautionary"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Restrictiveness: higher is more restrictive.

        Sealed and high risk are 2 (stay home, services to the door), controlled and medium
        risk 1 (stay in the area, staggered pick-up), precautionary and low risk 0
        (联防联控机制综发〔2021〕92号; 新型冠状病毒肺炎防控方案（第九版）). The two families
        never mix in one rulebook.
        """
        return _REGIME_RANK[self.value]


_REGIME_RANK = {
    "sealed": 2,
    "high": 2,
    "controlled": 1,
    "medium": 1,
    "precautionary": 0,
    "low": 0,
}


def most_restrictive(regimes: Iterable[ZoneRegime]) -> ZoneRegime | None:
    """The most restrictive of ``regimes`` (highest :attr:`ZoneRegime.rank`), ``None`` if empty.

    Among regimes of equal rank (only possible when rulebooks are mixed) the first given wins.
    """
    best: ZoneRegime | None = None
    for regime in regimes:
        if best is None or regime.rank > best.rank:
            best = regime
    return best


class Movement(StrEnum):
    """Movement rule of a regime (联防联控机制综发〔2021〕92号).

    ``HOME_ONLY`` 足不出户, ``WITHIN_ZONE`` 人不出区, ``LIMITED`` (gatherings limited, leave
    the compound with checks), ``PROTECTED`` (personal protection only).
    """

    HOME_ONLY = "home_only"
    WITHIN_ZONE = "within_zone"
    LIMITED = "limited"
    PROTECTED = "protected"


class SamplingMode(StrEnum):
    """How residents are sampled (docs/glossary.md, sites and zones).

    ``DOOR_TO_DOOR`` 上门采样, ``SCHEDULED_BY_BUILDING`` 分楼栋、分时段采样 (designated
    points, by building and time slot), ``OPEN_POINT`` (any community or public point).
    """

    DOOR_TO_DOOR = "door_to_door"
    SCHEDULED_BY_BUILDING = "scheduled_by_building"
    OPEN_POINT = "open_point"


class SupplyMode(StrEnum):
    """How supplies reach residents (联防联控机制综发〔2021〕92号).

    ``DOOR_TO_DOOR`` (relay from the gate), ``STAGGERED_PICKUP`` 错峰取物 at designated
    points, ``NORMAL`` (shops, with limits).
    """

    DOOR_TO_DOOR = "door_to_door"
    STAGGERED_PICKUP = "staggered_pickup"
    NORMAL = "normal"


class RegimeRule(FrozenModel):
    """What one regime means under one rulebook version.

    Attributes
    ----------
    movement : Movement
    sampling_mode : SamplingMode
    supply_mode : SupplyMode
    sampling_days : tuple of int
        Days of the regime (day 1 = first) with a sampling round, when fixed.
    release_days : int or None
        Days without a new case before release (or downgrade); ``None`` = not a fixed number.
    target_kinds : tuple of str or None
        Territorial kinds a designation under this regime may target (``"building"``,
        ``"entrance"``, ``"household"`` …); ``None`` = any level.
    slogan : str
        The regime's slogan, in Chinese as published.
    """

    movement: Movement
    sampling_mode: SamplingMode
    supply_mode: SupplyMode
    sampling_days: tuple[int, ...] = ()
    release_days: int | None = None
    target_kinds: tuple[str, ...] | None = None
    slogan: str = ""


class PolicyRulebook(FrozenModel):
    """One version of the zone rules: which regimes exist and what each means.

    Attributes
    ----------
    version : str
        Key in :data:`RULEBOOKS` and value of ``ZoneDesignation.rulebook_version``.
    title : str
    issued : str
        When it was issued, as precisely as known (``"2022-12-07"``, ``"2021"``).
    source : str
        The published document the rules come from.
    rules : dict of ZoneRegime to RegimeRule
        The regimes of this version.
    default_regime : ZoneRegime
        The regime of a place no designation covers.
    """

    version: str = Field(min_length=1)
    title: str
    issued: str
    source: str
    rules: dict[ZoneRegime, RegimeRule]
    default_regime: ZoneRegime

    def rule(self, regime: ZoneRegime) -> RegimeRule:
        """The rule of ``regime`` in this version.

        Raises
        ------
        KeyError
            If the version has no such regime (``sealed`` under the 9th edition).
        """
        return self.rules[regime]


_FINE = ("building", "entrance", "household")

#: Version of the three-zone rules in force in spring 2022 (the default of designations).
THREE_ZONE_2021 = "2021-three-zone"


def _home_only(**rule: Any) -> RegimeRule:
    """A regime that keeps people at home: sampling and supplies come to the door."""
    return RegimeRule(
        movement=Movement.HOME_ONLY,
        sampling_mode=SamplingMode.DOOR_TO_DOOR,
        supply_mode=SupplyMode.DOOR_TO_DOOR,
        **rule,
    )


def _within_zone(**rule: Any) -> RegimeRule:
    """A regime that keeps people in the zone: sampling by building, staggered pickup."""
    return RegimeRule(
        movement=Movement.WITHIN_ZONE,
        sampling_mode=SamplingMode.SCHEDULED_BY_BUILDING,
        supply_mode=SupplyMode.STAGGERED_PICKUP,
        **rule,
    )


def _open_point(**rule: Any) -> RegimeRule:
    """A regime of open sampling points and normal supplies (``movement`` given)."""
    return RegimeRule(sampling_mode=SamplingMode.OPEN_POINT, supply_mode=SupplyMode.NORMAL, **rule)


#: Slogan of every high-risk rule since the 9th edition.
_AT_HOME = "足不出户、上门服务"
#: The low-risk rule of the 9th edition, kept by the "20 measures".
_LOW_PROTECTED = _open_point(movement=Movement.PROTECTED, slogan="个人防护、避免聚集")

_RULEBOOKS = [
    PolicyRulebook(
        version=THREE_ZONE_2021,
        title="Sealed, controlled and precautionary zones (三区)",
        issued="2021",
        source="联防联控机制综发〔2021〕92号 as explained by provincial CDCs",
        rules={
            ZoneRegime.SEALED: _home_only(
                sampling_days=(1, 4, 7, 10, 14),
                release_days=14,
                slogan="区域封闭、足不出户、服务上门",
            ),
            ZoneRegime.CONTROLLED: _within_zone(
                sampling_days=(1, 4, 7),
                release_days=14,
                slogan="人不出区、严禁聚集",
            ),
            ZoneRegime.PRECAUTIONARY: _open_point(
                movement=Movement.LIMITED,
                slogan="强化社会面管控、严格限制人员聚集",
            ),
        },
        default_regime=ZoneRegime.PRECAUTIONARY,
    ),
    PolicyRulebook(
        version="2022-v9",
        title="High, medium and low risk areas (9th edition of the national plan)",
        issued="2022-06 (late June)",
        source="新型冠状病毒肺炎防控方案（第九版）",
        rules={
            ZoneRegime.HIGH: _home_only(
                release_days=7,
                slogan=_AT_HOME,
            ),
            ZoneRegime.MEDIUM: _within_zone(
                release_days=3,
                slogan="人不出区、错峰取物",
            ),
            ZoneRegime.LOW: _LOW_PROTECTED,
        },
        default_regime=ZoneRegime.LOW,
    ),
    PolicyRulebook(
        version="2022-20-measures",
        title='High and low risk areas only ("20 measures")',
        issued="2022-11",
        source="二十条优化措施",
        rules={
            ZoneRegime.HIGH: _home_only(
                target_kinds=("building", "entrance"),
                slogan=_AT_HOME,
            ),
            ZoneRegime.LOW: _LOW_PROTECTED,
        },
        default_regime=ZoneRegime.LOW,
    ),
    PolicyRulebook(
        version="2022-new-10",
        title='High risk by building, entrance or household ("new 10 measures")',
        issued="2022-12-07",
        source="新十条",
        rules={
            ZoneRegime.HIGH: _home_only(
                target_kinds=_FINE,
                slogan=_AT_HOME,
            ),
            ZoneRegime.LOW: _open_point(
                movement=Movement.PROTECTED,
                slogan="个人防护",
            ),
        },
        default_regime=ZoneRegime.LOW,
    ),
]

#: Every built-in rulebook version by key, oldest first (read-only).
RULEBOOKS: Mapping[str, PolicyRulebook] = MappingProxyType({r.version: r for r in _RULEBOOKS})


class ZoneDesignation(Record):
    """A regime in force over some places for a time window.

    Edges in :class:`~commgov.org.OrgGraph`: ``DESIGNATES`` to each target. The graph checks
    that the version is in :data:`RULEBOOKS`, that it has the regime, and that the targets
    are of the kinds the regime allows.

    Attributes
    ----------
    regime : ZoneRegime
    targets : list of str
        Ids of the places designated, at any level and mixed (entrance, building,
        neighbourhood unit, community, sub-district, household, site).
    valid : TimeWindow
        When the designation is in force, half-open.
    rulebook_version : str
        Key of the :class:`PolicyRulebook` it was made under (default: the spring-2022
        three-zone rules, ``"2021-three-zone"``).
    """

    regime: ZoneRegime
    targets: list[Id] = Field(min_length=1)
    valid: TimeWindow
    rulebook_version: str = THREE_ZONE_2021
