"""Plots of KPIs across a sweep (the ``plot`` extra: matplotlib, Agg, no pyplot state).

:func:`plot_kpi` draws one KPI against the first varied key: the mean over ``ok``
replicates with its 95 % confidence interval (bars) and the central 90 % of the replicates
(band), one line per combination of the other varied keys; the y axis carries the KPI's unit
from the one KPI registry (:func:`commgov.sim.kpi_info`). :func:`plot_kpis` draws several KPIs
as the panels of one figure.

Which KPIs to draw
------------------
A scenario with every submodel on has about 80 KPIs, and a figure costs about 0.1 s, so by
default only the **headline** KPIs are drawn, one multi-panel figure per submodel
(:func:`headline_groups`, :func:`save_headline_plots`; ``<submodel>.png``). A KPI is a
headline KPI when its name after the submodel prefix (no further dot: per-category KPIs such
as ``needs.medical.met`` are not) is

* a completion time ``t<q>_min`` (``notification.t95_min``, ``door_to_door.t100_min``),
* a share ``*_share`` (``notification.notified_share``, ``needs.met_share``),
* a rate ``*_per_hour`` or ``*_per_min`` (``relay.deliveries_per_hour``),
* a wait ``mean_wait_min`` / ``wait_p<q>_min`` (``queues.wait_p95_min``), or a response or
  delivery time ``*response_(mean|p<q>)_min`` / ``*gate_to_door_(mean|p<q>)_min`` /
  ``depot_to_gate_(mean|p<q>)_min`` (riders), also
  with ``_all`` before ``_min`` (undelivered, unmet or unswabbed ones censored at the
  horizon: ``queues.wait_p95_all_min``, ``queues.wait_mean_all_min``);
* what was left undone at the horizon: ``unmet`` (needs), ``undelivered`` (parcels),
  ``unserved`` (residents not swabbed), and parcels still on the riders (``on_riders_end``);
* the worst sampling point's wait ``worst_point_wait_p<q>_min`` (also ``_all``);

plus the engine's ``volunteer_hours`` (figure ``totals.png``). A submodel none of whose KPIs
matches (a user-defined one) gets its first :data:`FALLBACK_PANELS` KPIs in name order. KPIs
without a finite value anywhere in the sweep are left out. :func:`save_kpi_plots` is the
one-PNG-per-KPI form (``<kpi>.png``; by default every KPI with a finite value: the behaviour
of ``commgov simulate`` before the ``--plots`` option, now ``--plots all``).

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, so nothing
touches pyplot's global state or needs a display.
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commgov.errors import MissingExtraError

if TYPE_CHECKING:
    from commgov.sim._sweep_result import SweepResult

__all__ = [
    "FALLBACK_PANELS",
    "TOTALS",
    "headline_groups",
    "is_headline_kpi",
    "plot_kpi",
    "plot_kpis",
    "save_headline_plots",
    "save_kpi_plots",
    "select_kpis",
]

#: Panels of a submodel without headline KPIs (its first KPIs in name order).
FALLBACK_PANELS = 4

#: Figure name of the engine-level KPIs (no submodel prefix).
TOTALS = "totals"

_HEADLINE = re.compile(
    r"t\d+_min|[a-z0-9_]*_share|[a-z0-9_]*_per_(hour|min)|(mean_)?wait(_p\d+)?_min"
    r"|[a-z0-9_]*(response|gate_to_door|depot_to_gate)_(mean|p\d+)(_all)?_min|unmet|undelivered|unserved"
    r"|wait_(mean|p\d+)_all_min"
    r"|worst_point_wait_p\d+(_all)?_min|rider_utilisation|at_depot_end|on_riders_end"
)
_HEADLINE_TOTALS = frozenset({"volunteer_hours"})


def _figure_class() -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "plot") from exc
    return Figure, FigureCanvasAgg


def is_headline_kpi(kpi: str) -> bool:
    """Whether a KPI is a headline KPI (see the module docstring).

    Examples
    --------
    >>> [is_headline_kpi(k) for k in ("notification.t95_min", "relay.deliveries_per_hour",
    ...  "queues.wait_p95_min", "needs.medical.response_p90_min", "queues.served",
    ...  "volunteer_hours", "events")]
    [True, True, True, False, False, True, False]
    """
    _, dot, name = kpi.partition(".")
    if not dot:
        return kpi in _HEADLINE_TOTALS
    return "." not in name and _HEADLINE.fullmatch(name) is not None


def _finite_kpis(result: SweepResult) -> list[str]:
    return [
        k for k in result.kpi_names
        if any(math.isfinite(r.kpis.get(k, math.nan)) for r in result.rows)
    ]


def headline_groups(result: SweepResult) -> dict[str, list[str]]:
    """The headline KPIs of a sweep, by submodel (figure name → KPIs, in KPI order).

    Submodels in order of their first KPI, then :data:`TOTALS` (``volunteer_hours``); KPIs
    with no finite value are left out, and a submodel without headline KPIs gets its first
    :data:`FALLBACK_PANELS` KPIs in name order.

    Parameters
    ----------
    result : SweepResult
        The sweep.

    Returns
    -------
    dict of str to list of str
    """
    by_group: dict[str, list[str]] = {}
    for kpi in _finite_kpis(result):
        group, dot, _ = kpi.partition(".")
        by_group.setdefault(group if dot else TOTALS, []).append(kpi)
    out: dict[str, list[str]] = {}
    for group, kpis in by_group.items():
        chosen = [k for k in kpis if is_headline_kpi(k)]
        if not chosen and group != TOTALS:
            chosen = sorted(kpis)[:FALLBACK_PANELS]
        if chosen:
            out[group] = chosen
    if TOTALS in out:
        out[TOTALS] = out.pop(TOTALS)
    return out


def select_kpis(result: SweepResult, patterns: Iterable[str]) -> tuple[list[str], list[str]]:
    """KPIs named by exact names or shell-style patterns (``queues.*``), in KPI order.

    Parameters
    ----------
    result : SweepResult
        The sweep.
    patterns : iterable of str
        KPI names or :mod:`fnmatch` patterns.

    Returns
    -------
    (list of str, list of str)
        The KPIs matched (each once), and the patterns that matched none.
    """
    names = list(result.kpi_names)
    chosen: dict[str, None] = {}
    missing = []
    for pattern in patterns:
        hits = [pattern] if pattern in names else fnmatch.filter(names, pattern)
        if not hits:
            missing.append(pattern)
        chosen.update(dict.fromkeys(hits))
    order = {k: i for i, k in enumerate(names)}
    return sorted(chosen, key=order.__getitem__), missing


def _legend_notes(pct: str) -> tuple[list[Any], list[str]]:
    """Proxy artists that say what the bars and the band are."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    return (
        [Line2D([], [], color="grey", linewidth=2), Patch(color="grey", alpha=0.2)],
        ["bars: 95 % confidence interval of the mean", f"band: {pct} of replicates"],
    )


def _ticks(ax: Any, xs: Sequence[Any]) -> None:
    """Ticks at the design values themselves (no 7.5 on an axis of whole numbers)."""
    values = sorted(set(xs))
    if 0 < len(values) <= 15:
        ax.set_xticks(values, [f"{v:g}" for v in values])


def _draw(ax: Any, result: SweepResult, table: Any, *, legend: bool, pct: str) -> None:
    """Mean with its 95 % confidence interval (bars) and the replicates' spread (band)."""
    keys = list(result.experiment.keys)
    if not keys:
        ax.fill_between([-0.2, 0.2], [table["low"][0]] * 2, [table["high"][0]] * 2, alpha=0.2)
        ax.plot([0], table["mean"], marker="o", label="base scenario")
        ax.vlines([0], table["ci_low"], table["ci_high"], linewidth=2)
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
            name = ", ".join(f"{k}={v}" for k, v in zip(others, parts, strict=True)) or "mean"
            line = ax.plot(xs, group["mean"], marker="o", label=name)[0]
            color = line.get_color()
            ax.vlines(xs, group["ci_low"], group["ci_high"], color=color, linewidth=2)
            ax.fill_between(xs, group["low"], group["high"], alpha=0.2, color=color)
        if numeric:
            _ticks(ax, values)
        else:
            ax.set_xticks(range(len(values)), [str(v) for v in values])
        ax.set_xlabel(x_key)
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        notes, words = _legend_notes(pct)
        ax.legend(handles + notes, labels + words, fontsize="small")


def _pct(fraction: float) -> str:
    """``0.9`` → ``"90 %"``."""
    return f"{fraction * 100:g} %"


def _per_point(table: Any) -> str:
    """``"100 ok replicates per point"`` (a range where points differ)."""
    counts = [int(n) for n in table["n"]]
    lo, hi = (min(counts), max(counts)) if counts else (0, 0)
    many = "replicate" if hi == 1 else "replicates"
    return f"{lo} ok {many} per point" if lo == hi else f"{lo}–{hi} ok {many} per point"


def _y_label(kpi: str) -> str:
    """The panel's y label: the KPI's last part and its unit (the one KPI registry)."""
    from commgov.sim._kpi_info import kpi_info

    return f"{kpi.rsplit('.', 1)[-1]} ({kpi_info(kpi).unit})"


def plot_kpi(result: SweepResult, kpi: str, *, interval: float = 0.9) -> Any:
    """One KPI across the design points of a sweep.

    The mean over ``ok`` replicates with its 95 % confidence interval (vertical bars; t,
    bootstrap or Wilson as in :meth:`SweepResult.summary`) and the central ``interval`` of the
    replicates (band), one line per combination of the other varied keys. The y axis names
    the KPI and its unit (:func:`commgov.sim.kpi_info`), the x axis the first varied key with
    ticks at its values; the title gives the ok replicates per point.

    Parameters
    ----------
    result : SweepResult
        The sweep.
    kpi : str
        The KPI to draw.
    interval : float, default 0.9
        Coverage of the band of replicates.

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
    fig = figure_cls(figsize=(6.4, 4.4), layout="constrained")
    canvas_cls(fig)
    ax = fig.add_subplot()
    _draw(ax, result, table, legend=True, pct=_pct(interval))
    ax.set_ylabel(_y_label(kpi))
    ax.set_title(f"{kpi}\n{_per_point(table)}, root seed {result.experiment.root_seed}",
                 fontsize="medium")
    return fig


def plot_kpis(
    result: SweepResult, kpis: Sequence[str], *, title: str | None = None,
    interval: float = 0.9,
) -> Any:
    """Several KPIs of a sweep as the panels of one figure (up to 3 a row).

    Each panel is drawn as by :func:`plot_kpi`: titled with the KPI, its unit on the y axis.

    Parameters
    ----------
    result : SweepResult
        The sweep.
    kpis : sequence of str
        The KPIs, one panel each, in order (at least one).
    title : str, optional
        Figure title (default: the KPIs' common prefix); what is drawn, the ok replicates per
        point and the root seed are appended.
    interval : float, default 0.9
        Coverage of the band of replicates.

    Returns
    -------
    matplotlib.figure.Figure
        With an Agg canvas attached; the legend is on the first panel.

    Raises
    ------
    commgov.errors.MissingExtraError
        If matplotlib is not installed.
    ValueError
        If ``kpis`` is empty.
    """
    if not kpis:
        raise ValueError("plot_kpis needs at least one KPI")
    figure_cls, canvas_cls = _figure_class()
    tables = result.summaries(kpis, interval=interval)
    n = len(kpis)
    cols = 1 if n == 1 else 2 if n in (2, 4) else 3
    rows = math.ceil(n / cols)
    fig = figure_cls(figsize=(4.4 * cols, 3.4 * rows + 0.4), layout="constrained")
    canvas_cls(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    pct = _pct(interval)
    for i, kpi in enumerate(kpis):
        table = tables[tables["kpi"] == kpi].reset_index(drop=True)
        _draw(axes[i], result, table, legend=i == 0, pct=pct)
        axes[i].set_title(kpi, fontsize="medium")
        axes[i].set_ylabel(_y_label(kpi))
    for ax in axes[n:]:
        ax.set_visible(False)
    prefixes = {k.partition(".")[0] for k in kpis if "." in k}
    head = title if title is not None else prefixes.pop() if len(prefixes) == 1 else "KPIs"
    fig.suptitle(f"{head}: mean, 95 % confidence interval and {pct} of replicates\n"
                 f"{_per_point(tables)}, root seed {result.experiment.root_seed}",
                 fontsize="medium")
    return fig


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def _save(fig: Any, out: Path, stem: str) -> Path:
    safe = _safe(stem)
    target = out / f"{safe}.png"
    tmp = out / f".{safe}.png.tmp"
    from commgov._files import naming

    try:
        with naming(target):  # ENOSPC and the like name the file
            fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


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
        Which KPIs (default: all with at least one finite value; about 0.1 s a figure).

    Returns
    -------
    list of Path
        The files written.
    """
    names = kpis if kpis is not None else _finite_kpis(result)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    return [_save(plot_kpi(result, kpi), out, kpi) for kpi in names]


def save_headline_plots(result: SweepResult, folder: str | os.PathLike[str]) -> list[Path]:
    """Write one multi-panel PNG per submodel (``<submodel>.png``) of its headline KPIs.

    ``result`` and ``folder`` are as in :func:`save_kpi_plots`.

    Returns
    -------
    list of Path
        The files written, in :func:`headline_groups` order.
    """
    groups = headline_groups(result)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    return [
        _save(plot_kpis(result, kpis, title="whole run" if group == TOTALS else group), out,
              group)
        for group, kpis in groups.items()
    ]
