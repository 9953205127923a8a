"""Issue 13 item 3: buildings from a map (GeoJSON footprints), estimates marked, nothing
dropped silently. Fixtures of our own; the real OpenStreetMap file of Gusu's old city is used
only where the machine has it (``COMMGOV_OSM_FOOTPRINTS`` or the shared data folder)."""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from commgov.crs import from_wgs84
from commgov.datasets import gusu, gusu_divisions
from commgov.errors import InputError, InvalidParameterError, SizeLimitError
from commgov.io import FootprintImport, import_footprints
from commgov.org import NeighbourhoodUnit, OrgGraph, OrgModel
from commgov.results import LeftOutReasonCode
from commgov.scheduling import (
    is_valid_sampling_plan,
    plan_sampling,
    sampling_problem_from_org,
)
from commgov.types import GeoPoint, TimeWindow

COMMUNITY = "320508017016"
M_LAT = 111_195.0  # metres per degree of latitude (sphere of EARTH_RADIUS_M)


def _square(lon: float, lat: float, side_m: float, hole_m: float = 0.0) -> list[list[list[float]]]:
    dx = side_m / (M_LAT * math.cos(math.radians(lat))) / 2
    dy = side_m / M_LAT / 2
    outer = [[lon - dx, lat - dy], [lon + dx, lat - dy], [lon + dx, lat + dy],
             [lon - dx, lat + dy], [lon - dx, lat - dy]]
    rings = [outer]
    if hole_m:
        hx, hy = dx * hole_m / side_m, dy * hole_m / side_m
        rings.append([[lon - hx, lat - hy], [lon - hx, lat + hy], [lon + hx, lat + hy],
                      [lon + hx, lat - hy], [lon - hx, lat - hy]])
    return rings


def _feature(geometry: dict | None, **props: object) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _poly(lon: float, lat: float, side_m: float, hole_m: float = 0.0) -> dict:
    return {"type": "Polygon", "coordinates": _square(lon, lat, side_m, hole_m)}


def _model() -> OrgModel:
    units = [
        NeighbourhoodUnit(id=f"{COMMUNITY}/C01", kind="compound", name="甲小区",
                          parent_id=COMMUNITY, location=GeoPoint(lon=120.610, lat=31.310)),
        NeighbourhoodUnit(id=f"{COMMUNITY}/C02", kind="compound", name="乙小区",
                          parent_id=COMMUNITY, location=GeoPoint(lon=120.620, lat=31.310)),
    ]
    return gusu_divisions().merge(OrgModel(units=units))


def _collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def test_buildings_at_centroids_with_estimates_marked():
    fc = _collection(
        _feature(_poly(120.6101, 31.3101, 20.0)),                      # 400 m², 3 floors
        _feature(_poly(120.6199, 31.3099, 20.0, hole_m=10.0), height=18.0),  # 300 m², 6
        _feature(_poly(120.6105, 31.3102, 30.0), **{"building:levels": "5"}),
        _feature(_poly(120.6102, 31.3100, 2.0)),                        # a kiosk
        _feature({"type": "Point", "coordinates": [120.61, 31.31]}),    # no footprint
        _feature(_poly(121.0, 31.0, 20.0)),                             # 40 km away
    )
    r = import_footprints(fc, _model())
    assert isinstance(r, FootprintImport)
    ids = [b.id for b in r.buildings]
    assert ids == [f"{COMMUNITY}/C01/F0001", f"{COMMUNITY}/C02/F0001", f"{COMMUNITY}/C01/F0002"]
    a, b, c = r.buildings
    assert (a.floors, b.floors, c.floors) == (3, 6, 5)
    assert a.counts.households == round(400 * 3 / 78.8) == 15
    assert b.counts.households == round(300 * 6 / 78.8)  # the hole is not floor area
    assert a.counts.residents == round(15 * 2.42)
    assert a.provenance.estimated == ("floors", "counts") and b.provenance.estimated == ("counts",)
    assert abs(a.location.lon - 120.6101) < 1e-7 and abs(a.location.lat - 31.3101) < 1e-7
    assert r.footprints[a.id][0] == r.footprints[a.id][-1] and r.features[b.id] == 1
    # every feature is a building or reported, with the reason
    assert {x.record: x.code for x in r.left_out} == {
        "feature/3": LeftOutReasonCode.TOO_SMALL,
        "feature/4": LeftOutReasonCode.NOT_A_FOOTPRINT,
        "feature/5": LeftOutReasonCode.NO_UNIT_IN_REACH,
    }
    assert len(r.buildings) + len(r.left_out) == len(fc["features"])
    graph = OrgGraph(r.model)  # the buildings are valid members of the model
    assert graph.community_of(a.id) == COMMUNITY
    assert "estimated" in a.model_dump_json() and "estimated" not in (
        r.model.units[0].model_dump_json())


def test_areas_assign_by_polygon_and_gcj02_input_is_converted(tmp_path):
    lon, lat = 120.6150, 31.3100  # nearer C02's centre, but inside C01's area
    areas = _collection({"type": "Feature", "id": f"{COMMUNITY}/C01", "properties": {},
                         "geometry": _poly(lon, lat, 400.0)})
    g = from_wgs84(lon, lat, "gcj02")
    footprint = _feature(_poly(g[0], g[1], 20.0))
    path = tmp_path / "fp.geojson"
    path.write_text(json.dumps(_collection(footprint)), encoding="utf-8")
    gareas = json.loads(json.dumps(areas))
    ring = gareas["features"][0]["geometry"]["coordinates"][0]
    gareas["features"][0]["geometry"]["coordinates"][0] = [list(from_wgs84(x, y, "gcj02"))
                                                           for x, y in ring]
    r = import_footprints(path, _model(), areas=gareas, crs="gcj02")
    (b,) = r.buildings
    assert b.parent_id == f"{COMMUNITY}/C01"
    assert abs(b.location.lon - lon) < 1e-6 and abs(b.location.lat - lat) < 1e-6
    outside = import_footprints(_collection(_feature(_poly(120.6199, 31.31, 20.0))), _model(),
                                areas=areas)
    assert [x.code for x in outside.left_out] == [LeftOutReasonCode.OUTSIDE_AREAS]


@pytest.mark.parametrize(
    ("feature", "field"),
    [
        (_feature({"type": "Polygon", "coordinates": [[[120.61, 31.31], [120.62, 31.31]]]}),
         "geometry.coordinates"),
        (_feature({"type": "Polygon", "coordinates": [[[120.61, 31.31], [120.62, 31.31],
                                                       [120.62, 31.32], [120.61, 31.32]]]}),
         "geometry.coordinates"),  # not closed
        (_feature({"type": "Polygon", "coordinates": [[["a", 31.31]] * 4]}),
         "geometry.coordinates"),
        ({"type": "Point"}, "type"),
        (_feature({"type": "Polygon", "coordinates": _square(2.35, 48.86, 20.0)}),
         "geometry.coordinates"),  # Paris has no GCJ-02 position
    ],
)
def test_malformed_geometry_is_an_error_naming_the_feature(feature, field):
    fc = _collection(_feature(_poly(120.6101, 31.3101, 20.0)), feature)
    with pytest.raises(InputError) as info:
        import_footprints(fc, _model(), crs="gcj02")
    assert "feature/1" in str(info.value) and field in str(info.value)


@pytest.mark.parametrize("bad", [
    {"type": "Feature"}, [], {"type": "FeatureCollection", "features": {}}, "x"])
def test_a_source_that_is_no_collection_is_an_error(bad, tmp_path):
    if isinstance(bad, str):
        (tmp_path / "x.geojson").write_text("{\"type\": \"FeatureCollection\", \"type\": 1}")
        bad = tmp_path / "x.geojson"  # a repeated key: the one reader refuses it
    with pytest.raises(InputError):
        import_footprints(bad, _model())


@pytest.mark.parametrize(("name", "value"), [
    ("default_floors", 0), ("floor_area_per_household_m2", -1.0), ("min_area_m2", math.nan),
    ("max_distance_m", math.inf), ("crs", "mercator"), ("storey_height_m", "3")])
def test_bad_parameters(name, value):
    with pytest.raises(InvalidParameterError):
        import_footprints(_collection(), _model(), **{name: value})


def test_size_guard_answers_before_work():
    fc = _collection(*[{}] * 200_001)
    with pytest.raises(SizeLimitError):
        import_footprints(fc, _model())


def test_unknown_community_in_within():
    with pytest.raises(InputError, match="within"):
        import_footprints(_collection(), _model(), within=["320508999999"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-300, 1300), st.floats(-300, 300), st.floats(1, 60)),
                max_size=12), st.floats(0, 50))
def test_every_feature_is_a_building_or_reported(squares, min_area):
    """Records in = records placed + records reported, and determinism."""
    feats = [_feature(_poly(120.610 + x / 95_000, 31.310 + y / M_LAT, s)) for x, y, s in squares]
    fc = _collection(*feats)
    r = import_footprints(fc, _model(), min_area_m2=min_area)
    placed = sorted(r.features.values())
    reported = sorted(int(x.record.split("/")[1]) for x in r.left_out)
    assert sorted(placed + reported) == list(range(len(feats)))
    assert import_footprints(fc, _model(), min_area_m2=min_area) == r


def _osm_file() -> Path | None:
    env = os.environ.get("COMMGOV_OSM_FOOTPRINTS")
    here = Path(__file__).resolve()
    # the shared data folder beside the checkout, or this project's workplace (/work/shared)
    for candidate in ([Path(env)] if env else []) + [
        parent / "shared" / "data" / "osm" / "gusu_old_city_buildings.geojson"
        for parent in (*here.parents, Path("/work"))
    ]:
        if candidate.is_file():
            return candidate
    return None


@pytest.mark.slow
@pytest.mark.skipif(_osm_file() is None, reason="the OpenStreetMap footprints are not here")
def test_real_footprints_of_gusu_old_city():
    """Done-when: the 8,242 OSM footprints import into ≥ 8,000 buildings, and a verified
    sampling plan is made on them for one old-city community."""
    path = _osm_file()
    full = gusu()
    code = "320508021036"  # 双塔街道, in the moated old city
    scope = set(OrgGraph(full).descendants(code))
    base = gusu_divisions().merge(OrgModel(
        units=full.units, sites=[s for s in full.sites if s.parent_id in scope]))
    r = import_footprints(path, base)
    assert len(r.buildings) >= 8_000 and len(r.buildings) + len(r.left_out) == 8_242
    mine = import_footprints(path, base, within=[code])
    assert 0 < len(mine.buildings) < len(r.buildings)
    t0 = datetime(2022, 4, 12, 6, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    window = TimeWindow(start=t0, end=t0 + timedelta(hours=6, minutes=30))
    problem = sampling_problem_from_org(mine.model, code, window=window)
    assert len(problem.buildings) == len(mine.buildings)
    plan = plan_sampling(problem, time_limit_s=20)
    assert is_valid_sampling_plan(problem, plan)


# ---- break-test findings, each a kind ----------------------------------------------------------


@pytest.mark.parametrize(("feature", "field"), [
    ({"type": "Feature", "properties": [1, 2], "geometry": _poly(120.6101, 31.3101, 20)},
     "properties"),
    ({"type": "Feature", "properties": "x", "geometry": _poly(120.6101, 31.3101, 20)},
     "properties"),
    (_feature({"type": "MultiPolygon", "coordinates": []}), "geometry.coordinates"),
    (_feature({"type": "Polygon", "coordinates": [[[10**400, 31.31]] * 4]}),
     "geometry.coordinates"),
])
def test_every_malformed_feature_is_an_input_error_never_a_crash(feature, field):
    with pytest.raises(InputError) as info:
        import_footprints(_collection(feature), _model())
    assert "feature/0" in str(info.value) and field in str(info.value)


@pytest.mark.parametrize("props", [
    {"building:levels": "inf"}, {"building:levels": 10**400}, {"height": 10**400},
    {"building:levels": True}, {"building:levels": "3;4"}, {"building:levels": -1},
    {"building:levels": 201}, {"height": 700.0}, {"height": "tall"}])
def test_implausible_storeys_fall_back_to_the_default_marked_as_estimated(props):
    r = import_footprints(_collection(_feature(_poly(120.6101, 31.3101, 20.0), **props)),
                          _model())
    (b,) = r.buildings
    assert b.floors == 3 and b.provenance.estimated == ("floors", "counts")


def test_fractional_levels_round_and_tuple_positions_are_positions():
    ring = tuple(tuple(p) for p in _square(120.6101, 31.3101, 20.0)[0])
    geometry = {"type": "Polygon", "coordinates": (ring,)}
    (b,) = import_footprints(_collection(_feature(geometry, **{"building:levels": "2.6"})),
                             _model()).buildings
    assert b.floors == 3


def test_a_second_import_continues_the_numbering():
    first = import_footprints(_collection(_feature(_poly(120.6101, 31.3101, 20.0))), _model())
    second = import_footprints(_collection(_feature(_poly(120.6102, 31.3102, 30.0))),
                               first.model)
    assert [b.id for b in second.buildings] == [f"{COMMUNITY}/C01/F0002"]
    assert len(second.model.buildings) == 2


def test_the_vertex_guard_answers_before_work():
    ring = [[120.61, 31.31]] * 5_000_001
    with pytest.raises(SizeLimitError, match="vertices"):
        import_footprints(_collection(_feature({"type": "Polygon", "coordinates": [ring]})),
                          _model())


@pytest.mark.parametrize("areas", [
    _collection({"type": "Feature", "id": [1], "properties": {},
                 "geometry": _poly(120.61, 31.31, 100.0)}),
    _collection({"type": "Feature", "properties": [1], "geometry": _poly(120.61, 31.31, 100.0)}),
    _collection({"type": "Feature", "id": "x", "properties": {},
                 "geometry": {"type": "Point", "coordinates": [120.61, 31.31]}}),
])
def test_bad_areas_are_input_errors_naming_the_area(areas):
    with pytest.raises(InputError) as info:
        import_footprints(_collection(), _model(), areas=areas)
    assert "area/0" in str(info.value)


def test_within_must_be_community_ids():
    with pytest.raises(InputError, match="within"):
        import_footprints(_collection(), _model(), within=[[1]])  # type: ignore[list-item]
