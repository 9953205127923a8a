"""Why a post is short of staff in a slot: the roster's reason codes (registered at import)."""

from __future__ import annotations

from enum import StrEnum

from commgov.results import register_reasons

__all__ = ["RosterReasonCode"]


class RosterReasonCode(StrEnum):
    """Why a post is short of staff in a slot; each a predicate the verifier checks.

    The first true of the codes, in this order, is given:

    * ``NO_ELIGIBLE_STAFF`` (``tasks``, ``skill``, ``min_level``): nobody in the problem may
      work at the post (tasks or skill);
    * ``NO_STAFF_AVAILABLE`` (``eligible``): ``eligible`` people may, but none is available
      for the whole slot;
    * ``TOO_FEW_AVAILABLE`` (``available``, ``demand``): only ``available`` eligible people
      are available in the slot, fewer than the ``demand``;
    * ``RULES_BIND`` (``available``, ``demand``): ``available`` ≥ ``demand`` eligible people
      are available, but shift length, rest, daily or total hours and the cover of other
      posts and slots leave the slot short; the roster minimises the total shortfall (proven
      when the status is ``OPTIMAL``).

    Every parameter is required; none is optional. Texts: :meth:`commgov.results.Reason.text`.

    Examples
    --------
    >>> from commgov.results import Reason
    >>> Reason(code=RosterReasonCode.NO_STAFF_AVAILABLE, params={"eligible": 3}).text("zh")
    '可在此岗位值守的3人在该时段均无空'
    """

    NO_ELIGIBLE_STAFF = "NO_ELIGIBLE_STAFF"
    NO_STAFF_AVAILABLE = "NO_STAFF_AVAILABLE"
    TOO_FEW_AVAILABLE = "TOO_FEW_AVAILABLE"
    RULES_BIND = "RULES_BIND"


register_reasons(
    "roster",
    RosterReasonCode,
    {
        RosterReasonCode.NO_ELIGIBLE_STAFF: ({"tasks", "skill", "min_level"}, ()),
        RosterReasonCode.NO_STAFF_AVAILABLE: ({"eligible"}, ()),
        RosterReasonCode.TOO_FEW_AVAILABLE: ({"available", "demand"}, ()),
        RosterReasonCode.RULES_BIND: ({"available", "demand"}, ()),
    },
    {
        RosterReasonCode.NO_ELIGIBLE_STAFF: (
            "nobody may work at this post (tasks: {tasks}; skill: {skill} ≥ {min_level})",
            "无人可在此岗位值守（任务：{tasks}；技能：{skill}≥{min_level}）",
        ),
        RosterReasonCode.NO_STAFF_AVAILABLE: (
            "none of the {eligible} people who may work here is available in this hour",
            "可在此岗位值守的{eligible}人在该时段均无空",
        ),
        RosterReasonCode.TOO_FEW_AVAILABLE: (
            "only {available} of the {demand} people needed are eligible and available",
            "需要{demand}人，符合条件且有空的只有{available}人",
        ),
        RosterReasonCode.RULES_BIND: (
            "{available} eligible people are available for {demand} places, but shift "
            "length, rest, maximum hours and the other posts leave this slot short (total "
            "shortfall minimised)",
            "有{available}名符合条件的人员可排{demand}个岗位，但受班次长度、休息、工时上限及"
            "其他岗位约束，该时段仍缺人（总缺口已最小化）",
        ),
    },
)
