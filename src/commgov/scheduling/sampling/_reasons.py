"""Reason codes of the sampling family, registered as family ``"sampling"`` (private)."""

from __future__ import annotations

from enum import StrEnum

from commgov.results import register_reasons

__all__ = ["SamplingReasonCode"]


class SamplingReasonCode(StrEnum):
    """Why a building or batch of a sampling plan is not sent to a point.

    ``SEALED_ZONE(residents)``: the building is sealed or high-risk and sampled door to door.
    ``NO_POINT_IN_REACH(limit_m[, distance_m])``: no allowed, open point with capacity is
    within the walk limit (``distance_m``: the nearest one, when there is one).
    ``POINT_CAPACITY_USED(people)``: points are in reach, but none has room for the batch.
    Runs stopped early use :class:`commgov.results.CommonReasonCode` (``TIME_LIMIT_REACHED``,
    ``CANCELLED``).
    """

    SEALED_ZONE = "SEALED_ZONE"
    NO_POINT_IN_REACH = "NO_POINT_IN_REACH"
    POINT_CAPACITY_USED = "POINT_CAPACITY_USED"


register_reasons(
    "sampling",
    SamplingReasonCode,
    {
        SamplingReasonCode.SEALED_ZONE: ({"residents"}, ()),
        SamplingReasonCode.NO_POINT_IN_REACH: ({"limit_m"}, {"distance_m"}),
        SamplingReasonCode.POINT_CAPACITY_USED: ({"people"}, ()),
    },
    {
        SamplingReasonCode.SEALED_ZONE: (
            "building is in a sealed or high-risk zone: sampled door to door "
            "({residents} residents)",
            "楼栋处于封控区或高风险区：上门采样（{residents}人）",
        ),
        SamplingReasonCode.NO_POINT_IN_REACH: (
            "no sampling point allowed for the building is open with capacity within "
            "{limit_m} m walking (nearest {distance_m} m)",
            "步行{limit_m}米内没有允许该楼栋使用、开放且有容量的采样点（最近{distance_m}米）",
        ),
        (SamplingReasonCode.NO_POINT_IN_REACH, "without distance_m"): (
            "no sampling point allowed for the building is open with capacity, at any "
            "distance (limit {limit_m} m)",
            "没有允许该楼栋使用、开放且有容量的采样点（步行上限{limit_m}米）",
        ),
        SamplingReasonCode.POINT_CAPACITY_USED: (
            "no sampling point within reach has room for this batch of {people} people in the "
            "window (lanes booked, or the batch is larger than the queue limit allows)",
            "可达采样点在时段内无法容纳这批{people}人（容量已满或超过排队上限）",
        ),
    },
)
