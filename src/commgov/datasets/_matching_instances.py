"""Seeded volunteer ↔ task matching instances at three scales (benchmarks, issue 4 item 8)."""

from __future__ import annotations

import math
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from commgov._random import rng
from commgov.datasets._community import _M_PER_DEG_LAT, DEFAULT_DAY, GUSU_BOX, SKILLS, TIMEZONE
from commgov.datasets._tasks import WAVES
from commgov.errors import InputError, InputIssue
from commgov.matching.volunteers import MatchingProblem, Task, Volunteer
from commgov.types import GeoPoint, TimeWindow

Scale = Literal["community", "subdistrict", "district"]

#: scale → (tasks, volunteers, area in km², buildings). The district is Gusu's 83 km²; a
#: sub-district is an eighth of it; a community day is one compound-sized neighbourhood.
MATCHING_SCALES: dict[str, tuple[int, int, float, int]] = {
    "community": (300, 60, 0.6, 60),
    "subdistrict": (5_000, 500, 83.0 / 8, 1_000),
    "district": (50_000, 5_000, 83.0, 10_000),
}

# task skill shares (same order as SKILLS: delivery, elderly_care, sampling_marshal,
# publicity, first_aid) and the chance a volunteer has each skill
_TASK_SKILL_P = (0.5, 0.2, 0.1, 0.1, 0.1)
_VOL_SKILL_P = (0.7, 0.35, 0.3, 0.3, 0.2)


def matching_instance(scale: Scale = "community", seed: int = 0) -> MatchingProblem:
    """A seeded volunteer ↔ task matching problem for benchmarks.

    Tasks (one day of the hourly delivery waves :data:`WAVES`, skills as in
    :func:`synthetic_community`, levels 1–3, priorities 1–3) sit at buildings spread uniformly
    over a square of the scale's area centred in Gusu; volunteers are spread over the same
    square with 1–3 skills (levels 1–5), availability of a morning, an afternoon or both, and
    capacities 1–2 per slot and 2–6 per day. Eligibility is the library's: the skill at the
    level, travel within ``max_distance_m`` = 1,000 m (detour factor 1), the window inside an
    availability window.

    ===========  ======  ==========  ========
    scale        tasks   volunteers  area
    ===========  ======  ==========  ========
    community    300     60          0.6 km²
    subdistrict  5,000   500         10.4 km²
    district     50,000  5,000       83 km²
    ===========  ======  ==========  ========

    Parameters
    ----------
    scale : {"community", "subdistrict", "district"}, default "community"
    seed : int, default 0
        Whole number ≥ 0; the same seed gives a byte-identical ``model_dump_json()``.

    Returns
    -------
    MatchingProblem

    Raises
    ------
    commgov.errors.InputError
        If ``scale`` is unknown or ``seed`` is not a whole number ≥ 0.
    """
    issues = []
    if not isinstance(scale, str) or scale not in MATCHING_SCALES:
        issues.append(
            InputIssue(
                "matching_instance", "scale", scale, f"must be one of {list(MATCHING_SCALES)}"
            )
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        issues.append(InputIssue("matching_instance", "seed", seed, "must be a whole number ≥ 0"))
    if issues:
        raise InputError(issues, what="matching_instance")
    seed = int(seed)
    n_tasks, n_vols, area_km2, n_buildings = MATCHING_SCALES[scale]
    tz = ZoneInfo(TIMEZONE)
    waves = [
        TimeWindow(
            start=datetime.combine(DEFAULT_DAY, time(a), tz),
            end=datetime.combine(DEFAULT_DAY, time(b), tz),
        )
        for a, b in WAVES
    ]
    morning = TimeWindow(start=waves[0].start, end=waves[3].end)
    afternoon = TimeWindow(start=waves[4].start, end=waves[6].end)
    day = TimeWindow(start=waves[0].start, end=waves[6].end)

    side_m = math.sqrt(area_km2) * 1000.0
    c_lon = (GUSU_BOX[0] + GUSU_BOX[2]) / 2
    c_lat = (GUSU_BOX[1] + GUSU_BOX[3]) / 2
    m_lon = _M_PER_DEG_LAT * math.cos(math.radians(c_lat))

    def places(g: np.random.Generator, n: int) -> list[GeoPoint]:
        xy = g.uniform(-side_m / 2, side_m / 2, size=(n, 2))
        return [
            GeoPoint(lon=round(c_lon + x / m_lon, 6), lat=round(c_lat + y / _M_PER_DEG_LAT, 6))
            for x, y in xy.tolist()
        ]

    entity = f"matching/{scale}"
    g = rng(seed, "layout", entity)
    buildings = places(g, n_buildings)

    g = rng(seed, "tasks", entity)
    where = g.integers(0, n_buildings, size=n_tasks).tolist()
    skill = g.choice(len(SKILLS), size=n_tasks, p=_TASK_SKILL_P).tolist()
    level = g.integers(1, 4, size=n_tasks).tolist()
    wave = g.integers(0, len(WAVES), size=n_tasks).tolist()
    prio = g.choice(3, size=n_tasks, p=(0.5, 0.3, 0.2)).tolist()
    width = len(str(n_tasks - 1))
    tasks = [
        Task(
            id=f"T{i:0{width}d}",
            skill=SKILLS[skill[i]],
            min_level=level[i],
            location=buildings[where[i]],
            window=waves[wave[i]],
            priority=prio[i] + 1,
        )
        for i in range(n_tasks)
    ]

    g = rng(seed, "skills", entity)
    vplaces = places(g, n_vols)
    has = g.random(size=(n_vols, len(SKILLS))) < np.asarray(_VOL_SKILL_P)
    levels = g.integers(1, 6, size=(n_vols, len(SKILLS))).tolist()
    fallback = g.integers(0, len(SKILLS), size=n_vols).tolist()
    ga = rng(seed, "availability", entity)
    shift = ga.choice(3, size=n_vols, p=(0.35, 0.35, 0.3)).tolist()
    per_slot = ga.integers(1, 3, size=n_vols).tolist()
    per_day = ga.integers(2, 7, size=n_vols).tolist()
    vwidth = len(str(n_vols - 1))
    vols = []
    for j in range(n_vols):
        mine = [k for k in range(len(SKILLS)) if has[j, k]][:3] or [fallback[j]]
        vols.append(
            Volunteer(
                id=f"V{j:0{vwidth}d}",
                location=vplaces[j],
                skills={SKILLS[k]: levels[j][k] for k in mine},
                availability=[(morning, afternoon, day)[shift[j]]],
                capacity_per_slot=per_slot[j],
                capacity_per_day=per_day[j],
            )
        )
    return MatchingProblem(
        timezone=TIMEZONE, tasks=tasks, volunteers=vols, max_distance_m=1000.0, detour_factor=1.0
    )
