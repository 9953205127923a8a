"""Erlang B and C by recursion, and the waiting figures of an M/M/c queue (private)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from commgov._options import Interval
from commgov.scheduling.staffing._checks import MAX_SERVERS, check_arg, count, rate

__all__ = [
    "QueueFigures",
    "c_from_b",
    "erlang_b",
    "erlang_c",
    "is_stable",
    "mean_queue_length",
    "mean_wait_min",
    "queue_figures",
    "service_level",
    "wait_exceeds_probability",
    "wait_quantile_min",
]


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang's loss formula ``B(c, a)``: blocking probability of M/M/c/c.

    Computed by the recursion ``B(0) = 1``, ``B(k) = a·B(k-1) / (k + a·B(k-1))`` (Erlang 1917;
    Cooper 1981 §3.4), which is stable for any number of servers.

    Parameters
    ----------
    servers : int
        Servers ``c`` ≥ 0.
    offered_load : float
        Offered load ``a = λ/μ`` in erlangs, finite and ≥ 0.

    Returns
    -------
    float
        Probability in [0, 1] that an arrival finds every server busy (1.0 when ``c = 0``).

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``servers`` is not a whole number ≥ 0 or ``offered_load`` not a finite number
        ≥ 0 (both a ``ValueError`` and a ``TypeError``).

    Notes
    -----
    O(c) arithmetic operations, O(1) memory.

    References
    ----------
    .. [1] R. B. Cooper, *Introduction to Queueing Theory*, 2nd ed., North Holland, 1981,
       §3.4.

    Examples
    --------
    >>> round(erlang_b(10, 4.46), 4)  # the 1 % column of the classic Erlang B table
    0.01
    """
    c = count("erlang_b", "servers", servers, high=MAX_SERVERS)
    a = rate("erlang_b", "offered_load", offered_load)
    return _erlang_b(c, a)


def _erlang_b(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def c_from_b(c: int, a: float, b: float) -> float:
    """Erlang C from Erlang B: ``c·B / (c − a·(1 − B))``, 1.0 when ``a ≥ c``."""
    if a >= c:
        return 1.0
    return c * b / (c - a * (1.0 - b))


def is_stable(servers: int, arrival_rate: float, service_rate: float) -> bool:
    """Whether the M/M/c queue has a steady state, i.e. ``λ < c·μ`` (ρ < 1).

    The queue (``servers``, ``arrival_rate``, ``service_rate``) is given as to :func:`erlang_c`:
    lanes ≥ 0 and rates in people per hour.

    Returns
    -------
    bool
        ``True`` when ``λ < c·μ`` or nobody arrives.

    Raises
    ------
    commgov.errors.InvalidParameterError
        For invalid arguments (as :func:`erlang_c`).
    """
    c, lam, mu = _queue("is_stable", servers, arrival_rate, service_rate)
    return lam < c * mu or lam == 0


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Erlang's delay formula ``C(c, a)``: probability that an arrival has to wait.

    ``C = c·B(c, a) / (c - a·(1 - B(c, a)))`` with ``a = λ/μ`` (Erlang 1917; Cooper 1981
    §3.5), from the Erlang B recursion (no factorials or powers).

    Parameters
    ----------
    servers : int
        Lanes ``c`` ≥ 0.
    arrival_rate : float
        ``λ``, arrivals per unit of time (people per hour), ≥ 0.
    service_rate : float
        ``μ``, services per lane per the same unit of time, > 0.

    Returns
    -------
    float
        Probability in [0, 1]. 1.0 when the queue is unstable (``λ ≥ c·μ``, ρ ≥ 1): in the
        limit everyone waits. 0.0 when nobody arrives.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``servers`` is not a whole number ≥ 0, ``arrival_rate`` not a finite number ≥ 0
        or ``service_rate`` not a finite number > 0 (both a ``ValueError`` and a
        ``TypeError``).

    Notes
    -----
    O(c) arithmetic operations (the Erlang B recursion), O(1) memory; so are the other
    waiting figures of this module.

    References
    ----------
    .. [1] R. B. Cooper, *Introduction to Queueing Theory*, 2nd ed., North Holland, 1981,
       §3.5.
    .. [2] D. Gross and C. M. Harris, *Fundamentals of Queueing Theory*, 3rd ed., Wiley,
       1998, §2.3.

    Examples
    --------
    >>> round(erlang_c(2, 150.0, 100.0), 6)  # 9/14: two 1 Mbit/s lines, Wolfram ErlangC docs
    0.642857
    >>> erlang_c(1, 120.0, 100.0)  # unstable: ρ = 1.2
    1.0
    """
    return _p_wait(*_queue("erlang_c", servers, arrival_rate, service_rate))


def _queue(where: str, servers: object, arrival_rate: object,
           service_rate: object) -> tuple[int, float, float]:
    """The checked ``(c, λ, μ)`` of an M/M/c queue."""
    return (count(where, "servers", servers, high=MAX_SERVERS),
            rate(where, "arrival_rate", arrival_rate),
            rate(where, "service_rate", service_rate, positive=True))


def _p_wait(c: int, lam: float, mu: float) -> float:
    if lam == 0:
        return 0.0
    a = lam / mu
    return c_from_b(c, a, _erlang_b(c, a))


def _mean_wait(c: int, lam: float, mu: float) -> float:
    if lam == 0:
        return 0.0
    if lam >= c * mu:
        return math.inf
    return 60.0 * _p_wait(c, lam, mu) / (c * mu - lam)


def mean_wait_min(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue ``Wq = C / (cμ - λ)``, in minutes.

    The queue (``servers``, ``arrival_rate``, ``service_rate``) is given as to :func:`erlang_c`:
    lanes ≥ 0 and rates in people per hour.

    Returns
    -------
    float
        Minutes; ``math.inf`` when the queue is unstable (ρ ≥ 1), 0.0 when nobody arrives.

    Raises
    ------
    commgov.errors.InvalidParameterError
        For invalid arguments (as :func:`erlang_c`).

    Examples
    --------
    >>> round(mean_wait_min(1, 85.0, 100.0), 1)  # M/M/1: ρ/(μ-λ) = 0.85/15 h
    3.4
    """
    return _mean_wait(*_queue("mean_wait_min", servers, arrival_rate, service_rate))


def mean_queue_length(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean number of people waiting, ``Lq = λ·Wq`` (Little's law).

    The queue (``servers``, ``arrival_rate``, ``service_rate``) is given as to :func:`erlang_c`:
    lanes ≥ 0 and rates in people per hour.

    Returns
    -------
    float
        People; ``math.inf`` when unstable.

    Raises
    ------
    commgov.errors.InvalidParameterError
        For invalid arguments (as :func:`erlang_c`).
    """
    c, lam, mu = _queue("mean_queue_length", servers, arrival_rate, service_rate)
    return _mean_queue(c, lam, mu)


def _mean_queue(c: int, lam: float, mu: float) -> float:
    w = _mean_wait(c, lam, mu)
    return math.inf if math.isinf(w) else lam * w / 60.0


def wait_exceeds_probability(
    servers: int, arrival_rate: float, service_rate: float, wait_min: float
) -> float:
    """``P(W > t) = C · exp(-(cμ - λ)·t)``: probability of waiting longer than ``t`` minutes.

    FCFS M/M/c (Gross & Harris §2.3).

    Parameters
    ----------
    servers, arrival_rate, service_rate
        The queue, as in :func:`erlang_c` (lanes ≥ 0, people per hour).
    wait_min : float
        ``t`` in minutes, ≥ 0.

    Returns
    -------
    float
        Probability; 1.0 when unstable (and someone arrives).

    Raises
    ------
    commgov.errors.InvalidParameterError
        For invalid arguments (``wait_min`` negative or not finite, or as :func:`erlang_c`).
    """
    c, lam, mu = _queue("wait_exceeds_probability", servers, arrival_rate, service_rate)
    t = rate("wait_exceeds_probability", "wait_min", wait_min) / 60.0
    return _wait_exceeds(c, lam, mu, t)


def _wait_exceeds(c: int, lam: float, mu: float, t_hours: float) -> float:
    p = _p_wait(c, lam, mu)
    t = t_hours
    if lam == 0:
        return 0.0
    if lam >= c * mu:
        return 1.0
    return p * math.exp(-(c * mu - lam) * t)


def service_level(
    servers: int, arrival_rate: float, service_rate: float, target_wait_min: float
) -> float:
    """Share of people who wait at most ``target_wait_min`` minutes: ``1 - P(W > t)``.

    Parameters
    ----------
    servers, arrival_rate, service_rate
        The queue, as in :func:`erlang_c` (lanes ≥ 0, people per hour).
    target_wait_min : float
        Acceptable wait in minutes, ≥ 0.

    Returns
    -------
    float
        In [0, 1]; 0.0 when unstable.

    Raises
    ------
    commgov.errors.InvalidParameterError
        For invalid arguments.

    Examples
    --------
    Ten erlangs (200 calls/h, 3 min each) on 14 agents, 20 s target:

    >>> round(service_level(14, 200.0, 20.0, 20 / 60), 3)
    0.888
    """
    c, lam, mu = _queue("service_level", servers, arrival_rate, service_rate)
    t = rate("service_level", "target_wait_min", target_wait_min) / 60.0
    return 1.0 - _wait_exceeds(c, lam, mu, t)


def wait_quantile_min(
    servers: int, arrival_rate: float, service_rate: float, quantile: float
) -> float:
    """The ``quantile`` of the waiting time, in minutes.

    ``t_q = 0`` when ``q ≤ 1 - C`` (that share of people does not wait at all), else
    ``t_q = ln(C / (1 - q)) / (cμ - λ)``.

    Parameters
    ----------
    servers, arrival_rate, service_rate
        The queue, as in :func:`erlang_c` (lanes ≥ 0, people per hour).
    quantile : float
        ``q`` in [0, 1).

    Returns
    -------
    float
        Minutes; ``math.inf`` when unstable.

    Raises
    ------
    commgov.errors.InvalidParameterError
        For invalid arguments (``quantile`` outside [0, 1), or as :func:`erlang_c`).

    Examples
    --------
    >>> round(wait_quantile_min(3, 255.0, 100.0, 0.9), 2)
    2.65
    """
    c, lam, mu = _queue("wait_quantile_min", servers, arrival_rate, service_rate)
    q = check_arg("wait_quantile_min", "quantile", quantile, Interval(Real, 0.0, 1.0, "left"))
    p = _p_wait(c, lam, mu)
    if lam == 0:
        return 0.0
    if lam >= c * mu:
        return math.inf
    if q <= 1.0 - p:
        return 0.0
    return 60.0 * math.log(p / (1.0 - q)) / (c * mu - lam)


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """Steady-state figures of one M/M/c queue (see :func:`queue_figures`).

    Attributes
    ----------
    servers : int
        Lanes ``c``.
    arrival_rate, service_rate : float
        ``λ`` and ``μ``, people per hour (per lane for ``μ``).
    offered_load : float
        ``a = λ/μ``, erlangs.
    utilisation : float
        ``ρ = a/c`` (``math.inf`` with no lanes and some arrivals).
    stable : bool
        ``ρ < 1``.
    p_wait : float
        Erlang C.
    mean_wait_min : float
        ``Wq``, minutes.
    mean_queue : float
        ``Lq``, people.
    """

    servers: int
    arrival_rate: float
    service_rate: float
    offered_load: float
    utilisation: float
    stable: bool
    p_wait: float
    mean_wait_min: float
    mean_queue: float


def queue_figures(servers: int, arrival_rate: float, service_rate: float) -> QueueFigures:
    """All steady-state figures of an M/M/c queue at once.

    The queue (``servers``, ``arrival_rate``, ``service_rate``) is given as to :func:`erlang_c`:
    lanes ≥ 0 and rates in people per hour.

    Returns
    -------
    QueueFigures
        Every figure of the queue, computed once.

    Raises
    ------
    commgov.errors.InvalidParameterError
        For invalid arguments (as :func:`erlang_c`).
    """
    c, lam, mu = _queue("queue_figures", servers, arrival_rate, service_rate)
    a = lam / mu
    rho = a / c if c else (0.0 if lam == 0 else math.inf)
    return QueueFigures(
        servers=c, arrival_rate=lam, service_rate=mu, offered_load=a, utilisation=rho,
        stable=lam < c * mu or lam == 0, p_wait=_p_wait(c, lam, mu),
        mean_wait_min=_mean_wait(c, lam, mu), mean_queue=_mean_queue(c, lam, mu))

