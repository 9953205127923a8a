"""``matching_problem_from_org``: a matching problem from an organisation model (private)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from commgov._problem import coerce_window
from commgov.errors import ProblemError
from commgov.matching.volunteers._problem import MatchingProblem, ScopePenalties, Task, Volunteer
from commgov.results import LeftOut, LeftOutReasonCode
from commgov.types import TimeWindow

if TYPE_CHECKING:  # the organisation model is imported when a problem is built from one
    from commgov.org import OrgGraph, OrgModel, Role, Team
    from commgov.org._kinds import NodeKind

__all__ = ["matching_problem_from_org"]

_WHAT = "matching problem"


def _partner_kinds() -> tuple[object, ...]:
    from commgov.org import TeamKind

    return (TeamKind.PARTNER, TeamKind.RIDER, TeamKind.BUSINESS_ASSOCIATION)


def matching_problem_from_org(
    model: OrgModel | OrgGraph,
    community_id: str | None,
    *,
    tasks: Sequence[Task],
    window: TimeWindow | None = None,
    max_distance_m: float = 1000.0,
    capacity_per_slot: int = 1,
    capacity_per_day: int = 8,
    scope_penalties: ScopePenalties | None = None,
) -> MatchingProblem:
    """Build a matching problem from the volunteers and teams of an organisation model.

    Volunteers are people with the ``volunteer`` or ``rider`` role, at their own position or,
    without one, at their home building's. A volunteer with neither is not dropped silently:
    it is listed in the problem's ``left_out`` with reason ``NO_LOCATION``. Each volunteer
    gets an organisation scope (:func:`~commgov.matching.scope_level`):

    * ``building_ids``: the buildings covered by the volunteer teams (kind ``volunteer``) the
      person is a member of (a covered entrance counts for its building, a covered compound or
      lane for all its buildings);
    * ``compound_id`` and ``community_id``: those of the person's home;
    * ``partner``: riders, and members of partner, rider and business-association teams.

    Tasks keep the scope ids they carry; missing ones are filled in from ``household_id`` when
    the household is in the model (its building, compound and community).

    With a ``community_id``, volunteers are those living in the community plus partner members
    and riders whose team serves it (a team of the community, one partnered with it, or one
    without a community: district-wide riders).

    Parameters
    ----------
    model : OrgModel or OrgGraph
        The organisation model.
    community_id : str or None
        Restrict volunteers to this community (see above); ``None`` takes the whole model.
    tasks : sequence of Task
        The tasks to match, on a slot grid (keyword-only: they are not in the model).
    window : TimeWindow, optional
        When the tasks are done: team memberships must be active on the calendar day of
        ``window.start`` in the problem's time zone (default: all memberships count).
    max_distance_m : float, default 1000
        Eligibility radius in metres.
    capacity_per_slot, capacity_per_day : int
        Tasks a volunteer takes per slot and per day (≥ 0).
    scope_penalties : ScopePenalties, optional
        Penalties per scope level in metre-equivalents (default :class:`ScopePenalties`).

    Returns
    -------
    MatchingProblem

    Raises
    ------
    commgov.errors.ProblemError
        If ``community_id`` is not a community of the model, a capacity is not a whole number
        ≥ 0, or a volunteer record cannot be built from a person (naming the person, field and
        value).

    Notes
    -----
    O(people + memberships + tasks), plus the buildings covered by each volunteer team.

    Examples
    --------
    >>> from commgov.datasets import HUCHIYUAN, gusu
    >>> p = matching_problem_from_org(gusu(), HUCHIYUAN, tasks=[])
    >>> p.timezone, len(p.volunteers) > 0
    ('Asia/Shanghai', True)
    """
    from commgov.org import Membership, OrgGraph, Role, TeamKind
    from commgov.org._kinds import NodeKind
    from commgov.org._queries import community_scope, left_out_person, person_location

    for name, value in (
        ("capacity_per_slot", capacity_per_slot),
        ("capacity_per_day", capacity_per_day),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ProblemError.single(
                "matching_problem_from_org", name, value, "must be a whole number ≥ 0", _WHAT
            )
    graph = model if isinstance(model, OrgGraph) else OrgGraph(model)
    scope: set[str] | None = None
    if community_id is not None:
        graph, scope = community_scope(graph, community_id, "matching problem")
    window = coerce_window(
        window, community_id or "matching_problem_from_org", _WHAT, optional=True
    )
    timezone = _timezone(graph, community_id)
    on = None if window is None else window.start.astimezone(ZoneInfo(timezone)).date()
    teams = {t.id: t for t in graph.model.teams}
    person_teams: dict[str, list[Team]] = {}
    for m in graph.model.memberships:
        if isinstance(m, Membership) and m.organisation_id in teams:
            if on is not None and not m.active_on(on):
                continue
            person_teams.setdefault(m.person_id, []).append(teams[m.organisation_id])
    buildings_of_team: dict[str, list[str]] = {}
    partner_kinds = _partner_kinds()
    volunteers = []
    left_out: list[LeftOut] = []
    for p in sorted(graph.model.people, key=lambda q: q.id):
        if not ({Role.VOLUNTEER, Role.RIDER} & set(p.roles)):
            continue
        my_teams = sorted(person_teams.get(p.id, []), key=lambda t: t.id)
        partner = Role.RIDER in p.roles or any(t.kind in partner_kinds for t in my_teams)
        if scope is not None and not (
            (p.home_id in scope) or (partner and _team_serves(my_teams, community_id, p.roles))
        ):
            continue
        building_ids: set[str] = set()
        for t in my_teams:
            if t.kind is TeamKind.VOLUNTEER:
                if t.id not in buildings_of_team:
                    buildings_of_team[t.id] = _covered_buildings(graph, t)
                building_ids.update(buildings_of_team[t.id])
        home = p.home_id if p.home_id in graph else None
        location = person_location(graph, p)
        if location is None:
            left_out.append(left_out_person(p.id, LeftOutReasonCode.NO_LOCATION))
            continue
        try:
            volunteers.append(
                Volunteer(
                    id=p.id,
                    location=location,
                    skills=dict(p.skills),
                    availability=list(p.availability),
                    capacity_per_slot=capacity_per_slot,
                    capacity_per_day=capacity_per_day,
                    team_id=my_teams[0].id if my_teams else None,
                    building_ids=sorted(building_ids),
                    compound_id=_ancestor(graph, home, NodeKind.COMPOUND),
                    community_id=graph.community_of(home) if home else None,
                    partner=partner,
                )
            )
        except ValidationError as exc:
            raise ProblemError.from_validation(exc, record=p.id, what=_WHAT) from None
    return MatchingProblem(
        timezone=timezone,
        tasks=[_with_scope(graph, t) for t in tasks],
        volunteers=volunteers,
        max_distance_m=max_distance_m,
        scope_penalties=scope_penalties or ScopePenalties(),
        left_out=left_out,
    )


def _team_serves(teams: list[Team], community_id: str | None, roles: list[Role]) -> bool:
    from commgov.org import Role

    if not teams:
        return Role.RIDER in roles  # an unattached rider serves wherever riders go
    return any(
        t.kind in _partner_kinds()
        and (t.community_id in (None, community_id) or community_id in t.partner_ids)
        for t in teams
    )


def _covered_buildings(graph: OrgGraph, team: Team) -> list[str]:
    from commgov.org._kinds import NodeKind

    places = team.covers or ([team.community_id] if team.community_id else [])
    out: set[str] = set()
    for place in places:
        if place not in graph:
            continue
        kind = graph.kind(place)
        if kind is NodeKind.BUILDING:
            out.add(place)
        elif kind in (NodeKind.ENTRANCE, NodeKind.HOUSEHOLD):
            b = _ancestor(graph, place, NodeKind.BUILDING)
            if b:
                out.add(b)
        elif not team.covers:
            continue  # a community-wide team serves at community level, not building level
        else:
            out.update(graph.descendants(place, NodeKind.BUILDING))
    return sorted(out)


def _ancestor(graph: OrgGraph, node: str | None, kind: NodeKind) -> str | None:
    if node is None or node not in graph:
        return None
    if graph.kind(node) is kind:
        return node
    for a in graph.ancestors(node):
        if graph.kind(a) is kind:
            return a
    return None


def _with_scope(graph: OrgGraph, task: Task) -> Task:
    from commgov.org._kinds import NodeKind

    hh = task.household_id
    if hh is None or hh not in graph:
        return task
    update = {}
    if task.building_id is None:
        update["building_id"] = _ancestor(graph, hh, NodeKind.BUILDING)
    if task.compound_id is None:
        update["compound_id"] = _ancestor(graph, hh, NodeKind.COMPOUND)
    if task.community_id is None:
        update["community_id"] = graph.community_of(hh)
    update = {k: v for k, v in update.items() if v is not None}
    return task.model_copy(update=update) if update else task


def _timezone(graph: OrgGraph, community_id: str | None) -> str:
    """The community's own time zone, else the model's."""
    if community_id is None:
        return graph.model.timezone
    return getattr(graph.record(community_id), "timezone", graph.model.timezone)
