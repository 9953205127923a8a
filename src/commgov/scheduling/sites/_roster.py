"""SitesPlan → RosterProblem: the day roster of the sites' staff (private)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from commgov.errors import InputIssue, ProblemError
from commgov.scheduling.roster import Post, PostTask, RosterPolicy, RosterProblem, Staff
from commgov.scheduling.sites._plan import SitesPlan
from commgov.scheduling.sites._problem import SitesProblem, StaffRole

__all__ = ["sites_roster_problem"]

_WHAT = "sites roster"

#: The roster task of each role (a swabber's post needs the post's skill only).
_TASKS: dict[StaffRole, list[PostTask]] = {
    StaffRole.SWABBER: [],
    StaffRole.REGISTRAR: [PostTask.REGISTRATION],
    StaffRole.ORDERLY: [PostTask.SAMPLING_MARSHAL],
}


def sites_roster_problem(
    problem: SitesProblem,
    plan: SitesPlan,
    *,
    policy: RosterPolicy | None = None,
    staff: Iterable[Staff] | None = None,
) -> RosterProblem:
    """The day roster of a site plan's staff, as a roster problem.

    One post per opened site and role with staff — ``"<site>/swabber"``,
    ``"<site>/registrar"``, ``"<site>/orderly"`` — whose demand in each roster slot is the
    plan's staff of that role at that site (the most over the plan's slots the roster slot
    covers; the relief swabbers included, so swabbers in protective equipment can take their
    breaks without closing a lane). A post's ``skill`` is its own id: a person works at the
    posts whose id they hold as a skill, which keeps each team at its site.
    :func:`commgov.scheduling.roster.plan_roster` then builds shifts within the policy's
    shortest and longest shift, rest between shifts and maximum hours per day.

    Parameters
    ----------
    problem : SitesProblem
        The planned problem (window, slot length, time zone).
    plan : SitesPlan
        Its opened sites and their staff per slot.
    policy : RosterPolicy, optional
        Working-time rules; its ``slot_minutes`` must be a multiple of the sites' slot
        (default: the sites' slot, shifts of 2-4 h, 4 h rest, 8 h a day — a swabber in
        protective equipment should not work longer than about four hours at a stretch).
    staff : iterable of Staff, optional
        The people to roster, with a skill named by each post they may work at. Default:
        for each post, ``peak × ⌈window hours / max_shift_hours⌉`` anonymous people
        (``"<post>#<k>"``) available over the whole window — enough to cover the demand
        with shifts one after another.

    Returns
    -------
    commgov.scheduling.roster.RosterProblem

    Raises
    ------
    commgov.errors.ProblemError
        The plan opens a site the problem does not have, or the policy's slot is not a
        multiple of the sites' slot; or the roster problem is inconsistent (duplicate
        staff ids …).

    Notes
    -----
    O(sites × roles × slots) for the posts, plus the default staff. The roster is solved
    by :func:`~commgov.scheduling.roster.plan_roster` (CP-SAT; one Boolean per possible
    shift of each eligible person).

    References
    ----------
    .. [1] 国务院联防联控机制综合组, 区域新冠病毒核酸检测组织实施指南（第三版）, 2022
       (swabbers per lane and their working hours in protective equipment).
    .. [2] A. T. Ernst, H. Jiang, M. Krishnamoorthy and D. Sier, "Staff scheduling and
       rostering: A review of applications, methods and models", *European Journal of
       Operational Research* 153(1):3-27, 2004.

    Examples
    --------
    >>> from commgov.datasets import HUCHIYUAN, gusu
    >>> from commgov.scheduling.sites import plan_sites, sites_problem_from_org
    >>> problem = sites_problem_from_org(gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN)
    >>> roster = sites_roster_problem(problem, plan_sites(problem))
    >>> sorted({p.id.rsplit("/", 1)[1] for p in roster.posts})
    ['orderly', 'registrar', 'swabber']
    """
    m = problem.policy.slot_minutes
    pol = policy or RosterPolicy(slot_minutes=m)
    issues: list[InputIssue] = []
    if pol.slot_minutes % m:
        issues.append(
            InputIssue(
                _WHAT,
                "policy.slot_minutes",
                pol.slot_minutes,
                f"must be a multiple of the sites' slot_minutes={m}",
            )
        )
    known = {s.id for s in problem.sites}
    for o in plan.sites:
        if o.site_id not in known:
            issues.append(InputIssue(o.site_id, "site_id", o.site_id, "not a site of the problem"))
    if issues:
        raise ProblemError(issues, what=_WHAT)
    per = pol.slot_minutes // m
    n_slots = -(-problem.n_slots // per)
    posts: list[Post] = []
    for o in sorted(plan.sites, key=lambda s: s.site_id):
        by_slot = {sl.slot: sl for sl in o.slots}
        for role in (StaffRole.SWABBER, StaffRole.REGISTRAR, StaffRole.ORDERLY):
            field = {
                StaffRole.SWABBER: "swabbers",
                StaffRole.REGISTRAR: "registrars",
                StaffRole.ORDERLY: "orderlies",
            }[role]
            demand = [
                max(
                    (
                        getattr(by_slot[t], field)
                        for t in range(k * per, (k + 1) * per)
                        if t in by_slot
                    ),
                    default=0,
                )
                for k in range(n_slots)
            ]
            if not any(demand):
                continue
            pid = f"{o.site_id}/{role.value}"
            posts.append(Post(id=pid, tasks=_TASKS[role], skill=pid, demand=demand))
    if staff is None:
        hours = problem.window.duration.total_seconds() / 3600
        shifts = max(1, math.ceil(hours / pol.max_shift_hours - 1e-9))
        people = [
            Staff(id=f"{p.id}#{k}", availability=[problem.window], skills={p.id: 1})
            for p in posts
            for k in range(max(p.demand) * shifts)
        ]
    else:
        people = list(staff)
    return RosterProblem(
        timezone=problem.timezone,
        window=problem.window,
        posts=posts,
        staff=people,
        policy=pol,
    )
