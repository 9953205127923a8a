from __future__ import annotations

import math
from dataclasses import dataclass, field as _field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from commgov._random import rng
from commgov.datasets._divisions import gusu_divisions
from commgov.errors import InputError
from commgov.org import (
    AdminArea,
    AdminLevel,
    Body,
    Building,
    Community,
    CommunityKind,
    Entrance,
    Household,
    HouseholdCounts,
    Membership,
    NeighbourhoodKind,
    NeighbourhoodUnit,
    OrgModel,
    PartyOrg,
    Person,
    PropertyManagement,
    Provenance,
    Role,
    Site,
    SiteFunction,
    Source,
    Team,
    ZoneDesignation,
    ZoneRegime,
)
from commgov.types import GeoPoint, TimeWindow

#: Gusu's extent in degrees (published boundary box, GCJ-02; docs/datasets.md), shrunk by
#: 0.012° on every side so that synthetic places fall inside the district whatever the datum
#: offset (a few hundred m).
GUSU_BOX = (120.528 + 0.012, 31.259 + 0.012, 120.656 - 0.012, 31.379 - 0.012)
SKILLS = ("delivery", "elderly_care", "sampling_marshal", "publicity", "first_aid")
DEFAULT_DAY = date(2022, 4, 12)
TIMEZONE = "Asia/Shanghai"
SAMPLING_HOURS = (time(6, 30), time(13, 0))
_M_PER_DEG_LAT = 111_195.0


def _ring_point(
    g: np.random.Generator, centre: GeoPoint, turn: float, near: float, spread: float
) -> GeoPoint:
    """A point around ``centre``: ``turn`` of a full circle (plus up to 0.3 rad), ``near`` to
    ``near + spread`` metres out (two draws of ``g``: the angle's jitter, then the distance)."""
    angle = 2 * math.pi * turn + float(g.uniform(0, 0.3))
    dist = near + spread * float(g.random())
    return _offset(centre, dist * math.cos(angle), dist * math.sin(angle))


def _offset(centre: GeoPoint, east_m: float, north_m: float) -> GeoPoint:
    lat = centre.lat + north_m / _M_PER_DEG_LAT
    lon = centre.lon + east_m / (_M_PER_DEG_LAT * math.cos(math.radians(centre.lat)))
    return GeoPoint(lon=round(lon, 6), lat=round(lat, 6))


def _centre_for(code: str, seed: int) -> GeoPoint:
    g = rng(seed, "layout", code)
    lon = GUSU_BOX[0] + (GUSU_BOX[2] - GUSU_BOX[0]) * float(g.uniform(0.2, 0.8))
    lat = GUSU_BOX[1] + (GUSU_BOX[3] - GUSU_BOX[1]) * float(g.uniform(0.2, 0.8))
    return GeoPoint(lon=round(lon, 6), lat=round(lat, 6))


def _split(total: int, sizes: list[int]) -> list[int]:
    """Cut ``total`` into consecutive parts of the given sizes, the last part truncated."""
    out: list[int] = []
    for size in sizes:
        if total <= 0:
            break
        take = min(size, total)
        out.append(take)
        total -= take
    return out


def _counts(g: np.random.Generator, households: int, mobility_rate: float) -> HouseholdCounts:
    # mean 2.5 residents per household (Suzhou 2020 census: 2.5)
    residents = households + int(g.binomial(2 * households, 0.75)) if households else 0
    limited = int(g.binomial(residents, mobility_rate)) if residents else 0
    return HouseholdCounts(households=households, residents=residents, mobility_limited=limited)


def _division_chain(code: str, seed: int) -> tuple[list[AdminArea], Community]:
    divisions = gusu_divisions()
    by_id = {c.id: c for c in divisions.communities}
    if code in by_id:
        community = by_id[code]
        areas = [a for a in divisions.areas if a.id in (code[:6], code[:9])]
    else:
        synthetic = Provenance(
            source=Source.SYNTHETIC, reference=f"synthetic_community seed={seed}"
        )
        areas = [
            AdminArea(
                id=code[:6],
                level=AdminLevel.DISTRICT,
                name=f"区{code[:6]}",
                short_name=f"区{code[:6]}",
                provenance=synthetic,
            ),
            AdminArea(
                id=code[:9],
                level=AdminLevel.SUBDISTRICT,
                name=f"街道{code[6:9]}",
                short_name=f"街道{code[6:9]}",
                parent_id=code[:6],
                provenance=synthetic,
            ),
        ]
        village = 200 <= int(code[9:]) <= 399  # GB/T 10114 village-level code ranges
        community = Community(
            id=code,
            kind=CommunityKind.VILLAGE if village else CommunityKind.RESIDENTS,
            name=f"{code[9:]}村民委员会" if village else f"社区{code[9:]}居委会",
            short_name=f"{code[9:]}村" if village else f"社区{code[9:]}",
            parent_id=code[:9],
            provenance=synthetic,
        )
    centre = _centre_for(code, seed)
    community = community.model_copy(update={"location": centre, "timezone": TIMEZONE})
    return areas, community


def synthetic_community(
    code: str,
    *,
    households: int = 1765,
    volunteers: int | None = None,
    seed: int = 0,
    day: date = DEFAULT_DAY,
    sealed_buildings: int | None = None,
    lane_share: float = 0.25,
    mobility_rate: float = 0.02,
    sampling_slack: float = 1.2,
    sampling_points: int | None = None,
    enrolment: str = "海棠先锋",
) -> OrgModel:
    """Generate a community in detail: units, buildings, entrances, people, sites, a zone.

    The generator is anchored on published figures, not on real footprints: compounds of
    walk-up buildings (5–7 storeys, 2–4 entrances of two flats a floor), lanes of low-rise
    houses and courtyards (1–6 households each, no entrances), 2.5 residents a household,
    a few per cent mobility-limited residents, volunteers with skills living in the community,
    and lane micro-sites converted to sampling points whose lanes give ``sampling_slack`` times
    the capacity the walk-in residents need over the 06:30–13:00 sampling window (a window
    of local 2022 sampling notices). Everything it makes is marked ``synthetic``; the division
    records are the official ones when ``code`` is one of Gusu's communities.

    Parameters
    ----------
    code : str
        12-digit community code. A Gusu code keeps its official records; another code gets
        synthetic district and sub-district records, and a villagers' committee when its last
        three digits are 200–399 (GB/T 10114: 001–199 residents' committees, 200–399
        villagers' committees).
    households : int, default 1765
        Exact number of households generated, ≥ 1.
    volunteers : int, optional
        Volunteers generated (default: one per 90 households, at least 3).
    seed : int, default 0
        Root seed; each part draws from its own stream (``commgov._random``).
    day : datetime.date, default 2022-04-12
        Day of the sampling round and of the volunteers' availability (Asia/Shanghai).
    sealed_buildings : int, optional
        Buildings put under a sealed-zone designation for the day (default: one when the
        community has at least 50 households, else none), at most one per 50 households and
        at most the number of buildings generated.
    lane_share : float, default 0.25
        Share of households living in lanes and courtyards rather than compounds.
    mobility_rate : float, default 0.02
        Probability that a resident is mobility-limited.
    sampling_slack : float, default 1.2
        Sampling capacity over walk-in demand.
    sampling_points : int, optional
        Sampling points (default: one per 1,600 walk-in residents, at least one).
    enrolment : str, default "海棠先锋"
        Programme the volunteers are enrolled in (data, not a class).

    Returns
    -------
    OrgModel
        A self-contained model (its division chain included) that passes
        :class:`~commgov.org.OrgGraph` validation.

    Raises
    ------
    commgov.errors.InputError
        If ``code`` is not 12 digits, a count, share or seed is out of range or of the wrong
        type (naming the parameter and value).

    Examples
    --------
    >>> m = synthetic_community("320508017016", households=120, seed=1)
    >>> from commgov.org import OrgGraph
    >>> OrgGraph(m).summary("320508017016").counts.households
    120
    """
    if sealed_buildings is None and _is_int(households):
        sealed_buildings = 1 if households >= 50 else 0
    _check(
        code,
        households,
        volunteers,
        lane_share,
        mobility_rate,
        sampling_slack,
        sealed_buildings,
        seed=seed,
        day=day,
        enrolment=enrolment,
    )
    assert sealed_buildings is not None
    if sampling_points is not None and not 1 <= sampling_points <= 1000:
        raise InputError.single(
            "synthetic_community", "sampling_points", sampling_points, "must be between 1 and 1,000"
        )
    areas, community = _division_chain(code, seed)
    assert community.location is not None
    prov = Provenance(
        source=Source.SYNTHETIC, reference=f"commgov.datasets.synthetic_community seed={seed}"
    )
    detail = community_detail(
        code,
        community.location,
        households=households,
        volunteers=volunteers if volunteers is not None else max(3, round(households / 90)),
        seed=seed,
        day=day,
        sealed_buildings=sealed_buildings,
        lane_share=lane_share,
        mobility_rate=mobility_rate,
        sampling_slack=sampling_slack,
        sampling_points=sampling_points,
        enrolment=enrolment,
        prov=prov,
    )
    return OrgModel(
        name=f"{community.short_name} (synthetic detail, seed {seed})",
        timezone=TIMEZONE,
        areas=areas,
        communities=[community],
        **detail.collections(),
    )


@dataclass(slots=True)
class Records:
    """Generated records, one list per :class:`~commgov.org.OrgModel` collection below the
    divisions: the detail of communities (units … zones) and the organisation net laid over
    them (bodies … memberships)."""

    units: list[NeighbourhoodUnit] = _field(default_factory=list)
    buildings: list[Building] = _field(default_factory=list)
    entrances: list[Entrance] = _field(default_factory=list)
    households: list[Household] = _field(default_factory=list)
    people: list[Person] = _field(default_factory=list)
    sites: list[Site] = _field(default_factory=list)
    zones: list[ZoneDesignation] = _field(default_factory=list)
    bodies: list[Body] = _field(default_factory=list)
    party_orgs: list[PartyOrg] = _field(default_factory=list)
    teams: list[Team] = _field(default_factory=list)
    memberships: list[Membership] = _field(default_factory=list)

    def collections(self) -> dict[str, Any]:
        """The lists by their :class:`~commgov.org.OrgModel` field name."""
        return {name: getattr(self, name) for name in self.__slots__}

    def extend(self, other: Records) -> None:
        """Append the records of ``other``, list by list."""
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))


def community_detail(
    code: str,
    centre: GeoPoint,
    *,
    households: int,
    volunteers: int,
    seed: int,
    day: date,
    sealed_buildings: int,
    lane_share: float,
    mobility_rate: float,
    sampling_slack: float,
    sampling_points: int | None,
    enrolment: str,
    prov: Provenance,
) -> Records:
    """Units, buildings, entrances, households, volunteers, sites and a zone of one community.

    Parameters are those of :func:`synthetic_community`, already checked; ``centre`` is the
    community's representative point and ``prov`` the provenance every record gets. Each part
    draws from its own stream keyed by the entity id, so the detail of a community depends
    only on its own arguments, never on other communities generated beside it.
    """
    tz = ZoneInfo(TIMEZONE)

    g_units = rng(seed, "units", code)
    lane_households = round(households * lane_share)
    compound_households = households - lane_households
    n_compounds = max(1, round(compound_households / 450)) if compound_households else 0
    n_lanes = max(1, round(lane_households / 120)) if lane_households else 0
    compound_sizes = _split(
        compound_households, [math.ceil(compound_households / max(n_compounds, 1))] * n_compounds
    )
    lane_sizes = _split(lane_households, [math.ceil(lane_households / max(n_lanes, 1))] * n_lanes)

    units: list[NeighbourhoodUnit] = []
    buildings: list[Building] = []
    entrances: list[Entrance] = []
    household_records: list[Household] = []
    unit_places: list[tuple[NeighbourhoodUnit, int]] = []
    ring = 0
    for i, size in enumerate(compound_sizes, start=1):
        location = _ring_point(g_units, centre, ring / max(1, n_compounds + n_lanes), 120, 160)
        ring += 1
        unit = NeighbourhoodUnit(
            id=f"{code}/C{i:02d}",
            kind=NeighbourhoodKind.COMPOUND,
            name=f"第{i}小区",
            parent_id=code,
            location=location,
            property_management=PropertyManagement.PROFESSIONAL
            if g_units.random() < 0.7
            else PropertyManagement.NONE,
            provenance=prov,
        )
        units.append(unit)
        unit_places.append((unit, size))
    for i, size in enumerate(lane_sizes, start=1):
        location = _ring_point(g_units, centre, ring / max(1, n_compounds + n_lanes), 150, 200)
        ring += 1
        unit = NeighbourhoodUnit(
            id=f"{code}/L{i:02d}",
            kind=NeighbourhoodKind.LANE,
            name=f"第{i}巷",
            parent_id=code,
            location=location,
            property_management=PropertyManagement.COMMUNITY_FALLBACK,
            provenance=prov,
        )
        units.append(unit)
        unit_places.append((unit, size))

    for unit, size in unit_places:
        g = rng(seed, "buildings", unit.id)
        assert unit.location is not None
        if unit.kind is NeighbourhoodKind.COMPOUND:
            designs: list[tuple[int, int]] = []  # (floors, entrances)
            planned = 0
            while planned < size:
                floors, n_ent = int(g.integers(5, 8)), int(g.integers(2, 5))
                designs.append((floors, n_ent))
                planned += floors * 2 * n_ent
            remaining = size
            for b, (floors, n_ent) in enumerate(designs, start=1):
                row, col = divmod(b - 1, 4)
                building = Building(
                    id=f"{unit.id}/B{b:02d}",
                    label=f"{b}幢",
                    parent_id=unit.id,
                    location=_offset(unit.location, col * 35.0 - 50, row * 30.0 - 40),
                    floors=floors,
                    has_lift=False,
                    provenance=prov,
                )
                buildings.append(building)
                for e, hh in enumerate(_split(remaining, [floors * 2] * n_ent), start=1):
                    remaining -= hh
                    entrance = Entrance(
                        id=f"{building.id}/E{e}",
                        label=f"{e}单元",
                        parent_id=building.id,
                        counts=_counts(
                            rng(seed, "entrances", f"{building.id}/E{e}"), hh, mobility_rate
                        ),
                        provenance=prov,
                    )
                    entrances.append(entrance)
                    household_records.extend(_vulnerable(entrance.id, entrance.counts, seed, prov))
        else:
            sizes: list[int] = []
            planned = 0
            while planned < size:
                sizes.append(int(g.integers(1, 7)))
                planned += sizes[-1]
            remaining = size
            n_courtyards = max(0, len(sizes) // 8)
            courtyard_ids = []
            for c in range(1, n_courtyards + 1):
                courtyard = NeighbourhoodUnit(
                    id=f"{unit.id}/Y{c:02d}",
                    kind=NeighbourhoodKind.COURTYARD,
                    name=f"{unit.name}{c}号院",
                    parent_id=unit.id,
                    location=_offset(unit.location, 20.0 * c, 15.0),
                    property_management=PropertyManagement.NONE,
                    provenance=prov,
                )
                units.append(courtyard)
                courtyard_ids.append(courtyard.id)
            for b, hh in enumerate(_split(remaining, sizes), start=1):
                parent = (
                    courtyard_ids[(b - 1) % len(courtyard_ids)]
                    if courtyard_ids and b % 3 == 0
                    else unit.id
                )
                building = Building(
                    id=f"{unit.id}/B{b:02d}",
                    label=f"{b}号",
                    parent_id=parent,
                    location=_offset(unit.location, (b % 10) * 18.0 - 90, (b // 10) * 22.0 - 30),
                    floors=int(g.integers(1, 3)),
                    counts=_counts(
                        rng(seed, "entrances", f"{unit.id}/B{b:02d}"), hh, mobility_rate
                    ),
                    provenance=prov,
                )
                buildings.append(building)
                assert building.counts is not None
                household_records.extend(_vulnerable(building.id, building.counts, seed, prov))

    buildings.sort(key=lambda b: b.id)
    residents = sum(e.counts.residents for e in entrances) + sum(
        b.counts.residents for b in buildings if b.counts is not None
    )
    limited = sum(e.counts.mobility_limited for e in entrances) + sum(
        b.counts.mobility_limited for b in buildings if b.counts is not None
    )
    window = TimeWindow(
        start=datetime.combine(day, SAMPLING_HOURS[0], tz),
        end=datetime.combine(day, SAMPLING_HOURS[1], tz),
    )
    sites = _sampling_sites(
        code, units, residents - limited, window, sampling_slack, seed, prov, sampling_points
    )
    people = _volunteers(
        code,
        buildings,
        volunteers,
        day,
        tz,
        seed,
        prov,
        enrolment,
    )
    zones = []
    if sealed_buildings > len(buildings):
        raise InputError.single(
            "synthetic_community",
            "sealed_buildings",
            sealed_buildings,
            f"must be at most the {len(buildings)} buildings generated for {households} households",
        )
    if sealed_buildings:
        g = rng(seed, "zones", code)
        chosen = sorted(g.choice(len(buildings), size=sealed_buildings, replace=False).tolist())
        zones.append(
            ZoneDesignation(
                id=f"{code}/Z1",
                regime=ZoneRegime.SEALED,
                targets=[buildings[i].id for i in chosen],
                valid=TimeWindow(
                    start=datetime.combine(day, time(0, 0), tz),
                    # half-open: the whole day, its last minute included
                    end=datetime.combine(day + timedelta(days=1), time(0, 0), tz),
                ),
                provenance=prov,
            )
        )
    return Records(units, buildings, entrances, household_records, people, sites, zones)


def _vulnerable(
    parent: str, counts: HouseholdCounts, seed: int, prov: Provenance
) -> list[Household]:
    """One household record per mobility-limited resident (they need door-to-door service),
    within the leaf's counts: never more households or residents than it holds."""
    n = min(counts.mobility_limited, counts.households)
    if n == 0:
        return []  # no draw is made: skipping the generator leaves every output unchanged
    g = rng(seed, "households", parent)
    out = []
    spare = counts.residents - n  # residents beyond one per recorded household
    for k in range(n):
        extra = min(int(g.integers(0, 2)), spare)
        spare -= extra
        out.append(
            Household(
                id=f"{parent}/H{k + 1}",
                parent_id=parent,
                residents=1 + extra,
                mobility_limited=1,
                elderly_alone=bool(g.random() < 0.4),
                provenance=prov,
            )
        )
    return out


def _sampling_sites(
    code: str,
    units: list[NeighbourhoodUnit],
    walk_in: int,
    window: TimeWindow,
    slack: float,
    seed: int,
    prov: Provenance,
    n_points: int | None = None,
) -> list[Site]:
    g = rng(seed, "sites", code)
    if n_points is None:
        n_points = max(1, math.ceil(walk_in / 1600))
    hours = window.minutes / 60.0
    lanes_total = max(n_points, math.ceil(walk_in * slack / (100 * 0.85 * hours)))
    tops = [u for u in units if u.kind is not NeighbourhoodKind.COURTYARD]
    hosts = [
        tops[int(i)]
        for i in sorted(g.choice(len(tops), size=min(n_points, len(tops)), replace=False))
    ]
    while len(hosts) < n_points:
        hosts.append(tops[len(hosts) % len(tops)])
    sites = []
    for k, host in enumerate(hosts, start=1):
        lanes = lanes_total // n_points + (1 if k <= lanes_total % n_points else 0)
        assert host.location is not None
        sites.append(
            Site(
                id=f"{code}/S{k:02d}",
                name=f"{host.name}微阵地",
                parent_id=host.id,
                location=_offset(host.location, 40.0, -25.0),
                brand="小巷红韵",
                normal_functions=[SiteFunction.PARTY_MICRO_SITE],
                emergency_functions=[SiteFunction.SAMPLING_POINT],
                lanes=lanes,
                rate_per_lane_per_hour=100.0,
                opening=window,
                provenance=prov,
            )
        )
    return sites


def _volunteers(
    code: str,
    buildings: list[Building],
    n: int,
    day: date,
    tz: ZoneInfo,
    seed: int,
    prov: Provenance,
    enrolment: str,
) -> list[Person]:
    people = []
    shifts = [
        (time(7, 0), time(12, 0)),
        (time(8, 0), time(12, 0)),
        (time(14, 0), time(18, 0)),
        (time(7, 0), time(18, 0)),
    ]
    for k in range(1, n + 1):
        pid = f"{code}/P{k:03d}"
        g = rng(seed, "people", pid)
        home = buildings[int(g.integers(len(buildings)))]
        skills = {"delivery": int(g.integers(1, 4))}
        for skill in SKILLS[1:]:
            if g.random() < 0.35:
                skills[skill] = int(g.integers(1, 4))
        chosen = [
            shifts[int(i)]
            for i in sorted(g.choice(len(shifts), size=int(g.integers(1, 3)), replace=False))
        ]
        windows = sorted(
            {(datetime.combine(day, a, tz), datetime.combine(day, b, tz)) for a, b in chosen}
        )
        people.append(
            Person(
                id=pid,
                roles=[Role.VOLUNTEER, Role.PARTY_MEMBER] if g.random() < 0.6 else [Role.VOLUNTEER],
                enrolments=[enrolment],
                skills=dict(sorted(skills.items())),
                home_id=home.id,
                location=home.location,
                availability=_merge([TimeWindow(start=a, end=b) for a, b in windows]),
                provenance=prov,
            )
        )
    return people


def _merge(windows: list[TimeWindow]) -> list[TimeWindow]:
    out: list[TimeWindow] = []
    for w in sorted(windows, key=lambda w: (w.start, w.end)):
        if out and w.start <= out[-1].end:
            out[-1] = TimeWindow(start=out[-1].start, end=max(out[-1].end, w.end))
        else:
            out.append(w)
    return out


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _check(
    code: object,
    households: object,
    volunteers: object,
    lane_share: object,
    mobility_rate: object,
    slack: object,
    sealed: object,
    *,
    seed: object,
    day: object,
    enrolment: object,
) -> None:
    """Validate the parameters of :func:`synthetic_community`, types first, then ranges."""

    def between(value: object, lo: float, hi: float, real: bool = False) -> bool:
        ok = _is_real(value) if real else _is_int(value)
        return ok and lo <= value <= hi  # type: ignore[operator]

    checks = [
        (
            "code",
            code,
            isinstance(code, str) and len(code) == 12 and code.isascii() and code.isdigit(),
            "must be a 12-digit community code (a str)",
        ),
        (
            "households",
            households,
            between(households, 1, 100_000),
            "must be a whole number between 1 and 100,000",
        ),
        (
            "volunteers",
            volunteers,
            volunteers is None or between(volunteers, 0, 10_000),
            "must be a whole number between 0 and 10,000",
        ),
        ("seed", seed, between(seed, 0, 2**63 - 1), "must be a whole number ≥ 0"),
        ("lane_share", lane_share, between(lane_share, 0.0, 1.0, real=True), "must be in [0, 1]"),
        (
            "mobility_rate",
            mobility_rate,
            between(mobility_rate, 0.0, 0.5, real=True),
            "must be in [0, 0.5]",
        ),
        ("sampling_slack", slack, between(slack, 0.1, 10.0, real=True), "must be in [0.1, 10]"),
        (
            "day",
            day,
            isinstance(day, date) and not isinstance(day, datetime),
            "must be a datetime.date",
        ),
        (
            "enrolment",
            enrolment,
            isinstance(enrolment, str) and bool(enrolment.strip()),
            "must be a non-empty str",
        ),
    ]
    for field, value, ok, rule in checks:
        if not ok:
            raise InputError.single("synthetic_community", field, value, rule)
    assert _is_int(households)
    if not between(sealed, 0, max(1, households // 50)):  # type: ignore[operator]
        raise InputError.single(
            "synthetic_community",
            "sealed_buildings",
            sealed,
            "must be a whole number between 0 and households/50",
        )
