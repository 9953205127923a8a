"""Lanes for a wait target: the exact upward search and square-root staffing (private)."""

from __future__ import annotations

import math
from numbers import Real

from commgov._options import Interval
from commgov.scheduling.staffing._checks import check_arg, count, rate
from commgov.scheduling.staffing._erlang import c_from_b

__all__ = ["MAX_LANES", "lanes_for_wait", "square_root_staffing"]

#: Largest number of servers :func:`lanes_for_wait` searches by default.
MAX_LANES = 1_000_000


def square_root_staffing(offered_load: float, beta: float = 1.0) -> int:
    """Halfin–Whitt square-root staffing: ``c = ⌈a + β·√a⌉`` (at least 1 when ``a > 0``).

    In the quality-and-efficiency-driven regime the probability of waiting tends to
    ``[1 + β·Φ(β)/φ(β)]⁻¹`` as ``a → ∞`` (Halfin & Whitt 1981): ``β = 1`` gives about 0.22,
    ``β = 2`` about 0.02. A quick estimate; :func:`lanes_for_wait` is exact.

    Parameters
    ----------
    offered_load : float
        ``a = λ/μ`` in erlangs, ≥ 0.
    beta : float
        Quality-of-service parameter ``β`` ≥ 0.

    Returns
    -------
    int
        Servers.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If an argument is not a finite number ≥ 0.

    Notes
    -----
    O(1).

    References
    ----------
    .. [1] S. Halfin and W. Whitt, "Heavy-traffic limits for queues with many exponential
       servers", Operations Research 29(3):567-588, 1981.

    Examples
    --------
    >>> square_root_staffing(100.0, 1.0)
    110
    """
    a = rate("square_root_staffing", "offered_load", offered_load)
    b = rate("square_root_staffing", "beta", beta)
    if a == 0:
        return 0
    return max(1, math.ceil(a + b * math.sqrt(a) - 1e-12))


def lanes_for_wait(
    arrivals_per_hour: float,
    minutes_per_person: float,
    target_wait_min: float,
    *,
    quantile: float | None = None,
    max_utilisation: float = 1.0,
    max_lanes: int = MAX_LANES,
) -> int:
    """The fewest lanes that keep the wait within a target (M/M/c, exact search).

    With ``quantile=None`` the target is on the mean wait ``Wq``; with ``quantile=q`` it is
    on the ``q``-quantile of the wait (e.g. ``q = 0.9``: nine in ten people wait at most
    ``target_wait_min``). The lanes must also keep the utilisation ``ρ`` at or below
    ``max_utilisation`` (strictly below 1 in any case, for a steady state).

    Method: ``c`` runs upward from ``⌊a⌋ + 1`` (or the utilisation floor) and the Erlang B
    recursion is carried along, so the search costs O(c) however large the load.

    Parameters
    ----------
    arrivals_per_hour : float
        ``λ``, people per hour, ≥ 0.
    minutes_per_person : float
        Mean swab time per person per lane, minutes, > 0 (0.6 min = 100 people/h per lane).
    target_wait_min : float
        Acceptable wait in minutes, ≥ 0. A target of 0 on the mean is met by no finite
        number of lanes under load; use a small positive target or a quantile.
    quantile : float or None
        ``q`` in (0, 1) for a quantile target; ``None`` for the mean.
    max_utilisation : float
        Largest ρ allowed, in (0, 1].
    max_lanes : int
        Search limit.

    Returns
    -------
    int
        Lanes (0 when nobody arrives).

    Raises
    ------
    commgov.errors.InvalidParameterError
        For an argument of the wrong type or out of range (both a ``ValueError`` and a
        ``TypeError``).
    ValueError
        When no number of lanes up to ``max_lanes`` meets the target (the message gives the
        best wait found).

    Notes
    -----
    O(c) for the ``c`` returned (at most ``max_lanes``): one step of the Erlang B recursion
    per candidate.

    Examples
    --------
    >>> lanes_for_wait(570.0, 0.6, 2.0)
    6
    >>> lanes_for_wait(570.0, 0.6, 2.0, quantile=0.9)
    7
    """
    where = "lanes_for_wait"
    lam = rate(where, "arrivals_per_hour", arrivals_per_hour)
    mpp = rate(where, "minutes_per_person", minutes_per_person, positive=True)
    target = rate(where, "target_wait_min", target_wait_min)
    rho_max = check_arg(where, "max_utilisation", max_utilisation,
                        Interval(Real, 0.0, 1.0, "right"))
    limit = count(where, "max_lanes", max_lanes)
    if quantile is not None:
        check_arg(where, "quantile", quantile, Interval(Real, 0.0, 1.0, "neither"))
    if lam == 0:
        return 0
    mu = 60.0 / mpp
    a = lam / mu
    start = max(math.floor(a) + 1, math.ceil(a / rho_max - 1e-12))
    b = 1.0
    best = math.inf
    for c in range(1, limit + 1):
        b = a * b / (c + a * b)
        if c < start or a / c > rho_max:
            continue
        p = c_from_b(c, a, b)
        gap = c * mu - lam  # per hour
        if quantile is None:
            wait = 60.0 * p / gap
        else:
            wait = 0.0 if quantile <= 1.0 - p else 60.0 * math.log(p / (1.0 - quantile)) / gap
        best = min(best, wait)
        if wait <= target:
            return c
    raise ValueError(
        f"no number of lanes up to max_lanes={limit} keeps the wait within "
        f"{target_wait_min} min (best {best:.3g} min)")
