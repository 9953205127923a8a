"""Check plan_sampling on the benchmark tiers against an independent bound and direct CP-SAT.

Usage::

    PYTHONPATH=src python benchmarks/check_sampling.py [--tiers C S D13 D48] [--seeds 0 1 2 3 4]
        [--limit S] [--no-cpsat] [--cpsat-max-vars N] [--out DIR] [--force]

For each tier and seed:

1. the instance ``commgov.datasets.sampling_instance(tier, seed)`` is built in a fresh
   process and cached as ``DIR/sampling-<tier>-<seed>.json`` (default ``benchmarks/instances/``,
   gitignored), unless the file exists;
2. a fresh process loads it, times ``plan_sampling(problem, time_limit_s=limit)`` alone (the
   issue's targets: C 5 s, S 10 s, D13 30 s, D48 60 s, unless ``--limit``), writes the plan as
   ``DIR/sampling-<tier>-<seed>.plan.json`` and reports its peak memory (ru_maxrss);
3. this process, which uses only the records, the verifier
   (:func:`commgov.scheduling.sampling.is_valid_sampling_plan`) and the standalone bound script
   (``benchmarks/sampling_bound.py``, which imports nothing from commgov), reads the written
   plan and instance and recomputes every figure: people served, zone violations (sealed
   buildings at a point, points a building is not allowed), buildings split across points,
   the largest end-of-slot backlog and the backlog left at the end of the window (fluid queue
   recomputed), walking in person-metres; it runs ``is_valid_sampling_plan`` and compares the
   plan's own totals with the recomputed ones;
4. the bound is the splittable relaxation (min-cost flow); gap = (walking − bound) / bound,
   given only when the plan serves as many people as the relaxation;
5. beside it (unless ``--no-cpsat``), a fresh process solves a direct CP-SAT model of the same
   instance written here — ``x[batch, point, slot]``, ``y[building, point]``, one point per
   building, one (point, slot) per batch, the F2 fluid queue — with default CP-SAT parameters
   and the same time limit, minimising walking + 2,400 × unserved people. Models above
   ``--cpsat-max-vars`` Booleans are skipped (building them in Python takes minutes and GBs).

Columns: ``ours`` walking gap to the bound, plan_sampling time and status (the solver's own
proof), ``mem`` peak resident memory of the planning process; ``cp-sat`` the same for the
direct model (time = its solve time, build time apart); ``bound`` the min-cost-flow time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sampling_bound  # noqa: E402  (standalone: imports nothing from commgov)

TIERS = ("C", "S", "D13", "D48")
TARGET_S = {"C": 5.0, "S": 10.0, "D13": 30.0, "D48": 60.0}
TARGET_GAP = {"C": 0.0, "S": 0.01, "D13": 0.02, "D48": 0.02}
DEFAULT_OUT = HERE / "instances"
UNSERVED_WEIGHT = 2_400  # per person, in the direct CP-SAT objective


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- workers (each runs in a fresh process) -------------------------------------------------


def worker_build(tier: str, seed: int, path: Path) -> dict:
    from commgov.datasets import sampling_instance

    t = time.perf_counter()
    problem = sampling_instance(tier, seed)  # type: ignore[arg-type]
    built = time.perf_counter() - t
    tmp = path.with_suffix(".tmp")
    tmp.write_text(problem.model_dump_json(), encoding="utf-8")
    tmp.replace(path)
    return {"build_s": built, "maxrss_mb": _maxrss_mb()}


def worker_plan(path: Path, limit: float, plan_path: Path) -> dict:
    from commgov.scheduling import SamplingProblem, plan_sampling

    problem = SamplingProblem.model_validate_json(path.read_text(encoding="utf-8"))
    t = time.perf_counter()
    plan = plan_sampling(problem, time_limit_s=limit)
    took = time.perf_counter() - t
    plan_path.write_text(plan.to_json(), encoding="utf-8")
    return {"time_s": took, "maxrss_mb": _maxrss_mb(), "status": str(plan.info.status),
            "solver_bound": plan.info.bound, "solver_gap": plan.info.gap}


def worker_cpsat(path: Path, limit: float, max_vars: int) -> dict:
    from ortools.sat.python import cp_model

    inst = json.loads(path.read_text(encoding="utf-8"))
    a = sampling_bound.arcs(inst)
    nt, cap, opened = a["n_slots"], a["cap"], a["opened"]
    batches = {b["id"]: b.get("batches", []) for b in inst["buildings"]}
    n_vars = sum(len(batches[b]) * len(opened[p]) for b, p, _d in a["pairs"])
    if n_vars > max_vars:
        return {"skipped": f"{n_vars} vars"}
    t0 = time.perf_counter()
    m = cp_model.CpModel()
    per_b: dict[str, list] = defaultdict(list)
    per_k: dict[str, list] = defaultdict(list)
    arrivals: dict[tuple[str, int], list] = defaultdict(list)
    walk, served = [], []
    for b, p, d in a["pairs"]:
        y = m.new_bool_var(f"y[{b},{p}]")
        per_b[b].append(y)
        for k in batches[b]:
            for t in opened[p]:
                x = m.new_bool_var(f"x[{k['id']},{p},{t}]")
                m.add_implication(x, y)
                per_k[k["id"]].append(x)
                arrivals[p, t].append(k["people"] * x)
                walk.append(k["people"] * d * x)
                served.append(k["people"] * x)
    for vs in [*per_b.values(), *per_k.values()]:
        m.add_at_most_one(vs)
    for p in a["points"]:
        q_prev: cp_model.IntVar | int = 0
        for t in range(nt):
            q = m.new_int_var(0, 0 if t == nt - 1 else a["max_queue"], f"q[{p},{t}]")
            c = cap[p] if t in set(opened[p]) else 0
            m.add(q >= q_prev + sum(arrivals[p, t]) - c)
            q_prev = q
    total = sum(a["supply"].values())
    m.minimize(sum(walk) + UNSERVED_WEIGHT * (total - sum(served)))
    build_s = time.perf_counter() - t0
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    t1 = time.perf_counter()
    st = solver.solve(m)
    solve_s = time.perf_counter() - t1
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {"status": solver.status_name(st), "build_s": build_s, "time_s": solve_s,
                "maxrss_mb": _maxrss_mb(), "vars": n_vars}
    got_served = int(sum(solver.value(v) for v in served))
    got_walk = int(sum(solver.value(v) for v in walk))
    return {"status": solver.status_name(st), "served": got_served, "walk_person_m": got_walk,
            "build_s": build_s, "time_s": solve_s, "maxrss_mb": _maxrss_mb(), "vars": n_vars}


def _run_worker(*args: str, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout:.0f} s"}
    if out.returncode:
        tail = (out.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail[:120]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- the check (this process: records, verifier, standalone bound) ---------------------------


def recompute(problem, plan) -> dict:  # type: ignore[no-untyped-def]
    """Every figure of a written plan, from the plan's assignments and the instance."""
    from commgov.scheduling.sampling import (
        is_valid_sampling_plan,
        reach_limit_m,
        walk_distance_m,
    )
    from commgov.scheduling.sampling._verify import recompute_loads

    buildings = {b.id: b for b in problem.buildings}
    points = {p.id: p for p in problem.points}
    batch = {k.id: (k, b) for b in problem.buildings for k in b.batches}
    served = walk = zone = 0
    seen: set[str] = set()
    used: dict[str, set[str]] = defaultdict(set)
    for a in plan.assignments:
        k, b = batch[a.batch_id]
        if a.batch_id in seen:
            continue
        seen.add(a.batch_id)
        served += k.people
        d = walk_distance_m(b, points[a.point_id], problem.policy)
        walk += k.people * d
        if b.zone.rank >= 2 or (b.allowed_point_ids is not None
                                and a.point_id not in b.allowed_point_ids):
            zone += 1
        if d > reach_limit_m(problem.policy):
            zone += 1
        used[b.id].add(a.point_id)
    loads = recompute_loads(problem, list(plan.assignments))
    last = problem.n_slots - 1
    walk_in = sum(k.people for b in buildings.values() if b.zone.rank < 2 for k in b.batches)
    report = is_valid_sampling_plan(problem, plan)
    figures = {
        "walk_in": walk_in,
        "served": served,
        "unserved": walk_in - served,
        "zone_violations": zone,
        "split": sum(1 for s in used.values() if len(s) > 1),
        "max_backlog": max((v[3] for v in loads.values()), default=0),
        "end_backlog": sum(v[3] for (p, t), v in loads.items() if t == last),
        "walk_person_m": walk,
        "valid": report.ok,
        "codes": sorted(report.codes),
    }
    tot = plan.totals
    figures["totals_agree"] = (tot.served_people, tot.walk_person_m, tot.max_backlog) == (
        served, walk, figures["max_backlog"])
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiers", nargs="+", default=["C", "S"], choices=TIERS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--limit", type=float, default=None,
                    help="time limit in s (default: the issue's target of the tier)")
    ap.add_argument("--no-cpsat", action="store_true")
    ap.add_argument("--cpsat-max-vars", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true", help="rebuild cached instances")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "build":
            res = worker_build(rest[0], int(rest[1]), Path(rest[2]))
        elif kind == "plan":
            res = worker_plan(Path(rest[0]), float(rest[1]), Path(rest[2]))
        else:
            res = worker_cpsat(Path(rest[0]), float(rest[1]), int(rest[2]))
        print(json.dumps(res))
        return

    from commgov.scheduling.sampling import SamplingPlan, SamplingProblem

    args.out.mkdir(parents=True, exist_ok=True)
    head = (f"{'tier':<5}{'seed':>4} {'batches':>7} | {'served':>15} {'zone':>4} {'split':>5} "
            f"{'maxQ':>4} {'endQ':>4} {'ok':>3} | {'walk p·m':>11} {'bound':>11} "
            f"{'gap':>8} {'time':>6} {'status':<8} {'mem MB':>7} | {'bound s':>7} | "
            f"{'cp-sat gap':>10} {'time':>6} {'status':<8} {'build':>6}")
    print(head)
    print("-" * len(head))
    failures = []
    for tier in args.tiers:
        limit = args.limit or TARGET_S[tier]
        for seed in args.seeds:
            path = args.out / f"sampling-{tier}-{seed}.json"
            if args.force or not path.exists():
                res = _run_worker("build", tier, str(seed), str(path), timeout=600)
                if "error" in res:
                    print(f"{tier:<5}{seed:>4} build failed: {res['error']}")
                    continue
            plan_path = args.out / f"sampling-{tier}-{seed}.plan.json"
            plan_path.unlink(missing_ok=True)
            ours = _run_worker("plan", str(path), str(limit), str(plan_path),
                               timeout=limit * 3 + 120)
            inst = json.loads(path.read_text(encoding="utf-8"))
            bnd = sampling_bound.bound_mcf(inst)
            cp: dict = {"skipped": "--no-cpsat"}
            if not args.no_cpsat:
                cp = _run_worker("cpsat", str(path), str(limit), str(args.cpsat_max_vars),
                                 timeout=limit * 3 + 900)
            problem = SamplingProblem.model_validate_json(path.read_text(encoding="utf-8"))
            n_batches = sum(len(b.batches) for b in problem.buildings)
            if "error" in ours:
                print(f"{tier:<5}{seed:>4} {n_batches:>7} | plan_sampling failed: "
                      f"{ours['error']}")
                failures.append((tier, seed, "error"))
                continue
            plan = SamplingPlan.model_validate_json(plan_path.read_text(encoding="utf-8"))
            f = recompute(problem, plan)
            lb = bnd["walk_person_m"]

            def gap(served: int, walk: int, _lb: int = lb, _s: int = bnd["served"]) -> str:
                if served != _s:
                    return f"-{_s - served}p"
                return f"{(walk - _lb) / _lb:.2%}" if _lb else "0.00%"

            g = gap(f["served"], f["walk_person_m"])
            if "skipped" in cp or "error" in cp or "served" not in cp:
                cps = (cp.get("skipped") or cp.get("error") or cp.get("status", "?"))[:30]
                cp_txt = f"{cps:>32}"
            else:
                cp_txt = (f"{gap(cp['served'], cp['walk_person_m']):>10} {cp['time_s']:6.1f} "
                          f"{cp['status']:<8} {cp['build_s']:6.1f}")
            print(f"{tier:<5}{seed:>4} {n_batches:>7} | {f['served']:>7}/{f['walk_in']:<7} "
                  f"{f['zone_violations']:>4} {f['split']:>5} {f['max_backlog']:>4} "
                  f"{f['end_backlog']:>4} {'yes' if f['valid'] else 'NO':>3} | "
                  f"{f['walk_person_m']:>11} {lb:>11} {g:>8} {ours['time_s']:6.2f} "
                  f"{ours['status']:<8} {ours['maxrss_mb']:>7.0f} | {bnd['time_s']:7.2f} | "
                  f"{cp_txt}", flush=True)
            if not f["valid"] or not f["totals_agree"]:
                print(f"      verifier: {f['codes']}, totals agree: {f['totals_agree']}")
            ok_gap = g.endswith("%") and float(g[:-1]) / 100 <= TARGET_GAP[tier] + 1e-12
            if tier == "C":
                ok_gap = ours["status"] == "OPTIMAL"
            if not (ok_gap and f["valid"] and f["unserved"] == 0 and f["split"] == 0
                    and f["zone_violations"] == 0 and f["max_backlog"] <= 200
                    and ours["time_s"] <= TARGET_S[tier] * 1.05
                    and ours["maxrss_mb"] <= 4096):
                failures.append((tier, seed, g))
    assert "commgov.scheduling.sampling._solve_cpsat" not in sys.modules and (
        "ortools.sat.python.cp_model" not in sys.modules), "the checker ran solver code"
    print(f"\ntargets missed: {len(failures)}" + (f" {failures}" if failures else ""))
    print(f"checker process peak memory {_maxrss_mb():.0f} MB; bound: min-cost flow "
          f"(benchmarks/sampling_bound.py); C target: plan_sampling proves optimality")


if __name__ == "__main__":
    main()
