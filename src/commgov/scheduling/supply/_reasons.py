"""Why a compound is left without a station: the supply planner's reason codes (registered)."""

from __future__ import annotations

from enum import StrEnum

from commgov.results import register_reasons

__all__ = ["SupplyReasonCode"]


class SupplyReasonCode(StrEnum):
    """Why a compound is not served by a station; each a predicate the verifier checks.

    The first true of the codes, in this order, is given:

    * ``NO_STATION_IN_REACH`` (``limit_m``; optional ``distance_m``, the nearest candidate
      station): no candidate station is within the walking limit of the compound's gate;
    * ``TOO_LARGE`` (``parcels``, ``capacity_parcels``: the largest capacity in reach): the
      compound's parcels exceed the capacity of every station in reach, so no plan serves
      it;
    * ``STATIONS_FULL`` (``parcels``): no station in reach has room for the compound's
      ``parcels`` beside what the plan already sends through it (some station in reach
      could take them alone);
    * ``VOLUNTEERS_EXHAUSTED`` (``parcels``): some closed station in reach has room, but
      opening it would take more volunteers than the pool has left.

    A plan also lists stop reasons (:class:`commgov.results.CommonReasonCode`) when it was
    cut short. Texts: :meth:`commgov.results.Reason.text`.

    Examples
    --------
    >>> from commgov.results import Reason
    >>> Reason(code=SupplyReasonCode.NO_STATION_IN_REACH, params={"limit_m": 1000}).text("en")
    'no supply station can open within 1000 m of the gate'
    """

    NO_STATION_IN_REACH = "NO_STATION_IN_REACH"
    TOO_LARGE = "TOO_LARGE"
    STATIONS_FULL = "STATIONS_FULL"
    VOLUNTEERS_EXHAUSTED = "VOLUNTEERS_EXHAUSTED"


register_reasons(
    "supply",
    SupplyReasonCode,
    {
        SupplyReasonCode.NO_STATION_IN_REACH: ({"limit_m"}, {"distance_m"}),
        SupplyReasonCode.TOO_LARGE: ({"parcels", "capacity_parcels"}, ()),
        SupplyReasonCode.STATIONS_FULL: ({"parcels"}, ()),
        SupplyReasonCode.VOLUNTEERS_EXHAUSTED: ({"parcels"}, ()),
    },
    {
        SupplyReasonCode.NO_STATION_IN_REACH: (
            "no supply station can open within {limit_m} m of the gate; the nearest is "
            "{distance_m} m away",
            "小区门口{limit_m}米内没有可开设的物资中转站，最近的在{distance_m}米外",
        ),
        (SupplyReasonCode.NO_STATION_IN_REACH, "without distance_m"): (
            "no supply station can open within {limit_m} m of the gate",
            "小区门口{limit_m}米内没有可开设的物资中转站",
        ),
        SupplyReasonCode.TOO_LARGE: (
            "these {parcels} parcels a day exceed the capacity of every station in reach "
            "(at most {capacity_parcels})",
            "这每天{parcels}件物资超过了步行范围内任何中转站的容量（最大{capacity_parcels}件）",
        ),
        SupplyReasonCode.STATIONS_FULL: (
            "no station in reach has room for these {parcels} parcels a day",
            "步行范围内的中转站都没有余量再接收这每天{parcels}件物资",
        ),
        SupplyReasonCode.VOLUNTEERS_EXHAUSTED: (
            "opening a station with room for these {parcels} parcels would take more "
            "volunteers than the pool has",
            "为这每天{parcels}件物资开设中转站所需的志愿者超出了可调配的人数",
        ),
    },
)
