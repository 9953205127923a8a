"""Why a building is left without a site: the site planner's reason codes (registered)."""

from __future__ import annotations

from enum import StrEnum

from commgov.results import register_reasons

__all__ = ["SitesReasonCode"]


class SitesReasonCode(StrEnum):
    """Why a building is not assigned to a site; each a predicate the verifier checks.

    The first true of the codes, in this order, is given:

    * ``NO_SITE_IN_REACH`` (``limit_m``; optional ``distance_m``, the nearest candidate site
      open in the window): no candidate site open in the window is within the walking limit;
    * ``SITES_FULL`` (``residents``): every site in reach would miss the waiting target with
      its most lanes if the building's ``residents`` came too;
    * ``STAFF_POOL_EXHAUSTED`` (``residents``): some site in reach has room for more lanes,
      but the lanes the building's ``residents`` need there would take more staff of some
      role than the pool has (in a slot, or in hours over the window).

    A plan also lists stop reasons (:class:`commgov.results.CommonReasonCode`) when it was
    cut short. Texts: :meth:`commgov.results.Reason.text`.

    Examples
    --------
    >>> from commgov.results import Reason
    >>> Reason(code=SitesReasonCode.NO_SITE_IN_REACH, params={"limit_m": 500}).text("en")
    'no sampling site can open within 500 m'
    """

    NO_SITE_IN_REACH = "NO_SITE_IN_REACH"
    SITES_FULL = "SITES_FULL"
    STAFF_POOL_EXHAUSTED = "STAFF_POOL_EXHAUSTED"


register_reasons(
    "sites",
    SitesReasonCode,
    {
        SitesReasonCode.NO_SITE_IN_REACH: ({"limit_m"}, {"distance_m"}),
        SitesReasonCode.SITES_FULL: ({"residents"}, ()),
        SitesReasonCode.STAFF_POOL_EXHAUSTED: ({"residents"}, ()),
    },
    {
        SitesReasonCode.NO_SITE_IN_REACH: (
            "no sampling site can open within {limit_m} m; the nearest is {distance_m} m away",
            "{limit_m}米内没有可开设的采样点，最近的在{distance_m}米外",
        ),
        (SitesReasonCode.NO_SITE_IN_REACH, "without distance_m"): (
            "no sampling site can open within {limit_m} m",
            "{limit_m}米内没有可开设的采样点",
        ),
        SitesReasonCode.SITES_FULL: (
            "every site in reach would miss the waiting target with its most lanes if "
            "these {residents} residents came too",
            "步行范围内的采样点即使开满采样台，再增加这{residents}名居民也会超出等候时间目标",
        ),
        SitesReasonCode.STAFF_POOL_EXHAUSTED: (
            "the lanes these {residents} residents need would take more staff than the pool has",
            "为这{residents}名居民增开采样台所需的人员超出了可调配的人员总数",
        ),
    },
)
