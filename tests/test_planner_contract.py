"""One signature per role, across every planning family.

Every planner takes the problem positionally and the same keyword-only options — ``method``,
``time_limit_s``, ``seed``, ``progress``, ``cancel`` — validated by one options checker, so a
bad ``time_limit_s`` raises the same :class:`~commgov.errors.InvalidParameterError` (both
``ValueError`` and ``TypeError``) everywhere, before any work; every builder from the
organisation model takes ``(model, place_id, *, window=…)``.
"""

from __future__ import annotations

import inspect
import math
from datetime import UTC, datetime

import pytest

from commgov.errors import InvalidParameterError
from commgov.lists import allocate
from commgov.matching import match_volunteers, matching_problem_from_org, plan_relay
from commgov.scheduling import (
    door_to_door_problem_from_org,
    notification_problem_from_org,
    plan_door_to_door,
    plan_notification,
    plan_roster,
    plan_sampling,
    plan_sites,
    plan_supply_stations,
    roster_problem_from_org,
    sampling_problem_from_org,
    sites_problem_from_org,
    supply_problem_from_org,
)

PLANNERS = [plan_sampling, plan_door_to_door, plan_notification, plan_roster, plan_relay,
            match_volunteers, allocate, plan_sites, plan_supply_stations]
BUILDERS = [sampling_problem_from_org, door_to_door_problem_from_org,
            notification_problem_from_org, roster_problem_from_org, matching_problem_from_org,
            sites_problem_from_org, supply_problem_from_org]
SHARED = {"method": None, "seed": 0, "progress": None, "cancel": None}


@pytest.mark.parametrize("planner", PLANNERS, ids=lambda f: f.__name__)
def test_planners_take_the_shared_keywords(planner):
    """The shared options are keyword-only, with the same defaults in every family."""
    params = inspect.signature(planner).parameters
    first = next(iter(params.values()))
    assert first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    for name, default in SHARED.items():
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params[name].default == default, name
    limit = params["time_limit_s"]
    assert limit.kind is inspect.Parameter.KEYWORD_ONLY
    assert isinstance(limit.default, float) and 0 < limit.default <= 3600


@pytest.mark.parametrize("planner", PLANNERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", ["x", -1, 0, math.nan, math.inf, 3601, True])
def test_bad_time_limit_raises_the_same_error_everywhere(planner, bad):
    """The options are checked first, by the one validator, whatever the problem."""
    extra = {"at": datetime(2022, 4, 10, tzinfo=UTC)} if planner is allocate else {}
    with pytest.raises(InvalidParameterError, match="time_limit_s") as info:
        planner(None, time_limit_s=bad, **extra)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda f: f.__name__)
def test_builders_take_model_place_and_window(builder):
    """``<family>_problem_from_org(model, place_id, *, window=…)``."""
    params = list(inspect.signature(builder).parameters.values())
    assert [p.name for p in params[:1]] == ["model"]
    assert params[1].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    window = inspect.signature(builder).parameters["window"]
    assert window.kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [(1, 2), "2022-04-11", 17])
def test_builders_refuse_a_window_that_is_not_one(builder, bad):
    """Every builder checks ``window`` the same way: a ProblemError naming the field."""
    from commgov.datasets import HUCHIYUAN, gusu
    from commgov.errors import ProblemError

    model = _huchiyuan(gusu, HUCHIYUAN)
    extra = {"tasks": []} if builder is matching_problem_from_org else {}
    with pytest.raises(ProblemError) as info:
        builder(model, HUCHIYUAN, window=bad, **extra)
    assert any(i.field == "window" for i in info.value.issues)


_MODEL: list[object] = []


def _huchiyuan(gusu, code):
    if not _MODEL:
        _MODEL.append(gusu(0, communities=[code]))
    return _MODEL[0]


@pytest.mark.parametrize("bound", ["sampling_lower_bound", "door_to_door_lower_bound",
                                   "notification_lower_bound", "sites_lower_bound"])
def test_bounds_refuse_what_is_not_a_problem(bound):
    """A bound given something other than its problem raises TypeError naming the argument."""
    import commgov.scheduling as scheduling

    with pytest.raises(TypeError, match="problem must be"):
        getattr(scheduling, bound)(None)


@pytest.mark.parametrize(
    "kwargs",
    [{"at": datetime(2022, 4, 10)}, {"at": "2022-04-10"},
     {"max_distance_m": -1, "places": {}}, {"max_distance_m": math.nan, "places": {}},
     {"max_distance_m": 100}, {"places": "x"}],
    ids=["naive at", "text at", "negative distance", "nan distance", "distance without places",
         "places not a mapping"],
)
def test_allocate_domain_keywords_raise_the_same_error(kwargs):
    """``allocate``'s own keywords go through the same validator as the shared ones."""
    from commgov.lists import ThreeLists

    args = {"at": datetime(2022, 4, 10, tzinfo=UTC), **kwargs}
    with pytest.raises(InvalidParameterError):
        allocate(ThreeLists(), **args)


def test_a_bad_lang_raises_the_same_error_everywhere():
    """``rows(lang)`` and ``Reason.text(lang)`` check ``lang`` with the one validator."""
    from commgov.results import CommonReasonCode, Reason
    from commgov.testing import fixture

    _problem, plan = fixture("sampling")
    for call in (lambda: plan.rows("fr"), lambda: plan.to_frame("fr"),
                 lambda: Reason(code=CommonReasonCode.CANCELLED).text("fr")):
        with pytest.raises(InvalidParameterError, match="lang"):
            call()


class _BoomError(Exception):
    pass


def _raise_at(n):
    seen = []

    def progress(event):
        seen.append(event)
        if len(seen) == n:
            raise _BoomError(event.phase)

    return progress


@pytest.mark.parametrize("n", [1, 3, 6, 9])
def test_a_progress_callback_error_propagates_from_inside_a_routing_search(n):
    """An error raised by ``progress`` — on the planner's thread, inside an OR-Tools routing
    callback, or on the watcher thread — reaches the caller and leaves the process sound
    (raised straight out of a search callback it used to abort the interpreter)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from commgov.datasets import HUCHIYUAN, gusu
    from commgov.types import TimeWindow

    start = datetime(2022, 4, 11, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    problem = notification_problem_from_org(
        _huchiyuan(gusu, HUCHIYUAN), HUCHIYUAN,
        window=TimeWindow(start=start, end=start + timedelta(hours=2)),
        enrolment="海棠先锋", use_availability=False)
    with pytest.raises(_BoomError):
        plan_notification(problem, effort=200, progress=_raise_at(n))
    # the same planner still works afterwards, in the same process
    assert plan_notification(problem, effort=1).info.status in ("OPTIMAL", "FEASIBLE")
