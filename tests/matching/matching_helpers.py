"""Builders shared by the matching tests (no commgov solver code here)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from commgov.matching import MatchingProblem, Task, Volunteer
from commgov.types import GeoPoint, TimeWindow

TZ_NAME = "Asia/Shanghai"
TZ = ZoneInfo(TZ_NAME)
CENTRE = (120.62, 31.31)


def at(dx_m: float = 0.0, dy_m: float = 0.0) -> GeoPoint:
    """A point dx_m east and dy_m north of the centre (small offsets)."""
    lat = CENTRE[1] + dy_m / 111_195.0
    lon = CENTRE[0] + dx_m / (111_195.0 * math.cos(math.radians(CENTRE[1])))
    return GeoPoint(lon=lon, lat=lat)


def win(hour: int, day: int = 10, hours: int = 1, tz: ZoneInfo = TZ) -> TimeWindow:
    start = datetime(2022, 4, day, 0, tzinfo=tz) + timedelta(hours=hour)
    return TimeWindow(start=start, end=start + timedelta(hours=hours))


ALL_DAY = [win(0, day=9, hours=24 * 4)]


def task(tid: str, skill: str = "delivery", *, dx: float = 0.0, dy: float = 0.0,
         hour: int = 9, day: int = 10, priority: int = 1, min_level: int = 1) -> Task:
    return Task(id=tid, skill=skill, min_level=min_level, location=at(dx, dy),
                window=win(hour, day), priority=priority)


def vol(vid: str, skills: dict[str, int] | None = None, *, dx: float = 0.0, dy: float = 0.0,
        availability: list[TimeWindow] | None = None, per_slot: int = 1,
        per_day: int = 8) -> Volunteer:
    return Volunteer(id=vid, location=at(dx, dy),
                     skills={"delivery": 3} if skills is None else skills,
                     availability=ALL_DAY if availability is None else availability,
                     capacity_per_slot=per_slot, capacity_per_day=per_day)


def problem(tasks: list[Task], vols: list[Volunteer], **kw: object) -> MatchingProblem:
    return MatchingProblem(timezone=kw.pop("timezone", TZ_NAME), tasks=tasks,  # type: ignore[arg-type]
                           volunteers=vols, **kw)


SKILLS = ("delivery", "medic", "driver")


def community_problem(seed: int, *, n_tasks: tuple[int, int] = (20, 80),
                      n_vols: tuple[int, int] = (5, 20)) -> MatchingProblem:
    """A seeded community-sized instance: 3 skills, 2-4 hour slots over 1-2 days."""
    rng = np.random.default_rng(seed)
    nt = int(rng.integers(n_tasks[0], n_tasks[1] + 1))
    nv = int(rng.integers(n_vols[0], n_vols[1] + 1))
    n_days = int(rng.integers(1, 3))
    n_slots = int(rng.integers(2, 5))
    slot_hours = sorted(int(h) for h in rng.choice(np.arange(8, 20), size=n_slots, replace=False))
    slots = [win(h, day=10 + d) for d in range(n_days) for h in slot_hours]
    half = 900.0
    tasks = []
    for i in range(nt):
        tasks.append(Task(
            id=f"T{i:04d}", skill=SKILLS[int(rng.integers(0, 3))],
            min_level=int(rng.integers(1, 4)),
            location=at(float(rng.uniform(-half, half)), float(rng.uniform(-half, half))),
            window=slots[int(rng.integers(0, len(slots)))],
            priority=int(rng.integers(1, 4))))
    vols = []
    for j in range(nv):
        k = int(rng.integers(1, 3))
        names = sorted(SKILLS[int(s)] for s in rng.choice(3, size=k, replace=False))
        avail = [s for s in slots if rng.random() < 0.7]
        vols.append(Volunteer(
            id=f"V{j:04d}",
            location=at(float(rng.uniform(-half, half)), float(rng.uniform(-half, half))),
            skills={s: int(rng.integers(1, 6)) for s in names},
            availability=avail,
            capacity_per_slot=int(rng.integers(1, 3)),
            capacity_per_day=int(rng.integers(2, 6))))
    return MatchingProblem(timezone=TZ_NAME, tasks=tasks, volunteers=vols,
                           max_distance_m=float(rng.choice([600.0, 800.0, 1000.0])),
                           detour_factor=float(rng.choice([1.0, 1.2])))
