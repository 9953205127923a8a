"""Large-neighbourhood search for district-scale site plans (private; CP-SAT).

A plan with hundreds of sites gives CP-SAT a model too large to improve on in a minute, so
the planner re-solves it a neighbourhood at a time: a site and its nearest neighbours (the
sites sharing a building's reach with it), with every other site's assignment, lanes and
staff fixed. The sub-model keeps every building it holds served, meets the waiting target,
stays within what the pool leaves after the fixed sites, and minimises staff-minutes, then
walking (one objective, ``staff · W + walk`` with ``W`` above any walk, so exactly
lexicographic). A better neighbourhood replaces the old one; the passes end when a pass
changes nothing or the deterministic budget is spent. OR-Tools is imported only when it runs.
"""

from __future__ import annotations

from typing import Any

from commgov._control import SolveControl
from commgov.scheduling.sites._data import SitesData
from commgov.scheduling.sites._plan import _Load

__all__ = ["NEIGHBOURS", "SUB_DTIME", "lns"]

#: Sites in a neighbourhood besides its centre.
NEIGHBOURS = 9
#: CP-SAT deterministic time of one neighbourhood.
SUB_DTIME = 0.5


def lns(
    data: SitesData,
    assign: dict[int, int],
    ctl: SolveControl,
    dtime: float,
    seed: int,
    reserve_s: float = 0.05,
) -> dict[int, int]:
    """A plan serving the same buildings with staff-minutes, then walking, no worse.

    ``dtime`` is the deterministic-time budget over all neighbourhoods; ``ctl`` stops it,
    ``reserve_s`` wall-clock seconds before its deadline.
    """
    from ortools.sat.python import cp_model

    cur = dict(assign)
    walk = {b: dict(pairs) for b, pairs in data.reach.items()}
    shares: dict[int, set[int]] = {s: set() for s in range(data.n_sites)}
    for pairs in data.reach.values():
        sites = [s for s, _w in pairs]
        for s in sites:
            shares[s].update(sites)
    loc = [(st.location.lon, st.location.lat) for st in data.problem.sites]
    # buildings left out, by the sites in their reach
    waiting: dict[int, list[int]] = {}
    for b in sorted(set(data.reach) - set(cur)):
        for s, _w in data.reach[b]:
            waiting.setdefault(s, []).append(b)

    def near(s: int) -> list[int]:
        others = sorted(
            shares[s] - {s},
            key=lambda o: ((loc[o][0] - loc[s][0]) ** 2 + (loc[o][1] - loc[s][1]) ** 2, o),
        )
        return sorted([s, *others[:NEIGHBOURS]])

    spent = 0.0
    for _pass in range(10):
        changed = False
        for centre in range(data.n_sites):
            if spent >= dtime or ctl.should_stop(reserve_s):
                return cur
            group = near(centre)
            members = [b for b, s in sorted(cur.items()) if s in group]
            extra = sorted({b for s in group for b in waiting.get(s, ())} - set(cur))
            if not members and not extra:
                continue
            ctl.report("neighbourhoods", min(1.0, spent / dtime))
            found, used = _solve_group(
                data, cur, group, members, extra, walk, ctl, seed, cp_model, reserve_s
            )
            spent += used
            if found is not None:
                cur.update(found)
                changed = True
        if not changed:
            break
    return cur


def _solve_group(
    data: SitesData,
    cur: dict[int, int],
    group: list[int],
    members: list[int],
    extra: list[int],
    walk: dict[int, dict[int, int]],
    ctl: SolveControl,
    seed: int,
    cp_model: Any,
    reserve_s: float,
) -> tuple[dict[int, int] | None, float]:
    """The best re-assignment of ``members`` (kept served) and ``extra`` (left out so far)
    over ``group``: most served, then fewest staff-minutes, then least walking (``None``: no
    better one)."""
    load = _Load(data, cur)
    in_group = set(group)
    m = cp_model.CpModel()
    x: dict[tuple[int, int], Any] = {}
    by_site: dict[int, list[tuple[int, Any]]] = {s: [] for s in group}
    walk_terms = []
    served_terms = []
    big_w = 1 + sum(data.residents(b) * max(walk[b].values()) for b in [*members, *extra])
    keep = set(members)
    for b in [*members, *extra]:
        r = data.residents(b)
        row = []
        for s, w in data.reach[b]:
            if s in in_group and data.caps[s][-1] >= r:
                v = m.new_bool_var("")
                x[b, s] = v
                row.append(v)
                by_site[s].append((r, v))
                walk_terms.append(r * w * v)
                served_terms.append(r * v)
        if b in keep:
            m.add_exactly_one(row)
        elif row:
            m.add_at_most_one(row)
    # the pool left by the sites outside the group
    for s in group:
        load._add(s, data.staff[s][load.lanes[s]], -1)
    cost_terms = []
    at: dict[tuple[int, int], list[Any]] = {}
    hours: dict[int, list[Any]] = {}
    z: dict[tuple[int, int], Any] = {}
    for s in group:
        caps = data.caps[s]
        zs = []
        for c in range(1, len(caps)):
            v = m.new_bool_var("")
            z[s, c] = v
            zs.append(v)
            cost_terms.append(data.staff_minutes(s, c) * v)
            for r in data.limits:
                k = data.staff[s][c][r]
                if k:
                    for t in data.slots_of[s]:
                        at.setdefault((r, t), []).append(k * v)
                    hours.setdefault(r, []).append(k * len(data.slots_of[s]) * v)
        if zs:
            m.add_at_most_one(zs)
        m.add(
            sum(r * v for r, v in by_site[s]) <= sum(caps[c] * z[s, c] for c in range(1, len(caps)))
        )
    for (r, t), terms in sorted(at.items()):
        m.add(sum(terms) <= data.limits[r][0] - load.at[r][t])
    for r, terms in sorted(hours.items()):
        m.add(sum(terms) <= data.limits[r][1] - load.total[r])
    old_cost = sum(
        data.staff_minutes(s, lanes)
        for s in group
        for lanes in [
            data.lanes_for(s, sum(data.residents(b) for b in members if cur[b] == s)) or 0
        ]
    )
    old_walk = sum(data.residents(b) * walk[b][cur[b]] for b in members)
    old = old_cost * big_w + old_walk
    old_served = sum(data.residents(b) for b in members)
    for (b, s), v in x.items():
        m.add_hint(v, int(cur.get(b) == s))
    used = 0.0
    served = old_served
    if extra:  # first serve what more it can
        m.maximize(sum(served_terms))
        st, spent, solver = _run(m, ctl, seed, cp_model, reserve_s)
        used += spent
        if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            served = max(served, round(solver.objective_value))
    m.add(sum(served_terms) >= served)
    if served == old_served:
        m.add(sum(cost_terms) * big_w + sum(walk_terms) <= old)
    m.minimize(sum(cost_terms) * big_w + sum(walk_terms))
    st, spent, solver = _run(m, ctl, seed, cp_model, reserve_s)
    used += spent
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, used
    if served == old_served and round(solver.objective_value) >= old:
        return None, used
    return {b: s for (b, s), v in x.items() if solver.boolean_value(v)}, used


def _run(
    m: Any, ctl: SolveControl, seed: int, cp_model: Any, reserve_s: float
) -> tuple[Any, float, Any]:
    """One CP-SAT solve of a neighbourhood: (status, deterministic time, solver)."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = 1
    prm.random_seed = seed
    prm.max_deterministic_time = SUB_DTIME
    prm.max_time_in_seconds = max(0.01, ctl.remaining() - reserve_s)
    st = ctl.solve_cp_sat(solver, m, "neighbourhood")
    return st, solver.response_proto.deterministic_time, solver
