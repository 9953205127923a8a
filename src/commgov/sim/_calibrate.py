"""Calibration: fit scenario parameters to observed KPI targets with common random numbers.

:func:`calibrate` searches the chosen (continuous) parameters of a scenario, within bounds,
for the values whose mean KPIs over ``replicates`` replicates come closest to observed
targets. Every evaluation runs the same replicates with the same root seed through
:func:`commgov.sim.run_sweep` (common random numbers), so the objective is a deterministic
function of the parameters: the optimiser sees no Monte-Carlo noise between nearby points,
and the same call gives the same fit, byte for byte.

This is calibration, not validation: a model fitted to a figure reproduces that figure by
construction and says nothing about whether it predicts others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from commgov._random import rng as _rng
from commgov.sim._design import Experiment
from commgov.sim._sweep import run_sweep

__all__ = ["CalibrationResult", "calibrate"]

#: The bootstrap's random stream (shared with the sweep summaries' bootstrap).
_STREAM = "stats_bootstrap"
_MAX_PARAMETERS = 10


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """A calibration's fitted values, their uncertainty and how the search went.

    Attributes
    ----------
    values : dict of str to float
        Fitted value per parameter path (in the parameter's own unit).
    std_error : dict of str to float
        Bootstrap standard error of each fitted value.
    interval : dict of str to (float, float)
        Bootstrap percentile interval of each fitted value at ``level``.
    level : float
        Level of ``interval`` (0.95).
    targets : dict of str to float
        The observed targets, KPI name → value.
    fitted_kpis : dict of str to float
        Mean KPI over the replicates at the fitted values.
    kpi_std_error : dict of str to float
        Standard error of those means over the replicates.
    objective : float
        ``Σ ((mean KPI − target) / scale)²`` at the fit (dimensionless).
    evaluations : int
        Parameter values simulated (each ``replicates`` runs), the uncertainty steps included.
    converged : bool
        Whether the optimiser met its tolerance within ``max_evaluations``.
    message : str
        The optimiser's message.
    history : tuple of (dict, float)
        Every evaluation of the search in order: parameter values and objective (a profile
        of the objective along the search path).
    replicates : int
    root_seed : int
    """

    values: dict[str, float]
    std_error: dict[str, float]
    interval: dict[str, tuple[float, float]]
    level: float
    targets: dict[str, float]
    fitted_kpis: dict[str, float]
    kpi_std_error: dict[str, float]
    objective: float
    evaluations: int
    converged: bool
    message: str
    history: tuple[tuple[dict[str, float], float], ...]
    replicates: int
    root_seed: int


def _check(
    bounds: Mapping[str, tuple[float, float]],
    targets: Mapping[str, float],
    target_sd: Mapping[str, float],
    replicates: int,
    bootstrap: int,
    xatol: float,
    max_evaluations: int,
) -> None:
    if not bounds or len(bounds) > _MAX_PARAMETERS:
        raise ValueError(f"give 1 to {_MAX_PARAMETERS} parameters to fit, got {len(bounds)}")
    for path, pair in bounds.items():
        lo, hi = (float(v) for v in pair)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"bounds of {path!r} must be finite with low < high, got {pair}")
    if not targets:
        raise ValueError("give at least one target (KPI name → observed value)")
    for kpi, value in targets.items():
        if not math.isfinite(float(value)):
            raise ValueError(f"target {kpi!r} must be a finite number, got {value}")
    for kpi, sd in target_sd.items():
        if kpi not in targets:
            raise ValueError(f"target_sd names {kpi!r}, which is not a target")
        if not (math.isfinite(float(sd)) and sd > 0):
            raise ValueError(f"target_sd of {kpi!r} must be a finite number > 0, got {sd}")
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 2:
        raise ValueError(f"replicates must be a whole number ≥ 2, got {replicates!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a whole number ≥ 0, got {bootstrap!r}")
    if not (0 < xatol < 1):
        raise ValueError(f"xatol must be in (0, 1) (a share of each bound's width), got {xatol}")
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, int):
        raise ValueError(f"max_evaluations must be a whole number, got {max_evaluations!r}")
    if max_evaluations < 3:
        raise ValueError(f"max_evaluations must be ≥ 3, got {max_evaluations}")


def calibrate(
    base: BaseModel,
    bounds: Mapping[str, tuple[float, float]],
    targets: Mapping[str, float],
    *,
    replicates: int = 20,
    root_seed: int = 0,
    target_sd: Mapping[str, float] | None = None,
    xatol: float = 1e-3,
    max_evaluations: int = 60,
    bootstrap: int = 200,
    step: float = 0.1,
    level: float = 0.95,
    scan: int = 9,
    runner: Callable[[Any, int, int], Any] | None = None,
    executor: Executor | None = None,
) -> CalibrationResult:
    """Fit scenario parameters so that mean KPIs match observed targets (common random numbers).

    The objective is ``S(θ) = Σ_k ((m_k(θ) − y_k) / s_k)²``, where ``m_k(θ)`` is the mean of KPI
    ``k`` over replicates ``0 … replicates−1`` of the scenario with parameters ``θ`` (root seed
    ``root_seed`` at every ``θ``: common random numbers), ``y_k`` its target and ``s_k`` its
    ``target_sd`` (default ``|y_k|``, a relative error; 1 when ``y_k = 0``). One parameter is
    fitted by bounded Brent search (``scipy.optimize.minimize_scalar(method="bounded")``),
    after a scan of ``scan`` grid points (Brent searches the best grid cell: a CRN objective is
    smooth at large scale but jagged at small scale, from discrete events, which traps a
    Brent search alone); several by Nelder–Mead on ``θ = low + (high − low)·sin²(v)`` (always
    inside the bounds), from the best point of a 3-level interior grid when there are at
    most three.

    Uncertainty: per-replicate KPIs are simulated at the fit and at ``θ̂ + h·e_i`` for each
    parameter (``h = step ×`` the bound's width). Each of ``bootstrap`` resamples of the
    replicates (and, with ``target_sd``, of the targets, normal) re-solves the linearised
    problem by one Gauss–Newton step from ``θ̂``; the standard deviation and percentiles of
    those solutions are the standard error and interval. They measure the Monte-Carlo
    uncertainty of the finite replicates (and of the targets when ``target_sd`` is given),
    not a model error.

    Parameters
    ----------
    base : pydantic.BaseModel
        The scenario (a :class:`commgov.sim.Scenario`, or any model ``runner`` takes).
    bounds : mapping of str to (float, float)
        Dotted parameter path → (low, high), in the parameter's unit (e.g. minutes); the
        parameters must take floats. 1–10 parameters.
    targets : mapping of str to float
        KPI name (``"notification.t95_min"``) → observed value, in the KPI's unit.
    replicates : int, default 20
        Replicates per evaluation, ≥ 2.
    root_seed : int, default 0
        Root seed of every evaluation.
    target_sd : mapping of str to float, optional
        Uncertainty (standard deviation) of a target, in its unit: the scale of its term
        in ``S`` and the spread of the target in the bootstrap.
    xatol : float, default 1e-3
        Tolerance on the parameters, as a share of each bound's width, in (0, 1).
    max_evaluations : int, default 60
        Most objective evaluations of the search, ≥ 3.
    bootstrap : int, default 200
        Bootstrap resamples (0: no uncertainty, no extra simulations).
    step : float, default 0.1
        Finite-difference step as a share of each bound's width: wide enough that the slope
        is a secant over the small-scale jaggedness of the CRN objective.
    level : float, default 0.95
        Level of the bootstrap interval.
    scan : int, default 9
        One parameter: grid points scanned before the Brent search, 3–101.
    runner : callable, optional
        ``runner(scenario, replicate, root_seed)`` as in :func:`commgov.sim.run_sweep`
        (default the engine's :func:`commgov.sim.run_replicate`).
    executor : concurrent.futures.Executor, optional
        Where each evaluation's replicates run (:func:`commgov.sim.run_sweep`).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    ValueError
        If bounds, targets, ``target_sd``, ``step``, ``level``, ``scan`` or the budgets are
        malformed, a target KPI is missing from the runs, or a KPI is not finite in some
        replicate (e.g. a quantile time never reached).
    commgov.errors.InputError
        If a path names no field of the scenario or a value does not validate.

    Notes
    -----
    Cost: at most ``scan`` (one parameter) or ``3^p`` (two or three) grid evaluations, plus
    ``max_evaluations`` of the search and ``p + 1`` for the uncertainty, of ``replicates`` runs
    each (evaluations are cached by value); the bootstrap is O(bootstrap × replicates ×
    targets) arithmetic. Deterministic: same inputs → same result (the bootstrap draws from
    stream ``"stats_bootstrap"``, entity ``"calibrate/<paths>"``).

    References
    ----------
    .. [1] R. P. Brent, *Algorithms for Minimization without Derivatives*, Prentice-Hall,
       1973, ch. 5.
    .. [2] J. A. Nelder and R. Mead, "A simplex method for function minimization", *The
       Computer Journal* 7(4):308-313, 1965.
    .. [3] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall,
       1993, ch. 6 and 13.
    .. [4] R. G. Sargent, "Verification and validation of simulation models", *Journal of
       Simulation* 7(1):12-24, 2013 (calibration is not validation).

    Examples
    --------
    A toy model whose KPI is ``2·x`` plus noise common to every ``x``:

    >>> from pydantic import BaseModel
    >>> class Toy(BaseModel):
    ...     x: float = 1.0
    >>> def toy(scenario, replicate, root_seed):
    ...     return {"y": 2 * scenario.x + 0.1 * (replicate - 4.5)}
    >>> fit = calibrate(Toy(), {"x": (0.0, 5.0)}, {"y": 3.0}, replicates=10, runner=toy)
    >>> round(fit.values["x"], 3), fit.converged
    (1.5, True)
    """
    sd = dict(target_sd or {})
    _check(bounds, targets, sd, replicates, bootstrap, xatol, max_evaluations)
    if not (0.0 < step < 0.5):
        raise ValueError(f"step must be in (0, 0.5) (a share of each bound's width), got {step}")
    if not (0.0 < level < 1.0):
        raise ValueError(f"level must be in (0, 1), got {level}")
    if isinstance(scan, bool) or not isinstance(scan, int) or not 3 <= scan <= 101:
        raise ValueError(f"scan must be a whole number in [3, 101], got {scan!r}")
    names = tuple(bounds)
    lo = np.array([float(bounds[n][0]) for n in names])
    hi = np.array([float(bounds[n][1]) for n in names])
    width = hi - lo
    kpis = tuple(targets)
    y = np.array([float(targets[k]) for k in kpis])
    scale = np.array(
        [
            float(sd[k]) if k in sd else (abs(v) if v != 0 else 1.0)
            for k, v in zip(kpis, y, strict=True)
        ]
    )
    cache: dict[tuple[float, ...], np.ndarray] = {}
    history: list[tuple[dict[str, float], float]] = []

    def per_replicate(theta: np.ndarray) -> np.ndarray:
        key = tuple(float(v) for v in theta)
        if key not in cache:
            values = dict(zip(names, key, strict=True))
            experiment = Experiment(
                base, design=[values], replicates=replicates, root_seed=root_seed
            )
            result = run_sweep(experiment, executor=executor, runner=runner, on_error="raise")
            rows = sorted(result.rows, key=lambda r: r.replicate)
            table = np.empty((len(rows), len(kpis)))
            for i, row in enumerate(rows):
                for j, kpi in enumerate(kpis):
                    if kpi not in row.kpis:
                        raise ValueError(
                            f"target KPI {kpi!r} is not among the runs' KPIs: {sorted(row.kpis)}"
                        )
                    table[i, j] = row.kpis[kpi]
            if not np.isfinite(table).all():
                bad = [kpis[j] for j in range(len(kpis)) if not np.isfinite(table[:, j]).all()]
                raise ValueError(
                    f"KPI {bad} is not finite in some replicate at {values}; calibrate on a "
                    "KPI every replicate reaches, or narrow the bounds"
                )
            cache[key] = table
        return cache[key]

    def objective(theta: np.ndarray) -> float:
        m = per_replicate(theta).mean(axis=0)
        s = float((((m - y) / scale) ** 2).sum())
        history.append((dict(zip(names, (float(v) for v in theta), strict=True)), s))
        return s

    from scipy import optimize

    if len(names) == 1:
        # scan a grid, then Brent inside the best cell: CRN objectives are smooth at large
        # scale but jagged at small scale (discrete events), which traps a Brent search alone
        grid = np.linspace(lo[0], hi[0], scan)
        best = int(np.argmin([objective(np.array([g])) for g in grid]))
        a, b = grid[max(best - 1, 0)], grid[min(best + 1, scan - 1)]
        res = optimize.minimize_scalar(
            lambda u: objective(np.array([u])),
            bounds=(a, b),
            method="bounded",
            options={"xatol": xatol * width[0], "maxiter": max(max_evaluations - scan, 1)},
        )
        theta_hat = np.array([float(res.x)])
        if objective(grid[best : best + 1]) < objective(theta_hat):
            theta_hat = grid[best : best + 1].copy()
        converged, message = bool(res.success), str(res.message)
    else:
        # θ = lo + width·sin²(v): every v is inside the bounds, so the simplex never
        # collapses onto a bound (as clipping does)
        def theta_of(v: np.ndarray) -> np.ndarray:
            return np.asarray(lo + width * np.sin(v) ** 2)

        u0 = np.full(len(names), 0.5)
        if len(names) <= 3:  # start from the best point of a 3-level interior grid
            axes = [[1 / 6, 1 / 2, 5 / 6]] * len(names)
            levels = np.array(np.meshgrid(*axes)).reshape(len(names), -1).T
            u0 = levels[int(np.argmin([objective(lo + u * width) for u in levels]))]
        v0 = np.arcsin(np.sqrt(u0))
        res = optimize.minimize(
            lambda v: objective(theta_of(v)),
            x0=v0,
            method="Nelder-Mead",
            options={
                "xatol": xatol,
                "fatol": 1e-12,
                "maxfev": max_evaluations,
                "initial_simplex": np.vstack([v0, v0 + 0.3 * np.eye(len(names))]),
            },
        )
        theta_hat = theta_of(res.x)
        converged, message = bool(res.success), str(res.message)

    base_table = per_replicate(theta_hat)
    fitted = base_table.mean(axis=0)
    kpi_se = base_table.std(axis=0, ddof=1) / math.sqrt(replicates)
    se, interval = _bootstrap(
        per_replicate,
        theta_hat,
        base_table,
        y,
        scale,
        sd,
        kpis,
        lo,
        hi,
        width,
        step,
        bootstrap,
        level,
        root_seed,
        names,
    )
    return CalibrationResult(
        values={n: float(v) for n, v in zip(names, theta_hat, strict=True)},
        std_error={n: float(v) for n, v in zip(names, se, strict=True)},
        interval={n: (float(a), float(b)) for n, (a, b) in zip(names, interval, strict=True)},
        level=level,
        targets={k: float(v) for k, v in zip(kpis, y, strict=True)},
        fitted_kpis={k: float(v) for k, v in zip(kpis, fitted, strict=True)},
        kpi_std_error={k: float(v) for k, v in zip(kpis, kpi_se, strict=True)},
        objective=float((((fitted - y) / scale) ** 2).sum()),
        evaluations=len(cache),
        converged=converged,
        message=message,
        history=tuple(history),
        replicates=replicates,
        root_seed=root_seed,
    )


def _bootstrap(
    per_replicate: Callable[[np.ndarray], np.ndarray],
    theta_hat: np.ndarray,
    base_table: np.ndarray,
    y: np.ndarray,
    scale: np.ndarray,
    sd: Mapping[str, float],
    kpis: tuple[str, ...],
    lo: np.ndarray,
    hi: np.ndarray,
    width: np.ndarray,
    step: float,
    bootstrap: int,
    level: float,
    root_seed: int,
    names: tuple[str, ...],
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    p = len(names)
    if bootstrap == 0:
        return np.full(p, math.nan), [(math.nan, math.nan)] * p
    steps = []
    shifted = []
    for i in range(p):
        h = step * width[i]
        if theta_hat[i] + h > hi[i]:
            h = -h
        theta = theta_hat.copy()
        theta[i] += h
        steps.append(h)
        shifted.append(per_replicate(theta))
    gen = _rng(root_seed, _STREAM, "calibrate/" + ",".join(names))
    r = base_table.shape[0]
    target_spread = np.array([float(sd.get(k, 0.0)) for k in kpis])
    draws = np.empty((bootstrap, p))
    for b in range(bootstrap):
        idx = gen.integers(0, r, r)
        y_b = y + target_spread * gen.standard_normal(len(kpis))
        m0 = base_table[idx].mean(axis=0)
        jac = (
            np.column_stack([(shifted[i][idx].mean(axis=0) - m0) / steps[i] for i in range(p)])
            / scale[:, None]
        )
        resid = (m0 - y_b) / scale
        delta = np.linalg.lstsq(jac, -resid, rcond=None)[0]
        draws[b] = np.clip(theta_hat + delta, lo, hi)
    tail = (1.0 - level) / 2.0
    q = np.quantile(draws, [tail, 1.0 - tail], axis=0)
    return draws.std(axis=0, ddof=1), [(float(q[0, i]), float(q[1, i])) for i in range(p)]
