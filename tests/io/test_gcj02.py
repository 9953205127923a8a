"""GCJ-02 ↔ WGS84: known points, round trips, an independent implementation, outside China."""

import math
import random

import pytest
from hypothesis import given, settings, strategies as st
from io_helpers import no_personal_data_leaks  # noqa: F401  (autouse: scans this module)

from commgov.io import CHINA_BOX, gcj02_to_wgs84, in_china_box, wgs84_to_gcj02
from commgov.types import haversine_m

# (WGS84 lon, lat, GCJ-02 lon, lat): the test table of eviltransform (Shanghai, Shenzhen,
# Beijing) and a Beijing point published with 8 decimals.
KNOWN = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    (116.39089, 39.90734, 116.39713094, 39.90874107),
]
OUTSIDE = [(2.35, 48.86), (139.69, 35.69), (0.0, 0.0), (-74.0, 40.7), (151.2, -33.9)]


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), KNOWN)
def test_forward_matches_known_points(wlon, wlat, glon, glat):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert haversine_m(lon, lat, glon, glat) < 1e-3


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), KNOWN)
def test_inverse_recovers_known_points(wlon, wlat, glon, glat):
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert haversine_m(lon, lat, wlon, wlat) < 1e-3


def test_inverse_accuracy_over_china_and_gusu():
    rng = random.Random(0)
    for box, n in (((73.7, 18.0, 135.0, 53.5), 3000), ((120.55, 31.26, 120.68, 31.36), 1000)):
        worst = 0.0
        for _ in range(n):
            lon, lat = rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])
            back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
            worst = max(worst, haversine_m(*back, lon, lat))
        assert worst < 1e-6, box


def test_gusu_shift_is_hundreds_of_metres():
    lon, lat = 120.6, 31.32
    shifted = wgs84_to_gcj02(lon, lat)
    assert 300 < haversine_m(*shifted, lon, lat) < 800


@settings(max_examples=300, deadline=None)
@given(
    st.floats(CHINA_BOX[0] + 0.05, CHINA_BOX[2] - 0.05),
    st.floats(CHINA_BOX[1] + 0.05, CHINA_BOX[3] - 0.05),
)
def test_round_trip_anywhere_in_the_box(lon, lat):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert haversine_m(*back, lon, lat) < 1e-6


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE)
def test_no_shift_outside_china(lon, lat):
    assert not in_china_box(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_box_edges_are_inside_and_just_beyond_is_not():
    west, south, east, north = CHINA_BOX
    assert in_china_box(west, south) and in_china_box(east, north)
    assert not in_china_box(west - 1e-9, 30.0)
    assert not in_china_box(100.0, north + 1e-9)


@settings(max_examples=200, deadline=None)
@given(st.floats(-180, 180), st.floats(-90, 90))
def test_any_point_converts_to_a_valid_point(lon, lat):
    for f in (gcj02_to_wgs84, wgs84_to_gcj02):
        x, y = f(lon, lat)
        assert math.isfinite(x) and math.isfinite(y)
        assert abs(x - lon) < 0.1 and abs(y - lat) < 0.1


@pytest.mark.parametrize(
    ("lon", "lat", "error"),
    [
        (float("nan"), 31.0, ValueError),
        (120.0, float("inf"), ValueError),
        (181.0, 31.0, ValueError),
        (120.0, -90.5, ValueError),
        ("120.6", 31.3, TypeError),
        (120.6, None, TypeError),
        (True, 31.3, TypeError),
    ],
)
def test_bad_arguments(lon, lat, error):
    for f in (gcj02_to_wgs84, wgs84_to_gcj02):
        with pytest.raises(error):
            f(lon, lat)


def test_agrees_with_prcoords():
    """An independent implementation (prcoords 1.0.2, public domain): same forward transform;
    its iterative inverse ('bored') is within millimetres of ours, its rough one within 5 m."""
    prcoords = pytest.importorskip("prcoords")
    rng = random.Random(1)
    for _ in range(2000):
        lon, lat = rng.uniform(73.7, 135.0), rng.uniform(18.0, 53.5)
        ours = wgs84_to_gcj02(lon, lat)
        theirs = prcoords.wgs_gcj((lat, lon), False)
        assert haversine_m(*ours, theirs.lon, theirs.lat) < 1e-6
        wgs = gcj02_to_wgs84(*ours)
        bored = prcoords.gcj_wgs_bored((ours[1], ours[0]))
        rough = prcoords.gcj_wgs((ours[1], ours[0]))
        assert haversine_m(*wgs, bored.lon, bored.lat) < 5e-3
        assert haversine_m(*wgs, rough.lon, rough.lat) < 5.0
