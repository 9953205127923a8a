"""The duty-roster problem of one community, from its organisation model (private)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from commgov._problem import coerce_window
from commgov.errors import ProblemError
from commgov.scheduling.roster._problem import (
    _WHAT,
    Post,
    PostTask,
    RosterPolicy,
    RosterProblem,
    Staff,
)
from commgov.types import TimeWindow

__all__ = ["roster_problem_from_org"]


def roster_problem_from_org(
    model: Any,
    community_id: str,
    *,
    window: TimeWindow,
    gate_staff: int = 1,
    marshals_per_point: int = 1,
    marshal_skill: str | None = "sampling_marshal",
    policy: RosterPolicy | None = None,
) -> RosterProblem:
    """Build the duty roster problem of one community over a window from its organisation model.

    Posts:

    * each :class:`~commgov.org.DutyPost` at a site of the community becomes a post with the
      duty post's tasks, asking for ``staff_per_shift`` in every slot that overlaps one of its
      shifts;
    * when the community has no duty posts (the embedded Gusu dataset has none), each
      compound (小区) gets one gate post ``<compound>/GATE`` (门岗: health-code check,
      temperature, registration) asking for ``gate_staff`` people in every slot of the
      window — lanes and courtyards are open streets without a gate;
    * each site of the community with the emergency function ``SAMPLING_POINT`` gets a
      marshal post ``<site>/MARSHAL`` asking for ``marshals_per_point`` people with skill
      ``marshal_skill`` (any level; ``None``: no skill needed) in every slot that overlaps
      the site's opening (the whole window when it has none).

    Staff: people of the community (``home_id`` inside it) with the role ``VOLUNTEER``, their
    availability and skills as recorded, any task allowed.

    Parameters
    ----------
    model : OrgModel or OrgGraph
    community_id : str
        Twelve-digit community code (``"320508017016"``, 虎池苑社区).
    window : TimeWindow
        The rostered period (keyword-only, required): tz-aware instants, a whole number of
        the policy's slots long; slots start at ``window.start``. A whole local day is
        ``TimeWindow(start=datetime(2022, 4, 12, tzinfo=tz), end=datetime(2022, 4, 13,
        tzinfo=tz))`` with ``tz`` the community's zone (``Asia/Shanghai`` when the model
        records none); 06:00-22:00 of that day starts 6 h later and ends 2 h earlier.
        Days for the daily maximum are local calendar days of that zone.
    gate_staff : int
        Staff per slot at a generated compound gate post, ≥ 0.
    marshals_per_point : int
        Marshals per slot at an open sampling point, ≥ 0.
    marshal_skill : str or None
        Skill a marshal needs.
    policy : RosterPolicy, optional
        Working-time rules (default :class:`RosterPolicy`).

    Returns
    -------
    RosterProblem

    Raises
    ------
    ProblemError
        If ``community_id`` is not a community of the model, ``window`` is not a
        :class:`~commgov.types.TimeWindow` or not a whole number of slots, the headcounts are
        out of range, or a record cannot be converted.

    Notes
    -----
    O(P·T + S) for P posts, T slots and S people of the model (plus the community scope).

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.datasets import gusu
    >>> day = datetime(2022, 4, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> problem = roster_problem_from_org(
    ...     gusu(seed=0, communities=["320508017016"]), "320508017016",
    ...     window=TimeWindow(start=day, end=day + timedelta(days=1)))
    >>> problem.n_slots, len(problem.posts), len(problem.staff)
    (24, 6, 20)
    """
    from commgov.org import NeighbourhoodKind, OrgGraph, Role, SiteFunction
    from commgov.org._queries import community_scope

    what = _WHAT
    window = coerce_window(window, community_id, what)
    for name, value, ok in (("gate_staff", gate_staff, isinstance(gate_staff, int)
                             and not isinstance(gate_staff, bool) and gate_staff >= 0),
                            ("marshals_per_point", marshals_per_point,
                             isinstance(marshals_per_point, int)
                             and not isinstance(marshals_per_point, bool)
                             and marshals_per_point >= 0)):
        if not ok:
            raise ProblemError.single("roster_problem_from_org", name, value,
                                      "must be a whole number ≥ 0", what)
    graph = model if isinstance(model, OrgGraph) else OrgGraph(model)
    graph, scope = community_scope(graph, community_id, what)
    community = next(c for c in graph.model.communities if c.id == community_id)
    tzname = getattr(community, "timezone", None) or graph.model.timezone or "Asia/Shanghai"
    pol = policy or RosterPolicy()
    delta = timedelta(minutes=pol.slot_minutes)
    n_t = int(window.duration // delta)

    def overlapping(windows: Sequence[TimeWindow], staff_n: int) -> list[int]:
        out = [0] * n_t
        for t in range(n_t):
            lo = window.start + t * delta
            hi = lo + delta
            if any(w.start < hi and lo < w.end for w in windows):
                out[t] = staff_n
        return out

    sites = {s.id: s for s in graph.model.sites if s.parent_id in scope}
    posts: list[Post] = []
    duty = [d for d in graph.model.duty_posts if d.site_id in sites]
    for d in sorted(duty, key=lambda d: d.id):
        posts.append(Post(id=d.id, name=d.title, tasks=[PostTask(t.value) for t in d.tasks],
                          demand=overlapping(d.shifts, d.staff_per_shift)))
    if not duty:
        for u in sorted(graph.model.units, key=lambda u: u.id):
            if u.id in scope and u.kind is NeighbourhoodKind.COMPOUND and gate_staff:
                posts.append(Post(
                    id=f"{u.id}/GATE", name=f"{u.name}门岗",
                    tasks=[PostTask.HEALTH_CODE_CHECK, PostTask.TEMPERATURE,
                           PostTask.REGISTRATION],
                    demand=[gate_staff] * n_t))
    for s in sorted(sites.values(), key=lambda s: s.id):
        if SiteFunction.SAMPLING_POINT in s.emergency_functions and marshals_per_point:
            opening = [s.opening] if s.opening is not None else [window]
            posts.append(Post(
                id=f"{s.id}/MARSHAL", name=f"{s.name}采样点秩序维护",
                tasks=[PostTask.SAMPLING_MARSHAL], skill=marshal_skill,
                demand=overlapping(opening, marshals_per_point)))
    staff: list[Staff] = []
    for p in sorted(graph.model.people, key=lambda q: q.id):
        if Role.VOLUNTEER not in p.roles or p.home_id not in scope:
            continue
        staff.append(Staff(id=p.id, availability=list(p.availability), skills=dict(p.skills)))
    return RosterProblem(timezone=tzname, window=window, posts=posts, staff=staff, policy=pol)

