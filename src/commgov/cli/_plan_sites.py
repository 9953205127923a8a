"""``commgov plan-sites``: choose and staff sampling sites for a problem given as JSON.

Writes plan.json (the :class:`~commgov.scheduling.sites.SitesPlan`), plan.csv (its rows: one
per open site and slot with lanes and staff by role, per building → site assignment and per
unserved building with its reason) and sites.csv (one row per opened site), all or none.
With ``--simulate N`` the planned day is simulated (simulation.csv), and with
``--fewest-staff`` the fewest lanes meeting the target in simulation are searched
(fewest_staff.csv) — issue 14's closed loop, from the command line.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from commgov.cli._output import (
    STOP,
    _claim_out,
    _first_code,
    _load_problem,
    _n,
    _require_verified,
)
from commgov.cli._progress import ProgressBar

if TYPE_CHECKING:
    from commgov.scheduling.sites import SitesPlan, SitesProblem

__all__ = ["FEWEST_COLUMNS", "SIMULATION_COLUMNS", "SITE_COLUMNS", "run_plan_sites"]

#: Columns of simulation.csv, in order: one row per replicate and scope (the day, each site).
SIMULATION_COLUMNS = ("replicate", "scope", "site_id", "lanes", "quantile_wait_min", "meets")
#: Columns of fewest_staff.csv, in order: one row per opened site.
FEWEST_COLUMNS = ("site_id", "plan_lanes", "lanes")

#: Fewer replicates than this get a note that the interval is wide.
_FEW = 20

#: Columns of sites.csv, in order.
SITE_COLUMNS = (
    "site_id",
    "lanes",
    "residents",
    "buildings",
    "open_slots",
    "arrivals_per_hour",
    "utilisation",
    "mean_wait_min",
    "quantile_wait_min",
    "swabbers",
    "registrars",
    "orderlies",
    "staff_hours",
)


def run_plan_sites(args: argparse.Namespace) -> int:
    """Run ``commgov plan-sites``; returns the exit status."""
    from commgov.io import csv_text, json_text
    from commgov.scheduling.sites import SitesProblem, is_valid_sites_plan, plan_sites

    out: Path = args.out
    if args.fewest_staff and args.simulate is None:
        print("commgov plan-sites: --fewest-staff needs --simulate N", file=sys.stderr)
        return 2
    problem = _load_problem(args, SitesProblem)
    if isinstance(problem, int):
        return problem
    folder = _claim_out(args)  # locked until the command ends
    with ProgressBar("site plan") as progress:
        plan = plan_sites(problem, time_limit_s=args.time_limit, progress=progress, cancel=STOP)
    _require_verified(is_valid_sites_plan(problem, plan))
    sites = []
    for o in plan.sites:
        first = o.slots[0] if o.slots else None
        sites.append(
            {
                "site_id": o.site_id,
                "lanes": o.lanes,
                "residents": o.residents,
                "buildings": o.buildings,
                "open_slots": o.open_slots,
                "arrivals_per_hour": round(o.arrivals_per_hour, 3),
                "utilisation": round(o.utilisation, 4),
                "mean_wait_min": round(o.mean_wait_min, 3),
                "quantile_wait_min": round(o.quantile_wait_min, 3),
                "swabbers": first.swabbers if first else 0,
                "registrars": first.registrars if first else 0,
                "orderlies": first.orderlies if first else 0,
                "staff_hours": o.staff_hours,
            }
        )
    files: dict[str | Path, str] = {
        out / "plan.json": json_text(plan.to_json(indent=2)),
        out / "plan.csv": csv_text(plan.rows(), plan.ROW_COLUMNS),
        out / "sites.csv": csv_text(sites, SITE_COLUMNS),
    }
    lines = []
    unserved = plan.totals.residents_in_reach - plan.totals.served
    if args.simulate is not None and plan.totals.served == 0:
        lines.append("Not simulated: the plan serves no one, so no day can meet or miss the target")
    elif args.simulate is not None:
        if unserved:
            lines.append(
                f"The {unserved:,} residents in reach the plan leaves unserved are not in the "
                "simulation: its waits are those of the residents the plan serves"
            )
        if args.simulate < _FEW:
            lines.append(
                f"Only {_n(args.simulate, 'replicate')}: the interval below is wide; "
                f"use at least {_FEW} for a decision"
            )
        rows, line = _simulation(problem, plan, args.simulate, args.seed)
        files[out / "simulation.csv"] = csv_text(rows, SIMULATION_COLUMNS)
        lines.append(line)
        if args.fewest_staff:
            rows, line = _fewest(problem, plan, args.simulate, args.seed)
            files[out / "fewest_staff.csv"] = csv_text(rows, FEWEST_COLUMNS)
            lines.append(line)
    written = folder.write(files)
    t = plan.totals
    gap = f", gap {plan.info.gap:.2%}" if plan.info.gap else ""
    print(
        f"Site plan — status {plan.info.status}{gap}, verified: {t.served:,} of "
        f"{t.residents_in_reach:,} residents in reach served at "
        f"{_n(t.sites_opened, 'site')} with {_n(t.lanes, 'lane')}, {t.staff_hours:,.1f} "
        f"staff-hours, walking {t.walk_person_m:,} person-metres, largest "
        f"{problem.policy.wait_quantile:.0%} wait {t.max_quantile_wait_min:.1f} min"
    )
    by_code: Counter[str] = Counter(_first_code(u) for u in plan.unserved)
    for code, count in sorted(by_code.items()):
        print(f"  unserved {_n(count, 'building')} × {code}")
    for line in lines:
        print(line)
    print(f"Wrote {', '.join(p.name for p in written)} to {out}/")
    return 0


def _simulation(
    problem: SitesProblem, plan: SitesPlan, replicates: int, seed: int
) -> tuple[list[dict[str, object]], str]:
    """simulation.csv's rows and the summary line of the simulated day."""
    import math

    from commgov.sim import simulate_sites_plan

    sim = simulate_sites_plan(problem, plan, replicates=replicates, seed=seed)
    target = sim.target_wait_min
    rows: list[dict[str, object]] = []
    for r in range(sim.replicates):
        day = float(sim.overall_wait_min[r])
        rows.append(
            {
                "replicate": r,
                "scope": "day",
                "site_id": "",
                "lanes": sum(sim.lanes),
                "quantile_wait_min": round(day, 3),
                "meets": day <= target,
            }
        )
        for k, site_id in enumerate(sim.site_ids):
            w = float(sim.site_wait_min[r, k])
            rows.append(
                {
                    "replicate": r,
                    "scope": "site",
                    "site_id": site_id,
                    "lanes": sim.lanes[k],
                    "quantile_wait_min": "" if math.isnan(w) else round(w, 3),
                    "meets": math.isnan(w) or w <= target,
                }
            )
    ci = sim.share_interval
    line = (
        f"Simulated {_n(sim.replicates, 'day')}: the day's {sim.quantile:.0%} wait within "
        f"{target:g} min in {sim.share:.1%} of them (95 % Wilson interval {ci.low:.1%} … "
        f"{ci.high:.1%})"
    )
    return rows, line


def _fewest(
    problem: SitesProblem, plan: SitesPlan, replicates: int, seed: int
) -> tuple[list[dict[str, object]], str]:
    """fewest_staff.csv's rows and the summary line of the search."""
    from commgov.sim import fewest_staff_meeting_target

    found = fewest_staff_meeting_target(problem, plan, replicates=replicates, seed=seed)
    planned = {o.site_id: o.lanes for o in plan.sites}
    rows: list[dict[str, object]] = [
        {"site_id": sid, "plan_lanes": planned[sid], "lanes": found.lanes.get(sid, 0)}
        for sid in sorted(planned)
    ]
    ci = found.share_interval
    what = "Fewest lanes meeting the target" if found.found else "No budget met the target; most"
    line = (
        f"{what}: {found.lanes_total} (plan {found.plan_lanes_total}), "
        f"{found.staff_hours:,.1f} staff-hours (plan {found.plan_staff_hours:,.1f}), in "
        f"{found.share:.1%} of the replicates ({ci.low:.1%} … {ci.high:.1%})"
    )
    return rows, line
