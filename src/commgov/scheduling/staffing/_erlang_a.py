"""Erlang A: the M/M/c+M queue with impatient customers (private)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from commgov.scheduling.staffing._checks import MAX_SERVERS, count, rate
from commgov.scheduling.staffing._erlang import _erlang_b

__all__ = ["ErlangAFigures", "erlang_a"]

_SERIES_CHUNK = 4096
_SERIES_MAX_TERMS = 10_000_000


@dataclass(frozen=True, slots=True)
class ErlangAFigures:
    """Steady-state figures of one M/M/c+M (Erlang A) queue (see :func:`erlang_a`).

    Attributes
    ----------
    servers : int
        Lanes ``c``.
    arrival_rate, service_rate, abandonment_rate : float
        ``λ``, ``μ`` (per lane) and ``θ`` (1 / mean patience), per hour.
    utilisation : float
        Offered utilisation ``ρ = λ / (cμ)`` (may exceed 1: the queue is stable anyway).
    p_wait : float
        ``P(W > 0)``: probability that an arrival waits.
    p_abandon : float
        ``P(Ab)``: probability that an arrival leaves the queue unserved.
    p_abandon_given_wait : float
        ``P(Ab | W > 0)``.
    mean_wait_min : float
        ``E[W]``: mean time in the queue over all arrivals (a leaver's time in the queue
        counts), minutes; ``P(Ab) = θ·E[W]``.
    mean_queue : float
        ``E[Lq] = λ·E[W]``, people waiting.
    occupancy : float
        Share of lane time busy, ``(1 − P(Ab))·ρ``.
    """

    servers: int
    arrival_rate: float
    service_rate: float
    abandonment_rate: float
    utilisation: float
    p_wait: float
    p_abandon: float
    p_abandon_given_wait: float
    mean_wait_min: float
    mean_queue: float
    occupancy: float


def _log_a(x: float, y: float) -> float:
    """``ln A(x, y)``, ``A(x, y) = x·e^y·y^(−x)·γ(x, y) = Σ_j y^j / ((x+1)…(x+j))``."""
    from scipy.special import gammainc, gammaln

    if y == 0.0:
        return 0.0
    p = float(gammainc(x, y))
    if p > 0.0 and math.isfinite(p):
        return math.log(x) + y - x * math.log(y) + float(gammaln(x)) + math.log(p)
    # γ underflowed (y far below x): the series converges geometrically, ratio ≤ y/x
    import numpy as np

    log_terms = [0.0]
    start = 1
    while start < _SERIES_MAX_TERMS:
        j = np.arange(start, start + _SERIES_CHUNK, dtype=float)
        chunk = j * math.log(y) - (gammaln(x + j + 1.0) - float(gammaln(x + 1.0)))
        log_terms.extend(chunk.tolist())
        if chunk[-1] < max(log_terms) - 50.0 and chunk[-1] < chunk[-2]:
            break
        start += _SERIES_CHUNK
    arr = np.array(log_terms)
    top = float(arr.max())
    return top + math.log(float(np.exp(arr - top).sum()))


def erlang_a(
    servers: int, arrival_rate: float, service_rate: float, abandonment_rate: float
) -> ErlangAFigures:
    """Erlang A: steady-state figures of the M/M/c+M queue with exponential patience.

    Residents arrive as a Poisson stream of ``λ`` per hour, ``c`` lanes serve in exponential
    times of mean ``1/μ`` hours, and a resident still waiting after an exponential patience
    of mean ``1/θ`` hours leaves (reneges). With ``a = λ/μ``, ``ρ = λ/(cμ)``, Erlang B
    ``E = B(c, a)`` and ``A = A(cμ/θ, λ/θ)``, where ``A(x, y) = x·e^y·y^(−x)·γ(x, y)`` with
    the lower incomplete gamma function ``γ`` (Palm 1943; Garnett, Mandelbaum & Reiman 2002,
    §3):

    * ``P(W > 0) = A·E / (1 + (A − 1)·E)``;
    * ``P(Ab | W > 0) = 1/(ρA) + 1 − 1/ρ``, ``P(Ab) = P(Ab | W > 0)·P(W > 0)``;
    * ``E[W] = P(Ab)/θ`` (over all arrivals) and ``E[Lq] = λ·E[W]``.

    Unlike Erlang C, the queue is stable for every ``ρ``, also ``ρ ≥ 1``.

    Parameters
    ----------
    servers : int
        Lanes ``c`` ≥ 1.
    arrival_rate : float
        ``λ``, people per hour, ≥ 0.
    service_rate : float
        ``μ``, people per lane per hour, > 0.
    abandonment_rate : float
        ``θ``, per hour: 60 / the mean patience in minutes, > 0 (``θ → 0`` is Erlang C:
        use :func:`erlang_c`).

    Returns
    -------
    ErlangAFigures
        Probabilities, the mean wait in minutes and the mean queue in people.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``servers`` is not a whole number ≥ 1, ``arrival_rate`` not a finite number ≥ 0
        or ``service_rate`` or ``abandonment_rate`` not a finite number > 0 (both a
        ``ValueError`` and a ``TypeError``).

    Notes
    -----
    O(c) for Erlang B (the recursion of :func:`erlang_b`) plus one regularised incomplete
    gamma function (``scipy.special.gammainc``); when that underflows (``λ`` far below
    ``cμ``) ``A`` is summed as its series ``Σ_j y^j / ((x+1)…(x+j))`` in log space, which
    then converges geometrically. ``tests/sim/test_abandonment.py`` checks the formulas
    against the birth-death chain and the desk-queue simulation.

    References
    ----------
    .. [1] C. Palm, "Intensitätsschwankungen im Fernsprechverkehr", *Ericsson Technics* 44,
       1943.
    .. [2] O. Garnett, A. Mandelbaum and M. Reiman, "Designing a call center with impatient
       customers", *Manufacturing & Service Operations Management* 4(3):208-227, 2002.
    .. [3] A. Mandelbaum and S. Zeltyn, "The M/M/n+G queue: summary of performance
       measures", Technion, 2009 (the Erlang A special case, §4).

    Examples
    --------
    >>> import math

    One lane, 60 arrivals and 60 services per hour, mean patience 1 minute (θ = μ): the
    state ``n`` empties at rate ``nμ`` as in M/M/∞, so the number in system is Poisson(1),
    ``P(W > 0) = P(N ≥ 1) = 1 − e^(−1)`` and ``E[Lq] = E[N] − P(N ≥ 1) = e^(−1)``:

    >>> f = erlang_a(1, 60.0, 60.0, 60.0)
    >>> round(f.p_wait, 4), round(1 - math.exp(-1), 4)
    (0.6321, 0.6321)
    >>> round(f.p_abandon, 4), round(f.mean_wait_min, 4)  # θ·E[Lq]/λ; E[Lq]/λ hours
    (0.3679, 0.3679)
    """
    c = count("erlang_a", "servers", servers, low=1, high=MAX_SERVERS)
    lam = rate("erlang_a", "arrival_rate", arrival_rate)
    mu = rate("erlang_a", "service_rate", service_rate, positive=True)
    theta = rate("erlang_a", "abandonment_rate", abandonment_rate, positive=True)
    rho = lam / (c * mu)
    if lam == 0.0:
        return ErlangAFigures(c, lam, mu, theta, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    e = _erlang_b(c, lam / mu)
    inv_a = math.exp(-_log_a(c * mu / theta, lam / theta))  # 1/A in (0, 1]
    p_wait = e / (e + (1.0 - e) * inv_a)
    p_ab_wait = 1.0 - (1.0 - inv_a) / rho
    p_ab = p_ab_wait * p_wait
    wait_h = p_ab / theta
    return ErlangAFigures(
        servers=c,
        arrival_rate=lam,
        service_rate=mu,
        abandonment_rate=theta,
        utilisation=rho,
        p_wait=p_wait,
        p_abandon=p_ab,
        p_abandon_given_wait=p_ab_wait,
        mean_wait_min=60.0 * wait_h,
        mean_queue=lam * wait_h,
        occupancy=(1.0 - p_ab) * rho,
    )
