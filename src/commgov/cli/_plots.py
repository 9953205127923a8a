"""What ``commgov simulate`` draws and prints: the ``--plots`` figures and the KPI summary."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["_print_summary", "_write_plots"]


def _write_plots(result: Any, folder: Path, which: str | list[str]) -> list[Path]:
    """The figures of ``--plots`` (headline / all / KPI names and patterns)."""
    from commgov.sim import save_headline_plots, save_kpi_plots, select_kpis

    if which == "headline":
        return save_headline_plots(result, folder)
    if which == "all":
        return save_kpi_plots(result, folder)
    kpis, missing = select_kpis(result, which)
    for pattern in missing:
        print(f"commgov: warning: --plots {pattern!r} matches no KPI (see kpis.csv)",
              file=sys.stderr)
    return save_kpi_plots(result, folder, kpis=kpis) if kpis else []


#: KPIs shown per design point on the console (all are in the files).
_SHOWN_KPIS = 12


def _print_summary(
    experiment: Any, kpis: Sequence[str], summaries: dict[str, list[dict[str, Any]]]
) -> None:
    if not kpis:
        return
    width = max(len(k) for k in kpis[:_SHOWN_KPIS])
    for point in experiment.points:
        label = ", ".join(f"{k}={v}" for k, v in point.values.items()) or "base scenario"
        print(f"  point {point.index} ({label}): mean [95 % confidence interval]")
        for kpi in kpis[:_SHOWN_KPIS]:
            rec = summaries[kpi][point.index]
            print(f"    {kpi:<{width}}  {rec['mean']:.4g} [{rec['ci_low']:.4g}, "
                  f"{rec['ci_high']:.4g}]")
        if len(kpis) > _SHOWN_KPIS:
            print(f"    … {len(kpis) - _SHOWN_KPIS} more KPIs in kpis.csv and summary.csv")
