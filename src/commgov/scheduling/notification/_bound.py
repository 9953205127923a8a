"""Lower bound on the makespan of any notification plan (reach and work bounds).

Shared by the planner (``plan.totals.bound_s``, the gap and the ``OPTIMAL`` status) and
:func:`notification_lower_bound`. The verifier does not import this module (it imports
OR-Tools for the linear assignment); it checks only that a plan's bound does not exceed its
makespan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commgov.errors import SolverError, expect_type
from commgov.results import ObjectiveBound
from commgov.scheduling.notification._problem import NotificationProblem
from commgov.scheduling.notification._rules import NotificationTimes, _column_min_off_diagonal

__all__ = ["bound_parts", "lower_bound", "notification_lower_bound", "quick_bound", "water_fill"]

#: What :func:`notification_lower_bound` reports as its ``method``.
BOUND_METHOD = "reach and work (least walk in, predecessor assignment, 1-tree)"


def notification_lower_bound(problem: NotificationProblem) -> ObjectiveBound:
    """A proven lower bound on the makespan of any plan, in seconds after ``start``.

    The larger of two bounds (``s_v``: :func:`start_offset_seconds` of volunteer ``v``;
    ``t_v(a, b)``: :func:`walk_seconds` of :func:`walk_metres` at ``v``'s speed; ``n_b``:
    :func:`notify_seconds`):

    * **reach**: ``max_b min_v r_vb``, where ``r_vb`` is the earliest ``v`` could finish
      ``b`` on any path from home, every building on the way costing its notify time
      (:meth:`NotificationTimes.reach`; at least ``s_v + t_v(home_v, b) + n_b``);
    * **work**: a plan finishing at ``M`` gives volunteer ``v`` at most ``max(0, M − s_v)``
      seconds, which must cover all notify times plus all walking: ``Σ_v max(0, M − s_v) ≥
      W = Σ_b n_b + L``; the bound is the least integer ``M`` with this (:func:`water_fill`;
      ``⌈(Σ_v s_v + W) / V⌉`` when all ``V`` volunteers start by then). ``L`` is the largest
      of three lower bounds on the total walking of any plan:

      - Σ_b ``in_b``, the least walk into each building from a start place or another
        building;
      - a **predecessor assignment**: each building gets a distinct predecessor (another
        building or a start place), as the routes give it; a linear assignment (OR-Tools);
      - a **1-tree bound** (Held & Karp, *Operations Research* 18, 1970): the routes plus a
        root joined to their first buildings form a spanning tree in which each building has
        degree ≤ 2; the Lagrangian ``MST(c_ab + π_a + π_b) − 2 Σ π`` with integer ``π ≥ 0``
        found by subgradient steps.

      Walks between buildings are taken at the fastest volunteer's speed.

    Parameters
    ----------
    problem : NotificationProblem
        The validated problem.

    Returns
    -------
    commgov.results.ObjectiveBound
        ``family="notification"``, one tier ``makespan_s`` (seconds after ``start``; 0
        without buildings), ``main="makespan_s"``; ``figures``: the reach bound
        ``reach_s``, the work bound ``work_s``, the notify time ``notify_s`` and the walking
        lower bound ``walk_s`` (seconds, summed over all volunteers).

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`NotificationProblem`.
    commgov.errors.SolverError
        If the linear assignment fails (never on valid input).

    Notes
    -----
    O(B² · V) for B buildings and V volunteers, plus the assignment and spanning trees
    (O(B²) each round). Imports OR-Tools (linear assignment) when called.

    References
    ----------
    M. Held and R. M. Karp, "The traveling-salesman problem and minimum spanning trees",
    *Operations Research* 18(6), 1138–1162, 1970.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from commgov.types import GeoPoint
    >>> from commgov.scheduling.notification import (
    ...     NotificationBuilding, NotificationProblem, Notifier)
    >>> p = NotificationProblem(
    ...     timezone="UTC", start=datetime(2022, 4, 12, tzinfo=UTC),
    ...     buildings=[NotificationBuilding(id="b", households=4,
    ...                                     location=GeoPoint(lon=120.6, lat=31.3))],
    ...     volunteers=[Notifier(id="v", location=GeoPoint(lon=120.6, lat=31.3))])
    >>> bound = notification_lower_bound(p)
    >>> bound.value, bound.main  # 2 min message + 1 knock (⌈4 × 0.15⌉) × 1 min
    (180.0, 'makespan_s')
    """
    expect_type(problem, NotificationProblem, "problem",
                "build one with NotificationProblem(...) or notification_problem_from_org")
    parts = bound_parts(NotificationTimes(problem))
    assert parts is not None  # no stop was given
    return ObjectiveBound(family="notification", method=BOUND_METHOD,
                          tiers={"makespan_s": float(parts["makespan_s"])}, main="makespan_s",
                          figures={k: float(v) for k, v in parts.items() if k != "makespan_s"})


def bound_parts(
    times: NotificationTimes, stop: Callable[[], bool] | None = None
) -> dict[str, int] | None:
    """The bound and its parts, in whole seconds: ``makespan_s`` (the bound), ``reach_s``,
    ``work_s``, ``notify_s`` and ``walk_s`` (all 0 without buildings).

    ``stop``, if given, is asked between the steps (and inside the long ones); once it says
    so, ``None`` is returned (the planner then uses :func:`quick_bound`).
    """
    n = len(times.building_ids)
    if not n:
        return {"makespan_s": 0, "reach_s": 0, "work_s": 0, "notify_s": 0, "walk_s": 0}
    first = times.reach_first(stop)
    if first is None or (stop is not None and stop()):
        return None
    reach_bound = max(first)
    walk_in_s = _walk_in_total(times)
    pred = None if stop is not None and stop() else predecessor_walk_bound(times)
    tree = None if pred is None else tree_walk_bound(times, stop=stop)
    if pred is None or tree is None:
        return None
    walking = max(walk_in_s, pred, tree)
    notify = sum(times.service)
    work = water_fill(times.offsets, notify + walking)
    return {"makespan_s": max(reach_bound, work), "reach_s": reach_bound, "work_s": work,
            "notify_s": notify, "walk_s": walking}


def _walk_in_total(times: NotificationTimes) -> int:
    """Σ_b min_v ``walk_in[v][b]`` (:meth:`NotificationTimes.walk_in`), in O(S · B² + V · B)."""
    import numpy as np

    into = np.min(np.stack([np.asarray(times.home_s_a).min(axis=0)]
                           + [_column_min_off_diagonal(a) for a in times.between_s_a]), axis=0)
    return int(into.sum())


def lower_bound(times: NotificationTimes, stop: Callable[[], bool] | None = None) -> int | None:
    """The bound of :func:`notification_lower_bound` in whole seconds, from ``times``
    (``None`` when ``stop`` cut it short)."""
    parts = bound_parts(times, stop)
    return None if parts is None else parts["makespan_s"]


def quick_bound(times: NotificationTimes) -> int:
    """A weaker bound in O(B · V), used when a run is stopped before the full bound: the
    earliest any volunteer could finish the hardest building going there straight from home,
    and the work bound without walking."""
    n = len(times.building_ids)
    if not n:
        return 0
    first = (times.offsets_a[:, None] + times.home_s_a).min(axis=0) + times.service_a
    return max(int(first.max()), water_fill(times.offsets, sum(times.service)))


def water_fill(offsets: list[int], work: int) -> int:
    """Least integer ``M`` with ``Σ max(0, M − s) ≥ work`` over ``offsets`` (non-empty).

    Examples
    --------
    >>> water_fill([0, 0], 10), water_fill([0, 100], 10), water_fill([0, 10], 30)
    (5, 10, 20)
    """
    ordered = sorted(offsets)
    total = 0
    for k, s in enumerate(ordered, start=1):
        total += s
        m = -(-(work + total) // k)  # ⌈(work + Σ first k starts) / k⌉
        if k == len(ordered) or m <= ordered[k]:
            return max(m, ordered[0])
    raise AssertionError("unreachable")  # pragma: no cover



def predecessor_walk_bound(times: NotificationTimes) -> int:
    """Least total walking (s) of any plan: each building gets one predecessor (another
    building, walked at the fastest speed, or a volunteer's start place), each building and
    each start place precedes at most one building. A linear assignment (OR-Tools
    ``SimpleLinearSumAssignment``) with one dummy row per volunteer for the route ends."""
    import numpy as np
    from ortools.graph.python import linear_sum_assignment

    n = len(times.building_ids)
    n_vol = len(times.offsets)
    walk_t = times.between_s_a[0].T  # walk_t[b][a]: from a to b at the fastest speed
    off = ~np.eye(n, dtype=bool)
    # row b: the other buildings a (in order), then the start places n + v
    rights = np.hstack([np.broadcast_to(np.arange(n), (n, n))[off].reshape(n, n - 1),
                        np.broadcast_to(n + np.arange(n_vol), (n, n_vol))])
    costs = np.hstack([walk_t[off].reshape(n, n - 1), times.home_s_a.T])
    lefts = np.repeat(np.arange(n), n - 1 + n_vol)
    d_lefts = np.repeat(n + np.arange(n_vol), n + n_vol)
    d_rights = np.tile(np.arange(n + n_vol), n_vol)
    lefts = np.concatenate([lefts, d_lefts])
    rights = np.concatenate([rights.ravel(), d_rights])
    costs = np.concatenate([costs.ravel(), np.zeros(len(d_lefts), dtype=np.int64)])
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    solver.add_arcs_with_cost(lefts, rights, costs)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise SolverError(f"linear assignment of the walking bound returned {status}")
    return int(solver.optimal_cost())


def _spanning_tree(cost: Any) -> tuple[int, Any]:
    """Weight and node degrees of a minimum spanning tree of a dense symmetric matrix (Prim)."""
    import numpy as np

    size = cost.shape[0]
    in_tree = np.zeros(size, dtype=bool)
    best = cost[0].copy()
    parent = np.zeros(size, dtype=np.int64)
    in_tree[0] = True
    best[0] = np.iinfo(np.int64).max
    degree = np.zeros(size, dtype=np.int64)
    total = 0
    for _ in range(size - 1):
        masked = np.where(in_tree, np.iinfo(np.int64).max, best)
        k = int(np.argmin(masked))
        total += int(masked[k])
        degree[k] += 1
        degree[parent[k]] += 1
        in_tree[k] = True
        closer = cost[k] < best
        best = np.where(closer, cost[k], best)
        parent = np.where(closer, k, parent)
    return total, degree


def tree_walk_bound(
    times: NotificationTimes, rounds: int = 60, stop: Callable[[], bool] | None = None
) -> int | None:
    """Least total walking (s) of any plan, by the 1-tree argument of Held & Karp (1970).

    The routes together with a root joined to each route's first building form a spanning
    tree of root + buildings in which every building has degree ≤ 2 (a path). Root edges
    cost the shortest walk from any start place, building edges the walk at the fastest
    speed (the smaller of both directions). For integer penalties ``π_b ≥ 0``,
    ``MST(c_ab + π_a + π_b) − 2 Σ π_b`` is a lower bound (a path tree has Σ π_b deg_b ≤ 2 Σ π_b);
    ``π`` is raised on buildings of degree > 2 by subgradient steps, and the best value over
    the rounds is returned. Integer arithmetic throughout, so the bound is exact. ``None``
    when ``stop()`` (asked before each round) said so.
    """
    import numpy as np

    n = len(times.building_ids)
    walk = times.between_s_a[0]
    walk = np.minimum(walk, walk.T)
    root = times.home_s_a.min(axis=0)
    base = np.zeros((n + 1, n + 1), dtype=np.int64)
    base[1:, 1:] = walk
    base[0, 1:] = root
    base[1:, 0] = root
    pi = np.zeros(n + 1, dtype=np.int64)
    best = 0
    step = max(1.0, float(walk.max()) / 10)
    for _ in range(rounds):
        if stop is not None and stop():
            return None
        total, degree = _spanning_tree(base + pi[:, None] + pi[None, :])
        value = total - 2 * int(pi.sum())
        best = max(best, value)
        excess = degree - 2
        excess[0] = 0  # the root has no degree limit here
        if not (excess > 0).any():
            break
        pi = np.maximum(0, pi + np.rint(step * excess).astype(np.int64))
        pi[0] = 0
        step = max(0.5, step * 0.9)
    return max(best, 0)


