"""Issue 13 item 2: coordinates in the user's system, converted once at the boundary.

The issue's example: a task position copied from a Chinese map app (GCJ-02) was accepted
silently and landed 465 m off. Now every way a position enters — a record, a problem (keyword,
JSON key, read context), the importer, the CLI — takes one ``crs`` and converts to WGS84
there; outputs are WGS84, or GCJ-02/BD-09 on request; a position impossible in its declared
system is an error.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, strategies as st

from commgov.cli import main
from commgov.crs import (
    CRS,
    bd09_to_gcj02,
    from_wgs84,
    gcj02_to_bd09,
    to_wgs84,
)
from commgov.errors import InvalidParameterError, ProblemError
from commgov.matching import MatchingProblem, Task
from commgov.types import GeoPoint, haversine_m

WGS = (120.6155, 31.3122)  # Suzhou old city


def _task(location: dict[str, object]) -> dict[str, object]:
    return {"id": "t1", "skill": "delivery", "location": location,
            "window": {"start": "2022-04-12T08:00:00+08:00", "end": "2022-04-12T09:00:00+08:00"}}


def _problem(location: dict[str, object], **extra: object) -> dict[str, object]:
    return {"timezone": "Asia/Shanghai", "tasks": [_task(location)], "volunteers": [], **extra}


def test_the_issue_example_a_gcj02_task_lands_where_it_is():
    gcj = from_wgs84(*WGS, "gcj02")
    assert haversine_m(*gcj, *WGS) > 400  # the 465 m class of error, had it been taken as is
    copied = {"lon": gcj[0], "lat": gcj[1]}
    for problem in (
        MatchingProblem(crs="gcj02", **_problem(copied)),
        MatchingProblem.model_validate_json(json.dumps(_problem(copied, crs="gcj02"))),
        MatchingProblem.model_validate_json(json.dumps(_problem(copied)),
                                            context={"crs": "gcj02"}),
        MatchingProblem(**_problem({**copied, "crs": "gcj02"})),
    ):
        loc = problem.tasks[0].location
        assert haversine_m(loc.lon, loc.lat, *WGS) < 1e-6
        assert "crs" not in problem.model_dump_json()  # kept in WGS84 only


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_a_position_impossible_in_its_system_is_an_error(crs):
    with pytest.raises(ValueError, match="outside China"):
        to_wgs84(2.35, 48.86, crs)  # Paris has no GCJ-02 or BD-09 position
    with pytest.raises(ProblemError) as info:
        MatchingProblem(crs=crs, **_problem({"lon": 2.35, "lat": 48.86}))
    assert "outside China" in str(info.value) and "t1" in str(info.value)


@pytest.mark.parametrize("bad", ["EPSG:4326", "", None, 4326, "WGS84 "])
def test_an_unknown_crs_is_refused_everywhere(bad):
    with pytest.raises(InvalidParameterError):
        to_wgs84(*WGS, bad)  # type: ignore[arg-type]
    if bad is not None:
        with pytest.raises(ProblemError, match="crs"):
            MatchingProblem(crs=bad, **_problem({"lon": WGS[0], "lat": WGS[1]}))
    with pytest.raises(ValueError, match="crs"):
        GeoPoint.model_validate({"lon": WGS[0], "lat": WGS[1], "crs": bad})


def test_a_file_and_its_reader_must_agree_on_the_crs():
    text = json.dumps(_problem({"lon": WGS[0], "lat": WGS[1]}, crs="wgs84"))
    with pytest.raises(ProblemError, match="differs"):
        MatchingProblem.model_validate_json(text, context={"crs": "gcj02"})


china = st.tuples(st.floats(100.0, 125.0), st.floats(20.0, 45.0))


@given(china, st.sampled_from(CRS))
def test_round_trips_to_a_micrometre(point, crs):
    lon, lat = to_wgs84(*from_wgs84(*point, crs), crs)
    assert haversine_m(lon, lat, *point) < 1e-6


@given(china)
def test_bd09_is_gcj02_shifted_and_back(point):
    b = gcj02_to_bd09(*point)
    assert 500 < haversine_m(*b, *point) < 1500  # Baidu's offset is about a kilometre
    g = bd09_to_gcj02(*b)
    assert math.isclose(g[0], point[0], abs_tol=1e-11) and math.isclose(g[1], point[1],
                                                                          abs_tol=1e-11)


def test_geojson_on_request_for_a_chinese_map_sdk():
    from commgov.datasets import synthetic_community
    from commgov.io import to_geojson

    model = synthetic_community("320508017016", households=60, seed=1)
    plain, amap = to_geojson(model), to_geojson(model, crs="gcj02")
    a, b = plain["features"][0], amap["features"][0]
    assert a["id"] == b["id"]
    want = from_wgs84(*a["geometry"]["coordinates"], "gcj02")
    assert b["geometry"]["coordinates"] == pytest.approx(list(want), abs=1e-6)
    with pytest.raises(InvalidParameterError):
        to_geojson(model, crs="web-mercator")


def test_cli_reads_a_problem_in_gcj02(tmp_path, capsys):
    gcj = from_wgs84(*WGS, "gcj02")
    data = _problem({"lon": gcj[0], "lat": gcj[1]})
    data["volunteers"] = [{"id": "v1", "location": {"lon": gcj[0], "lat": gcj[1]},
                           "skills": {"delivery": 1},
                           "availability": [{"start": "2022-04-12T07:00:00+08:00",
                                             "end": "2022-04-12T12:00:00+08:00"}]}]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["match", str(path), "--crs", "gcj02", "--out", str(out)]) == 0
    capsys.readouterr()
    assert json.loads((out / "assignment.json").read_text())["matches"]
    with pytest.raises(SystemExit):
        main(["match", str(path), "--crs", "mercator", "--out", str(tmp_path / "o2")])


# ---- break-test findings, each a kind ----------------------------------------------------------


@pytest.mark.parametrize("bad", [10**400, -(10**400)])
def test_a_coordinate_beyond_any_float_is_a_validation_error_with_or_without_crs(bad):
    for extra in ({}, {"crs": "gcj02"}):
        with pytest.raises(ValueError):
            GeoPoint.model_validate({"lon": bad, "lat": 31.0, **extra})
    text = json.dumps(_problem({"lon": 0, "lat": 31.0}, crs="gcj02")).replace(
        '"lon": 0', '"lon": ' + str(bad))
    with pytest.raises(ProblemError):
        MatchingProblem.model_validate_json(text)


@pytest.mark.parametrize("point", [{"lon": True, "lat": 31.3}, {"lon": 120.6, "lat": False},
                                   {"lon": True, "lat": 31.3, "crs": "gcj02"}])
def test_true_and_false_are_no_coordinates(point):
    with pytest.raises(ValueError, match="true or false"):
        GeoPoint.model_validate(point)


def test_outputs_in_another_system_only_where_it_exists():
    for crs in ("gcj02", "bd09"):
        with pytest.raises(ValueError, match="outside China"):
            from_wgs84(2.35, 48.86, crs)
    assert from_wgs84(2.35, 48.86, "wgs84") == (2.35, 48.86)


def test_errors_about_a_position_do_not_show_it():
    with pytest.raises(ProblemError) as info:
        MatchingProblem(crs="gcj02", **_problem({"lon": 2.3512345, "lat": 48.8612345}))
    assert "2.3512345" not in str(info.value) and "48.8612345" not in str(info.value)


def test_a_crs_with_built_records_is_refused_not_ignored():
    task = Task.model_validate(_task({"lon": WGS[0], "lat": WGS[1]}))
    with pytest.raises(ProblemError, match="mappings"):
        MatchingProblem(crs="gcj02", timezone="Asia/Shanghai", tasks=[task], volunteers=[])
    plain = MatchingProblem(timezone="Asia/Shanghai", tasks=[task], volunteers=[])
    with pytest.raises(ProblemError, match="mappings"):
        plain.model_copy(update={"crs": "gcj02"})
    # wgs84 declares what built records already are
    MatchingProblem(crs="wgs84", timezone="Asia/Shanghai", tasks=[task], volunteers=[])


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory", "right/UTC",
                                  "posix/Asia/Shanghai"])
def test_tz_files_that_are_no_iana_zones_are_refused(name):
    from commgov.io import lists_csv_texts
    from commgov.lists import ThreeLists

    with pytest.raises(InvalidParameterError, match="timezone"):
        lists_csv_texts(ThreeLists(), timezone=name)
    with pytest.raises(ProblemError, match="time zone"):
        MatchingProblem(timezone=name, tasks=[], volunteers=[])
    from commgov.datasets import sampling_instance

    with pytest.raises(ProblemError, match="time zone"):
        sampling_instance("C").model_copy(update={"timezone": name})
