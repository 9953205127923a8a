"""The plan records of a placement (private)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from commgov._control import StoppedBy
from commgov.results import (
    CommonReasonCode,
    Reason,
    SolveInfo,
    SolveStatus,
    library_versions,
)
from commgov.scheduling.sampling._data import Data, loads, unserved_reason
from commgov.scheduling.sampling._plan import (
    BatchAssignment,
    DoorToDoorBuilding,
    HomeVisit,
    PointSlotLoad,
    SamplingPlan,
    SamplingTotals,
    UnservedBatch,
)
from commgov.scheduling.sampling._problem import SamplingBatch
from commgov.scheduling.sampling._reasons import SamplingReasonCode

M = TypeVar("M", bound=BaseModel)


_setattr = object.__setattr__


def _maker(cls: type[M]) -> Callable[..., M]:
    """A constructor of ``cls`` records from values that are valid already.

    What :meth:`pydantic.BaseModel.model_construct` does for a record given every field
    (``__dict__``, the fields set, no extra, no private attributes), without its per-call
    walk over the fields and aliases: a tenth of its cost, for the 10⁵ records of a plan.
    Only for plain records (no alias, no post-init, every field given by name).
    """
    names = tuple(cls.model_fields)
    if (
        cls.__pydantic_post_init__
        or cls.__pydantic_root_model__
        or any(
            f.alias is not None or f.validation_alias is not None for f in cls.model_fields.values()
        )
    ):
        raise TypeError(f"{cls.__name__}: not a plain record")
    new = cls.__new__

    def make(**values: Any) -> M:
        m = new(cls)
        _setattr(m, "__dict__", values)
        _setattr(m, "__pydantic_fields_set__", set(names))
        _setattr(m, "__pydantic_extra__", None)
        _setattr(m, "__pydantic_private__", None)
        return m

    return make


_make_assignment = _maker(BatchAssignment)
_make_load = _maker(PointSlotLoad)


def build_plan(
    d: Data,
    placed: dict[str, tuple[str, int]],
    status: SolveStatus,
    bound: float | None,
    options: dict[str, Any],
    solver: str = "cp-sat",
    *,
    seed: int | None = 0,
    stopped_by: StoppedBy | None = None,
) -> SamplingPlan:
    """The plan records of a placement ``batch → (point, slot)``.

    Batches left out get :func:`~._data.unserved_reason`; with status ``LIMIT`` (``CANCELLED``)
    a batch whose capacity was not checked gets ``TIME_LIMIT_REACHED`` (``CANCELLED``)
    instead of ``POINT_CAPACITY_USED``. ``bound`` is on ``walk_person_m``.
    """
    prob = d.problem
    assignments = []
    starts: dict[int, Any] = {}
    # the figures come from validated records and the rules: constructed without validating
    # them again (the plan's JSON is the same; 100,000 batches in a fraction of a second)
    dist = d.dist
    make = _make_assignment
    served = walk = slots = 0
    last_slot = -1
    for k in d.batches:
        at = placed.get(k.id)
        if at is None:
            continue
        pid, t = at
        start = starts.get(t)
        if start is None:
            start = starts[t] = prob.slot_start(t)
        people = k.people
        w = dist[k.building_id, pid]
        assignments.append(
            make(
                batch_id=k.id,
                building_id=k.building_id,
                point_id=pid,
                slot=t,
                slot_start=start,
                people=people,
                walk_m=w,
            )
        )
        served += people
        walk += people * w
        slots += people * t
        if people > 0 and t > last_slot:
            last_slot = t

    def reason(k: SamplingBatch) -> Reason:
        r = unserved_reason(d, k)
        if r.code == SamplingReasonCode.POINT_CAPACITY_USED:
            # the greedy completion was cut short: capacity was not checked for this batch
            if status == SolveStatus.LIMIT:
                return Reason(
                    code=CommonReasonCode.TIME_LIMIT_REACHED,
                    params={"time_limit_s": options["time_limit_s"]},
                )
            if status == SolveStatus.CANCELLED:
                return Reason(code=CommonReasonCode.CANCELLED)
        return r

    unserved = [
        UnservedBatch(
            batch_id=k.id, building_id=k.building_id, people=k.people, reasons=[reason(k)]
        )
        for k in d.batches
        if k.id not in placed
    ]
    loads_all = loads(d, placed)
    load_rows = [
        _make_load(point_id=p.id, slot=t, arrivals=a, capacity=c, served=s, backlog=q)
        for p in d.points
        for opened in [set(d.open[p.id])]
        for t, a, c, s, q in loads_all[p.id]
        if t in opened
    ]
    door = []
    visits = []
    walking = {b.id for b in d.buildings}  # zone rank < 2
    for b in prob.buildings:
        if b.id not in walking:
            residents = sum(k.people for k in b.batches) + b.mobility_limited
            door.append(
                DoorToDoorBuilding(
                    building_id=b.id,
                    households=sum(k.households for k in b.batches),
                    residents=residents,
                    reason=Reason(
                        code=SamplingReasonCode.SEALED_ZONE, params={"residents": residents}
                    ),
                )
            )
        elif b.mobility_limited > 0:
            visits.append(HomeVisit(building_id=b.id, residents=b.mobility_limited))
    walk_in = sum(k.people for k in d.batches)
    totals = SamplingTotals(
        walk_in_people=walk_in,
        served_people=served,
        unserved_people=walk_in - served,
        walk_person_m=walk,
        person_slots=slots,
        max_backlog=max((r[4] for rows in loads_all.values() for r in rows), default=0),
        last_slot=last_slot,
    )
    gap: float | None = None
    if bound is not None:
        gap = (walk - bound) / bound if bound > 0 else (0.0 if walk == 0 else None)
    info = SolveInfo(
        status=status,
        solver=solver,
        objective={
            "served": float(served),
            "walk_person_m": float(walk),
            "person_slots": float(slots),
        },
        bound=bound,
        gap=gap,
        options=options,
        seed=seed,
        versions=library_versions("ortools"),
        stopped_by=stopped_by,
    )
    return SamplingPlan(
        assignments=assignments,
        building_points={a.building_id: a.point_id for a in assignments},
        loads=load_rows,
        door_to_door=door,
        home_visits=visits,
        unserved=unserved,
        totals=totals,
        info=info,
    )
