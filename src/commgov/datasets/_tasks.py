from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from commgov._random import rng
from commgov.datasets._community import DEFAULT_DAY, _is_int
from commgov.errors import InputError, InputIssue
from commgov.matching.volunteers import Task
from commgov.org import Building, Household, NodeKind, OrgGraph, OrgModel
from commgov.org._text import article
from commgov.types import GeoPoint, TimeWindow

#: Delivery waves of the day (hours), the slot grid of relay and visit tasks.
WAVES = ((8, 9), (9, 10), (10, 11), (11, 12), (14, 15), (15, 16), (16, 17))


def synthetic_tasks(
    model: OrgModel | OrgGraph, community_id: str, *, seed: int = 0, day: date = DEFAULT_DAY
) -> list[Task]:
    """A day of volunteer tasks for a community, drawn from its vulnerable households.

    Every recorded household with a mobility-limited resident gets a grocery delivery from the
    gate to the door (skill ``delivery``; priority 3 for an elderly person living alone, else
    2); about a third also get a care visit (``elderly_care``, priority 2); a few buildings get a
    notice round (``publicity``, priority 1), and a few households a first-aid check
    (``first_aid``, priority 3). Tasks sit on hourly delivery waves (:data:`WAVES`).

    Parameters
    ----------
    model : OrgModel or OrgGraph
    community_id : str
    seed : int, default 0
    day : datetime.date, default 2022-04-12

    Returns
    -------
    list of Task
        Sorted by id; locations are the households' buildings (WGS84).

    Raises
    ------
    commgov.errors.InputError
        Naming each bad parameter: ``community_id`` not a community (or village) of the model,
        ``seed`` not a whole number ≥ 0, ``day`` not a :class:`datetime.date`.
    TypeError
        If ``model`` is neither an OrgModel nor an OrgGraph.
    """
    issues = []
    if not (_is_int(seed) and 0 <= seed <= 2**63 - 1):
        issues.append(InputIssue("synthetic_tasks", "seed", seed, "must be a whole number ≥ 0"))
    if not isinstance(day, date) or isinstance(day, datetime):
        issues.append(InputIssue("synthetic_tasks", "day", day, "must be a datetime.date"))
    graph = model if isinstance(model, OrgGraph) else OrgGraph(model)
    if not (
        isinstance(community_id, str)
        and community_id in graph
        and graph.kind(community_id) in (NodeKind.COMMUNITY, NodeKind.VILLAGE)
    ):
        what = (
            f"is {article(graph.kind(community_id))}, not a community"
            if isinstance(community_id, str) and community_id in graph
            else "no community (or village) in the model has this id"
        )
        issues.insert(0, InputIssue("synthetic_tasks", "community_id", community_id, what))
    if issues:
        raise InputError(issues, what="synthetic_tasks")
    tz = ZoneInfo(graph.model.timezone)

    def wave(k: int) -> TimeWindow:
        a, b = WAVES[k]
        return TimeWindow(
            start=datetime.combine(day, time(a), tz), end=datetime.combine(day, time(b), tz)
        )

    def building_of(node: str) -> Building:
        for candidate in [node, *graph.ancestors(node)]:
            record = graph.record(candidate)
            if isinstance(record, Building):
                return record
        raise LookupError(node)

    tasks: list[Task] = []
    for hid in graph.descendants(community_id, NodeKind.HOUSEHOLD):
        household = graph.record(hid)
        assert isinstance(household, Household)
        g = rng(seed, "tasks", hid)
        place = building_of(hid).location
        tasks.append(_household_task(hid, place, "delivery", "delivery", 1,
                                     wave(int(g.integers(0, 4))),
                                     3 if household.elderly_alone else 2, "groceries gate → door"))
        if g.random() < 0.33:
            tasks.append(_household_task(hid, place, "care", "elderly_care", 2,
                                         wave(int(g.integers(4, 7))), 2, "care visit"))
        if g.random() < 0.05:
            tasks.append(_household_task(hid, place, "firstaid", "first_aid", 3,
                                         wave(int(g.integers(0, 7))), 3, "first-aid check"))
    for bid in graph.descendants(community_id, NodeKind.BUILDING):
        g = rng(seed, "tasks", bid)
        if g.random() < 0.06:
            record = graph.record(bid)
            assert isinstance(record, Building)
            tasks.append(
                Task(
                    id=f"{bid}/T-notice",
                    skill="publicity",
                    location=record.location,
                    window=wave(int(g.integers(0, 7))),
                    priority=1,
                    note="sampling notice round",
                )
            )
    return sorted(tasks, key=lambda t: t.id)


def _household_task(hid: str, place: GeoPoint, kind: str, skill: str, min_level: int,
                    window: TimeWindow, priority: int, note: str) -> Task:
    """The task ``{hid}/T-{kind}`` at the household's building."""
    return Task(id=f"{hid}/T-{kind}", skill=skill, min_level=min_level, location=place,
                window=window, priority=priority, household_id=hid, note=note)
