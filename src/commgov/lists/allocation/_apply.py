"""Apply an allocation to the lists: pair projects and matched items (private).

:func:`apply_allocation` turns the flows of an :class:`~commgov.lists.Allocation` into
projects (one per need and resource) and moves the items ``raised → matched``; it imports no
solver.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from pydantic import ValidationError

from commgov.errors import InputError, InputIssue, expect_type
from commgov.lists._container import ThreeLists
from commgov.lists._lifecycle import Status
from commgov.lists._records import Formation, ListItem, Project, transition
from commgov.lists.allocation._problem import Allocation
from commgov.lists.allocation._rules import common_window, same_kind, scope

__all__ = ["apply_allocation"]


def apply_allocation(
    lists: ThreeLists,
    allocation: Allocation,
    *,
    by: str,
    formation: Formation | str = Formation.MATCHED_AT_JOINT_MEETING,
    id_prefix: str = "prj:",
) -> ThreeLists:
    """The lists with an allocation applied: projects created or updated, items matched.

    For each flow, the live project (status ``raised``, i.e. proposed) that links exactly
    this need and this resource gets the flow's quantity added; if there is none, a new
    project is created: id ``<id_prefix><need id>+<resource id>`` (a hash when longer than
    200 characters; ``#2``, ``#3`` … when taken), the need's title, category, unit, place,
    measure and priority, the flow's quantity, the common window of need and resource,
    ``lead_org_id`` the resource's provider, status ``raised`` (proposed), raised at
    ``allocation.at`` by ``by``. Every need and resource with a flow moves ``raised →
    matched`` (:func:`~commgov.lists.transition`, who ``by``, when ``allocation.at``); a
    need matched only in part stays ``matched`` with the rest open (its committed quantity is
    the sum of its pair projects, so the next allocation offers only the rest).

    Parameters
    ----------
    lists : ThreeLists
        The lists the allocation was made from.
    allocation : Allocation
        The result of :func:`~commgov.lists.allocate` on ``lists``.
    by : str
        Id of who applies it (a person, team or organisation id).
    formation : Formation or str, default ``matched_at_joint_meeting``
        How the new projects were formed.
    id_prefix : str, default ``"prj:"``
        Prefix of new project ids.

    Returns
    -------
    ThreeLists
        New lists; ``lists`` is unchanged, and nothing is applied if anything fails.

    Raises
    ------
    commgov.errors.InputError
        If a flow names a need or resource that is not in scope any more, of another
        category or measure, or draws more than is open or available (a stale allocation),
        or a new project or its quantity is invalid; each issue names the flow or item,
        field and value.
    commgov.errors.LifecycleError
        If an item's last change is after ``allocation.at``.
    TypeError
        If ``lists`` or ``allocation`` is of the wrong type.

    Notes
    -----
    O(F + I·log I) for F flows and I items in the lists (the scope is recomputed, and the
    lists re-sorted once with the changed items).
    """
    expect_type(lists, ThreeLists, "lists")
    expect_type(allocation, Allocation, "allocation", "the result of allocate()")
    expect_type(by, str, "by", "an id of who applies it")
    form = Formation(formation)
    at = allocation.at
    sc = scope(lists, at)
    issues: list[InputIssue] = []
    drawn_need: Counter[str] = Counter()
    drawn_res: Counter[str] = Counter()
    for f in allocation.flows:
        where = f"flow {f.need_id}+{f.resource_id}"
        if f.need_id not in sc.needs:
            issues.append(InputIssue(where, "need_id", f.need_id, "is not an open need in scope"))
            continue
        if f.resource_id not in sc.resources:
            issues.append(
                InputIssue(where, "resource_id", f.resource_id, "is not a resource in scope")
            )
            continue
        need, resource = sc.needs[f.need_id][0], sc.resources[f.resource_id][0]
        if not same_kind(need, resource):
            issues.append(
                InputIssue(
                    where,
                    "resource_id",
                    f.resource_id,
                    f"is {resource.category.value} in {resource.measure}, the need "
                    f"{need.category.value} in {need.measure}",
                )
            )
        drawn_need[f.need_id] += f.quantity
        drawn_res[f.resource_id] += f.quantity
    for nid, q in sorted(drawn_need.items()):
        if q > sc.needs[nid][1]:
            issues.append(
                InputIssue(nid, "quantity", q, f"exceeds the open quantity {sc.needs[nid][1]}")
            )
    for rid, q in sorted(drawn_res.items()):
        if q > sc.resources[rid][1]:
            issues.append(
                InputIssue(rid, "quantity", q, f"exceeds the available {sc.resources[rid][1]}")
            )
    if issues:
        raise InputError(issues, what="allocation does not fit the lists (stale?)")

    taken = {i.id for i in (*lists.needs, *lists.resources, *lists.projects)}
    updatable: dict[tuple[str, str], Project] = {}
    for p in lists.projects:  # sorted by id: the first such project is updated
        if p.status == Status.RAISED and len(p.need_ids) == 1 and len(p.resource_ids) == 1:
            updatable.setdefault((p.need_ids[0], p.resource_ids[0]), p)
    changed: list[ListItem] = []
    try:
        for f in allocation.flows:
            need, resource = sc.needs[f.need_id][0], sc.resources[f.resource_id][0]
            old = updatable.get((f.need_id, f.resource_id))
            if old is not None:
                data = old.model_dump()
                data["quantity"] = old.quantity + f.quantity
                changed.append(Project.model_validate(data))
                continue
            pid = _project_id(id_prefix, f.need_id, f.resource_id, taken)
            taken.add(pid)
            window = common_window(need, resource, at)
            finite = window is not None and window[1].year < 9999
            title = f"{need.title} ← {resource.title}"
            changed.append(
                Project(
                    id=pid,
                    title=title if len(title) <= 200 else title[:199] + "…",
                    category=need.category,
                    unit_id=need.unit_id,
                    place_id=need.place_id,
                    quantity=f.quantity,
                    measure=need.measure,
                    window={"start": window[0], "end": window[1]} if finite and window else None,
                    priority=need.priority,
                    raised_at=at,
                    recorded_by=by,
                    need_ids=(need.id,),
                    resource_ids=(resource.id,),
                    lead_org_id=resource.provider_id,
                    formation=form,
                )
            )
        for item_id in sorted({*drawn_need, *drawn_res}):
            item = sc.needs[item_id][0] if item_id in sc.needs else sc.resources[item_id][0]
            if item.status == Status.RAISED:
                q = drawn_need.get(item_id) or drawn_res[item_id]
                changed.append(
                    transition(
                        item, Status.MATCHED, by=by, at=at, why=f"allocated {q} {item.measure}"
                    )
                )
    except ValidationError as exc:
        raise InputError.from_validation(exc, record="project", what="allocation projects") from exc
    try:
        return lists.replace(*changed)
    except ValidationError as exc:
        raise InputError.from_validation(exc, record="lists", what="allocation result") from exc


def _project_id(prefix: str, need_id: str, resource_id: str, taken: set[str]) -> str:
    base = f"{prefix}{need_id}+{resource_id}"
    if len(base) > 190:
        digest = hashlib.sha256(f"{need_id}\0{resource_id}".encode()).hexdigest()[:24]
        base = f"{prefix[:100]}{digest}"
    pid, k = base, 1
    while pid in taken:
        k += 1
        pid = f"{base}#{k}"
    return pid
