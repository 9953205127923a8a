"""Global sensitivity analysis of a scenario's KPIs through SALib: Sobol and Morris.

:func:`run_sensitivity` draws a design over chosen scenario parameters (each between a low
and a high value) with SALib, runs it as an ordinary sweep (:meth:`Experiment.from_dataframe`,
:func:`run_sweep`: any executor, a store to resume), and computes the indices of every KPI:

* ``method="sobol"``: Saltelli's design (SALib's scrambled Sobol sequence, N · (D + 2) runs for
  D parameters) and the first-order (S1) and total-order (ST) indices with the estimators of
  Saltelli et al. (2010), each with a bootstrap confidence interval;
* ``method="morris"``: N Morris trajectories (N · (D + 1) runs) and the elementary-effect
  statistics μ, μ* (with a bootstrap interval) and σ (Morris 1991; Campolongo et al. 2007).

Common random numbers: every design point runs replicate ``r`` with the same root seed, so all
points share their random numbers and the indices measure the parameters' effect, not noise
between runs; the KPI of a point is its mean over the ``replicates`` replicates. Parameters
whose base value is a whole number (volunteers, lanes) are rounded to whole numbers in the
scenarios; the analysis uses the design as drawn.

The same scenario, parameters, method, N, seeds and versions give the same indices, byte for
byte (SALib's sampling and bootstrap are seeded).

References
----------
Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output. Design and
estimator for the total sensitivity index. Computer Physics Communications 181(2), 259–270.
Morris, M. D. (1991). Factorial sampling plans for preliminary computational experiments.
Technometrics 33(2), 161–174.
Campolongo, F., Cariboni, J. & Saltelli, A. (2007). An effective screening design for
sensitivity analysis of large models. Environmental Modelling & Software 22(10), 1509–1518.
Herman, J. & Usher, W. (2017). SALib: An open-source Python library for sensitivity analysis.
Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel

from commgov._options import Interval, check_choice, check_options_interval
from commgov.errors import InputError, InputIssue, InvalidParameterError, MissingExtraError
from commgov.sim._design import Experiment, _lookup
from commgov.sim._kpi_info import kpi_info
from commgov.sim._store import SweepStore
from commgov.sim._sweep import Progress, Runner, run_sweep
from commgov.sim._sweep_result import SweepResult

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "SENSITIVITY_METHODS",
    "SensitivityParam",
    "SensitivityResult",
    "plot_sensitivity",
    "run_sensitivity",
]

SENSITIVITY_METHODS = ("sobol", "morris")

#: Most runs (design points × replicates) one analysis may have.
MAX_SENSITIVITY_RUNS = 1_000_000
#: Bootstrap resamples of SALib's confidence intervals.
_RESAMPLES = 1000
#: Morris grid levels (Morris 1991; SALib's default).
_LEVELS = 4

_WHERE = "run_sensitivity"
_SPEC = re.compile(r"^\s*([^=\s]+)\s*=\s*([^:]+?)\s*:\s*(.+?)\s*$")


@dataclass(frozen=True, slots=True)
class SensitivityParam:
    """A scenario parameter of a sensitivity analysis and its range.

    Attributes
    ----------
    key : str
        Dotted field path of the scenario (``"submodels.notification.group_share"``).
    low, high : float
        The range, ``low < high``, in the field's unit.
    """

    key: str
    low: float
    high: float

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key or " " in self.key:
            raise InvalidParameterError("key", self.key, "a dotted field path", "SensitivityParam")
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidParameterError(name, value, "a finite number", "SensitivityParam")
            if not math.isfinite(float(value)):
                raise InvalidParameterError(name, value, "a finite number", "SensitivityParam")
        if not float(self.low) < float(self.high):
            raise InvalidParameterError(
                "high", self.high, f"a number above low ({self.low})", "SensitivityParam"
            )

    @classmethod
    def parse(cls, text: str) -> SensitivityParam:
        """A parameter from ``"key=low:high"`` (``"submodels.notification.volunteers=10:30"``).

        Raises
        ------
        commgov.errors.InvalidParameterError
            If the text is not of that form, or the bounds are not numbers with low < high.
        """
        m = _SPEC.match(text) if isinstance(text, str) else None
        if m is None:
            raise InvalidParameterError("param", text, "KEY=LOW:HIGH", "SensitivityParam")
        key, lo, hi = m.groups()
        try:
            low, high = float(lo), float(hi)
        except ValueError:
            raise InvalidParameterError(
                "param", text, "KEY=LOW:HIGH with numbers LOW < HIGH", "SensitivityParam"
            ) from None
        return cls(key, low, high)


def _salib() -> Any:
    try:
        from SALib.analyze import (  # type: ignore[import-untyped,unused-ignore]
            morris as morris_analyze,
            sobol as sobol_analyze,
        )
        from SALib.sample import (  # type: ignore[import-untyped,unused-ignore]
            morris as morris_sample,
            sobol as sobol_sample,
        )
    except ImportError as exc:
        raise MissingExtraError("SALib", "sens") from exc
    return sobol_sample, sobol_analyze, morris_sample, morris_analyze


def _problem(params: Sequence[SensitivityParam]) -> dict[str, Any]:
    return {
        "num_vars": len(params),
        "names": [p.key for p in params],
        "bounds": [[float(p.low), float(p.high)] for p in params],
    }


def _whole_keys(base: BaseModel, params: Sequence[SensitivityParam]) -> list[bool]:
    """Which parameters are whole numbers in the base scenario (checked to exist)."""
    data = base.model_dump(mode="python")
    whole, issues = [], []
    for p in params:
        present, value = _lookup(data, p.key.split("."))
        if not present:
            issues.append(InputIssue("sensitivity", p.key, None, "no such field in the scenario"))
            whole.append(False)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            issues.append(
                InputIssue("sensitivity", p.key, value, "a numeric field of the scenario")
            )
        whole.append(isinstance(value, int) and not isinstance(value, bool))
    if issues:
        raise InputError(issues, what="sensitivity")
    return whole


@dataclass(frozen=True)
class SensitivityResult:
    """What :func:`run_sensitivity` found.

    Attributes
    ----------
    method : {"sobol", "morris"}
    params : tuple of SensitivityParam
    n : int
        SALib's N (base samples for Sobol, trajectories for Morris).
    seed : int
        Seed of the design and of the indices' bootstrap.
    level : float
        Confidence level of the intervals.
    design : pandas.DataFrame
        One row per design point, one column per parameter (whole-number fields rounded).
    sweep : SweepResult
        The sweep of the design.
    indices : pandas.DataFrame
        One row per KPI and parameter. Sobol: ``kpi``, ``param``, ``S1``, ``S1_low``,
        ``S1_high``, ``ST``, ``ST_low``, ``ST_high`` (share of the KPI's variance; interval
        = index ± SALib's bootstrap half-width). Morris: ``kpi``, ``param``, ``mu``,
        ``mu_star``, ``mu_star_low``, ``mu_star_high``, ``sigma`` (in the KPI's unit per step
        of 2/3 of the parameter's range). NaN where a KPI is missing in some design point or
        does not vary.
    """

    method: str
    params: tuple[SensitivityParam, ...]
    n: int
    seed: int
    level: float
    design: pd.DataFrame
    sweep: SweepResult
    indices: pd.DataFrame

    def indices_csv(self) -> str:
        """The indices as formula-safe CSV text (floats written exactly), byte-identical."""
        from commgov._files import csv_text

        return csv_text(self.indices.to_dict("records"), list(self.indices.columns))


def run_sensitivity(
    base: BaseModel,
    params: Sequence[SensitivityParam | str],
    *,
    method: Literal["sobol", "morris"] = "sobol",
    n: int = 16,
    replicates: int = 1,
    root_seed: int = 0,
    seed: int = 0,
    level: float = 0.95,
    kpis: Sequence[str] | None = None,
    executor: Executor | None = None,
    store: SweepStore | str | os.PathLike[str] | None = None,
    batch_size: int = 8,
    runner: Runner | None = None,
    progress: Progress | None = None,
    plugins: Sequence[str] = (),
) -> SensitivityResult:
    """Sobol or Morris sensitivity indices of a scenario's KPIs over chosen parameters.

    Parameters
    ----------
    base : pydantic.BaseModel
        The base scenario (:class:`commgov.sim.Scenario`).
    params : sequence of SensitivityParam or str
        At least one parameter, each once; a string is ``"key=low:high"``.
    method : {"sobol", "morris"}, default "sobol"
    n : int, default 16
        Sobol: base samples, a power of two (N · (D + 2) design points); Morris: trajectories,
        ≥ 2 (N · (D + 1) design points).
    replicates : int, default 1
        Replicates per design point (the KPI is their mean), all with common random numbers.
    root_seed : int, default 0
        Root seed of the simulation.
    seed : int, default 0
        Seed of the design and of the bootstrap of the intervals.
    level : float, default 0.95
        Confidence level of the intervals.
    kpis : sequence of str, optional
        KPIs to analyse (default: every KPI of the sweep).
    executor, store, batch_size, runner, progress, plugins
        As in :func:`run_sweep`; failed replicates are recorded and make their KPIs NaN.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    commgov.errors.MissingExtraError
        Without SALib (``pip install 'commgov[sens]'``).
    commgov.errors.InvalidParameterError
        If ``method``, ``n``, ``replicates``, ``seed`` or ``level`` is out of range, or a
        parameter is given twice.
    commgov.errors.InputError
        If a parameter names no numeric field of the scenario, or a design point does not
        validate (a value outside the field's range).
    commgov.errors.SizeLimitError
        If the runs would exceed :data:`MAX_SENSITIVITY_RUNS`.
    KeyError
        If a KPI in ``kpis`` is unknown.

    Notes
    -----
    O(design points × replicates) simulation runs; the indices cost O(KPIs · D · N · B) with
    B = 1000 bootstrap resamples. References in the module docstring: Saltelli et al. (2010),
    Morris (1991), Campolongo et al. (2007), Herman & Usher (2017).
    """
    from commgov.errors import check_size

    check_choice(_WHERE, "method", method, SENSITIVITY_METHODS)
    check_options_interval(_WHERE, "replicates", replicates, Interval(Integral, 1, None))
    check_options_interval(_WHERE, "seed", seed, Interval(Integral, 0, 2**32 - 1))
    check_options_interval(_WHERE, "level", level, Interval(Real, 0.0, 1.0, closed="neither"))
    chosen = tuple(
        p if isinstance(p, SensitivityParam) else SensitivityParam.parse(p) for p in params
    )
    if not chosen:
        raise InvalidParameterError("params", params, "at least one parameter", _WHERE)
    keys = [p.key for p in chosen]
    if len(set(keys)) != len(keys):
        raise InvalidParameterError("params", keys, "each parameter once", _WHERE)
    if method == "sobol":
        ok = isinstance(n, int) and not isinstance(n, bool) and n >= 2 and n & (n - 1) == 0
        if not ok:
            raise InvalidParameterError("n", n, "a power of two ≥ 2 (Sobol sequence)", _WHERE)
        points = n * (len(chosen) + 2)
    else:
        check_options_interval(_WHERE, "n", n, Interval(Integral, 2, None))
        points = n * (len(chosen) + 1)
    check_size(
        "sensitivity: runs (design points × replicates)",
        points * replicates,
        MAX_SENSITIVITY_RUNS,
        "use a smaller N, fewer parameters or fewer replicates",
    )
    sobol_sample, sobol_analyze, morris_sample, morris_analyze = _salib()
    whole = _whole_keys(base, chosen)
    problem = _problem(chosen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
        else:
            x = morris_sample.sample(problem, n, num_levels=_LEVELS, seed=seed)
    x = np.asarray(x, dtype=float)
    design = _design_frame(x, keys, whole)
    experiment = Experiment.from_dataframe(base, design, replicates=replicates, root_seed=root_seed)
    sweep = run_sweep(
        experiment,
        executor=executor,
        store=store,
        batch_size=batch_size,
        runner=runner,
        progress=progress,
        plugins=plugins,
    )
    names = list(sweep.kpi_names if kpis is None else kpis)
    for kpi in names:
        if kpi not in sweep.kpi_names:
            raise KeyError(f"no KPI {kpi!r}; KPIs: {list(sweep.kpi_names)}")
    outputs = _point_means(sweep, names)
    rows: list[dict[str, Any]] = []
    for kpi in names:
        y = outputs[kpi]
        usable = bool(np.all(np.isfinite(y))) and float(np.ptp(y)) > 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "sobol":
                res = (
                    sobol_analyze.analyze(
                        problem,
                        y,
                        calc_second_order=False,
                        num_resamples=_RESAMPLES,
                        conf_level=level,
                        seed=seed,
                    )
                    if usable
                    else None
                )
                rows.extend(_sobol_rows(kpi, keys, res))
            else:
                res = (
                    morris_analyze.analyze(
                        problem,
                        x,
                        y,
                        num_resamples=_RESAMPLES,
                        conf_level=level,
                        num_levels=_LEVELS,
                        seed=seed,
                    )
                    if usable
                    else None
                )
                rows.extend(_morris_rows(kpi, keys, res))
    import pandas as pd

    columns = _SOBOL_COLUMNS if method == "sobol" else _MORRIS_COLUMNS
    indices = pd.DataFrame.from_records(rows, columns=list(columns))
    return SensitivityResult(method, chosen, n, seed, level, design, sweep, indices)


_SOBOL_COLUMNS = ("kpi", "param", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high")
_MORRIS_COLUMNS = ("kpi", "param", "mu", "mu_star", "mu_star_low", "mu_star_high", "sigma")


def _design_frame(x: np.ndarray, keys: Sequence[str], whole: Sequence[bool]) -> pd.DataFrame:
    import pandas as pd

    columns: dict[str, list[Any]] = {}
    for j, key in enumerate(keys):
        col = x[:, j]
        columns[key] = [round(float(v)) for v in col] if whole[j] else [float(v) for v in col]
    return pd.DataFrame(columns)


def _point_means(sweep: SweepResult, kpis: Sequence[str]) -> dict[str, np.ndarray]:
    """Each KPI's mean over the ok replicates of every design point (NaN if it has none)."""
    frame = sweep.to_frame()
    ok = frame[frame["status"] == "ok"]
    columns = sweep._kpi_columns()
    n_points = len(sweep.experiment.points)
    out = {}
    for kpi in kpis:
        means = ok.groupby("point")[columns[kpi]].mean()
        out[kpi] = np.array([float(means.get(i, math.nan)) for i in range(n_points)])
    return out


def _num(value: Any) -> float:
    v = float(value)
    return v if math.isfinite(v) else math.nan


def _sobol_rows(kpi: str, keys: Sequence[str], res: Any) -> list[dict[str, Any]]:
    out = []
    for j, key in enumerate(keys):
        if res is None:
            s1 = c1 = st = ct = math.nan
        else:
            s1, c1 = _num(res["S1"][j]), _num(res["S1_conf"][j])
            st, ct = _num(res["ST"][j]), _num(res["ST_conf"][j])
        out.append(
            {
                "kpi": kpi,
                "param": key,
                "S1": s1,
                "S1_low": s1 - c1,
                "S1_high": s1 + c1,
                "ST": st,
                "ST_low": st - ct,
                "ST_high": st + ct,
            }
        )
    return out


def _morris_rows(kpi: str, keys: Sequence[str], res: Any) -> list[dict[str, Any]]:
    out = []
    for j, key in enumerate(keys):
        if res is None:
            mu = mu_star = conf = sigma = math.nan
        else:
            mu, mu_star = _num(res["mu"][j]), _num(res["mu_star"][j])
            conf, sigma = _num(res["mu_star_conf"][j]), _num(res["sigma"][j])
        out.append(
            {
                "kpi": kpi,
                "param": key,
                "mu": mu,
                "mu_star": mu_star,
                "mu_star_low": mu_star - conf,
                "mu_star_high": mu_star + conf,
                "sigma": sigma,
            }
        )
    return out


def _short(key: str) -> str:
    """A parameter's last two dotted parts, one a line (``"notification\nvolunteers"``)."""
    return "\n".join(key.split(".")[-2:])


def plot_sensitivity(result: SensitivityResult, kpis: Sequence[str] | None = None) -> Any:
    """The indices of some KPIs as panels of one figure (needs the ``plot`` extra).

    Sobol: bars of S1 and ST per parameter with their confidence intervals; Morris: bars of μ*
    with its interval and markers of σ, in the KPI's unit. Titles name the KPI and its unit
    (from :func:`commgov.sim.kpi_info`), the x axis the parameters and their ranges.

    Parameters
    ----------
    result : SensitivityResult
    kpis : sequence of str, optional
        At most 9, one panel each (default: the analysed KPIs with finite indices, headline
        KPIs first, at most 6).

    Returns
    -------
    matplotlib.figure.Figure
        With an Agg canvas attached.

    Raises
    ------
    commgov.errors.MissingExtraError
        If matplotlib is not installed.
    ValueError
        If there is no KPI to draw, or more than 9.
    """
    from commgov.sim._plots import _figure_class, is_headline_kpi

    table = result.indices
    first = "S1" if result.method == "sobol" else "mu_star"
    if kpis is None:
        finite = [
            k
            for k in dict.fromkeys(table["kpi"])
            if np.isfinite(table.loc[table["kpi"] == k, first]).all()
        ]
        kpis = ([k for k in finite if is_headline_kpi(k)] or finite)[:6]
    names = list(kpis)
    if not names or len(names) > 9:
        raise ValueError(f"plot_sensitivity draws 1–9 KPIs, got {len(names)}")
    figure_cls, canvas_cls = _figure_class()
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = figure_cls(figsize=(4.6 * cols, 3.8 * rows), layout="constrained")
    canvas_cls(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    labels = [f"{_short(p.key)}\n[{p.low:g}, {p.high:g}]" for p in result.params]
    xs = np.arange(len(result.params))
    pct = f"{result.level * 100:g} %"
    for ax, kpi in zip(axes, names, strict=False):
        part = table[table["kpi"] == kpi]
        if part.empty:
            raise ValueError(f"no indices for KPI {kpi!r}")
        info = kpi_info(kpi)
        if result.method == "sobol":
            for offset, col, name in (
                (-0.2, "S1", "first order S1"),
                (0.2, "ST", "total order ST"),
            ):
                y = part[col].to_numpy(dtype=float)
                err = np.vstack(
                    [
                        y - part[f"{col}_low"].to_numpy(dtype=float),
                        part[f"{col}_high"].to_numpy(dtype=float) - y,
                    ]
                )
                ax.bar(
                    xs + offset,
                    y,
                    width=0.4,
                    yerr=err,
                    capsize=3,
                    label=f"{name} ({pct} bootstrap interval)",
                )
            ax.set_ylabel("Sobol index (share of variance)")
            ax.axhline(0.0, color="black", linewidth=0.6)
        else:
            y = part["mu_star"].to_numpy(dtype=float)
            err = np.vstack(
                [
                    y - part["mu_star_low"].to_numpy(dtype=float),
                    part["mu_star_high"].to_numpy(dtype=float) - y,
                ]
            )
            ax.bar(xs, y, width=0.5, yerr=err, capsize=3, label=f"μ* ({pct} bootstrap interval)")
            ax.plot(xs, part["sigma"].to_numpy(dtype=float), "kD", label="σ")
            ax.set_ylabel(f"elementary effect ({info.unit})")
        ax.set_xticks(xs, labels, fontsize="small")
        ax.set_xlabel("parameter [range]")
        ax.set_title(info.label, fontsize="medium")
    axes[0].legend(fontsize="small")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    what = "Sobol indices" if result.method == "sobol" else "Morris elementary effects"
    points = len(result.design)
    reps = result.sweep.experiment.replicates
    fig.suptitle(
        f"{what}: N = {result.n}, {points} design points × {reps} "
        f"replicate{'' if reps == 1 else 's'}, seed {result.seed}",
        fontsize="medium",
    )
    return fig
