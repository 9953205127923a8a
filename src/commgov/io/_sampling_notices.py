"""The notices a sampling plan sends to each building group, in Chinese or English.

One notice per building slot: where to walk, when, with the point's queue; times follow the
daylight-saving rule of :mod:`commgov.io._sampling_export` (offsets shown on a day the zone's
offset changes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from commgov._perf import gc_paused
from commgov.results import check_lang

if TYPE_CHECKING:
    from commgov.scheduling.sampling import SamplingPlan, SamplingProblem
from commgov.io._sampling_export import (
    _clock_pair,
    _Export,
    _prepare,
    _Slot,
    _Times,
    _window,
)

__all__ = ["building_notices"]


class _Clocks(dict[int, tuple[str, str]]):
    """Slot ``t`` → the start and end times shown for it (:func:`_clock_pair`), once each."""

    def __init__(self, times: _Times) -> None:
        super().__init__()
        self._times = times

    def __missing__(self, t: int) -> tuple[str, str]:
        pair = _clock_pair(self._times[t].local, self._times[t + 1].local)
        self[t] = pair
        return pair


def _en(count: int, noun: str) -> str:
    """``1 household``, ``2 households``, ``1 person``, ``3 people``."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} " + ("people" if noun == "person" else noun + "s")


def _fmt_day(day: datetime, lang: str) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else f"{day:%Y-%m-%d}"


def building_notices(
    problem: SamplingProblem,
    plan: SamplingPlan,
    lang: str = "zh",
    *,
    names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The notice each building group receives (楼栋群通知), in Chinese or English.

    * A building that walks to a point: the point, the date and time slot of each of its
      batch groups, the walking distance, "bring your ID card, wear a mask"; and, when it
      has mobility-limited residents, that they are sampled at home.

    Times are local; on a day when the zone's UTC offset changes (daylight saving), every
    time carries its offset, ``01:00–01:30 (UTC-04:00)`` and ``01:00–01:30 (UTC-05:00)``
    being the two different slots of the repeated hour.
    * A sealed building (door to door): stay at home, staff come to every household during
      the window.
    * Batches the plan could not place: wait for a further notice, with the reason.

    Buildings with nobody to sample (no batch, not sealed, nobody visited at home) get no
    notice.

    Parameters
    ----------
    problem : SamplingProblem
        The problem the plan was made for.
    plan : SamplingPlan
    lang : {"zh", "en"}, default "zh"
        Language of the notices.
    names : mapping of str to str, optional
        Display names by id (points, buildings, batches), over the problem's own
        (``SamplingPoint.name``, ``SamplingBuilding.name``); ids are shown where no name is
        given.

    Returns
    -------
    dict of str to str
        Building id → notice text (several lines), sorted by building id.

    Raises
    ------
    ValueError
        If ``lang`` is neither ``"zh"`` nor ``"en"``, or the plan names a building, batch or
        point the problem does not hold.
    TypeError
        If ``problem`` or ``plan`` is of the wrong type.

    Notes
    -----
    O(A log A + B) for A assignments and B buildings; the times of a slot are formatted once.
    """
    check_lang(lang)
    with gc_paused():
        return _notices(_prepare(problem, plan), lang, names=names)


def _notices(ex: _Export, lang: str, *, names: Mapping[str, str] | None = None) -> dict[str, str]:
    """:func:`building_notices` of prepared data (``lang`` checked)."""
    problem, plan = ex.problem, ex.plan
    names = {**problem.display_names, **(names or {})}
    zh = lang == "zh"
    start, end = _window(problem)
    window_first, window_last = _clock_pair(start, end)  # the sealed buildings' visit
    window_day = _fmt_day(start, lang)
    slots: dict[str, list[_Slot]] = defaultdict(list)
    for s in ex.slots:
        slots[s.building_id].append(s)
    sealed = {d.building_id: d for d in plan.door_to_door}
    visits = {h.building_id: h.residents for h in plan.home_visits}
    unserved: dict[str, list[Any]] = defaultdict(list)
    for u in plan.unserved:
        unserved[u.building_id].append(u)
    speed = problem.policy.walking_speed_m_per_min
    clock = _Clocks(ex.times)
    days: dict[int, str] = {}
    label = (names or {}).get
    walk_done = (
        "请携带身份证，全程佩戴口罩，保持一米间距，按时段前往、不要提前排队。"
        if zh
        else "Bring your ID card, wear a mask, keep one metre apart, "
        "and come in your time slot, not before."
    )
    out: dict[str, str] = {}
    for b in sorted(problem.buildings, key=lambda b: b.id):
        bid = b.id
        name = label(bid) or bid
        head = f"【核酸采样通知】{name}" if zh else f"Sampling notice: {name}"
        lines: list[str] = []
        if bid in sealed:
            d = sealed[bid]
            if zh:
                lines.append(
                    f"本楼栋为封控楼栋，请全体居民（{d.households} 户 {d.residents} 人）"
                    f"居家等候、不要下楼：{window_day} {window_first}–"
                    f"{window_last} 工作人员上门逐户采样。请提前准备好身份证，"
                    "听到敲门后戴好口罩开门。"
                )
            else:
                lines.append(
                    f"This building is sealed: all residents "
                    f"({_en(d.households, 'household')}, "
                    f"{_en(d.residents, 'person')}) please stay at home. Staff "
                    f"will sample every household at the door on "
                    f"{window_day} between {window_first} and {window_last}. "
                    "Have your ID card ready and wear a mask when you open the door."
                )
        own = slots.get(bid, [])
        for s in own:
            where = label(s.point_id) or s.point_id
            minutes = round(s.walk_m / speed)
            first, last = clock[s.slot]
            day = days.get(s.slot)
            if day is None:
                day = days[s.slot] = _fmt_day(s.start, lang)
            if len(own) > 1:
                who_zh = "、".join(label(k) or k for k in s.batch_ids) + "的居民"
                who_en = "Residents of " + ", ".join(label(k) or k for k in s.batch_ids)
            else:
                who_zh, who_en = "全体居民", "All residents"
            if zh:
                lines.append(
                    f"{who_zh}请于 {day} {first}–{last} 到 {where} 采样（步行约 "
                    f"{s.walk_m} 米，约 {minutes} 分钟）。"
                )
            else:
                lines.append(
                    f"{who_en}: please go to {where} on {day} between {first} and {last} "
                    f"(a walk of about {s.walk_m} m, {minutes} min)."
                )
        if own:
            lines.append(walk_done)
        if bid in unserved:
            us = unserved[bid]
            people = sum(u.people for u in us)
            reason = us[0].reasons[0].text(lang) if us[0].reasons else ""
            if zh:
                who = "、".join(label(u.batch_id) or u.batch_id for u in us)
                lines.append(
                    f"{who}（{people} 人）本轮暂未安排采样点（{reason}），"
                    "请在家等候社区进一步通知。"
                )
            else:
                lines.append(
                    f"{', '.join(label(u.batch_id) or u.batch_id for u in us)} "
                    f"({_en(people, 'person')}): no sampling point could be "
                    f"arranged this round ({reason}); please wait at home for a "
                    "further notice."
                )
        if visits.get(bid) and bid not in sealed:
            n = visits[bid]
            lines.append(
                f"行动不便的 {n} 位居民由工作人员上门采样，请家人留意敲门。"
                if zh
                else f"Mobility-limited residents ({n}) will be sampled at home by staff."
            )
        if lines:
            out[bid] = "\n".join([head, *lines])
    return out


def _notices_text(notices: Mapping[str, str]) -> str:
    """Building notices one after another, each followed by a blank line."""
    return "".join(text + "\n\n" for text in notices.values())
