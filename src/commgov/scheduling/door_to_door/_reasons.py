"""Why a door-to-door household is left uncovered: the family's reason codes (private).

Registered as family ``"door_to_door"`` at import. A run stopped early uses the common codes
:attr:`~commgov.results.CommonReasonCode.TIME_LIMIT_REACHED` and
:attr:`~commgov.results.CommonReasonCode.CANCELLED`.
"""

from __future__ import annotations

from enum import StrEnum

from commgov.results import register_reasons

__all__ = ["DoorToDoorReasonCode"]


class DoorToDoorReasonCode(StrEnum):
    """Reason codes of uncovered door-to-door households, each a predicate the verifier checks.

    ``NO_TEAM_IN_TIME(alone_min)``: no team unit can reach the household, serve it and return
    within its limit even with nothing else to do (``alone_min``: that round trip, minutes).
    ``TEAMS_FULL(eligible)``: the ``eligible`` units that could serve it alone are all used, and
    inserting it anywhere in any route (an unused unit's empty route included) would break
    that unit's limit.

    Examples
    --------
    >>> from commgov.results import Reason
    >>> Reason(code=DoorToDoorReasonCode.TEAMS_FULL, params={"eligible": 2}).text()
    'all 2 team units that could reach the household in time are full: it fits into no round \
within its shift'
    """

    NO_TEAM_IN_TIME = "NO_TEAM_IN_TIME"
    TEAMS_FULL = "TEAMS_FULL"


register_reasons(
    "door_to_door",
    DoorToDoorReasonCode,
    {
        DoorToDoorReasonCode.NO_TEAM_IN_TIME: ({"alone_min"}, ()),
        DoorToDoorReasonCode.TEAMS_FULL: ({"eligible"}, ()),
    },
    {
        DoorToDoorReasonCode.NO_TEAM_IN_TIME: (
            "no team can reach the household and return within its shift (the round trip "
            "alone takes {alone_min} min)",
            "没有小组能在班次内上门并返回（单独往返需{alone_min}分钟）",
        ),
        DoorToDoorReasonCode.TEAMS_FULL: (
            "all {eligible} team units that could reach the household in time are full: it "
            "fits into no round within its shift",
            "全部{eligible}个能按时上门的小组均已排满：任何路线都无法在班次内加入该户",
        ),
    },
)
