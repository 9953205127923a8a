"""Staffing formulas: Erlang B and C (M/M/c queues), lanes for a wait target, swabbers.

Queueing model (Erlang 1917; Cooper 1981, *Introduction to Queueing Theory*, §3.4-3.5;
Gross & Harris, *Fundamentals of Queueing Theory*, §2.3): residents arrive at a sampling
point as a Poisson stream of ``λ`` people per hour, ``c`` lanes (servers) each swab one person
in an exponentially distributed time of mean ``1/μ`` hours, and people wait in one
first-come-first-served queue of unlimited length without leaving. The offered load is
``a = λ/μ`` erlangs and the lane utilisation ``ρ = a/c``.

* :func:`erlang_b`: blocking probability ``B(c, a)`` of the loss system M/M/c/c, computed
  with the recursion ``B(0) = 1``, ``B(k) = a·B(k-1) / (k + a·B(k-1))``, which never forms
  ``a^c`` or ``c!`` and so is stable for any ``c`` (Cooper 1981, eq. 3.4.8 and after).
* :func:`erlang_c`: probability of waiting ``C(c, a) = c·B / (c - a·(1 - B))`` (the same
  recursion; Cooper 1981 §3.5).
* :func:`mean_wait_min`: ``Wq = C / (cμ - λ)``; :func:`mean_queue_length`: ``Lq = λ·Wq``.
* :func:`wait_exceeds_probability`, :func:`service_level`, :func:`wait_quantile_min`: FCFS
  M/M/c waiting time has ``P(W > t) = C · exp(-(cμ - λ) t)`` (Gross & Harris §2.3).
* :func:`lanes_for_wait`: the fewest lanes meeting a wait target, searched upward from the
  smallest stable ``c`` with the recursion carried along (O(c) in all).
* :func:`square_root_staffing`: the Halfin–Whitt rule ``c ≈ a + β·√a`` (Halfin & Whitt
  1981, *Heavy-traffic limits for queues with many exponential servers*, Oper. Res. 29(3)),
  given as a starting point and for comparison; :func:`lanes_for_wait` is exact.
* :func:`swabbers_needed`: the guideline ratio, one swabber per 360 residents (区域核酸检测组织
  实施指南 3rd ed., 22 Mar 2022; reference/scheduling.md §1.1).

Unstable queues. When ``ρ ≥ 1`` (``λ ≥ cμ``) the queue grows without bound: there is no
steady state. The functions then return the limit values rather than raising: ``erlang_c``
gives 1.0 (everyone waits), waits and queue lengths are ``math.inf`` and the service level is
0.0; :func:`is_stable` says which case applies. Invalid arguments (negative or non-finite
rates, a non-integer number of servers) raise :class:`ValueError` or :class:`TypeError`.

Units: rates in people per hour (``arrival_rate``, ``service_rate`` per lane; any time unit
works for :func:`erlang_c` as long as both rates share it), waiting times in minutes.
Everything here is plain floating-point arithmetic with the standard library: no solver.

Examples
--------
Three lanes swabbing 100 people per hour each, 255 arrivals per hour (ρ = 0.85), as in
reference/scheduling.md §2.3:

>>> round(erlang_c(3, 255.0, 100.0), 3)
0.73
>>> round(mean_wait_min(3, 255.0, 100.0), 2)
0.97
>>> lanes_for_wait(255.0, 0.6, 5.0)
3
>>> swabbers_needed(4440)
13
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

__all__ = [
    "GUIDELINE_RESIDENTS_PER_SWABBER",
    "QueueFigures",
    "erlang_b",
    "erlang_c",
    "is_stable",
    "lanes_for_wait",
    "mean_queue_length",
    "mean_wait_min",
    "queue_figures",
    "service_level",
    "square_root_staffing",
    "swabbers_needed",
    "wait_exceeds_probability",
    "wait_quantile_min",
]

#: Residents per swabber in one 24-hour round, guideline v3 (22 Mar 2022): staff = pop ÷ 360.
GUIDELINE_RESIDENTS_PER_SWABBER = 360

#: Largest number of servers :func:`lanes_for_wait` searches by default.
MAX_LANES = 1_000_000


def _servers(servers: object, name: str = "servers") -> int:
    if isinstance(servers, bool) or not isinstance(servers, Integral):
        raise TypeError(f"{name} must be a whole number, not {type(servers).__name__}")
    if servers < 0:
        raise ValueError(f"{name} must be ≥ 0, got {servers}")
    return int(servers)


def _rate(value: object, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        bound = "> 0" if positive else "≥ 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return x


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
    TypeError
        If ``servers`` is not a whole number or ``offered_load`` is not a number.
    ValueError
        If ``servers < 0`` or ``offered_load`` is negative or not finite.

    Examples
    --------
    >>> round(erlang_b(10, 4.46), 4)  # the 1 % column of the classic Erlang B table
    0.01
    """
    c = _servers(servers)
    a = _rate(offered_load, "offered_load")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def _c_from_b(c: int, a: float, b: float) -> float:
    if a >= c:
        return 1.0
    return c * b / (c - a * (1.0 - b))


def is_stable(servers: int, arrival_rate: float, service_rate: float) -> bool:
    """Whether the M/M/c queue has a steady state, i.e. ``λ < c·μ`` (ρ < 1).

    Parameters
    ----------
    servers : int
        Lanes ``c`` ≥ 0.
    arrival_rate : float
        ``λ``, people per hour, ≥ 0.
    service_rate : float
        ``μ``, people per hour per lane, > 0.

    Returns
    -------
    bool

    Raises
    ------
    TypeError, ValueError
        For invalid arguments (as :func:`erlang_c`).
    """
    c = _servers(servers)
    lam = _rate(arrival_rate, "arrival_rate")
    mu = _rate(service_rate, "service_rate", positive=True)
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
    TypeError
        If ``servers`` is not a whole number or a rate is not a number.
    ValueError
        If ``servers < 0``, ``arrival_rate < 0``, ``service_rate ≤ 0`` or a rate is not
        finite.

    Examples
    --------
    >>> round(erlang_c(2, 150.0, 100.0), 6)  # 9/14: two 1 Mbit/s lines, Wolfram ErlangC docs
    0.642857
    >>> erlang_c(1, 120.0, 100.0)  # unstable: ρ = 1.2
    1.0
    """
    c = _servers(servers)
    lam = _rate(arrival_rate, "arrival_rate")
    mu = _rate(service_rate, "service_rate", positive=True)
    if lam == 0:
        return 0.0
    a = lam / mu
    return _c_from_b(c, a, erlang_b(c, a))


def mean_wait_min(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue ``Wq = C / (cμ - λ)``, in minutes.

    Parameters
    ----------
    servers : int
        Lanes ``c`` ≥ 0.
    arrival_rate : float
        ``λ``, people per hour, ≥ 0.
    service_rate : float
        ``μ``, people per hour per lane, > 0.

    Returns
    -------
    float
        Minutes; ``math.inf`` when the queue is unstable (ρ ≥ 1), 0.0 when nobody arrives.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments (as :func:`erlang_c`).

    Examples
    --------
    >>> round(mean_wait_min(1, 85.0, 100.0), 1)  # M/M/1: ρ/(μ-λ) = 0.85/15 h
    3.4
    """
    p = erlang_c(servers, arrival_rate, service_rate)
    lam, mu, c = float(arrival_rate), float(service_rate), int(servers)
    if lam == 0:
        return 0.0
    if lam >= c * mu:
        return math.inf
    return 60.0 * p / (c * mu - lam)


def mean_queue_length(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean number of people waiting, ``Lq = λ·Wq`` (Little's law).

    Parameters
    ----------
    servers : int
        Lanes ``c`` ≥ 0.
    arrival_rate : float
        ``λ``, people per hour, ≥ 0.
    service_rate : float
        ``μ``, people per hour per lane, > 0.

    Returns
    -------
    float
        People; ``math.inf`` when unstable.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments (as :func:`erlang_c`).
    """
    w = mean_wait_min(servers, arrival_rate, service_rate)
    return math.inf if math.isinf(w) else float(arrival_rate) * w / 60.0


def wait_exceeds_probability(
    servers: int, arrival_rate: float, service_rate: float, wait_min: float
) -> float:
    """``P(W > t) = C · exp(-(cμ - λ)·t)``: probability of waiting longer than ``t`` minutes.

    FCFS M/M/c (Gross & Harris §2.3).

    Parameters
    ----------
    servers : int
        Lanes ``c`` ≥ 0.
    arrival_rate : float
        ``λ``, people per hour, ≥ 0.
    service_rate : float
        ``μ``, people per hour per lane, > 0.
    wait_min : float
        ``t`` in minutes, ≥ 0.

    Returns
    -------
    float
        Probability; 1.0 when unstable (and someone arrives).

    Raises
    ------
    TypeError, ValueError
        For invalid arguments (``wait_min`` negative or not finite, or as :func:`erlang_c`).
    """
    t = _rate(wait_min, "wait_min") / 60.0
    p = erlang_c(servers, arrival_rate, service_rate)
    lam, mu, c = float(arrival_rate), float(service_rate), int(servers)
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
    servers : int
        Lanes ``c`` ≥ 0.
    arrival_rate : float
        ``λ``, people per hour, ≥ 0.
    service_rate : float
        ``μ``, people per hour per lane, > 0.
    target_wait_min : float
        Acceptable wait in minutes, ≥ 0.

    Returns
    -------
    float
        In [0, 1]; 0.0 when unstable.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments.

    Examples
    --------
    Ten erlangs (200 calls/h, 3 min each) on 14 agents, 20 s target:

    >>> round(service_level(14, 200.0, 20.0, 20 / 60), 3)
    0.888
    """
    return 1.0 - wait_exceeds_probability(servers, arrival_rate, service_rate, target_wait_min)


def wait_quantile_min(
    servers: int, arrival_rate: float, service_rate: float, quantile: float
) -> float:
    """The ``quantile`` of the waiting time, in minutes.

    ``t_q = 0`` when ``q ≤ 1 - C`` (that share of people does not wait at all), else
    ``t_q = ln(C / (1 - q)) / (cμ - λ)``.

    Parameters
    ----------
    servers : int
        Lanes ``c`` ≥ 0.
    arrival_rate : float
        ``λ``, people per hour, ≥ 0.
    service_rate : float
        ``μ``, people per hour per lane, > 0.
    quantile : float
        ``q`` in [0, 1).

    Returns
    -------
    float
        Minutes; ``math.inf`` when unstable.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments (``quantile`` outside [0, 1), or as :func:`erlang_c`).

    Examples
    --------
    >>> round(wait_quantile_min(3, 255.0, 100.0, 0.9), 2)
    2.65
    """
    q = _rate(quantile, "quantile")
    if q >= 1:
        raise ValueError(f"quantile must be in [0, 1), got {quantile!r}")
    p = erlang_c(servers, arrival_rate, service_rate)
    lam, mu, c = float(arrival_rate), float(service_rate), int(servers)
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

    Parameters
    ----------
    servers : int
        Lanes ``c`` ≥ 0.
    arrival_rate : float
        ``λ``, people per hour, ≥ 0.
    service_rate : float
        ``μ``, people per hour per lane, > 0.

    Returns
    -------
    QueueFigures

    Raises
    ------
    TypeError, ValueError
        For invalid arguments (as :func:`erlang_c`).
    """
    p = erlang_c(servers, arrival_rate, service_rate)
    lam, mu, c = float(arrival_rate), float(service_rate), int(servers)
    a = lam / mu
    rho = a / c if c else (0.0 if lam == 0 else math.inf)
    return QueueFigures(
        servers=c, arrival_rate=lam, service_rate=mu, offered_load=a, utilisation=rho,
        stable=is_stable(c, lam, mu), p_wait=p,
        mean_wait_min=mean_wait_min(c, lam, mu), mean_queue=mean_queue_length(c, lam, mu))


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
    TypeError, ValueError
        If an argument is not a finite number ≥ 0.

    Examples
    --------
    >>> square_root_staffing(100.0, 1.0)
    110
    """
    a = _rate(offered_load, "offered_load")
    b = _rate(beta, "beta")
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
    TypeError
        If an argument has the wrong type.
    ValueError
        For out-of-range arguments, or when no number of lanes up to ``max_lanes`` meets the
        target (the message gives the best wait found).

    Examples
    --------
    >>> lanes_for_wait(570.0, 0.6, 2.0)
    6
    >>> lanes_for_wait(570.0, 0.6, 2.0, quantile=0.9)
    7
    """
    lam = _rate(arrivals_per_hour, "arrivals_per_hour")
    mpp = _rate(minutes_per_person, "minutes_per_person", positive=True)
    target = _rate(target_wait_min, "target_wait_min")
    rho_max = _rate(max_utilisation, "max_utilisation", positive=True)
    if rho_max > 1:
        raise ValueError(f"max_utilisation must be in (0, 1], got {max_utilisation!r}")
    limit = _servers(max_lanes, "max_lanes")
    if quantile is not None:
        q = _rate(quantile, "quantile")
        if not 0 < q < 1:
            raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
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
        p = _c_from_b(c, a, b)
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


def swabbers_needed(residents: int, ratio: int = GUIDELINE_RESIDENTS_PER_SWABBER) -> int:
    """Swabbers for one round by the guideline ratio: ``⌈residents / ratio⌉``.

    Guideline v3 (《区域新型冠状病毒核酸检测组织实施指南（第三版）》, 22 Mar 2022): sampling
    staff = population ÷ 360 for a 24-hour round; campaigns ran at 420–570 residents per
    swabber (reference/scheduling.md §1.4). The ratio is a parameter, not a derivation.

    Parameters
    ----------
    residents : int
        People to sample, ≥ 0.
    ratio : int
        Residents per swabber, ≥ 1 (default 360).

    Returns
    -------
    int
        Swabbers (rounded up).

    Raises
    ------
    TypeError
        If an argument is not a whole number.
    ValueError
        If ``residents < 0`` or ``ratio < 1``.

    Examples
    --------
    >>> swabbers_needed(1_140_000)  # Suzhou Wuzhong, 14 Feb 2022 (1,990 medics deployed)
    3167
    """
    n = _servers(residents, "residents")
    r = _servers(ratio, "ratio")
    if r < 1:
        raise ValueError(f"ratio must be ≥ 1, got {ratio}")
    return -(-n // r)
