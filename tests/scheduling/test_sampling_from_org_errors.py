"""sampling_problem_from_org: bad record values are ProblemError naming record, field, value.

Records that passed validation cannot hold bad values, but ``model_copy(update=...)`` and
``model_construct`` skip validation; the builder must then report the record id, the field
and the value, never let a raw pydantic ValidationError (or a TypeError) out.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from commgov.datasets import synthetic_community
from commgov.errors import ProblemError
from commgov.org import OrgModel
from commgov.scheduling import sampling_problem_from_org

CODE = "320508021024"


def _model() -> OrgModel:
    return synthetic_community(CODE, households=60, seed=1, sampling_points=2, volunteers=3)


def _with(model: OrgModel, kind: str, index: int, **update: Any) -> OrgModel:
    records = list(getattr(model, kind))
    records[index] = records[index].model_copy(update=update)  # no validation
    return model.model_copy(update={kind: records})


def _error(model: OrgModel, **kw: Any) -> ProblemError:
    with pytest.raises(ProblemError) as exc:
        sampling_problem_from_org(model, CODE, **kw)
    err = exc.value
    assert not isinstance(err, ValidationError)
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__
    return err


def test_the_unmodified_community_builds() -> None:
    assert sampling_problem_from_org(_model(), CODE).points


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rate_per_lane_per_hour", 0.0),
        ("rate_per_lane_per_hour", "fast"),
        ("lanes", "many"),
        ("lanes", -2),
    ],
)
def test_bad_site_value_names_the_site(field: str, value: object) -> None:
    model = _model()
    site = model.sites[0]
    err = _error(_with(model, "sites", 0, **{field: value}))
    (issue,) = err.issues
    assert (issue.record, issue.field, issue.value) == (site.id, field, value)
    assert "sampling point" in issue.constraint
    assert site.id in str(err) and field in str(err)


def test_bad_entrance_counts_name_the_entrance() -> None:
    model = _model()
    entrance = model.entrances[0]
    counts = entrance.counts.model_copy(update={"mobility_limited": entrance.counts.residents + 5})
    err = _error(_with(model, "entrances", 0, counts=counts))
    (issue,) = err.issues
    assert (issue.record, issue.field) == (entrance.id, "counts")
    assert "mobility_limited" in issue.constraint
    big = entrance.counts.model_copy(update={"households": 10**9 + 1, "residents": 10**9 + 1})
    issues = _error(_with(model, "entrances", 0, counts=big)).issues
    assert {(i.record, i.field, i.value) for i in issues} == {
        (entrance.id, "counts.households", 10**9 + 1),
        (entrance.id, "counts.residents", 10**9 + 1),
    }


def test_bad_building_location_names_the_building() -> None:
    model = _model()
    building = model.buildings[0]
    (issue,) = _error(_with(model, "buildings", 0, location=None)).issues
    assert (issue.record, issue.field, issue.value) == (building.id, "location", None)


def test_every_bad_record_is_reported_at_once() -> None:
    model = _model()
    model = _with(model, "sites", 0, rate_per_lane_per_hour=-1.0)
    model = _with(model, "buildings", 1, location="here")
    err = _error(model)
    assert {i.record for i in err.issues} == {model.sites[0].id, model.buildings[1].id}


def test_batch_id_too_long_names_the_entrance() -> None:
    # an entrance whose households make several batches: "<id>#2" is one character too long
    model = _model()
    entrance = model.entrances[0]
    long_id = entrance.id + "x" * (199 - len(entrance.id))
    model = _with(model, "entrances", 0, id=long_id)
    households = [
        h.model_copy(update={"parent_id": long_id}) if h.parent_id == entrance.id else h
        for h in model.households
    ]
    model = model.model_copy(update={"households": households})
    err = _error(model, max_batch_households=5)
    assert {i.record for i in err.issues} == {long_id}
    assert {i.field for i in err.issues} == {"id"}
    assert all("sampling batch" in i.constraint for i in err.issues)


def test_malformed_window_is_a_problem_error() -> None:
    err = _error(_model(), window={"start": "yesterday", "end": None})
    assert {i.record for i in err.issues} == {CODE}
    assert {i.field for i in err.issues} >= {"window.start"}


def test_problem_from_mappings_names_the_record() -> None:
    from commgov.scheduling import SamplingProblem
    from commgov.types import TimeWindow

    model = _model()
    opening = model.sites[0].opening
    assert opening is not None
    where = {"lon": 120.6, "lat": 31.3}
    with pytest.raises(ProblemError) as exc:
        SamplingProblem(
            window=TimeWindow(start=opening.start, end=opening.end),
            points=[{"id": "P1", "location": where, "lanes": 0}],
            buildings=[
                {
                    "id": "B1",
                    "location": where,
                    "batches": [{"id": "B1-0", "building_id": "B1", "households": -1, "people": 3}],
                }
            ],
        )
    got = {(i.record, i.field, i.value) for i in exc.value.issues}
    assert got == {("P1", "lanes", 0), ("B1", "batches.0.households", -1)}


def test_problem_from_json_reports_problem_errors() -> None:
    import json

    from commgov.errors import InputError, ProblemError
    from commgov.scheduling import SamplingProblem
    from commgov.testing.strategies import community_problem

    good = community_problem(3, n_buildings=4)
    assert SamplingProblem.model_validate_json(good.model_dump_json()) == good
    data = json.loads(good.model_dump_json())
    data["points"][0]["lanes"] = 0
    for call in (
        lambda: SamplingProblem.model_validate(data),
        lambda: SamplingProblem.model_validate_json(json.dumps(data)),
        lambda: SamplingProblem.model_validate_json("{not json"),
        lambda: SamplingProblem.model_validate_json(b"\xff\xfe"),
        lambda: SamplingProblem.model_validate([1, 2]),
    ):
        with pytest.raises(InputError):  # ProblemError, or InputError for undecodable text
            call()
    dup = json.loads(good.model_dump_json())
    dup["points"].append(dup["points"][0])
    with pytest.raises(ProblemError, match="duplicate"):
        SamplingProblem.model_validate(dup)


def test_absurd_counts_hit_the_size_guard_not_memory() -> None:
    from commgov.errors import SizeLimitError
    from commgov.org import HouseholdCounts

    model = synthetic_community("320508017016", households=60, seed=0)
    entrance = model.entrances[0]
    huge = entrance.model_copy(
        update={
            "counts": HouseholdCounts(
                households=10**9, residents=10**9, mobility_limited=entrance.counts.mobility_limited
            )
        }
    )
    bigger = model.model_copy(update={"entrances": [huge, *model.entrances[1:]]})
    with pytest.raises(SizeLimitError, match="exceeds the limit of 50,000"):
        sampling_problem_from_org(bigger, "320508017016")
