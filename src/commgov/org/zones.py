"""Zone regimes and designations (封控区 / 管控区 / 防范区).

Regimes attach to places, not to people. A designation puts targets at any level (entrance,
building, neighbourhood unit, community, sub-district) under a regime for a time window.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from commgov.org._base import Record
from commgov.types import Id, TimeWindow

__all__ = ["ZoneDesignation", "ZoneRegime"]


class ZoneRegime(StrEnum):
    """Spring-2022 three-zone regimes, from most to least restrictive.

    ``SEALED`` (封控区): nobody leaves home; sampling door to door. ``CONTROLLED`` (管控区):
    people do not leave the area; sampling at designated points or slots. ``PRECAUTIONARY``
    (防范区): movement limited; sampling at any point.
    """

    SEALED = "sealed"
    CONTROLLED = "controlled"
    PRECAUTIONARY = "precautionary"

    @property
    def rank(self) -> int:
        """Restrictiveness: higher is more restrictive."""
        return {"precautionary": 0, "controlled": 1, "sealed": 2}[self.value]


class ZoneDesignation(Record):
    """A regime in force over some places for a time window.

    Attributes
    ----------
    regime : ZoneRegime
    targets : list of str
        Ids of the places designated (any territorial level).
    valid : TimeWindow
        When the designation is in force.
    rulebook_version : str
        Version of the policy rulebook it was made under (``"2022-v9"``).
    """

    regime: ZoneRegime
    targets: list[Id] = Field(min_length=1)
    valid: TimeWindow
    rulebook_version: str = "2022-v9"
