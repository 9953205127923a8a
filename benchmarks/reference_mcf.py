"""Reference solver for commgov matching instances: OR-Tools min-cost flow, nothing from commgov.

Usage::

    python benchmarks/reference_mcf.py INSTANCE.json [--json]

Reads a ``MatchingProblem`` JSON file (``benchmarks/make_instances.py``) with plain ``json``,
builds the same model as DESIGN.md "Matching", ``min_cost`` and solves it with OR-Tools
``SimpleMinCostFlow`` directly:

* eligible pair: volunteer level in the task's skill ≥ ``min_level``; in scope (below); travel
  distance ``floor(haversine · detour_factor + 0.5)`` ≤ ``max_distance_m`` (haversine on a
  sphere of radius 6,371,008.8 m, written as in ``commgov.types.haversine_m``); the task window
  inside one availability window (half-open intervals);
* scope level of a pair, first rule that applies (DESIGN.md "Organisation scope"): a
  ``partner`` volunteer → partner; the task's ``building_id`` in the volunteer's
  ``building_ids`` → building; the same non-null ``compound_id`` → compound; the same
  ``community_id``, or either side without one → community; otherwise out of scope (no pair).
  Its penalty in metre-equivalents comes from ``scope_penalties`` in the JSON (defaults
  building 0, compound 100, community 300, partner 600);
* network: source → task (cap 1), task → sink (cap 1, cost M·priority: leaving it unserved),
  task → (volunteer, slot) (cap 1, cost = penalty + distance), (volunteer, slot) →
  (volunteer, day) (cap ``capacity_per_slot``), (volunteer, day) → sink (cap
  ``capacity_per_day``), the day being the date of the slot start in the problem's time zone;
  M = 1 + Σ_task max eligible cost, so the optimum maximises priority served, then minimises
  scope penalty + travel (``cost_m``), the ``min_cost`` objective.

Pinned pairs, a previous plan and minute budgets are not modelled: such files are refused.

Prints the objective ``(priority_served, cost_m)`` (with the optimum's ``travel_m`` and
``scope_penalty_m``, which ties may split differently) and the end-to-end time from the parsed
file to the objective (candidate generation, network, solve); ``load_s`` is reading the file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
SCOPE_LEVELS = ("building", "compound", "community", "partner")
DEFAULT_PENALTIES = {"building": 0, "compound": 100, "community": 300, "partner": 600}


def scope_ranks(
    tasks: list[dict[str, Any]], vols: list[dict[str, Any]], pt: np.ndarray, pv: np.ndarray
) -> np.ndarray:
    """Scope rank of each (task, volunteer) pair: 0 building … 3 partner, -1 out of scope."""
    codes: dict[str, int] = {}

    def code(value: str | None, none: int) -> int:
        return none if value is None else codes.setdefault(value, len(codes))

    t_bld = np.array([code(t.get("building_id"), -1) for t in tasks], dtype=np.int64)
    t_comp = np.array([code(t.get("compound_id"), -1) for t in tasks], dtype=np.int64)
    t_comm = np.array([code(t.get("community_id"), -1) for t in tasks], dtype=np.int64)
    v_comp = np.array([code(v.get("compound_id"), -2) for v in vols], dtype=np.int64)
    v_comm = np.array([code(v.get("community_id"), -1) for v in vols], dtype=np.int64)
    v_partner = np.array([bool(v.get("partner", False)) for v in vols], dtype=bool)
    members = [(j, code(b, -1)) for j, v in enumerate(vols) for b in v.get("building_ids", [])]
    n_codes = max(len(codes), 1)  # after every code is assigned
    member = np.array(sorted(j * n_codes + b for j, b in members), dtype=np.int64)
    tb = t_bld[pt]
    in_building = (tb >= 0) & np.isin(pv * n_codes + tb, member)
    same_compound = (t_comp[pt] >= 0) & (t_comp[pt] == v_comp[pv])
    tm, vm = t_comm[pt], v_comm[pv]
    community = (tm < 0) | (vm < 0) | (tm == vm)
    rank = np.where(community, 2, -1)
    rank = np.where(same_compound, 1, rank)
    rank = np.where(in_building, 0, rank)
    return np.where(v_partner[pv], 3, rank).astype(np.int64)


def _instant(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def build_network(data: dict[str, Any]) -> dict[str, Any]:
    """The min-cost-flow network of a parsed problem (arrays for SimpleMinCostFlow)."""
    if data.get("pinned") or data.get("previous"):
        raise ValueError("pinned pairs and previous plans are not modelled by this reference")
    if any(v.get("minutes_per_day") is not None for v in data.get("volunteers", [])):
        raise ValueError("minute budgets are not modelled by this reference")
    tz = ZoneInfo(data["timezone"])
    tasks = sorted(data.get("tasks", []), key=lambda t: t["id"])
    vols = sorted(data.get("volunteers", []), key=lambda v: v["id"])
    limit = float(data.get("max_distance_m", 1000.0))
    detour = float(data.get("detour_factor", 1.0))
    nt, nv = len(tasks), len(vols)

    # slots and days
    slot_ix: dict[tuple[float, float], int] = {}
    t_slot = np.empty(nt, dtype=np.int64)
    for i, t in enumerate(tasks):
        key = (_instant(t["window"]["start"]), _instant(t["window"]["end"]))
        t_slot[i] = slot_ix.setdefault(key, len(slot_ix))
    slots = list(slot_ix)
    ns = len(slots)
    day_ix: dict[Any, int] = {}
    slot_day = np.array(
        [day_ix.setdefault(datetime.fromtimestamp(s, tz).date(), len(day_ix)) for s, _ in slots],
        dtype=np.int64,
    )
    nd = len(day_ix)
    avail = np.zeros((nv, ns), dtype=bool)
    for j, v in enumerate(vols):
        for w in v.get("availability", []):
            a, b = _instant(w["start"]), _instant(w["end"])
            for k, (s, e) in enumerate(slots):
                if a <= s and e <= b:
                    avail[j, k] = True

    t_lon = np.array([t["location"]["lon"] for t in tasks], dtype=np.float64)
    t_lat = np.array([t["location"]["lat"] for t in tasks], dtype=np.float64)
    v_lon = np.array([v["location"]["lon"] for v in vols], dtype=np.float64)
    v_lat = np.array([v["location"]["lat"] for v in vols], dtype=np.float64)
    t_level = np.array([t.get("min_level", 1) for t in tasks], dtype=np.int64)

    # candidate generation: per skill, a lat/lon grid with cells wider than the reach
    reach_deg_lat = math.degrees((limit + 1.0) / (EARTH_RADIUS_M * detour))
    pair_t: list[np.ndarray] = []
    pair_v: list[np.ndarray] = []
    pair_d: list[np.ndarray] = []
    skills = sorted({t["skill"] for t in tasks})
    for skill in skills:
        ti = np.array([i for i, t in enumerate(tasks) if t["skill"] == skill], dtype=np.int64)
        vi = np.array(
            [j for j, v in enumerate(vols) if v.get("skills", {}).get(skill, 0) >= 1],
            dtype=np.int64,
        )
        if len(ti) == 0 or len(vi) == 0:
            continue
        v_level = np.array([vols[j]["skills"][skill] for j in vi], dtype=np.int64)
        max_lat = float(np.max(np.abs(np.concatenate([t_lat[ti], v_lat[vi]]))))
        cos_min = max(math.cos(math.radians(min(89.9, max_lat + reach_deg_lat))), 1e-6)
        cell_lat = reach_deg_lat
        cell_lon = min(360.0, reach_deg_lat / cos_min)
        v_cy = np.floor(v_lat[vi] / cell_lat).astype(np.int64)
        v_cx = np.floor(v_lon[vi] / cell_lon).astype(np.int64)
        t_cy = np.floor(t_lat[ti] / cell_lat).astype(np.int64)
        t_cx = np.floor(t_lon[ti] / cell_lon).astype(np.int64)
        buckets: dict[tuple[int, int], list[int]] = {}
        for k, key in enumerate(zip(v_cx.tolist(), v_cy.tolist(), strict=True)):
            buckets.setdefault(key, []).append(k)
        t_cells: dict[tuple[int, int], list[int]] = {}
        for k, key in enumerate(zip(t_cx.tolist(), t_cy.tolist(), strict=True)):
            t_cells.setdefault(key, []).append(k)
        for (cx, cy), tk in t_cells.items():
            vk_list: list[int] = []
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    vk_list.extend(buckets.get((cx + dx, cy + dy), ()))
            if not vk_list:
                continue
            tk_a = np.array(tk, dtype=np.int64)
            vk_a = np.array(vk_list, dtype=np.int64)
            tt = ti[tk_a][:, None]
            vv = vi[vk_a][None, :]
            p1 = np.radians(t_lat[tt])
            p2 = np.radians(v_lat[vv])
            dp = p2 - p1
            dl = np.radians(v_lon[vv] - t_lon[tt])
            h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
            hav = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
            dist = np.floor(hav * detour + 0.5)
            ok = (
                (v_level[vk_a][None, :] >= t_level[tt])
                & (dist <= limit)
                & avail[vv, t_slot[tt]]
            )
            r, c = np.nonzero(ok)
            pair_t.append(ti[tk_a][r])
            pair_v.append(vi[vk_a][c])
            pair_d.append(dist[r, c].astype(np.int64))
    pt = np.concatenate(pair_t) if pair_t else np.zeros(0, dtype=np.int64)
    pv = np.concatenate(pair_v) if pair_v else np.zeros(0, dtype=np.int64)
    pd = np.concatenate(pair_d) if pair_d else np.zeros(0, dtype=np.int64)
    rank = scope_ranks(tasks, vols, pt, pv)
    keep = rank >= 0
    pt, pv, pd, rank = pt[keep], pv[keep], pd[keep], rank[keep]
    pen_map = {**DEFAULT_PENALTIES, **(data.get("scope_penalties") or {})}
    penalty = np.array([int(pen_map[name]) for name in SCOPE_LEVELS], dtype=np.int64)
    pen = penalty[rank]
    pc = pd + pen
    best = np.zeros(nt, dtype=np.int64)
    np.maximum.at(best, pt, pc)
    big_m = 1 + int(best.sum())

    prio = np.array([t.get("priority", 1) for t in tasks], dtype=np.int64)
    cps = np.array([v.get("capacity_per_slot", 1) for v in vols], dtype=np.int64)
    cpd = np.array([v.get("capacity_per_day", 8) for v in vols], dtype=np.int64)
    src, snk, task0 = 0, 1, 2
    vs0 = task0 + nt  # (v, slot): vs0 + v·ns + s
    vd0 = vs0 + nv * ns  # (v, day): vd0 + v·nd + d
    n_nodes = vd0 + nv * nd
    ar = np.arange(nt, dtype=np.int64)
    vsl_v = np.repeat(np.arange(nv, dtype=np.int64), ns)
    vsl_s = np.tile(np.arange(ns, dtype=np.int64), nv)
    starts = np.concatenate(
        [
            np.full(nt, src),
            task0 + ar,
            task0 + pt,
            vs0 + np.arange(nv * ns),
            vd0 + np.arange(nv * nd),
        ]
    )
    ends = np.concatenate(
        [
            task0 + ar,
            np.full(nt, snk),
            vs0 + pv * ns + t_slot[pt],
            vd0 + vsl_v * nd + slot_day[vsl_s],
            np.full(nv * nd, snk),
        ]
    )
    caps = np.concatenate(
        [np.ones(2 * nt + len(pt), dtype=np.int64), cps[vsl_v], np.repeat(cpd, nd)]
    )
    costs = np.concatenate(
        [np.zeros(nt, dtype=np.int64), big_m * prio, pc, np.zeros(nv * (ns + nd), dtype=np.int64)]
    )
    return {
        "starts": starts.astype(np.int32),
        "ends": ends.astype(np.int32),
        "caps": caps,
        "costs": costs,
        "n_nodes": n_nodes,
        "n_tasks": nt,
        "big_m": big_m,
        "priority_total": int(prio.sum()),
        "n_pairs": len(pt),
        "pair_arcs": (2 * nt + np.arange(len(pt))).astype(np.int32),
        "pair_d": pd,
        "pair_pen": pen,
    }


def solve_network(net: dict[str, Any]) -> tuple[int, int, int, int]:
    """Solve with SimpleMinCostFlow.

    Returns ``(priority_served, cost_m, travel_m, scope_penalty_m)`` of the optimum found.
    """
    if net["n_tasks"] == 0:
        return 0, 0, 0, 0
    from ortools.graph.python import min_cost_flow

    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(net["starts"], net["ends"], net["caps"], net["costs"])
    sup = np.zeros(net["n_nodes"], dtype=np.int64)
    sup[0], sup[1] = net["n_tasks"], -net["n_tasks"]
    smcf.set_nodes_supplies(np.arange(net["n_nodes"], dtype=np.int32), sup)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"SimpleMinCostFlow status {status}")
    total = int(smcf.optimal_cost())
    unserved, cost = divmod(total, net["big_m"])
    used = np.asarray(smcf.flows(net["pair_arcs"])) > 0
    travel = int(net["pair_d"][used].sum())
    penalty = int(net["pair_pen"][used].sum())
    if travel + penalty != cost:
        raise RuntimeError("decoded cost does not match the optimal cost")
    return net["priority_total"] - unserved, cost, travel, penalty


def solve(data: dict[str, Any]) -> dict[str, Any]:
    """Build and solve a parsed problem; objective, sizes and end-to-end seconds."""
    t0 = time.perf_counter()
    net = build_network(data)
    t1 = time.perf_counter()
    served, cost, travel, penalty = solve_network(net)
    t2 = time.perf_counter()
    return {
        "priority_served": served,
        "cost_m": cost,
        "travel_m": travel,
        "scope_penalty_m": penalty,
        "pairs": net["n_pairs"],
        "arcs": len(net["costs"]),
        "nodes": net["n_nodes"],
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "total_s": t2 - t0,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("instance")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    with open(args.instance, encoding="utf-8") as fh:
        data = json.load(fh)
    load_s = time.perf_counter() - t0
    out = solve(data)
    out["load_s"] = load_s
    if sys.platform != "win32":
        import resource

        out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps(out, sort_keys=True))
    else:
        print(
            f"objective: priority_served={out['priority_served']} cost_m={out['cost_m']} "
            f"(travel_m={out['travel_m']}, scope_penalty_m={out['scope_penalty_m']})\n"
            f"pairs={out['pairs']} arcs={out['arcs']} nodes={out['nodes']}\n"
            f"end-to-end {out['total_s']:.3f} s (build {out['build_s']:.3f} s, "
            f"solve {out['solve_s']:.3f} s; file load {load_s:.3f} s)"
        )


if __name__ == "__main__":
    main()
