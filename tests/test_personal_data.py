"""Personal data never leaves commgov in clear by default: errors, logs, results, exports.

A model is planted with a name, a phone number and health flags on volunteers, then taken
through every path a user meets — validation errors of each layer, merges, the graph, the
solvers and their explanations, CSV/JSON results and the interchange exports — while every
log record of every level is captured. No planted value may appear in any of them.
(tests/io has the same scan for the importer, with its own planted tables.)
"""

from __future__ import annotations

import json
import logging

import pytest

from commgov.datasets import HUCHIYUAN, synthetic_community, synthetic_tasks
from commgov.errors import CommgovError
from commgov.io import csv_text, export_json, json_text, record_schemas, to_geojson, to_popolo
from commgov.matching import match_volunteers, matching_problem_from_org
from commgov.org import OrgGraph, OrgModel, Role
from commgov.scheduling import plan_sampling, sampling_problem_from_org

NAME = "欧阳秘密"
PHONE = "13987654321"
SECRETS = (NAME, PHONE)


@pytest.fixture(scope="module")
def planted() -> OrgModel:
    model = synthetic_community(HUCHIYUAN, households=300, seed=4)
    people = [
        p.model_copy(update={"name": NAME, "phone": PHONE}) if Role.VOLUNTEER in p.roles else p
        for p in model.people
    ]
    return model.model_copy(update={"people": people})


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked: {text[:300]}"


def _error_text(call) -> str:
    with pytest.raises((CommgovError, ValueError, TypeError)) as info:
        call()
    exc = info.value
    return f"{exc}\n{exc!r}\n{getattr(exc, 'issues', '')}"


def test_nothing_leaks(planted: OrgModel, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    data = json.loads(planted.to_json())
    person = next(p for p in data["people"] if p.get("phone") == PHONE)

    # errors of every layer, each touching a planted record
    bad_type = {**data, "people": [{**person, "phone": [PHONE], "name": {"n": NAME}}]}
    texts.append(_error_text(lambda: OrgModel.from_data(bad_type)))
    unknown = {**data, "people": [{**person, "id_card": PHONE, "nickname": NAME}]}
    texts.append(_error_text(lambda: OrgModel.from_data(unknown)))
    dangling = {**data, "people": [{**person, "home_id": "nowhere"}]}
    texts.append(_error_text(lambda: OrgGraph(OrgModel.from_data(dangling))))
    renamed = planted.model_copy(update={"people": [
        p.model_copy(update={"name": NAME + "二"}) if p.id == person["id"] else p
        for p in planted.people]})
    texts.append(_error_text(lambda: planted.merge(renamed)))
    texts.append(_error_text(lambda: OrgModel.from_json(json.dumps(bad_type))))

    # solvers, explanations and results
    graph = OrgGraph(planted)
    problem = sampling_problem_from_org(graph, HUCHIYUAN)
    plan = plan_sampling(problem)
    tasks = synthetic_tasks(graph, HUCHIYUAN, seed=1)
    matching = matching_problem_from_org(graph, HUCHIYUAN, tasks=tasks)
    assignment = match_volunteers(matching)
    texts += [json_text(problem), json_text(plan), csv_text(plan.rows("zh")),
              json_text(matching), json_text(assignment), csv_text(assignment.rows("zh"))]
    texts += [r.text(lang) for u in assignment.unmatched for r in u.reasons
              for lang in ("en", "zh")]
    texts.append(_error_text(lambda: matching_problem_from_org(graph, HUCHIYUAN, tasks=tasks,
                                                               capacity_per_slot=-1)))

    # default exports
    exported = export_json(planted)
    texts.append(exported if isinstance(exported, str)
                 else json.dumps(exported, ensure_ascii=False, default=str))
    texts.append(json.dumps(to_popolo(planted), ensure_ascii=False, default=str))
    texts.append(json.dumps(to_geojson(planted), ensure_ascii=False, default=str))
    texts.append(json.dumps(record_schemas(), ensure_ascii=False, default=str))

    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        _clean(text)
    # the planted values really are in the model: the scan would have seen them
    assert PHONE in planted.to_json() and NAME in planted.to_json()


@pytest.mark.parametrize(
    "text",
    ["tel:013812345678", "138_1234_5678", "138\u20101234\u20105678", "+86/138/1234/5678",
     "138\u22121234\u22125678", "call 0138-1234-5678"],
)  # fmt: skip
def test_phone_numbers_with_other_separators_are_masked(text):
    """Masking kind (store break-test D12): a trunk 0, underscores, slashes and Unicode
    dashes between the digit groups do not hide a mobile number."""
    from commgov._redact import looks_personal, redact

    assert looks_personal(text)
    assert "1234" not in redact(text)


@pytest.mark.parametrize("text", ["2022/04/12", "320508017016/C01/B01", "room 1302 on 12/04"])
def test_dates_and_ids_are_not_masked(text):
    from commgov._redact import redact

    assert redact(text) == text
