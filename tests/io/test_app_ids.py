"""Issue 13 item 1 (step): the app's ids both ways, and display names in what residents read.

The issue's example: a building group was told ``到 320508018026/S2 采样``. A problem built from
the organisation model now carries the names residents know (the site's name, the compound
and building label), and notices, calendars and CSV files show them; the import's id map
puts the app's ids beside commgov's in any row."""

from __future__ import annotations

import pytest

from commgov.datasets import gusu_divisions
from commgov.io import IdMap, building_notices, import_community, sampling_ics
from commgov.scheduling import plan_sampling, sampling_problem_from_org

COMMUNITY = "320508017016"
TABLES = {
    "compounds": [
        dict(id="xq-1", code="01", kind="小区", name="春晖苑", lon=120.5740, lat=31.3350)
    ],
    "buildings": [
        dict(
            id="bd-1", code="01", compound="xq-1", label="1幢", lon=120.5736, lat=31.3353, floors=6
        ),
        dict(
            id="bd-3", code="03", compound="xq-1", label="3幢", lon=120.5748, lat=31.3346, floors=11
        ),
    ],
    "entrances": [
        dict(
            id="en-11",
            code="1",
            building="bd-1",
            label="1单元",
            households=12,
            residents=30,
            mobility_limited=0,
        ),
        dict(
            id="en-31",
            code="1",
            building="bd-3",
            label="1单元",
            households=22,
            residents=55,
            mobility_limited=0,
        ),
    ],
    "sites": [
        dict(
            id="pt-1",
            code="01",
            compound="xq-1",
            name="春晖苑门岗采样点",
            lon=120.5741,
            lat=31.3349,
            emergency_functions="sampling_point",
            lanes=2,
            rate_per_lane_per_hour=90,
            opening="2022-04-12T07:00+08:00/2022-04-12T09:00+08:00",
        )
    ],
}


@pytest.fixture(scope="module")
def imported():
    return import_community(TABLES, base=gusu_divisions(), community_id=COMMUNITY)


def test_notices_and_calendar_speak_the_names_residents_know(imported):
    problem = sampling_problem_from_org(imported.model, COMMUNITY)
    assert set(problem.display_names.values()) == {"春晖苑门岗采样点", "春晖苑 1幢", "春晖苑 3幢"}
    plan = plan_sampling(problem, time_limit_s=10)
    notices = building_notices(problem, plan)
    text = "\n".join(notices.values())
    assert "到 春晖苑门岗采样点 采样" in text and "春晖苑 3幢" in text
    point_id = problem.points[0].id
    assert point_id not in text
    pytest.importorskip("icalendar")
    assert "春晖苑门岗采样点" in sampling_ics(problem, plan)
    # names given by the caller win over the problem's
    assert "东门" in "\n".join(building_notices(problem, plan, names={point_id: "东门"}).values())


def test_the_id_map_works_both_ways_and_on_result_rows(imported):
    ids = imported.id_map
    assert isinstance(ids, IdMap)
    b3 = ids.to_commgov("bd-3")
    assert ids.to_app(b3) == "bd-3" and ids.table_of(b3) == "buildings"
    assert ids.to_commgov("pt-1", "sites") == ids.to_commgov("pt-1")
    with pytest.raises(KeyError):
        ids.to_commgov("nope")
    problem = sampling_problem_from_org(imported.model, COMMUNITY)
    plan = plan_sampling(problem, time_limit_s=10)
    rows = ids.app_rows(plan.rows())
    served = [r for r in rows if r.get("app_building_id")]
    assert served and {r["app_building_id"] for r in served} <= {"bd-1", "bd-3"}
    assert all(r["app_point_id"] == "pt-1" for r in served if r.get("point_id"))
    # the map survives JSON, as an app stores it
    assert IdMap.model_validate_json(ids.model_dump_json()) == ids


def test_names_that_look_personal_are_not_shown(imported):
    from commgov.org import OrgModel

    sites = [s.model_copy(update={"name": "13800138000"}) for s in imported.model.sites]
    model = imported.model.model_copy(update={"sites": sites})
    problem = sampling_problem_from_org(OrgModel.model_validate(model.model_dump()), COMMUNITY)
    assert problem.points[0].name is None


def test_exports_carry_names_and_app_ids_end_to_end(imported):
    """Import (app ids) → model JSON → problem → plan → CSV exports with display names and,
    through IdMap.from_model (the map rebuilt from the saved model), the app's ids."""
    from commgov.io import sampling_csv_texts
    from commgov.org import OrgModel

    saved = OrgModel.from_json(imported.model.to_json())
    ids = IdMap.from_model(saved)
    assert ids == imported.id_map
    problem = sampling_problem_from_org(saved, COMMUNITY)
    plan = plan_sampling(problem, time_limit_s=10)
    texts = sampling_csv_texts(problem, plan)
    header = texts["buildings.csv"].splitlines()[0].split(",")
    assert header[:3] == ["building_id", "building_name", "kind"]
    with_app = ids.app_csv(texts["buildings.csv"])
    lines = with_app.splitlines()
    assert lines[0].split(",")[:3] == ["building_id", "app_building_id", "building_name"]
    assert any(",bd-3," in line for line in lines[1:])
    point_file = next(k for k in texts if k.startswith("point_"))
    point_lines = ids.app_csv(texts[point_file]).splitlines()
    assert point_lines[0].startswith("point_id,app_point_id,point_name,")
    assert all(line.split(",")[1] == "pt-1" for line in point_lines[1:])
    # a header-only file keeps its (extended) header
    assert ids.app_csv("building_id,kind\n") == "building_id,app_building_id,kind\n"


@pytest.mark.parametrize(
    "text, message",
    [
        ("building_id,people,extra\nB4\nB1,2,3\n", "row 2"),
        ("building_id,people\nB4,1,LOST,ALSO\n", "row 2"),
        ("building_id,building_id\nB1,B2\n", "column twice"),
    ],
)
def test_app_csv_refuses_ragged_rows_and_repeated_columns(text, message):
    from commgov.errors import InputError

    ids = IdMap(ids={"buildings": {"bd-1": "B1"}})
    with pytest.raises(InputError, match=message):
        ids.app_csv(text)


def test_app_csv_keeps_every_cell_and_is_formula_safe():
    import csv
    import io

    ids = IdMap(ids={"buildings": {"bd-1": "B1"}})
    text = (
        "\ufeffbuilding_id,people,share,=HYPERLINK(1)_id,note\n\n"
        "B1,-5,-0.25,x,-2+3\nB2,3,+1e3,y,ok\n\n"
    )
    out = ids.app_csv(text)
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:3] == ["building_id", "app_building_id", "people"]
    assert all(not h.startswith(("=", "-", "+", "@")) for h in rows[0])
    assert rows[1] == ["B1", "bd-1", "-5", "-0.25", "x", "", "'-2+3"]
    assert rows[2][:5] == ["B2", "", "3", "+1e3", "y"]
    assert len(rows) == 3
    # twice: the app columns are refilled, not repeated
    plain = ids.app_csv("building_id,people\nB1,3\n")
    assert ids.app_csv(plain) == plain == "building_id,app_building_id,people\nB1,bd-1,3\n"
    with pytest.raises(TypeError, match="text"):
        ids.app_csv(None)  # type: ignore[arg-type]


def test_two_records_with_one_app_id_are_refused_by_name(imported):
    from commgov.errors import InputError

    b = imported.model.buildings
    dup = b[1].model_copy(
        update={"provenance": b[1].provenance.model_copy(update={"app_id": b[0].provenance.app_id})}
    )
    model = imported.model.model_copy(update={"buildings": [b[0], dup, *b[2:]]})
    with pytest.raises(InputError, match="also the app id") as err:
        IdMap.from_model(model)
    assert err.value.issues[0].record == dup.id


@pytest.mark.parametrize("app_id, kept", [("  bd-9  ", "bd-9"), ("", None), ("   ", None)])
def test_app_ids_are_stripped_and_never_empty(app_id, kept):
    from pydantic import ValidationError

    from commgov.org import Provenance

    if kept is None:
        with pytest.raises(ValidationError):
            Provenance(source="imported", app_id=app_id)
    else:
        assert Provenance(source="imported", app_id=app_id).app_id == kept
