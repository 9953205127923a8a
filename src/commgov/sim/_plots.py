"""Plots of KPIs across a sweep (the ``plot`` extra: matplotlib, Agg, no pyplot state).

:func:`plot_kpi` draws one KPI against the first varied key: the median over ``ok``
replicates and a central interval as a band, one line per combination of the other varied
keys. Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, so nothing
touches pyplot's global state or needs a display.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commgov.errors import MissingExtraError

if TYPE_CHECKING:
    from commgov.sim.sweep import SweepResult

__all__ = ["plot_kpi", "save_kpi_plots"]


def _figure_class() -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "plot") from exc
    return Figure, FigureCanvasAgg


def plot_kpi(result: SweepResult, kpi: str, *, interval: float = 0.9) -> Any:
    """One KPI across the design points of a sweep.

    Parameters
    ----------
    result : SweepResult
        The sweep.
    kpi : str
        The KPI to draw.
    interval : float, default 0.9
        Coverage of the band around the median.

    Returns
    -------
    matplotlib.figure.Figure
        With an Agg canvas attached (``fig.savefig`` works without pyplot).

    Raises
    ------
    commgov.errors.MissingExtraError
        If matplotlib is not installed.
    """
    figure_cls, canvas_cls = _figure_class()
    table = result.summary(kpi, interval=interval)
    keys = list(result.experiment.keys)
    fig = figure_cls(figsize=(6.4, 4.0), layout="constrained")
    canvas_cls(fig)
    ax = fig.add_subplot()
    pct = f"{interval:.0%}"
    if not keys:
        ax.errorbar([0], table["median"], yerr=[table["median"] - table["low"],
                    table["high"] - table["median"]], fmt="o", capsize=4)
        ax.set_xticks([0], ["base scenario"])
    else:
        x_key, others = keys[0], keys[1:]
        values = list(dict.fromkeys(table[x_key]))
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        groups = table.groupby(others, sort=False) if others else [((), table)]
        for label, group in groups:
            if numeric:
                group = group.sort_values(x_key, kind="stable")
            xs = list(group[x_key]) if numeric else [values.index(v) for v in group[x_key]]
            parts = label if isinstance(label, tuple) else (label,)
            name = ", ".join(f"{k}={v}" for k, v in zip(others, parts, strict=True)) or "median"
            line = ax.plot(xs, group["median"], marker="o", label=name)[0]
            ax.fill_between(xs, group["low"], group["high"], alpha=0.2, color=line.get_color())
        if not numeric:
            ax.set_xticks(range(len(values)), [str(v) for v in values])
        ax.set_xlabel(x_key)
        ax.legend(title=f"median, {pct} interval", fontsize="small")
    ax.set_ylabel(kpi)
    ok = int(table["n"].sum())
    ax.set_title(f"{kpi} over {ok} ok replicates (root seed {result.experiment.root_seed})",
                 fontsize="medium")
    return fig


def save_kpi_plots(
    result: SweepResult, folder: str | os.PathLike[str], *, kpis: list[str] | None = None
) -> list[Path]:
    """Write one PNG per KPI (``<kpi>.png``) into a folder.

    Parameters
    ----------
    result : SweepResult
        The sweep.
    folder : str or os.PathLike
        Target folder (created).
    kpis : list of str, optional
        Which KPIs (default: all with at least one finite value).

    Returns
    -------
    list of Path
        The files written.
    """
    import math

    names = kpis if kpis is not None else [
        k for k in result.kpi_names
        if any(math.isfinite(r.kpis.get(k, math.nan)) for r in result.rows)
    ]
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kpi in names:
        fig = plot_kpi(result, kpi)
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in kpi)
        target = out / f"{safe}.png"
        tmp = out / f".{safe}.png.tmp"
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
        os.replace(tmp, target)
        written.append(target)
    return written
