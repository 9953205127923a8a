"""``commgov plan-supply-stations``: choose supply transit stations for a problem as JSON.

Writes plan.json (the :class:`~commgov.scheduling.supply.SupplyPlan`), plan.csv (its rows:
one per opened station, per compound → station assignment and per unserved compound with
its reason) and stations.csv (one row per opened station), all or none.
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

__all__ = ["STATION_COLUMNS", "run_plan_supply"]

#: Columns of stations.csv, in order.
STATION_COLUMNS = (
    "station_id",
    "compounds",
    "households",
    "parcels",
    "capacity_parcels",
    "utilisation",
    "staff",
)


def run_plan_supply(args: argparse.Namespace) -> int:
    """Run ``commgov plan-supply-stations``; returns the exit status."""
    from commgov.io import csv_text, json_text
    from commgov.scheduling.supply import (
        SupplyProblem,
        is_valid_supply_plan,
        plan_supply_stations,
    )

    out: Path = args.out
    problem = _load_problem(args, SupplyProblem)
    if isinstance(problem, int):
        return problem
    folder = _claim_out(args)  # locked until the command ends
    with ProgressBar("supply plan") as progress:
        plan = plan_supply_stations(
            problem, time_limit_s=args.time_limit, progress=progress, cancel=STOP
        )
    _require_verified(is_valid_supply_plan(problem, plan))
    stations = [
        {
            "station_id": o.station_id,
            "compounds": o.compounds,
            "households": o.households,
            "parcels": o.parcels,
            "capacity_parcels": o.capacity_parcels,
            "utilisation": round(o.utilisation, 4),
            "staff": o.staff,
        }
        for o in plan.stations
    ]
    written = folder.write(
        {
            out / "plan.json": json_text(plan.to_json(indent=2)),
            out / "plan.csv": csv_text(plan.rows(), plan.ROW_COLUMNS),
            out / "stations.csv": csv_text(stations, STATION_COLUMNS),
        }
    )
    t = plan.totals
    gap = f", gap {plan.info.gap:.2%}" if plan.info.gap else ""
    print(
        f"Supply plan — status {plan.info.status}{gap}, verified: {t.served:,} of "
        f"{t.parcels_in_reach:,} parcels a day in reach served at "
        f"{_n(t.stations_opened, 'station')} run by {_n(t.staff, 'volunteer')}, carrying "
        f"{t.carry_parcel_m:,} parcel-metres, longest leg {t.longest_carry_m:,} m"
    )
    by_code: Counter[str] = Counter(_first_code(u) for u in plan.unserved)
    for code, count in sorted(by_code.items()):
        print(f"  unserved {_n(count, 'compound')} × {code}")
    print(f"Wrote {', '.join(p.name for p in written)} to {out}/")
    return 0
