"""Buildings from a map: building footprints (GeoJSON polygons) into an organisation model.

A footprint becomes a :class:`~commgov.org.Building` at the footprint's centroid, assigned to
the neighbourhood unit (compound, lane) whose area holds the centroid (``areas``) or, without
areas, to the nearest unit of the model. Its households are estimated from the footprint:
area × floors ÷ floor area per household, residents from persons per household; every
estimated field is named in the record's ``provenance.estimated``. The footprint itself is
kept on the result (:attr:`FootprintImport.footprints`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import Any

from commgov._input import parse_json, read_text
from commgov.crs import check_crs, to_wgs84
from commgov.errors import InputError, InputIssue, check_size
from commgov.org import (
    Building,
    HouseholdCounts,
    NeighbourhoodUnit,
    OrgModel,
    Provenance,
    Source,
)
from commgov.results import LeftOut, LeftOutReasonCode
from commgov.types import EARTH_RADIUS_M, GeoPoint, haversine_array_m

__all__ = ["FootprintImport", "import_footprints"]

#: Most footprints one import takes (a city district has tens of thousands of buildings).
MAX_FOOTPRINTS = 200_000
#: Most vertices over all footprints.
MAX_VERTICES = 5_000_000
#: Floor area per household, m²: 32.57 m² of floor area per person × 2.42 persons per family
#: household in Gusu district (2020 national census).
FLOOR_AREA_PER_HOUSEHOLD_M2 = 78.8
#: Persons per household (Gusu district, 2020 national census).
PERSONS_PER_HOUSEHOLD = 2.42

_WHAT = "footprint import"
_Ring = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class FootprintImport:
    """The result of :func:`import_footprints`.

    Attributes
    ----------
    model : OrgModel
        The given model with the new buildings added.
    buildings : tuple of Building
        The new buildings, in the order of their features.
    footprints : dict of str to tuple
        Building id → the footprint's outer ring, ``((lon, lat), …)`` in WGS84, closed.
    features : dict of str to int
        Building id → index of its feature in the collection (0-based).
    left_out : tuple of LeftOut
        Features that became no building, with the reason (record ``feature/<index>``):
        every feature is a building or here.
    """

    model: OrgModel
    buildings: tuple[Building, ...]
    footprints: dict[str, _Ring]
    features: dict[str, int]
    left_out: tuple[LeftOut, ...]


def import_footprints(
    source: str | PathLike[str] | Mapping[str, Any],
    model: OrgModel,
    *,
    within: Iterable[str] | None = None,
    areas: Mapping[str, Any] | None = None,
    crs: str = "wgs84",
    default_floors: int = 3,
    storey_height_m: float = 3.0,
    floor_area_per_household_m2: float = FLOOR_AREA_PER_HOUSEHOLD_M2,
    persons_per_household: float = PERSONS_PER_HOUSEHOLD,
    min_area_m2: float = 10.0,
    max_distance_m: float = 1500.0,
) -> FootprintImport:
    """Buildings from building footprints (GeoJSON, as OpenStreetMap or a map provider gives).

    Each ``Polygon`` or ``MultiPolygon`` feature becomes a building at its centroid, with
    ``floors`` from its ``building:levels`` property, else ``height`` ÷ ``storey_height_m``,
    else ``default_floors``; households ``round(area × floors ÷
    floor_area_per_household_m2)`` and residents ``round(households ×
    persons_per_household)`` (at least the households). Every field so estimated is named in
    ``provenance.estimated``. A building goes to the neighbourhood unit whose area holds its
    centroid (``areas``), else to the nearest unit of ``model`` within ``max_distance_m``;
    with ``within``, only buildings of those communities are kept. Ids are
    ``<unit>/F<n>``, n counting the unit's buildings in feature order, so the same file and
    model give the same ids.

    Parameters
    ----------
    source : str, os.PathLike or mapping
        A GeoJSON FeatureCollection, as a file (read by the one reader: size, duplicate keys,
        depth checked) or parsed.
    model : OrgModel
        The model with the units the buildings join (their ``location`` is the centre the
        nearest rule uses).
    within : iterable of str, optional
        Community ids: a building whose unit (by area, or the nearest of all the model's
        units) is of another community is left out (``OUTSIDE_AREAS``).
    areas : mapping, optional
        A GeoJSON FeatureCollection of ``Polygon``/``MultiPolygon`` areas whose feature
        ``id`` (or ``properties.unit_id``) names a unit of the model.
    crs : {"wgs84", "gcj02", "bd09"}, default "wgs84"
        System of the coordinates of ``source`` and ``areas`` (GeoJSON is WGS84; a Chinese map
        provider's export may be GCJ-02 or BD-09).
    default_floors : int, default 3
        Storeys where a feature says nothing (Gusu's old city is mostly two- and
        three-storey).
    storey_height_m : float, default 3.0
        Metres per storey, to read ``height``.
    floor_area_per_household_m2 : float, default 78.8
        Gross floor area per household, m² (Gusu, 2020 census: 32.57 m² a person × 2.42).
    persons_per_household : float, default 2.42
        Residents per household (Gusu, 2020 census).
    min_area_m2 : float, default 10
        Smaller footprints (sheds, kiosks) are left out (``TOO_SMALL``).
    max_distance_m : float, default 1500
        A centroid farther than this from every unit is left out (``NO_UNIT_IN_REACH``).

    Returns
    -------
    FootprintImport

    Raises
    ------
    commgov.errors.InputError
        A malformed collection or geometry (not numbers, an open or too short ring), naming
        the feature, field and value; nothing is imported.
    commgov.errors.SizeLimitError
        More than :data:`MAX_FOOTPRINTS` features or :data:`MAX_VERTICES` vertices.
    commgov.errors.InvalidParameterError
        A parameter out of range or an unknown ``crs``.

    Notes
    -----
    O(V + F·U_bbox) for V vertices, F footprints and the U units near the footprints'
    bounding box (numpy, in chunks). Area and centroid are the shoelace formulas on a local
    equirectangular projection (error far below a metre at a building's size); holes are
    subtracted. The household estimate is a model, not a count: calibrate
    ``floor_area_per_household_m2`` and ``default_floors`` against local figures.

    References
    ----------
    H. Butler et al., "The GeoJSON Format", RFC 7946, IETF, 2016.
    National Bureau of Statistics of China, 2020 Population Census, Suzhou tables (Gusu
    district: 2.42 persons per family household, 32.57 m² floor area per person).
    """
    from commgov._options import Interval, check_options_interval

    where = "import_footprints"
    check_crs(crs, where)
    for name, value, rule in (
        ("default_floors", default_floors, Interval(int, 1, 200)),
        ("storey_height_m", storey_height_m, Interval(float, 1.5, 10.0)),
        ("floor_area_per_household_m2", floor_area_per_household_m2, Interval(float, 10, 1000)),
        ("persons_per_household", persons_per_household, Interval(float, 1.0, 10.0)),
        ("min_area_m2", min_area_m2, Interval(float, 0.0, 10_000.0)),
        ("max_distance_m", max_distance_m, Interval(float, 1.0, 50_000.0)),
    ):
        check_options_interval(where, name, value, rule)
    if not isinstance(model, OrgModel):
        raise TypeError(f"import_footprints needs an OrgModel, not {type(model).__name__}")
    collection = _collection(source)
    features = collection["features"]
    check_size(f"{_WHAT}: features", len(features), MAX_FOOTPRINTS, "import by sub-district")
    check_size(f"{_WHAT}: vertices", _vertices(features), MAX_VERTICES,
               "simplify the footprints or import by sub-district")
    issues: list[InputIssue] = []
    shapes = [_shape(i, f, crs, issues) for i, f in enumerate(features)]
    if issues:
        raise InputError(issues, what=_WHAT)
    units = _units(model)
    mine = None if within is None else _in_communities(model, within)
    area_shapes = _areas(areas, crs, {u.id for u in model.units}) if areas is not None else None
    left_out: list[LeftOut] = []
    placed: list[tuple[int, str, list[list[_Ring]], float, float, float]] = []
    kept = [(i, s) for i, s in enumerate(shapes) if s is not None]
    for i, s in enumerate(shapes):
        if s is None:
            left_out.append(_left(i, LeftOutReasonCode.NOT_A_FOOTPRINT))
    measured = [(i, s, *_area_centroid(s)) for i, s in kept]
    big = []
    for i, s, area, lon, lat in measured:
        if area < min_area_m2:
            left_out.append(_left(i, LeftOutReasonCode.TOO_SMALL, area_m2=f"{area:.1f}",
                                  min_m2=f"{min_area_m2:g}"))
        else:
            big.append((i, s, area, lon, lat))
    owners = (_by_area(big, area_shapes) if area_shapes is not None
              else _nearest(big, units, max_distance_m))
    for (i, s, area, lon, lat), owner in zip(big, owners, strict=True):
        if owner is not None and mine is not None and owner not in mine:
            left_out.append(_left(i, LeftOutReasonCode.OUTSIDE_AREAS))
        elif owner is None:
            code = (LeftOutReasonCode.OUTSIDE_AREAS if area_shapes is not None
                    else LeftOutReasonCode.NO_UNIT_IN_REACH)
            left_out.append(_left(i, code))
        else:
            placed.append((i, owner, s, area, lon, lat))
    counter = _existing_counts(model)  # a second import numbers after the first's buildings
    buildings: list[Building] = []
    footprints: dict[str, _Ring] = {}
    index: dict[str, int] = {}
    for i, owner, s, area, lon, lat in placed:
        counter[owner] = counter.get(owner, 0) + 1
        bid = f"{owner}/F{counter[owner]:04d}"
        props = features[i].get("properties") or {}
        floors, from_tags = _floors(props, default_floors, storey_height_m)
        households = max(0, round(area * floors / floor_area_per_household_m2))
        residents = max(households, round(households * persons_per_household))
        estimated = ("counts",) if from_tags else ("floors", "counts")
        tag = props.get("name")
        title = tag.strip()[:80] if isinstance(tag, str) else ""
        buildings.append(Building(
            id=bid,
            label=title or f"F{counter[owner]}",
            parent_id=owner,
            location=GeoPoint(lon=round(lon, 7), lat=round(lat, 7)),
            floors=floors,
            counts=HouseholdCounts(households=households, residents=residents),
            provenance=Provenance(
                source=Source.IMPORTED,
                reference=f"building footprint, feature {i} ({area:.0f} m², {floors} floors)",
                estimated=estimated,
            ),
        ))
        footprints[bid] = s[0][0]
        index[bid] = i
    left_out.sort(key=lambda r: int(r.record.split("/")[1]))
    merged = model.merge(OrgModel(buildings=buildings)) if buildings else model
    return FootprintImport(merged, tuple(buildings), footprints, index, tuple(left_out))


def _collection(source: str | PathLike[str] | Mapping[str, Any]) -> Mapping[str, Any]:
    data: Any = source
    if isinstance(source, str | PathLike):
        data = parse_json(read_text(source), label=str(source), what=_WHAT)
    if (not isinstance(data, Mapping) or data.get("type") != "FeatureCollection"
            or not isinstance(data.get("features"), list)):
        raise InputError([InputIssue("collection", "type", _type_of(data),
                                     "must be a GeoJSON FeatureCollection with a features list")],
                         what=_WHAT)
    return data


def _type_of(data: Any) -> str:
    return str(data.get("type")) if isinstance(data, Mapping) else type(data).__name__


def _left(i: int, code: LeftOutReasonCode, **params: str) -> LeftOut:
    return LeftOut(record=f"feature/{i}", kind="footprint", code=code, params=params)


def _shape(i: int, feature: Any, crs: str, issues: list[InputIssue],
           label: str = "feature") -> list[list[_Ring]] | None:
    """Polygons (outer ring first, then holes) in WGS84; None for a geometry that is no
    footprint (a point, a line); a malformed one is an issue."""
    record = f"{label}/{i}"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        issues.append(InputIssue(record, "type", _type_of(feature), "must be a GeoJSON Feature"))
        return None
    geometry = feature.get("geometry")
    if not isinstance(geometry, Mapping):
        return None  # a feature without geometry is no footprint
    props = feature.get("properties")
    if props is not None and not isinstance(props, Mapping):
        issues.append(InputIssue(record, "properties", type(props).__name__,
                                 "must be an object or null (RFC 7946 §3.2)"))
        return None
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon" and isinstance(coords, list | tuple) and coords:
        polygons = list(coords)
    elif kind == "MultiPolygon":
        issues.append(InputIssue(record, "geometry.coordinates", "<empty>",
                                 "a MultiPolygon holds at least one polygon"))
        return None
    else:
        return None
    out: list[list[_Ring]] = []
    for polygon in polygons:
        if not isinstance(polygon, list | tuple) or not polygon:
            issues.append(InputIssue(record, "geometry.coordinates", "<polygon>",
                                     "a polygon is a non-empty list of rings"))
            return None
        rings: list[_Ring] = []
        for ring in polygon:
            r = _ring(record, ring, crs, issues)
            if r is None:
                return None
            rings.append(r)
        out.append(rings)
    return out


def _ring(record: str, ring: Any, crs: str, issues: list[InputIssue]) -> _Ring | None:
    if not isinstance(ring, list | tuple) or len(ring) < 4:
        issues.append(InputIssue(record, "geometry.coordinates", "<ring>",
                                 "a ring has at least 4 positions (RFC 7946 §3.1.6)"))
        return None
    pts: list[tuple[float, float]] = []
    for p in ring:
        ok = (isinstance(p, list | tuple) and len(p) >= 2
              and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p[:2]))
        if not ok:
            issues.append(InputIssue(record, "geometry.coordinates", "<position>",
                                     "a position is [lon, lat], two numbers of degrees"))
            return None
        try:
            pts.append(to_wgs84(float(p[0]), float(p[1]), crs))
        except (ValueError, OverflowError) as exc:
            issues.append(InputIssue(record, "geometry.coordinates", "<position>",
                                     str(exc) if isinstance(exc, ValueError)
                                     else "a coordinate beyond any float"))
            return None
    if pts[0] != pts[-1]:
        issues.append(InputIssue(record, "geometry.coordinates", "<ring>",
                                 "a ring is closed: its last position repeats the first"))
        return None
    return tuple(pts)


def _signed(ring: _Ring, lon0: float, lat0: float) -> tuple[float, float, float]:
    """Signed area (m²) and area-weighted centroid (m) of a ring, local projection."""
    kx = math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    ky = math.radians(1.0) * EARTH_RADIUS_M
    a = cx = cy = 0.0
    x0, y0 = (ring[0][0] - lon0) * kx, (ring[0][1] - lat0) * ky
    for lon, lat in ring[1:]:
        x1, y1 = (lon - lon0) * kx, (lat - lat0) * ky
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
        x0, y0 = x1, y1
    return a / 2.0, cx / 6.0, cy / 6.0


def _area_centroid(polygons: list[list[_Ring]]) -> tuple[float, float, float]:
    """Area in m² (holes subtracted) and centroid (lon, lat) of a (multi)polygon."""
    lon0, lat0 = polygons[0][0][0]
    area = mx = my = 0.0
    for rings in polygons:
        for k, ring in enumerate(rings):
            a, cx, cy = _signed(ring, lon0, lat0)
            turn = 1.0 if a >= 0 else -1.0  # moments change sign with the ring's orientation
            part = 1.0 if k == 0 else -1.0  # the outer ring adds, holes subtract
            area += part * abs(a)
            mx += part * turn * cx
            my += part * turn * cy
    if area <= 0.0:
        return 0.0, lon0, lat0
    kx = math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    ky = math.radians(1.0) * EARTH_RADIUS_M
    return area, lon0 + mx / area / kx, lat0 + my / area / ky


def _units(model: OrgModel) -> list[NeighbourhoodUnit]:
    return sorted((u for u in model.units if u.location is not None), key=lambda u: u.id)


def _in_communities(model: OrgModel, within: Iterable[str]) -> set[str]:
    """The ids of the units of the communities ``within`` (a courtyard's through its lane)."""
    given = [within] if isinstance(within, str) else list(within)
    odd = [w for w in given if not isinstance(w, str)]
    if odd:
        raise InputError([InputIssue("within", "community_id", str(odd[0])[:80],
                                     "must be a community id (text)")], what=_WHAT)
    wanted = set(given)
    unknown = sorted(wanted - {c.id for c in model.communities})
    if unknown:
        raise InputError([InputIssue("within", "community_id", unknown[0],
                                     "no community of the model has this id")], what=_WHAT)
    parent = {u.id: u.parent_id for u in model.units}
    return {u for u, p in parent.items() if parent.get(p, p) in wanted}


def _nearest(big: Sequence[tuple[int, Any, float, float, float]], units: list[NeighbourhoodUnit],
             limit_m: float) -> list[str | None]:
    import numpy as np

    if not big or not units:
        return [None] * len(big)
    lons = np.array([b[3] for b in big])
    lats = np.array([b[4] for b in big])
    ulon = np.array([u.location.lon for u in units])  # type: ignore[union-attr]
    ulat = np.array([u.location.lat for u in units])  # type: ignore[union-attr]
    margin = limit_m / 111_000.0
    near = ((ulat >= lats.min() - margin) & (ulat <= lats.max() + margin)
            & (ulon >= lons.min() - 2 * margin) & (ulon <= lons.max() + 2 * margin))
    idx = np.flatnonzero(near)
    if idx.size == 0:
        return [None] * len(big)
    out: list[str | None] = []
    step = max(1, 2_000_000 // idx.size)
    for k in range(0, len(big), step):
        d = haversine_array_m(lons[k:k + step, None], lats[k:k + step, None],
                              ulon[None, idx], ulat[None, idx])
        best = d.argmin(axis=1)  # the first of equals: units are sorted by id
        for row, j in enumerate(best.tolist()):
            out.append(units[int(idx[j])].id if d[row, j] <= limit_m else None)
    return out


def _areas(areas: Mapping[str, Any], crs: str, unit_ids: set[str]) -> list[tuple[str, Any]]:
    collection = _collection(areas)
    issues: list[InputIssue] = []
    out: list[tuple[str, Any]] = []
    for i, f in enumerate(collection["features"]):
        before = len(issues)
        shape = _shape(i, f, crs, issues, "area")
        if len(issues) > before:
            continue
        props = f.get("properties") or {}
        uid = f.get("id") if f.get("id") is not None else props.get("unit_id")
        if shape is None:
            issues.append(InputIssue(f"area/{i}", "geometry", "<none>", "must be a polygon"))
        elif not isinstance(uid, str) or uid not in unit_ids:
            issues.append(InputIssue(f"area/{i}", "id", str(uid)[:80],
                                     "must name a neighbourhood unit of the model"))
        else:
            out.append((uid, shape))
    if issues:
        raise InputError(issues, what=f"{_WHAT} (areas)")
    return sorted(out, key=lambda a: a[0])


def _inside(lon: float, lat: float, ring: _Ring) -> bool:
    """Ray casting (even-odd rule)."""
    inside = False
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _by_area(big: Sequence[tuple[int, Any, float, float, float]],
             areas: list[tuple[str, Any]]) -> list[str | None]:
    out: list[str | None] = []
    for _, _, _, lon, lat in big:
        owner = None
        for uid, polygons in areas:  # the first area by unit id that holds the centroid
            if any(_inside(lon, lat, rings[0]) and not any(_inside(lon, lat, h)
                                                           for h in rings[1:])
                   for rings in polygons):
                owner = uid
                break
        out.append(owner)
    return out


def _floors(props: Mapping[str, Any], default: int, storey_m: float) -> tuple[int, bool]:
    """Storeys from ``building:levels`` (rounded), else ``height`` ÷ ``storey_m``; and
    whether a tag gave them. Values that are no plausible storey count (not a number, below
    1, above 200, true/false) are ignored: the default is used and marked as an estimate."""
    n = _number(props.get("building:levels", props.get("levels")))
    if n is not None and 1 <= round(n) <= 200:
        return round(n), True
    h = _number(props.get("height"))
    if h is not None and h >= storey_m and round(h / storey_m) <= 200:
        return max(1, round(h / storey_m)), True
    return default, False


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def _vertices(features: Sequence[Any]) -> int:
    """Positions in the collection's polygons, counted without reading them (O(rings))."""
    total = 0
    for f in features:
        g = f.get("geometry") if isinstance(f, Mapping) else None
        coords = g.get("coordinates") if isinstance(g, Mapping) else None
        if not isinstance(coords, list | tuple):
            continue
        polygons = [coords] if g.get("type") == "Polygon" else coords  # type: ignore[union-attr]
        for polygon in polygons:
            if isinstance(polygon, list | tuple):
                total += sum(len(r) for r in polygon if isinstance(r, list | tuple))
        if total > MAX_VERTICES:
            break
    return total


def _existing_counts(model: OrgModel) -> dict[str, int]:
    """Per unit, the highest ``F<n>`` of its buildings already in the model."""
    out: dict[str, int] = {}
    for b in model.buildings:
        head, _, tail = b.id.rpartition("/F")
        if head and tail.isdigit():
            out[head] = max(out.get(head, 0), int(tail))
    return out
