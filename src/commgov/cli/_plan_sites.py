"""``commgov plan-sites``: choose and staff sampling sites for a problem given as JSON.

Writes plan.json (the :class:`~commgov.scheduling.sites.SitesPlan`), plan.csv (its rows: one
per open site and slot with lanes and staff by role, per building → site assignment and per
unserved building with its reason) and sites.csv (one row per opened site), all or none.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from commgov.cli._output import (
    STOP,
    _claim_out,
    _first_code,
    _load_problem,
    _n,
    _require_verified,
)
from commgov.cli._progress import ProgressBar

__all__ = ["SITE_COLUMNS", "run_plan_sites"]

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
    written = folder.write(
        {
            out / "plan.json": json_text(plan.to_json(indent=2)),
            out / "plan.csv": csv_text(plan.rows(), plan.ROW_COLUMNS),
            out / "sites.csv": csv_text(sites, SITE_COLUMNS),
        }
    )
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
    print(f"Wrote {', '.join(p.name for p in written)} to {out}/")
    return 0
