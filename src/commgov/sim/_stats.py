"""Confidence intervals of a KPI's mean over replicates: t, bootstrap and Wilson.

One function per method, and :func:`mean_interval`, which picks the method from the KPI's
kind (:func:`commgov.sim.kpi_kind`) — the rule every summary of a sweep uses:

* ``"mean"`` KPIs: Student's t interval (Student 1908);
* ``"quantile"`` KPIs (a replicate's p95, its maximum, the time to 95 %): their replicate
  values are skewed, so the interval is a bias-corrected and accelerated (BCa) bootstrap
  interval of the mean (Efron & Tibshirani 1993, ch. 14), seeded and so deterministic;
* ``"share"`` KPIs (values in [0, 1]): Wilson's score interval (Wilson 1927; Agresti & Coull
  1998) with the replicates' mean as the proportion and the number of replicates as the
  trials. For 0/1 outcomes this is the textbook interval; for fractional shares it is
  conservative, because a variable in [0, 1] with mean p has variance at most p(1 − p). Unlike
  t, it does not collapse to a point when every replicate reached 100 %.

Whatever the method, the interval of a KPI whose replicate values all lie in the KPI's range
(:attr:`commgov.sim.KpiInfo.bounds`, from its unit: [0, 1] for a share or a utilisation,
[0, ∞) for counts, times and rates) is cut to that range: a mean of values in a range lies in
it, so the part of a t interval outside it (a utilisation's 1.015 with three replicates) holds
no possible mean. Values outside the range (a KPI of one's own whose unit says less than its
values) leave the interval as it is.

References
----------
Student (1908). The probable error of a mean. Biometrika 6(1), 1–25.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22(158), 209–212.
Agresti, A. & Coull, B. A. (1998). Approximate is better than "exact" for interval estimation
of binomial proportions. The American Statistician 52(2), 119–126.
Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from statistics import NormalDist
from typing import Literal

import numpy as np

from commgov._options import Interval, check_options_interval
from commgov.sim._kpi_info import kpi_info, kpi_kind

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "ConfidenceInterval",
    "bootstrap_interval",
    "mean_interval",
    "t_interval",
    "wilson_interval",
]

#: Bootstrap resamples per interval (Efron & Tibshirani 1993 advise ≥ 1000 for BCa).
BOOTSTRAP_RESAMPLES = 4999

CiMethod = Literal["t", "bootstrap-bca", "wilson", "none"]

_LEVEL = Interval(Real, 0.0, 1.0, closed="neither")


@dataclass(frozen=True, slots=True)
class ConfidenceInterval:
    """A point estimate of a mean and its confidence interval.

    Attributes
    ----------
    estimate : float
        The sample mean (NaN without data).
    low, high : float
        The interval's bounds (NaN when it cannot be given: fewer than two values).
    level : float
        Confidence level (0.95).
    method : {"t", "bootstrap-bca", "wilson", "none"}
        How the bounds were found (``"none"``: too few values).
    n : int
        Values used (NaNs left out).
    """

    estimate: float
    low: float
    high: float
    level: float
    method: CiMethod
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width, ``(high − low) / 2`` (NaN without an interval)."""
        return (self.high - self.low) / 2.0


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    data = np.asarray(values, dtype=float).ravel()
    out: np.ndarray = data[~np.isnan(data)]
    return out


def _check_level(where: str, level: float) -> None:
    check_options_interval(where, "level", level, _LEVEL)


def _none(data: np.ndarray, level: float) -> ConfidenceInterval:
    est = float(np.mean(data)) if data.size else math.nan
    return ConfidenceInterval(est, math.nan, math.nan, level, "none", int(data.size))


def t_interval(values: Sequence[float] | np.ndarray, *, level: float = 0.95) -> ConfidenceInterval:
    """Student's t interval of a mean: x̄ ± t₍ₙ₋₁, 1−α/2₎ · s / √n.

    Parameters
    ----------
    values : sequence of float
        One value per replicate; NaNs are left out.
    level : float, default 0.95
        Confidence level, in (0, 1).

    Returns
    -------
    ConfidenceInterval
        Method ``"t"``; ``"none"`` (NaN bounds) with fewer than two values.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``level`` is not in (0, 1).

    Notes
    -----
    O(n). Exact for normal data, and close for means of a few dozen replicates of most KPIs
    (central limit theorem). Student (1908).

    Examples
    --------
    >>> ci = t_interval([1.0, 2.0, 3.0, 4.0])
    >>> round(ci.estimate, 3), round(ci.low, 3), round(ci.high, 3)
    (2.5, 0.446, 4.554)
    """
    from scipy import stats

    _check_level("t_interval", level)
    data = _clean(values)
    if data.size < 2:
        return _none(data, level)
    mean = float(np.mean(data))
    se = float(np.std(data, ddof=1)) / math.sqrt(data.size)
    q = float(stats.t.ppf(0.5 + level / 2.0, data.size - 1))
    return ConfidenceInterval(mean, mean - q * se, mean + q * se, level, "t", int(data.size))


def bootstrap_interval(
    values: Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
    seed: int | np.random.Generator = 0,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
) -> ConfidenceInterval:
    """BCa bootstrap interval of a mean (:func:`scipy.stats.bootstrap`), seeded.

    Parameters
    ----------
    values : sequence of float
        One value per replicate; NaNs are left out.
    level : float, default 0.95
        Confidence level, in (0, 1).
    seed : int or numpy.random.Generator, default 0
        The resampling's randomness: the same seed gives the same bounds, bit for bit.
    n_resamples : int, default BOOTSTRAP_RESAMPLES
        Bootstrap resamples, ≥ 100.

    Returns
    -------
    ConfidenceInterval
        Method ``"bootstrap-bca"``; equal bounds when every value is the same; ``"none"``
        (NaN bounds) with fewer than two values.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``level`` or ``n_resamples`` is out of range.

    Notes
    -----
    O(n_resamples · n) time and memory (resamples drawn in one array), plus an O(n²)
    jackknife for the acceleration. Where BCa cannot be computed (degenerate jackknife), the
    percentile interval of the same resamples is given. Efron & Tibshirani (1993), ch. 13–14.

    Examples
    --------
    >>> ci = bootstrap_interval([1.0, 2.0, 3.0, 4.0, 10.0], seed=1)
    >>> ci.method, ci.low < ci.estimate < ci.high
    ('bootstrap-bca', True)
    """
    from scipy import stats

    _check_level("bootstrap_interval", level)
    check_options_interval(
        "bootstrap_interval", "n_resamples", n_resamples, Interval(Integral, 100, 1_000_000)
    )
    data = _clean(values)
    if data.size < 2:
        return _none(data, level)
    mean = float(np.mean(data))
    if float(np.min(data)) == float(np.max(data)):
        return ConfidenceInterval(mean, mean, mean, level, "bootstrap-bca", int(data.size))
    gen = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    state = gen.bit_generator.state
    low = high = math.nan
    for method in ("BCa", "percentile"):
        gen.bit_generator.state = state  # both methods see the same resamples
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap(
                (data,),
                np.mean,
                n_resamples=n_resamples,
                confidence_level=level,
                method=method,
                rng=gen,
                vectorized=True,
                axis=-1,
            )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            break
    return ConfidenceInterval(mean, low, high, level, "bootstrap-bca", int(data.size))


def wilson_interval(successes: float, n: int, *, level: float = 0.95) -> ConfidenceInterval:
    """Wilson's score interval of a proportion.

    With p̂ = successes / n and z the standard normal quantile of 1 − α/2::

        centre = (p̂ + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²)

    Parameters
    ----------
    successes : float
        Successes (a sum of shares may be fractional), in [0, n].
    n : int
        Trials, ≥ 0.
    level : float, default 0.95
        Confidence level, in (0, 1).

    Returns
    -------
    ConfidenceInterval
        Method ``"wilson"``, bounds inside [0, 1]; ``"none"`` when ``n`` is 0.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``level``, ``n`` or ``successes`` is out of range.

    Notes
    -----
    O(1). Equal to ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`` for whole
    ``k``. Wilson (1927); Agresti & Coull (1998) on why it beats the Wald interval.

    Examples
    --------
    >>> ci = wilson_interval(7, 20)
    >>> round(ci.low, 4), round(ci.high, 4)
    (0.1812, 0.5671)
    """
    _check_level("wilson_interval", level)
    check_options_interval("wilson_interval", "n", n, Interval(Integral, 0, None))
    check_options_interval("wilson_interval", "successes", successes, Interval(Real, 0.0, float(n)))
    if n == 0:
        return ConfidenceInterval(math.nan, math.nan, math.nan, level, "none", 0)
    p = float(successes) / n
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    # the bounds hold p̂ exactly (rounding must not put 1e-17 above a p̂ of 0)
    low = min(p, max(0.0, centre - half))
    high = max(p, min(1.0, centre + half))
    return ConfidenceInterval(p, low, high, level, "wilson", n)


def mean_interval(
    values: Sequence[float] | np.ndarray,
    *,
    kpi: str,
    level: float = 0.95,
    seed: int | np.random.Generator = 0,
) -> ConfidenceInterval:
    """The interval of a KPI's mean over replicates by the KPI's kind (module docstring).

    Parameters
    ----------
    values : sequence of float
        The KPI's value in each replicate; NaNs are left out.
    kpi : str
        The KPI's name; :func:`commgov.sim.kpi_kind` picks the method.
    level : float, default 0.95
        Confidence level.
    seed : int or numpy.random.Generator, default 0
        For the bootstrap of quantile KPIs.

    Returns
    -------
    ConfidenceInterval
        t for ``"mean"`` KPIs; BCa bootstrap for ``"quantile"`` KPIs; Wilson for ``"share"``
        KPIs whose values all lie in [0, 1] (t otherwise). Bounds outside the KPI's range
        (:attr:`commgov.sim.KpiInfo.bounds`) are moved onto it when every value lies in it.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``level`` is not in (0, 1).
    """
    kind = kpi_kind(kpi)
    data = _clean(values)
    if kind == "quantile":
        ci = bootstrap_interval(data, level=level, seed=seed)
    elif kind == "share" and data.size and float(data.min()) >= 0.0 and float(data.max()) <= 1.0:
        total = float(np.sum(data))
        ci = wilson_interval(min(total, float(data.size)), int(data.size), level=level)
    else:
        ci = t_interval(data, level=level)
    return _in_range(ci, data, kpi_info(kpi).bounds)


def _in_range(
    ci: ConfidenceInterval, data: np.ndarray, bounds: tuple[float, float]
) -> ConfidenceInterval:
    """``ci`` with its bounds cut to ``bounds`` when every value lies in them."""
    lo, hi = bounds
    if not data.size or float(data.min()) < lo or float(data.max()) > hi:
        return ci
    low = ci.low if math.isnan(ci.low) else min(max(ci.low, lo), hi)
    high = ci.high if math.isnan(ci.high) else max(min(ci.high, hi), lo)
    if low == ci.low and high == ci.high:
        return ci
    return ConfidenceInterval(ci.estimate, low, high, ci.level, ci.method, ci.n)
