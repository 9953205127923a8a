from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from commgov.errors import ProblemError
from commgov.matching.problem import MatchingProblem, Task, Volunteer
from commgov.org import OrgGraph, OrgModel, Role
from commgov.org._queries import community_scope

_WHAT = "matching problem"


def matching_problem_from_org(
    model: OrgModel | OrgGraph,
    tasks: Sequence[Task],
    *,
    community_id: str | None = None,
    max_distance_m: float = 1000.0,
    capacity_per_slot: int = 1,
    capacity_per_day: int = 8,
) -> MatchingProblem:
    """Build a matching problem from the volunteers of an organisation model.

    Volunteers are people with the ``volunteer`` role and a location; with ``community_id``,
    only those who live in that community. Their skills, availability and location are taken
    from their :class:`~commgov.org.Person` records.

    Parameters
    ----------
    model : OrgModel or OrgGraph
    tasks : sequence of Task
        The tasks of the day, on a slot grid.
    community_id : str, optional
        Keep only volunteers living in this community.
    max_distance_m : float, default 1000
        Eligibility radius in metres.
    capacity_per_slot, capacity_per_day : int
        Tasks a volunteer takes per slot and per day.

    Returns
    -------
    MatchingProblem

    Raises
    ------
    commgov.errors.ProblemError
        If ``community_id`` is not a community of the model, or a volunteer record cannot be
        built from a person with these parameters (naming the person, field and value).
    """
    for name, value in (("capacity_per_slot", capacity_per_slot),
                        ("capacity_per_day", capacity_per_day)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ProblemError.single(
                "matching_problem_from_org", name, value, "must be a whole number ≥ 1", _WHAT
            )
    graph = model if isinstance(model, OrgGraph) else OrgGraph(model)
    scope: set[str] | None = None
    if community_id is not None:
        graph, scope = community_scope(graph, community_id, "matching problem")
    volunteers = []
    for p in graph.model.people:
        if Role.VOLUNTEER not in p.roles or p.location is None:
            continue
        if scope is not None and p.home_id not in scope:
            continue
        try:
            volunteers.append(
                Volunteer(
                    id=p.id,
                    location=p.location,
                    skills=dict(p.skills),
                    availability=list(p.availability),
                    capacity_per_slot=capacity_per_slot,
                    capacity_per_day=capacity_per_day,
                )
            )
        except ValidationError as exc:
            raise ProblemError.from_validation(exc, record=p.id, what=_WHAT) from None
    return MatchingProblem(
        timezone=_timezone(graph, community_id),
        tasks=list(tasks),
        volunteers=volunteers,
        max_distance_m=max_distance_m,
    )


def _timezone(graph: OrgGraph, community_id: str | None) -> str:
    """The community's own time zone, else the model's."""
    if community_id is None:
        return graph.model.timezone
    return getattr(graph.record(community_id), "timezone", graph.model.timezone)
