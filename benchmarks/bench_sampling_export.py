"""Sampling-plan exports before and after issue 12, on the same plan in one run.

For each instance the plan is made once (``plan_sampling``, 5 s), then every export step is
timed twice on that plan, as CPU seconds (the least of ``--repeat`` calls):

* ``old``: the writers as they were before issue 12 — the calendar built from one
  ``icalendar.Event`` per event (``commgov.io._sampling_ics._reference_ics``, kept as the
  reference), the CSV files through ``commgov.io.csv_text`` with one mapping per row and
  ``SamplingPlan.rows()``, the notices formatting every slot's times for every building
  (both copied below, as they were), each step checking the plan and grouping its batches
  again, the collector running;
* ``new``: ``sampling_csv_texts``, ``sampling_ics``, ``building_notices`` and, for all files
  at once as ``commgov plan-sampling`` writes them, ``sampling_files``.

It prints old and new seconds, their ratio (old / new: how many times faster) and whether the
texts are byte-identical. Instances: ``D13`` (``sampling_instance("D13", 0)``: 21,079 batches,
10,000 buildings, 400 points; the calendar took 5.1 s of the command's 8.7 s), ``issue``
(the issue's 10,000 buildings × 10 batches with 400 points: 100,000 batches, the most the
size guards accept) and, when asked for, ``buildings20k`` (20,000 buildings, the most the
guards accept, × 2 batches; the old calendar alone takes about 20 s).

Usage::

    python benchmarks/bench_sampling_export.py [--instances D13 issue buildings20k] [--repeat 2]
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commgov.datasets import sampling_instance
from commgov.io import (
    _sampling_export,
    _sampling_files,
    _sampling_ics,
    _sampling_notices,
    building_notices,
    csv_text,
    sampling_csv_texts,
    sampling_ics,
)
from commgov.results import check_lang
from commgov.scheduling import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPlan,
    SamplingPoint,
    SamplingProblem,
    plan_sampling,
)
from commgov.types import GeoPoint, TimeWindow

# ---- the reference: the CSV and notice writers as they were before issue 12 ------------------


def old_csv_texts(problem: SamplingProblem, plan: SamplingPlan) -> dict[str, str]:
    _sampling_export._check(problem, plan)
    households = {k.id: k.households for b in problem.buildings for k in b.batches}
    by_building: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in _sampling_ics._reference_slots(problem, plan):
        by_building[s.building_id].append(
            {
                "building_id": s.building_id,
                "kind": "walk_in",
                "point_id": s.point_id,
                "slot": s.slot,
                "slot_start": s.start.isoformat(),
                "slot_end": s.end.isoformat(),
                "batches": len(s.batch_ids),
                "households": s.households,
                "people": s.people,
                "door_to_door": False,
            }
        )
    for d in plan.door_to_door:
        by_building[d.building_id].append(
            {
                "building_id": d.building_id,
                "kind": "door_to_door",
                "households": d.households,
                "people": d.residents,
                "door_to_door": True,
            }
        )
    unserved: dict[str, list[Any]] = defaultdict(list)
    for u in plan.unserved:
        unserved[u.building_id].append(u)
    for bid, batches in unserved.items():
        by_building[bid].append(
            {
                "building_id": bid,
                "kind": "unserved",
                "batches": len(batches),
                "households": sum(households.get(u.batch_id, 0) for u in batches),
                "people": sum(u.people for u in batches),
                "door_to_door": False,
            }
        )
    for h in plan.home_visits:
        rows = by_building[h.building_id]
        if not rows:
            rows.append(
                {
                    "building_id": h.building_id,
                    "kind": "home_visits_only",
                    "batches": 0,
                    "households": 0,
                    "people": 0,
                    "door_to_door": False,
                }
            )
        rows[0]["home_visit_residents"] = h.residents
    building_rows = [r for bid in sorted(by_building) for r in by_building[bid]]
    names = _sampling_export._file_names(sorted(p.id for p in problem.points))
    point_rows: dict[str, list[dict[str, Any]]] = {pid: [] for pid in names}
    for a in sorted(
        plan.assignments, key=lambda a: (a.point_id, a.slot, a.building_id, a.batch_id)
    ):
        point_rows[a.point_id].append(
            {
                "point_id": a.point_id,
                "slot": a.slot,
                "slot_start": problem.slot_start(a.slot).isoformat(),
                "slot_end": problem.slot_start(a.slot + 1).isoformat(),
                "building_id": a.building_id,
                "batch_id": a.batch_id,
                "households": households[a.batch_id],
                "people": a.people,
                "walk_m": a.walk_m,
            }
        )
    out = {
        "plan.csv": csv_text(plan.rows(), plan.ROW_COLUMNS),
        "buildings.csv": csv_text(building_rows, _sampling_export.BUILDING_COLUMNS),
    }
    for pid, name in names.items():
        out[name] = csv_text(point_rows[pid], _sampling_export.POINT_COLUMNS)
    return out


def old_notices(
    problem: SamplingProblem,
    plan: SamplingPlan,
    lang: str = "zh",
    *,
    names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    check_lang(lang)
    _sampling_export._check(problem, plan)
    zh = lang == "zh"
    start, end = _sampling_export._window(problem)
    slots: dict[str, list[Any]] = defaultdict(list)
    for s in _sampling_ics._reference_slots(problem, plan):
        slots[s.building_id].append(s)
    sealed = {d.building_id: d for d in plan.door_to_door}
    visits = {h.building_id: h.residents for h in plan.home_visits}
    unserved: dict[str, list[Any]] = defaultdict(list)
    for u in plan.unserved:
        unserved[u.building_id].append(u)
    speed = problem.policy.walking_speed_m_per_min
    label, en, day = _sampling_ics._label, _sampling_notices._en, _sampling_notices._fmt_day
    out: dict[str, str] = {}
    for b in sorted(problem.buildings, key=lambda b: b.id):
        name = label(names, b.id)
        head = f"【核酸采样通知】{name}" if zh else f"Sampling notice: {name}"
        lines: list[str] = []
        if b.id in sealed:
            d = sealed[b.id]
            first, last = _sampling_export._clock_pair(start, end)
            if zh:
                lines.append(
                    f"本楼栋为封控楼栋，请全体居民（{d.households} 户 {d.residents} 人）"
                    f"居家等候、不要下楼：{day(start, lang)} {first}–"
                    f"{last} 工作人员上门逐户采样。请提前准备好身份证，"
                    "听到敲门后戴好口罩开门。"
                )
            else:
                lines.append(
                    f"This building is sealed: all residents "
                    f"({en(d.households, 'household')}, "
                    f"{en(d.residents, 'person')}) please stay at home. Staff "
                    f"will sample every household at the door on "
                    f"{day(start, lang)} between {first} and {last}. "
                    "Have your ID card ready and wear a mask when you open the door."
                )
        for s in slots.get(b.id, []):
            where = label(names, s.point_id)
            minutes = round(s.walk_m / speed)
            first, last = _sampling_export._clock_pair(s.start, s.end)
            if len(slots[b.id]) > 1:
                who_zh = "、".join(label(names, k) for k in s.batch_ids) + "的居民"
                who_en = "Residents of " + ", ".join(label(names, k) for k in s.batch_ids)
            else:
                who_zh, who_en = "全体居民", "All residents"
            if zh:
                lines.append(
                    f"{who_zh}请于 {day(s.start, lang)} {first}–"
                    f"{last} 到 {where} 采样（步行约 {s.walk_m} 米，约 "
                    f"{minutes} 分钟）。"
                )
            else:
                lines.append(
                    f"{who_en}: please go to {where} on {day(s.start, lang)} "
                    f"between {first} and {last} (a walk of about "
                    f"{s.walk_m} m, {minutes} min)."
                )
        if slots.get(b.id):
            lines.append(
                "请携带身份证，全程佩戴口罩，保持一米间距，按时段前往、不要提前排队。"
                if zh
                else "Bring your ID card, wear a mask, keep one metre apart, "
                "and come in your time slot, not before."
            )
        if b.id in unserved:
            us = unserved[b.id]
            people = sum(u.people for u in us)
            reason = us[0].reasons[0].text(lang) if us[0].reasons else ""
            who = "、".join(label(names, u.batch_id) for u in us)
            if zh:
                lines.append(
                    f"{who}（{people} 人）本轮暂未安排采样点（{reason}），"
                    "请在家等候社区进一步通知。"
                )
            else:
                lines.append(
                    f"{', '.join(label(names, u.batch_id) for u in us)} "
                    f"({en(people, 'person')}): no sampling point could be "
                    f"arranged this round ({reason}); please wait at home for a "
                    "further notice."
                )
        if visits.get(b.id) and b.id not in sealed:
            n = visits[b.id]
            lines.append(
                f"行动不便的 {n} 位居民由工作人员上门采样，请家人留意敲门。"
                if zh
                else f"Mobility-limited residents ({n}) will be sampled at home by staff."
            )
        if lines:
            out[b.id] = "\n".join([head, *lines])
    return out


def old_files(problem: SamplingProblem, plan: SamplingPlan) -> dict[str, str]:
    """Every file as the command built them before: each step on its own."""
    out = old_csv_texts(problem, plan)
    out["sampling.ics"] = _sampling_ics._reference_ics(problem, plan)
    for lang in ("zh", "en"):
        notices = old_notices(problem, plan, lang)
        out[f"notices_{lang}.txt"] = "".join(t + "\n\n" for t in notices.values())
    return out


# ---- instances ---------------------------------------------------------------------------


def grid_instance(n_buildings: int, batches: int, side: float) -> SamplingProblem:
    """Buildings uniform in a square, 400 points on a 20 × 20 grid (as tests/cli builds it)."""
    r = random.Random(0)
    start = datetime(2022, 4, 12, 6, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

    def at(x: float, y: float) -> GeoPoint:
        lon = 120.62 + x / (111_195.0 * math.cos(math.radians(31.31)))
        return GeoPoint(lon=lon, lat=31.31 + y / 111_195.0)

    buildings = []
    for i in range(n_buildings):
        bid = f"B{i:05d}"
        buildings.append(
            SamplingBuilding(
                id=bid,
                location=at(r.uniform(0, side), r.uniform(0, side)),
                batches=[
                    SamplingBatch(
                        id=f"{bid}-{j}", building_id=bid, households=10, people=r.randint(20, 60)
                    )
                    for j in range(batches)
                ],
            )
        )
    total = sum(k.people for b in buildings for k in b.batches)
    lanes = max(1, round(total / (400 * 13 * 42.5)))
    cell = side / 20
    points = [
        SamplingPoint(
            id=f"P{j:04d}",
            lanes=lanes,
            location=at((j % 20 + 0.5) * cell, (j // 20 + 0.5) * cell),
        )
        for j in range(400)
    ]
    return SamplingProblem(
        window=TimeWindow(start=start, end=start + timedelta(minutes=390)),
        buildings=buildings,
        points=points,
    )


INSTANCES: dict[str, Callable[[], SamplingProblem]] = {
    "D13": lambda: sampling_instance("D13", 0),
    "issue": lambda: grid_instance(10_000, 5, 10_000.0),
    # not by default: the old calendar alone takes about 20 s here
    "buildings20k": lambda: grid_instance(20_000, 2, 20_000.0),
}


def cpu(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Least CPU seconds of ``repeat`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.process_time()
        result = call()
        best = min(best, time.process_time() - start)
    return best, result


def bench(problem: SamplingProblem, plan: SamplingPlan, repeat: int) -> None:
    """Print old and new CPU seconds of every export step of one plan."""
    print(f"{'step':22s} {'old s':>8s} {'new s':>8s} {'old/new':>8s}  identical")
    steps: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        (
            "CSV files",
            lambda: old_csv_texts(problem, plan),
            lambda: sampling_csv_texts(problem, plan),
        ),
        (
            "sampling.ics",
            lambda: _sampling_ics._reference_ics(problem, plan),
            lambda: sampling_ics(problem, plan),
        ),
        (
            "notices zh",
            lambda: old_notices(problem, plan, "zh"),
            lambda: building_notices(problem, plan, "zh"),
        ),
        (
            "notices en",
            lambda: old_notices(problem, plan, "en"),
            lambda: building_notices(problem, plan, "en"),
        ),
        (
            "all files (command)",
            lambda: old_files(problem, plan),
            lambda: _sampling_files.sampling_files(problem, plan),
        ),
    ]
    for label, old, new in steps:
        assert gc.isenabled()  # the old writers ran with the collector on
        old_s, old_out = cpu(old, repeat)
        new_s, new_out = cpu(new, repeat)
        same = "yes" if old_out == new_out else "NO"
        print(f"{label:22s} {old_s:8.3f} {new_s:8.3f} {old_s / new_s:8.1f}  {same}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instances", nargs="+", default=["D13", "issue"], choices=list(INSTANCES))
    ap.add_argument("--repeat", type=int, default=2, help="calls per measure (least CPU)")
    args = ap.parse_args()
    for name in args.instances:
        problem = INSTANCES[name]()
        plan = plan_sampling(problem, time_limit_s=5.0)
        n_batches = sum(len(b.batches) for b in problem.buildings)
        events = len({(a.building_id, a.slot) for a in plan.assignments})
        print(
            f"\n{name}: {n_batches:,} batches, {len(problem.buildings):,} buildings, "
            f"{len(problem.points)} points; plan: {len(plan.assignments):,} assignments, "
            f"{events:,} calendar events"
        )
        bench(problem, plan, args.repeat)


if __name__ == "__main__":
    main()
