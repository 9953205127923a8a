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
* :func:`erlang_a`: the M/M/c+M queue whose residents leave after an exponential patience
  (Palm 1943; Garnett, Mandelbaum & Reiman 2002, *M&SOM* 4(3)): probabilities of waiting
  and of abandoning, mean wait and queue, with ``scipy.special.gammainc``.
* :func:`wait_exceeds_probability`, :func:`service_level`, :func:`wait_quantile_min`: FCFS
  M/M/c waiting time has ``P(W > t) = C · exp(-(cμ - λ) t)`` (Gross & Harris §2.3).
* :func:`lanes_for_wait`: the fewest lanes meeting a wait target, searched upward from the
  smallest stable ``c`` with the recursion carried along (O(c) in all).
* :func:`square_root_staffing`: the Halfin–Whitt rule ``c ≈ a + β·√a`` (Halfin & Whitt
  1981, *Heavy-traffic limits for queues with many exponential servers*, Oper. Res. 29(3)),
  given as a starting point and for comparison; :func:`lanes_for_wait` is exact.
* :func:`swabbers_needed`: the guideline ratio, one swabber per 360 residents (区域新型冠状病毒
  核酸检测组织实施指南（第三版）, 22 Mar 2022).

Unstable queues. When ``ρ ≥ 1`` (``λ ≥ cμ``) the queue grows without bound: there is no
steady state. The functions then return the limit values rather than raising: ``erlang_c``
gives 1.0 (everyone waits), waits and queue lengths are ``math.inf`` and the service level is
0.0; :func:`is_stable` says which case applies. Invalid arguments (negative or non-finite
rates, a non-integer number of servers) raise :class:`~commgov.errors.InvalidParameterError`
(both a ``ValueError`` and a ``TypeError``).

Units: rates in people per hour (``arrival_rate``, ``service_rate`` per lane; any time unit
works for :func:`erlang_c` as long as both rates share it), waiting times in minutes.
Everything here is plain floating-point arithmetic with the standard library (and
``scipy.special`` for Erlang A): no solver.

Examples
--------
Three lanes swabbing 100 people per hour each, 255 arrivals per hour (ρ = 0.85):

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

from commgov.scheduling.staffing._erlang import (
    QueueFigures,
    erlang_b,
    erlang_c,
    is_stable,
    mean_queue_length,
    mean_wait_min,
    queue_figures,
    service_level,
    wait_exceeds_probability,
    wait_quantile_min,
)
from commgov.scheduling.staffing._erlang_a import ErlangAFigures, erlang_a
from commgov.scheduling.staffing._guideline import (
    GUIDELINE_RESIDENTS_PER_SWABBER,
    swabbers_needed,
)
from commgov.scheduling.staffing._lanes import MAX_LANES, lanes_for_wait, square_root_staffing

__all__ = [
    "GUIDELINE_RESIDENTS_PER_SWABBER",
    "MAX_LANES",
    "ErlangAFigures",
    "QueueFigures",
    "erlang_a",
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
