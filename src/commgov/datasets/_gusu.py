"""The whole of Gusu district: official divisions and calibrated synthetic detail.

Calibration (``docs/datasets.md`` is the datasheet): 930,000 residents in the district
(the Baidu Baike entry 姑苏区); 2.5 residents a household (Suzhou 2020 census, the
generator's mean); community sizes spread around the district mean by a documented
assumption (no published source gives sub-district figures); 1,000+ Haitang Pioneers,
273 micro-sites and 600+ riders (the 2022 article, 中国网, 2022-05-05); 虎池苑社区
exactly as :func:`synthetic_community` draws it with the article's 1,765 households and 20
pioneers.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from commgov._perf import gc_paused
from commgov._random import rng
from commgov.datasets._community import (
    DEFAULT_DAY,
    GUSU_BOX,
    TIMEZONE,
    Records,
    _centre_for,
    _is_int,
    _merge,
    _offset,
    community_detail,
)
from commgov.datasets._divisions import GUSU_CODE, gusu_divisions
from commgov.datasets._overlay import overlay
from commgov.errors import InputError
from commgov.org import Community, OrgModel, Person, Provenance, RiderDuty, Role, Source
from commgov.types import GeoPoint, TimeWindow

__all__ = [
    "DISTRICT_RESIDENTS",
    "HUCHIYUAN",
    "MICRO_SITES",
    "PIONEERS",
    "RIDERS",
    "SUBDISTRICT_AREAS",
    "SubdistrictArea",
    "gusu",
]

#: 虎池苑社区 (白洋湾街道): the community the 2022 article reports in figures.
HUCHIYUAN = "320508017016"
#: Residents of Gusu ("~0.93 m", the Baidu Baike entry 姑苏区).
DISTRICT_RESIDENTS = 930_000
#: Mean residents per household of the generator (Suzhou 2020 census: 2.5).
RESIDENTS_PER_HOUSEHOLD = 2.5
#: Haitang Pioneers (海棠先锋) in the district: the article's "千余名" (1,000+), taken as 1,200.
PIONEERS = 1_200
#: "Red Charm of the Lanes" (小巷红韵) micro-sites in the district (the article: 273).
MICRO_SITES = 273
#: Riders of the riders' anti-epidemic vanguard (the article: 600+), taken as 620.
RIDERS = 620
#: Spread of community sizes: lognormal sigma, and the clip of the weight (× the mean).
SIZE_SIGMA = 0.35
SIZE_CLIP = (0.5, 2.0)
#: Rider duties (流动宣传员, 需求速递员, 困难纾解员, 防疫观察员): each rider takes one or two.
DUTIES = tuple(RiderDuty)
_HUCHIYUAN_HOUSEHOLDS = 1765
_HUCHIYUAN_PIONEERS = 20
_ENROLMENT = "海棠先锋"


@dataclass(frozen=True, slots=True)
class SubdistrictArea:
    """Approximate area of a sub-district, for placing synthetic communities.

    Attributes
    ----------
    name : str
        Official name of the sub-district.
    centre : GeoPoint
        Approximate centre (synthetic: read off general maps, not surveyed).
    radius_m : float
        Communities are placed uniformly in the disc of this radius (then clipped to
        Gusu's extent).
    lane_share : float
        Share of households living in lanes and courtyards rather than compounds (higher in
        the walled city, lower in the outer estates): an assumption.
    """

    name: str
    centre: GeoPoint
    radius_m: float
    lane_share: float


def _area(name: str, lon: float, lat: float, radius_m: float, lane_share: float) -> SubdistrictArea:
    return SubdistrictArea(name, GeoPoint(lon=lon, lat=lat), radius_m, lane_share)


#: Approximate centres of Gusu's 8 sub-districts (synthetic; docs/datasets.md): the walled city
#: (centre 120.622 E, 31.311 N) holds 平江 (north-east), 双塔 (south-east), 沧浪 (south-west)
#: and 金阊 (north-west, reaching out west); 吴门桥 lies south of the moat, 苏锦 north of the
#: railway, 虎丘 and 白洋湾 to the north-west (docs/datasets.md, Gusu's extent).
SUBDISTRICT_AREAS: dict[str, SubdistrictArea] = {
    "320508017": _area("白洋湾街道", 120.585, 31.352, 2200.0, 0.10),
    "320508018": _area("平江街道", 120.628, 31.324, 1800.0, 0.55),
    "320508019": _area("金阊街道", 120.600, 31.313, 1800.0, 0.40),
    "320508020": _area("沧浪街道", 120.612, 31.298, 1400.0, 0.45),
    "320508021": _area("双塔街道", 120.633, 31.301, 1400.0, 0.45),
    "320508022": _area("虎丘街道", 120.590, 31.332, 1700.0, 0.15),
    "320508023": _area("苏锦街道", 120.618, 31.343, 1400.0, 0.10),
    "320508024": _area("吴门桥街道", 120.612, 31.279, 2000.0, 0.15),
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """What each community gets: its record (with a location) and its figures."""

    community: Community
    households: int
    pioneers: int
    micro_sites: int
    lane_share: float


def gusu(seed: int = 0, *, communities: Iterable[str] | None = None) -> OrgModel:
    """Gusu district: official divisions and all 171 communities in synthetic detail.

    Division records (district, 8 sub-districts, 169 residents' committees and 2 villagers'
    committees) are the official 2023 codes (provenance ``official``); each community record
    gets a synthetic representative point. Below them everything is synthetic: compounds,
    lanes and courtyards, buildings and entrances with household and resident counts
    (930,000 residents in all, ± 1 %), mobility-limited households, 1,200 Haitang Pioneers
    (海棠先锋, an enrolment), 273 "Red Charm of the Lanes" (小巷红韵) micro-sites used as
    sampling points, a sealed building in 虎池苑社区, and 620 riders. Over them lies the
    organisation net: a working committee per sub-district, a party committee and a residents'
    (villagers') committee per community, a co-governance party branch per compound without
    property management (120+), a Haitang Pioneer team per compound or lane where pioneers
    live, an action branch for the sealed zone, property companies, 41 business-association
    volunteer teams and the riders' team, with memberships. docs/datasets.md says how each
    figure is calibrated.

    Parameters
    ----------
    seed : int, default 0
        Root seed of the synthetic detail (``commgov._random`` streams, keyed by entity id).
    communities : iterable of str, optional
        Codes of the communities to generate in detail (default: all 171). A community's
        detail is the same whichever others are chosen, so
        ``gusu(seed, communities=[code])`` is a cheap way to get one of them.

    Returns
    -------
    OrgModel
        Records sorted by id; 虎池苑社区 (``320508017016``) is exactly
        ``synthetic_community("320508017016", households=1765, volunteers=20, seed=seed)``:
        1,765 households and 20 pioneers, the figures of the 2022 article.

    Raises
    ------
    commgov.errors.InputError
        If ``seed`` is not a whole number ≥ 0, or a code in ``communities`` is not one of
        Gusu's 171 community codes.

    Notes
    -----
    About 93 k records; ``gusu()`` takes about 3.5 s and well under 1 GiB as a whole process
    (``benchmarks/bench_gusu.py``).

    Examples
    --------
    >>> m = gusu(communities=["320508017016"])
    >>> sum(1 for p in m.people if "海棠先锋" in p.enrolments and p.id.startswith("3205080170"))
    20
    """
    if not (_is_int(seed) and 0 <= seed < 2**63):
        raise InputError.single("gusu", "seed", seed, "must be a whole number ≥ 0")
    seed = int(seed)
    with gc_paused():  # about a million acyclic objects: the collector only slows this
        return _district(seed, communities)


def _district(seed: int, communities: Iterable[str] | None) -> OrgModel:
    divisions = gusu_divisions()
    wanted = _wanted(communities, [c.id for c in divisions.communities])
    huchiyuan = _huchiyuan(seed)
    plans = _plans(divisions.communities, seed, huchiyuan)
    detailed = Records()
    for plan in plans:
        code = plan.community.id
        if code not in wanted:
            continue
        if code == HUCHIYUAN:
            part = huchiyuan
        else:
            part = community_detail(
                code,
                _located(plan.community),
                households=plan.households,
                volunteers=plan.pioneers,
                seed=seed,
                day=DEFAULT_DAY,
                sealed_buildings=0,
                lane_share=plan.lane_share,
                mobility_rate=0.02,
                sampling_slack=1.2,
                sampling_points=plan.micro_sites,
                enrolment=_ENROLMENT,
                prov=_provenance(seed),
            )
        detailed.extend(part)
    detailed.people.extend(_riders(plans, seed))
    communities_ = [p.community for p in plans]
    net = overlay(
        list(divisions.areas),
        communities_,
        detailed.units,
        detailed.buildings,
        detailed.people,
        detailed.zones,
        detailed=wanted,
        seed=seed,
        day=DEFAULT_DAY,
    )
    detailed.extend(net)
    return OrgModel(
        name=f"Gusu district {GUSU_CODE} (seed {seed})",
        timezone=TIMEZONE,
        areas=list(divisions.areas),
        communities=communities_,
        **detailed.collections(),
    )


def _provenance(seed: int) -> Provenance:
    return Provenance(source=Source.SYNTHETIC, reference=f"commgov.datasets.gusu seed={seed}")


def _located(community: Community) -> GeoPoint:
    assert community.location is not None
    return community.location


def _wanted(communities: Iterable[str] | None, codes: list[str]) -> set[str]:
    if communities is None:
        return set(codes)
    if isinstance(communities, str):
        raise InputError.single(
            "gusu", "communities", communities, "must be an iterable of codes, not one str"
        )
    chosen = list(communities)
    known = set(codes)
    for code in chosen:
        if code not in known:
            raise InputError.single(
                "gusu", "communities", code, "is not one of Gusu's 171 community codes"
            )
    return set(chosen)


def _huchiyuan(seed: int) -> Records:
    """虎池苑社区 exactly as ``synthetic_community`` draws it (the skeleton's records)."""
    return community_detail(
        HUCHIYUAN,
        _centre_for(HUCHIYUAN, seed),
        households=_HUCHIYUAN_HOUSEHOLDS,
        volunteers=_HUCHIYUAN_PIONEERS,
        seed=seed,
        day=DEFAULT_DAY,
        sealed_buildings=1,
        lane_share=0.25,
        mobility_rate=0.02,
        sampling_slack=1.2,
        sampling_points=None,
        enrolment=_ENROLMENT,
        prov=Provenance(
            source=Source.SYNTHETIC, reference=f"commgov.datasets.synthetic_community seed={seed}"
        ),
    )


def _residents(detail: Records) -> int:
    return sum(e.counts.residents for e in detail.entrances) + sum(
        b.counts.residents for b in detail.buildings if b.counts is not None
    )


def _plans(records: Sequence[Community], seed: int, huchiyuan: Records) -> list[_Plan]:
    """Sizes, pioneers, micro-sites, lane shares and centres of every community.

    The other 170 communities share the residents left after 虎池苑社区 in proportion to a
    lognormal weight each (clipped), at 2.5 residents a household; pioneers and micro-sites
    follow households (largest remainders, at least 3 pioneers and 1 micro-site each)."""
    others = [c for c in records if c.id != HUCHIYUAN]
    weights: list[float] = []
    centres: dict[str, GeoPoint] = {HUCHIYUAN: _centre_for(HUCHIYUAN, seed)}
    for c in others:
        g = rng(seed, "layout", c.id)
        area = SUBDISTRICT_AREAS[c.parent_id]
        angle = 2 * math.pi * float(g.random())
        dist = area.radius_m * math.sqrt(float(g.random()))
        centres[c.id] = _clip(
            _offset(area.centre, dist * math.cos(angle), dist * math.sin(angle))
        )
        weights.append(
            min(SIZE_CLIP[1], max(SIZE_CLIP[0], float(g.lognormal(0.0, SIZE_SIGMA))))
        )
    households_left = round(
        (DISTRICT_RESIDENTS - _residents(huchiyuan)) / RESIDENTS_PER_HOUSEHOLD
    )
    sizes = apportion(households_left, weights, minimum=1)
    pioneers = apportion(PIONEERS - _HUCHIYUAN_PIONEERS, [float(h) for h in sizes], minimum=3)
    # 虎池苑社区 keeps synthetic_community's default (one point per 1,600 walk-in residents)
    sites = apportion(MICRO_SITES - len(huchiyuan.sites), [float(h) for h in sizes], minimum=1)
    figures = {
        c.id: (h, p, s, SUBDISTRICT_AREAS[c.parent_id].lane_share)
        for c, h, p, s in zip(others, sizes, pioneers, sites, strict=True)
    }
    figures[HUCHIYUAN] = (_HUCHIYUAN_HOUSEHOLDS, _HUCHIYUAN_PIONEERS, len(huchiyuan.sites), 0.25)
    return [
        _Plan(
            c.model_copy(update={"location": centres[c.id], "timezone": TIMEZONE}),
            *figures[c.id],
        )
        for c in records
    ]


def _clip(point: GeoPoint) -> GeoPoint:
    return GeoPoint(
        lon=min(max(point.lon, GUSU_BOX[0]), GUSU_BOX[2]),
        lat=min(max(point.lat, GUSU_BOX[1]), GUSU_BOX[3]),
    )


def apportion(total: int, weights: Sequence[float], *, minimum: int = 0) -> list[int]:
    """Split ``total`` into whole parts proportional to ``weights`` (largest remainders).

    Each part gets ``minimum`` first; the rest is shared in proportion to the weights, the
    leftover units going to the largest remainders (ties to the earlier index).

    Parameters
    ----------
    total : int
        What to split, ≥ ``minimum * len(weights)``.
    weights : sequence of float
        Non-negative weights, not all zero.
    minimum : int, default 0
        Least part.

    Returns
    -------
    list of int
        Parts summing to ``total``, in the order of ``weights``.

    Examples
    --------
    >>> apportion(10, [1.0, 1.0, 2.0])
    [3, 2, 5]
    >>> apportion(5, [0.0, 1.0], minimum=1)
    [1, 4]
    """
    n = len(weights)
    rest = total - minimum * n
    if (
        n == 0
        or rest < 0
        or not all(math.isfinite(w) and w >= 0 for w in weights)
        or max(weights) <= 0
    ):
        raise ValueError(
            f"cannot apportion {total} over {n} weights with minimum {minimum}: weights must be "
            "finite, non-negative and not all zero"
        )
    # scale by the largest weight first, so that tiny (even subnormal) weights cannot overflow
    top = max(weights)
    relative = [w / top for w in weights]
    scale = rest / math.fsum(relative)
    quotas = [r * scale for r in relative]
    parts = [math.floor(q) for q in quotas]
    order = sorted(range(n), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in order[: rest - sum(parts)]:
        parts[i] += 1
    return [minimum + p for p in parts]


def _riders(plans: list[_Plan], seed: int) -> list[Person]:
    """The riders' anti-epidemic vanguard (齐心(骑行)抗疫先锋队): 620 riders based near the
    communities in proportion to households, with delivery skills and shifts on the day."""
    tz = ZoneInfo(TIMEZONE)
    prov = _provenance(seed)
    shifts = [(time(8, 0), time(14, 0)), (time(10, 0), time(20, 0)), (time(14, 0), time(21, 0))]
    total = sum(p.households for p in plans)
    cumulative: list[float] = []
    running = 0
    for p in plans:
        running += p.households
        cumulative.append(running / total)
    people = []
    for k in range(1, RIDERS + 1):
        pid = f"{GUSU_CODE}/R{k:04d}"
        g = rng(seed, "people", pid)
        u = float(g.random())
        base = plans[min(len(plans) - 1, bisect.bisect_right(cumulative, u))].community
        angle, dist = 2 * math.pi * float(g.random()), 500.0 * math.sqrt(float(g.random()))
        start, end = shifts[int(g.integers(len(shifts)))]
        party = bool(g.random() < 0.15)
        duties = sorted(
            DUTIES[int(i)] for i in g.choice(len(DUTIES), size=int(g.integers(1, 3)), replace=False)
        )
        people.append(
            Person(
                id=pid,
                roles=[Role.RIDER, Role.PARTY_MEMBER] if party else [Role.RIDER],
                rider_duties=duties,
                skills={"delivery": int(g.integers(3, 6))},
                location=_clip(
                    _offset(_located(base), dist * math.cos(angle), dist * math.sin(angle))
                ),
                availability=_merge(
                    [
                        TimeWindow(
                            start=datetime.combine(DEFAULT_DAY, start, tz),
                            end=datetime.combine(DEFAULT_DAY, end, tz),
                        )
                    ]
                ),
                provenance=prov,
            )
        )
    return people
