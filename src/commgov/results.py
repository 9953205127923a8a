"""The shared result contract and machine-readable reasons.

Every solver result carries a :class:`SolveInfo`: status, objective, bound and gap where known,
the options it ran with, the seed and the versions of the libraries involved. Anything left
unserved or unmatched carries :class:`Reason` records: a code from :class:`ReasonCode` with its
parameters, a predicate a verifier can check, rendered to English or Chinese on demand.
Wall-clock times are deliberately not part of results, so that the same input, seed, options
and versions give byte-identical result JSON.
"""

from __future__ import annotations

import platform
from enum import StrEnum
from importlib import metadata
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "REASON_PARAMS",
    "REASON_TEXT",
    "Reason",
    "ReasonCode",
    "SolveInfo",
    "SolveStatus",
    "library_versions",
]


class SolveStatus(StrEnum):
    """Outcome of a solve.

    ``OPTIMAL``: proven optimal for the stated objective. ``FEASIBLE``: a valid result whose
    optimality is not proven (``bound`` and ``gap`` say how far it may be). ``INFEASIBLE``: the
    hard rules admit no result at all (rare: most problems return a partial result with reasons
    instead). ``LIMIT``: a time or size limit stopped the solve before a complete result was
    found; what is returned (if anything) obeys the hard rules but is partial, and its reasons
    for what is left out are not all checked.
    """

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    LIMIT = "LIMIT"


class ReasonCode(StrEnum):
    """Machine-readable reason codes, each a predicate a verifier can check.

    The parameters each code takes (in :attr:`Reason.params`) are listed in
    :data:`REASON_PARAMS`; the English and Chinese texts in :data:`REASON_TEXT`.
    """

    SKILL_MISSING = "SKILL_MISSING"
    TOO_FAR = "TOO_FAR"
    OUT_OF_WINDOW = "OUT_OF_WINDOW"
    CAPACITY_USED = "CAPACITY_USED"
    SEALED_ZONE = "SEALED_ZONE"
    NO_POINT_IN_REACH = "NO_POINT_IN_REACH"
    POINT_CAPACITY_USED = "POINT_CAPACITY_USED"
    TIME_LIMIT_REACHED = "TIME_LIMIT_REACHED"
    RELAY_NO_SHIFT = "RELAY_NO_SHIFT"
    RELAY_VOLUNTEERS_BUSY = "RELAY_VOLUNTEERS_BUSY"
    MATCHED = "MATCHED"
    PINNED = "PINNED"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    # needs ↔ resources allocation (commgov.lists.allocate)
    NO_RESOURCE_OF_CATEGORY = "NO_RESOURCE_OF_CATEGORY"
    RESOURCE_TOO_FAR = "RESOURCE_TOO_FAR"
    NO_RESOURCE_IN_WINDOW = "NO_RESOURCE_IN_WINDOW"
    RESOURCE_QUANTITY_USED = "RESOURCE_QUANTITY_USED"


#: Required and optional parameter names of each code.
REASON_PARAMS: dict[ReasonCode, tuple[frozenset[str], frozenset[str]]] = {
    ReasonCode.SKILL_MISSING: (frozenset({"skill", "level"}), frozenset()),
    ReasonCode.TOO_FAR: (frozenset({"distance_m", "limit_m"}), frozenset()),
    ReasonCode.OUT_OF_WINDOW: (frozenset(), frozenset()),
    ReasonCode.CAPACITY_USED: (frozenset({"eligible"}), frozenset()),
    ReasonCode.SEALED_ZONE: (frozenset({"residents"}), frozenset()),
    ReasonCode.NO_POINT_IN_REACH: (frozenset({"limit_m"}), frozenset({"distance_m"})),
    ReasonCode.POINT_CAPACITY_USED: (frozenset({"people"}), frozenset()),
    ReasonCode.TIME_LIMIT_REACHED: (frozenset({"time_limit_s"}), frozenset()),
    ReasonCode.RELAY_NO_SHIFT: (frozenset(), frozenset()),
    ReasonCode.RELAY_VOLUNTEERS_BUSY: (frozenset({"eligible"}), frozenset()),
    ReasonCode.MATCHED: (
        frozenset(
            {
                "skill",
                "level",
                "min_level",
                "distance_m",
                "limit_m",
                "slot_load",
                "slot_capacity",
                "day_load",
                "day_capacity",
                "scope",
            }
        ),
        frozenset({"minutes_used", "minutes_budget"}),
    ),
    ReasonCode.PINNED: (frozenset(), frozenset()),
    ReasonCode.OUT_OF_SCOPE: (frozenset({"skilled"}), frozenset()),
    ReasonCode.NO_RESOURCE_OF_CATEGORY: (frozenset({"category", "measure"}), frozenset()),
    ReasonCode.RESOURCE_TOO_FAR: (frozenset({"distance_m", "limit_m"}), frozenset()),
    ReasonCode.NO_RESOURCE_IN_WINDOW: (frozenset(), frozenset()),
    ReasonCode.RESOURCE_QUANTITY_USED: (frozenset({"short", "eligible"}), frozenset()),
}

#: English and Chinese templates, formatted with the reason's parameters. A template may have
#: a variant for when an optional parameter is absent, keyed ``(code, "without <name>")``.
REASON_TEXT: dict[ReasonCode | tuple[ReasonCode, str], tuple[str, str]] = {
    ReasonCode.SKILL_MISSING: (
        "no volunteer has skill {skill!s} at level {level} or above",
        "没有志愿者具备{skill!s}技能（等级≥{level}）",
    ),
    ReasonCode.TOO_FAR: (
        "the nearest volunteer with the skill is {distance_m} m away (limit {limit_m} m)",
        "具备该技能的最近志愿者距离{distance_m}米（上限{limit_m}米）",
    ),
    ReasonCode.OUT_OF_WINDOW: (
        "no volunteer with the skill within reach is available in the task's window",
        "附近具备该技能的志愿者在该时段均无空",
    ),
    ReasonCode.CAPACITY_USED: (
        "all {eligible} eligible volunteers are booked by other tasks "
        "(the assignment serves the most total priority)",
        "全部{eligible}名符合条件的志愿者已被其他任务占满（整体优先级已最大化）",
    ),
    ReasonCode.SEALED_ZONE: (
        "building is in a sealed or high-risk zone: sampled door to door ({residents} residents)",
        "楼栋处于封控区或高风险区：上门采样（{residents}人）",
    ),
    ReasonCode.NO_POINT_IN_REACH: (
        "no sampling point allowed for the building is open with capacity within {limit_m} m "
        "walking (nearest {distance_m} m)",
        "步行{limit_m}米内没有允许该楼栋使用、开放且有容量的采样点（最近{distance_m}米）",
    ),
    (ReasonCode.NO_POINT_IN_REACH, "without distance_m"): (
        "no sampling point allowed for the building is open with capacity, at any distance "
        "(limit {limit_m} m)",
        "没有允许该楼栋使用、开放且有容量的采样点（步行上限{limit_m}米）",
    ),
    ReasonCode.POINT_CAPACITY_USED: (
        "no sampling point within reach has room for this batch of {people} people in the "
        "window (lanes booked, or the batch is larger than the queue limit allows)",
        "可达采样点在时段内无法容纳这批{people}人（容量已满或超过排队上限）",
    ),
    ReasonCode.MATCHED: (
        "{skill!s} level {level} ≥ {min_level}; {distance_m} m ≤ {limit_m} m; available in the "
        "slot; load {slot_load}/{slot_capacity} in the slot, {day_load}/{day_capacity} on the "
        "day; {minutes_used}/{minutes_budget} min; {scope!s} level",
        "{skill!s}等级{level}≥{min_level}；距离{distance_m}米≤{limit_m}米；该时段有空；"
        "时段任务{slot_load}/{slot_capacity}，当日{day_load}/{day_capacity}；"
        "{minutes_used}/{minutes_budget}分钟；范围层级：{scope!s}",
    ),
    (ReasonCode.MATCHED, "without minutes_used"): (
        "{skill!s} level {level} ≥ {min_level}; {distance_m} m ≤ {limit_m} m; available in the "
        "slot; load {slot_load}/{slot_capacity} in the slot, {day_load}/{day_capacity} on the "
        "day; {scope!s} level",
        "{skill!s}等级{level}≥{min_level}；距离{distance_m}米≤{limit_m}米；该时段有空；"
        "时段任务{slot_load}/{slot_capacity}，当日{day_load}/{day_capacity}；范围层级：{scope!s}",
    ),
    ReasonCode.PINNED: (
        "pinned: a confirmed assignment kept on re-matching",
        "已锁定：重新匹配时保留的已确认安排",
    ),
    ReasonCode.OUT_OF_SCOPE: (
        "the {skilled} volunteers with the skill all belong to other communities and none is "
        "a partner team member or rider",
        "具备该技能的{skilled}名志愿者均属其他社区，且无共建单位或骑手可派",
    ),
    ReasonCode.TIME_LIMIT_REACHED: (
        "not placed: the time limit ({time_limit_s} s) was reached before it could be tried "
        "(status LIMIT; raise the limit)",
        "未安排：尚未尝试即已达到时间上限（{time_limit_s}秒）；请放宽时间上限",
    ),
    ReasonCode.RELAY_NO_SHIFT: (
        "no gate volunteer is on duty, after the parcel reaches the gate, long enough for a "
        "trip to its building and back",
        "包裹到达门岗后，没有志愿者在岗时间足够往返其楼栋",
    ),
    ReasonCode.RELAY_VOLUNTEERS_BUSY: (
        "all {eligible} gate volunteers on duty after the parcel arrived are busy: no free "
        "time fits a trip to its building and no trip there has room",
        "包裹到达后在岗的{eligible}名门岗志愿者均已排满：没有空闲时间往返其楼栋，"
        "前往该楼栋的行程也已满载",
    ),
    ReasonCode.NO_RESOURCE_OF_CATEGORY: (
        "no resource of category {category!s} counted in {measure!s} is on offer",
        "没有{category!s}类、以{measure!s}计的资源可供",
    ),
    ReasonCode.RESOURCE_TOO_FAR: (
        "the nearest resource of the category is {distance_m} m away (limit {limit_m} m)",
        "最近的同类资源距离{distance_m}米（上限{limit_m}米）",
    ),
    ReasonCode.NO_RESOURCE_IN_WINDOW: (
        "no resource of the category within reach is available in the need's window",
        "附近的同类资源在需求时段内均不可用",
    ),
    ReasonCode.RESOURCE_QUANTITY_USED: (
        "{short} of the quantity asked left unmet: all {eligible} eligible resources are used "
        "(the allocation serves the most priority-weighted quantity)",
        "尚有{short}未满足：全部{eligible}项符合条件的资源已用完（已按优先级加权数量最大化）",
    ),
}


#: Chinese names of the scope levels (the ``scope`` parameter), used by ``text("zh")``.
_ZH_VALUES: dict[str | int | float, str] = {
    "building": "楼栋",
    "compound": "小区",
    "community": "社区",
    "partner": "共建单位/骑手",
}


class Reason(BaseModel):
    """A reason code with its parameters.

    Parameters
    ----------
    code : ReasonCode
        What happened.
    params : dict of str to str, int or float
        The code's parameters (:data:`REASON_PARAMS`): all required ones, optional ones when
        known, nothing else.

    Raises
    ------
    pydantic.ValidationError
        If a required parameter is missing or an unknown one is given.

    Examples
    --------
    >>> r = Reason(code=ReasonCode.TOO_FAR, params={"distance_m": 1450, "limit_m": 1000})
    >>> r.text()
    'the nearest volunteer with the skill is 1450 m away (limit 1000 m)'
    >>> r.text("zh")
    '具备该技能的最近志愿者距离1450米（上限1000米）'
    >>> Reason(code=ReasonCode.NO_POINT_IN_REACH, params={"limit_m": 1170}).text("zh")
    '没有允许该楼栋使用、开放且有容量的采样点（步行上限1170米）'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: ReasonCode
    params: dict[str, str | int | float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_params(self) -> Self:
        required, optional = REASON_PARAMS[self.code]
        missing = sorted(required - self.params.keys())
        unknown = sorted(self.params.keys() - required - optional)
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown {', '.join(unknown)}")
            expected = ", ".join(sorted(required)) or "none"
            raise ValueError(
                f"params of {self.code.value}: {'; '.join(parts)} "
                f"(required: {expected}; optional: {', '.join(sorted(optional)) or 'none'})"
            )
        return self

    def text(self, lang: str = "en") -> str:
        """Render the reason in ``"en"`` or ``"zh"``.

        Raises
        ------
        ValueError
            If ``lang`` is neither ``"en"`` nor ``"zh"``.
        """
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
        _required, optional = REASON_PARAMS[self.code]
        key: ReasonCode | tuple[ReasonCode, str] = self.code
        for name in sorted(optional - self.params.keys()):
            key = (self.code, f"without {name}")
        template = REASON_TEXT[key][0 if lang == "en" else 1]
        params = self.params
        if lang == "zh":
            params = {k: _ZH_VALUES.get(v, v) if k == "scope" else v for k, v in params.items()}
        return template.format(**params)


def library_versions(*packages: str) -> dict[str, str]:
    """Versions of commgov, Python and the named packages (``"missing"`` if absent)."""
    from commgov import __version__

    out = {"commgov": __version__, "python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


class SolveInfo(BaseModel):
    """The result contract every solver fills in.

    Attributes
    ----------
    status : SolveStatus
        Outcome (see :class:`SolveStatus`).
    solver : str
        Which algorithm produced the result (``"cp-sat"``, ``"min-cost-flow"`` ...).
    objective : dict of str to float
        The objective tiers in lexicographic order, by name (``{"served": ..., "walk_m": ...}``).
    bound : float or None
        A proven bound on the main minimised tier, when known.
    gap : float or None
        ``(objective - bound) / bound`` on the main tier, when both are known.
    options : dict
        The options the solver ran with, so a run can be repeated.
    seed : int or None
        The seed used, if the solver is randomised.
    versions : dict of str to str
        commgov, Python and solver library versions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: SolveStatus
    solver: str
    objective: dict[str, float] = Field(default_factory=dict)
    bound: float | None = None
    gap: float | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = None
    versions: dict[str, str] = Field(default_factory=dict)
