"""The supply planner's default method: an exact MIP per tier with HiGHS (private).

HiGHS (branch and cut on the LP relaxation) is imported only inside :func:`solve_highs`.
"""

from __future__ import annotations

import math
from typing import Any

from commgov._control import SolveControl
from commgov._highs import new_highs, run_highs
from commgov.errors import SolverError
from commgov.results import SolveStatus
from commgov.scheduling._location import stopped_status
from commgov.scheduling.supply._data import SupplyData
from commgov.scheduling.supply._improve import improve
from commgov.scheduling.supply._plan import complete

__all__ = ["CARRY_NODES", "FULL_NODES", "MAX_NODES", "solve_highs"]

#: Most branch-and-bound nodes per tier: HiGHS's deterministic work limit (the wall clock
#: is only a safety cap). Gusu district's tiers are proven within a few hundred.
MAX_NODES = 100_000
#: Most nodes of the first attempt, a plan serving every parcel in reach with the fewest
#: volunteers (without one within them, tier 1 is solved on its own). 双塔 needs about 1,000.
FULL_NODES = 5_000
#: Most nodes of tier 3 (parcel-metres carried), the hardest to prove and the least
#: important: past it the plan is ``FEASIBLE``, its first two tiers still proven.
CARRY_NODES = 200
#: Wall-clock seconds kept after the last search, fixed and per compound-station pair.
RESERVE_S = 0.05
RESERVE_PER_PAIR_S = 1.5e-5


def solve_highs(
    data: SupplyData,
    ctl: SolveControl,
    seed: int,
    max_nodes: int = MAX_NODES,
    carry_nodes: int = CARRY_NODES,
) -> tuple[dict[int, int], SolveStatus, float | None]:
    """Solve the supply-station MILP of ``data`` lexicographically with HiGHS.

    The model of :func:`._solve_cpsat.solve_cpsat` (``x[c,s] ≤ y[s]``, capacities, at most
    one station a compound, the volunteer pool), its tiers solved one after another by
    HiGHS's branch and cut, each to a proven optimum (absolute gap below 1 on whole-number
    objectives), fixed before the next. The greedy completion improved by
    :func:`._improve.improve` is the first start solution (``setSolution``), each tier's
    solution (improved the same way) the next tier's. One thread, ``random_seed=seed``,
    at most ``max_nodes`` nodes a tier; the wall clock is a safety cap.

    Returns the assignment (compound index → station index), the status (``OPTIMAL`` when
    every tier is proven; ``FEASIBLE`` when the node limit ended one first; ``LIMIT``;
    ``CANCELLED``) and a proven lower bound on the staff of plans serving the most parcels
    any plan can (``None`` unless tier 1 is proven and tier 2 ran).
    """
    import highspy
    import numpy as np

    greedy, _ = complete(data, {}, ctl.should_stop)
    if ctl.should_stop():
        return greedy, stopped_status(ctl), None
    ctl.report("local search")
    chosen = improve(data, greedy, ctl.should_stop)
    if ctl.should_stop():
        return chosen, stopped_status(ctl), None
    p = data.problem
    pairs = data.pairs()
    if not pairs:
        return chosen, SolveStatus.OPTIMAL, 0.0
    h = new_highs(seed)  # quiet, one thread, seeded; solved through run_highs
    for name, value in (
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", 0.5),  # whole-number objectives: a gap below 1 is a proof
        ("mip_max_nodes", max_nodes),
    ):
        h.setOptionValue(name, value)
    inf = highspy.kHighsInf
    stations = sorted({s for _c, s, _w in pairs})
    y = {s: k for k, s in enumerate(stations)}
    n = len(stations) + len(pairs)
    served = [0.0] * n
    staff = [0.0] * n
    carry = [0.0] * n
    for s, k in y.items():
        staff[k] = float(p.stations[s].staff)
    x: dict[tuple[int, int], int] = {}
    rows: dict[int, list[int]] = {}
    load: dict[int, tuple[list[int], list[float]]] = {}
    for j, (c, s, w) in enumerate(pairs, start=len(stations)):
        x[c, s] = j
        parcels = float(data.parcels(c))
        served[j] = parcels
        carry[j] = parcels * w
        rows.setdefault(c, []).append(j)
        idx, val = load.setdefault(s, ([], []))
        idx.append(j)
        val.append(parcels)
    h.addVars(n, [0.0] * n, [1.0] * n)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.ones(n, dtype=np.uint8))
    for js in rows.values():  # one row a compound, its lower bound 1 once all are served
        h.addRow(-inf, 1.0, len(js), js, [1.0] * len(js))
    n_rows = len(rows)
    for (_c, s), j in x.items():  # the strong formulation: x[c,s] <= y[s]
        h.addRow(-inf, 0.0, 2, [j, y[s]], [1.0, -1.0])
    for s in stations:
        idx, val = load[s]
        cap = float(p.stations[s].capacity_parcels)
        h.addRow(-inf, 0.0, len(idx) + 1, [*idx, y[s]], [*val, -cap])
    if p.volunteers is not None:
        h.addRow(
            -inf,
            float(p.volunteers),
            len(stations),
            list(range(len(stations))),
            staff[: len(stations)],
        )

    def start(assign: dict[int, int]) -> None:
        col = [0.0] * n
        for c, s in assign.items():
            j = x.get((c, s))
            if j is not None:
                col[j] = 1.0
                col[y[s]] = 1.0
        _set(h, highspy, col)

    def read() -> dict[int, int]:
        col = h.getSolution().col_value
        return {c: s for (c, s), j in x.items() if col[j] > 0.5}

    phase = ["start"]
    errors: list[BaseException] = []

    def interrupt(_type: Any, _msg: str, _out: Any, data_in: Any, _user: Any) -> None:
        """HiGHS asks during its search: stop on cancel or the deadline; heartbeats."""
        try:
            ctl.report(phase[0])  # at most one event a heartbeat within a phase
        except BaseException as exc:  # the progress callback failed: re-raised after run
            errors.append(exc)
            data_in.user_interrupt = True
        if ctl.should_stop():
            data_in.user_interrupt = True

    h.setCallback(interrupt, None)
    h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)
    most = sum(data.parcels(c) for c in rows)
    everything = list(range(n))

    def run(
        name: str, k: int, coef: list[float], maximise: bool, hint: bool, nodes: int = 0
    ) -> Any:
        """Solve one tier; its HiGHS model status (the solution is read by the caller)."""
        phase[0] = f"tier {name}"
        ctl.report(phase[0], k / 3)
        h.changeColsCost(n, everything, coef)
        sense = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        h.changeObjectiveSense(sense)
        if hint:
            start(chosen)
        h.setOptionValue("mip_max_nodes", nodes or (max_nodes if k < 2 else carry_nodes))
        reserve = RESERVE_S + RESERVE_PER_PAIR_S * len(x)
        h.setOptionValue("time_limit", max(0.01, ctl.remaining() - reserve))
        run_highs(h)
        if errors:
            raise errors[0]
        ms = h.getModelStatus()
        if ms == highspy.HighsModelStatus.kModelError:
            raise SolverError(f"HiGHS returned {h.modelStatusToString(ms)} on supply tier {name!r}")
        if ms == highspy.HighsModelStatus.kTimeLimit and ctl.stopped_by is None:
            ctl.stopped_by = "wall_clock"
        return ms

    def serve_all(on: bool) -> None:
        lower = 1.0 if on else -inf
        for r in range(n_rows):
            h.changeRowBounds(r, lower, 1.0)

    def has_solution() -> bool:
        return bool(h.getInfo().primal_solution_status == 2)

    def give_up(
        ms: Any, name: str, bound: float | None
    ) -> tuple[dict[int, int], SolveStatus, float | None]:
        """The plan so far when a tier ended without a solution (``ms`` its status)."""
        if ms == highspy.HighsModelStatus.kInfeasible:  # the start solution is feasible
            raise SolverError(f"HiGHS: infeasible supply tier {name!r} (a bug)")
        return chosen, stopped_status(ctl), bound

    proven = True
    bound: float | None = None
    optimal = highspy.HighsModelStatus.kOptimal
    stopped = (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt)
    full = sum(data.parcels(c) for c in chosen) == most
    tier2_done = False
    if not full and not ctl.should_stop(0.01):
        # a plan serving every parcel in reach, with the fewest volunteers: when one exists it
        # proves tier 1 (= most) and solves tier 2 at once, on the tighter model
        serve_all(True)
        ms = run("staff", 1, staff, False, hint=False, nodes=min(max_nodes, FULL_NODES))
        if has_solution():  # proven, or the best within the limits (the loop below says)
            full = tier2_done = True
        elif ms in stopped:
            return chosen, stopped_status(ctl), None
        else:
            serve_all(False)  # infeasible, or no plan within the node limit: tier 1 itself
    if not full:
        if ctl.should_stop(0.01):
            return chosen, stopped_status(ctl), None
        ms = run("served", 0, served, True, hint=True)
        if not has_solution():
            return give_up(ms, "served", None)
        value = round(h.getInfo().objective_function_value)
        proven = ms == optimal
        chosen = improve(data, read(), ctl.should_stop)
        if ms in stopped:
            return chosen, stopped_status(ctl), None
        h.addRow(float(value) - 0.5, inf, n, everything, served)
    elif not tier2_done:
        serve_all(True)  # tier 1 = most: every compound in rows is served
    for k, name, coef in ((1, "staff", staff), (2, "carry_parcel_m", carry)):
        if not (k == 1 and tier2_done):
            if ctl.should_stop(0.01):
                return chosen, stopped_status(ctl), bound
            ms = run(name, k, coef, False, hint=True)
            if not has_solution():
                return give_up(ms, name, bound)
        info = h.getInfo()
        value = round(info.objective_function_value)
        if k == 1 and proven:  # the bound holds for plans serving the proven tier-1 value
            dual = info.mip_dual_bound
            if ms == optimal:
                bound = float(value)
            elif math.isfinite(dual):
                bound = float(max(0, math.ceil(dual - 1e-6)))
        found = read()
        chosen = improve(data, found, ctl.should_stop) if k == 1 else found
        proven = proven and ms == optimal
        if ms in stopped:
            return chosen, stopped_status(ctl), bound
        h.addRow(-inf, float(value) + 0.5, n, everything, coef)
    return chosen, SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE, bound


def _set(h: Any, highspy: Any, col: list[float]) -> None:
    """Give HiGHS ``col`` as the start solution of the next MIP solve."""
    sol = highspy.HighsSolution()
    sol.col_value = col
    sol.value_valid = True
    h.setSolution(sol)
