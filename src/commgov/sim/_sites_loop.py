"""Closed loop between the site planner and the simulation (private).

:func:`simulate_sites_plan` simulates a :class:`commgov.scheduling.sites.SitesPlan` as
planned; :func:`fewest_staff_meeting_target` searches the fewest lanes (and the staff they
need) whose simulated wait meets the target in a given share of replicates.

The day as planned
------------------
Each opened site is a desk queue (:mod:`commgov.sim._desk`): the plan's lanes, open from the
start of its first open slot to the end of its last, one first-come-first-served queue,
residents still queueing at closing served. Its residents arrive as the planner's model
says: a Poisson stream of ``λ = R / H`` per hour over the open hours (``R`` the residents the
plan assigns, ``H`` the open hours), each with an exponential service time of mean
``60 / μ`` minutes (``μ`` the site's lanes' rate per hour). The draws are those of
:func:`commgov.sim._desk.poisson_arrivals` (streams ``"sim_queue_arrivals"`` and
``"sim_queue_service"``, entity the site id, replicate ``r`` of the root ``seed``), so a
resident's arrival and service time do not depend on the lanes: common random numbers across
staffing levels (Law 2015, §11.2).

The queue is computed by the FCFS multi-server recursion (Kiefer & Wolfowitz 1955): the
``k``-th resident starts at ``max(arrival, earliest free lane)``; that lane is then free at
start + service. This is the desk model's own event sequence (equal to
:func:`commgov.sim._desk.run_desk_queues` on the same residents to 1e-9 minutes, tested),
vectorised over replicates: 200 replicates of a 110,000-resident day (双塔) take about
4 s, drawing included; `benchmarks/bench_sites_loop.py` measures it against SimPy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Literal

import numpy as np

from commgov._options import Interval, check_choice, check_options_interval
from commgov.errors import InvalidParameterError
from commgov.sim._desk import (
    _CHUNK as _DESK_CHUNK,
    ARRIVAL_STREAM,
    SERVICE_STREAM,
    ServiceTime,
    _draw_service,
)
from commgov.sim._shifts import RngFactory
from commgov.sim._stats import ConfidenceInterval, wilson_interval

if TYPE_CHECKING:
    from commgov.scheduling.sites import SitesPlan, SitesProblem

__all__ = [
    "CRITERIA",
    "SitesSimulation",
    "StaffSearch",
    "fewest_staff_meeting_target",
    "simulate_sites_plan",
]

#: What "the wait meets its target" means in one replicate.
CRITERIA = ("overall", "every_site")

_MAX_REPLICATES = 100_000
_WHERE = "simulate_sites_plan"


@dataclass(frozen=True, eq=False)
class SitesSimulation:
    """Replicates of a planned day: the quantile wait per site and over every resident.

    Attributes
    ----------
    site_ids : tuple of str
        The opened sites, in the plan's order (by id).
    lanes : tuple of int
        Lanes simulated at each site.
    target_wait_min : float
        The waiting target, minutes (the problem's ``policy.target_wait_min``).
    quantile : float
        The quantile the target is on (``policy.wait_quantile``, 0.95: the p95 wait).
    criterion : str
        ``"overall"``: a replicate meets the target when the quantile wait over every
        resident of the day is within it; ``"every_site"``: when each site's is.
    seed : int
        Root seed.
    site_wait_min : numpy.ndarray
        ``(replicates, sites)``: each site's quantile wait in each replicate, minutes (linear
        interpolation; NaN where no resident came).
    overall_wait_min : numpy.ndarray
        ``(replicates,)``: the quantile wait over every resident of the replicate, minutes
        (0 when no resident came: nobody waited).
    arrivals : numpy.ndarray
        ``(replicates,)``: residents who came.
    level : float
        Confidence level of :attr:`share_interval`.
    """

    site_ids: tuple[str, ...]
    lanes: tuple[int, ...]
    target_wait_min: float
    quantile: float
    criterion: str
    seed: int
    site_wait_min: np.ndarray
    overall_wait_min: np.ndarray
    arrivals: np.ndarray
    level: float = 0.95

    @property
    def replicates(self) -> int:
        """Number of replicates."""
        return int(self.overall_wait_min.shape[0])

    @property
    def meets(self) -> np.ndarray:
        """``(replicates,)`` bool: whether each replicate meets the target (the criterion)."""
        tol = self.target_wait_min + 1e-9
        if self.criterion == "overall":
            return np.asarray(self.overall_wait_min <= tol)
        site = np.where(np.isnan(self.site_wait_min), 0.0, self.site_wait_min)
        return np.asarray((site <= tol).all(axis=1))

    @property
    def share(self) -> float:
        """Share of replicates meeting the target."""
        return float(self.meets.mean()) if self.replicates else math.nan

    @property
    def share_interval(self) -> ConfidenceInterval:
        """Wilson (1927) interval of :attr:`share` at :attr:`level`."""
        return wilson_interval(int(self.meets.sum()), self.replicates, level=self.level)


@dataclass(frozen=True, eq=False)
class StaffSearch:
    """The fewest lanes (and their staff) whose simulated wait meets the target often enough.

    Attributes
    ----------
    found : bool
        Whether some number of lanes within the sites' ``max_lanes`` meets ``share``;
        when not, the other fields describe the most lanes tried.
    lanes_total : int
        Lanes over the opened sites (each in every open slot).
    lanes : dict of str to int
        Site id → lanes.
    swabbers, registrars, orderlies : int
        Staff at once over the sites (per open slot, by the policy's ratios).
    staff_hours : float
        Staff-hours of the day (every role, every open slot, the sites' opening work).
    plan_lanes_total, plan_staff_hours : float
        The same figures of the plan searched from.
    target_share : float
        The share of replicates required (0.95).
    simulation : SitesSimulation
        The replicates at the answer (its ``share`` and ``share_interval``).
    evaluations : tuple of (int, float)
        ``(lanes_total, share)`` of every budget simulated, in the order tried.
    """

    found: bool
    lanes_total: int
    lanes: dict[str, int]
    swabbers: int
    registrars: int
    orderlies: int
    staff_hours: float
    plan_lanes_total: int
    plan_staff_hours: float
    target_share: float
    simulation: SitesSimulation
    evaluations: tuple[tuple[int, float], ...]

    @property
    def share(self) -> float:
        """Share of replicates meeting the target at the answer."""
        return self.simulation.share

    @property
    def share_interval(self) -> ConfidenceInterval:
        """Wilson interval of :attr:`share`."""
        return self.simulation.share_interval


# ------------------------------------------------------------------------------ the model


@dataclass(frozen=True)
class _Site:
    site_id: str
    lanes: int
    max_lanes: int
    open_min: float
    close_min: float
    rate_per_hour: float  # μ per lane
    arrivals_per_hour: float  # λ
    slots: int
    opening_staff_minutes: int


def _sites_of(problem: SitesProblem, plan: SitesPlan) -> list[_Site]:
    from commgov.scheduling.sites._rules import arrivals_per_hour, site_rate

    by_id = {s.id: s for s in problem.sites}
    delta = problem.policy.slot_minutes
    out = []
    for o in plan.sites:
        if o.site_id not in by_id:
            raise InvalidParameterError(
                "plan", o.site_id, "a plan of this problem (it opens an unknown site)", _WHERE
            )
        if not o.slots:
            continue
        lanes = {sl.lanes for sl in o.slots}
        if len(lanes) != 1:
            raise InvalidParameterError(
                "plan", o.site_id, "one number of lanes in every open slot of a site", _WHERE
            )
        slots = sorted(sl.slot for sl in o.slots)
        if slots != list(range(slots[0], slots[-1] + 1)):
            raise InvalidParameterError(
                "plan", o.site_id, "open in slots that follow each other", _WHERE
            )
        site = by_id[o.site_id]
        out.append(
            _Site(
                site_id=o.site_id,
                lanes=next(iter(lanes)),
                max_lanes=site.max_lanes,
                open_min=float(slots[0] * delta),
                close_min=float((slots[-1] + 1) * delta),
                rate_per_hour=site_rate(problem, site),
                arrivals_per_hour=arrivals_per_hour(o.residents, len(slots), delta),
                slots=len(slots),
                opening_staff_minutes=site.opening_staff_minutes,
            )
        )
    return out


def site_draws(
    site_id: str,
    rate_per_min: float,
    open_min: float,
    close_min: float,
    service: ServiceTime,
    rngs: RngFactory,
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival and service times of one site and replicate, as ``poisson_arrivals`` draws
    them (same streams, chunks and order), without building resident records."""
    times = np.empty(0)
    if rate_per_min > 0 and close_min > open_min:
        gen = rngs(ARRIVAL_STREAM, site_id)
        parts: list[np.ndarray] = []
        t = open_min
        while t < close_min:
            chunk = t + np.cumsum(gen.exponential(1.0 / rate_per_min, _DESK_CHUNK))
            parts.append(chunk)
            t = float(chunk[-1])
        times = np.concatenate(parts)
        times = times[times < close_min]
    svc = _draw_service(service, rngs(SERVICE_STREAM, site_id), len(times))
    return times, svc


def fcfs_waits(arrive: np.ndarray, service: np.ndarray, lanes: int, open_min: float) -> np.ndarray:
    """Waits of FCFS ``lanes``-server queues, one per row, minutes.

    ``arrive`` and ``service`` are ``(replicates, n)``; rows sorted by arrival and padded
    with ``inf`` arrivals (their waits are NaN). Lanes are free from ``open_min``; O(R·n·c).
    """
    n_rep, n = arrive.shape
    free = np.full((n_rep, lanes), open_min)
    rows = np.arange(n_rep)
    waits = np.empty((n_rep, n))
    with np.errstate(invalid="ignore"):
        for k in range(n):
            j = free.argmin(axis=1)
            a = arrive[:, k]
            start = np.maximum(a, free[rows, j])
            waits[:, k] = start - a
            free[rows, j] = start + service[:, k]
    return waits


class _Draws:
    """Per site, the padded arrivals and service times of every replicate (drawn once)."""

    def __init__(self, sites: list[_Site], replicates: int, seed: int) -> None:
        from commgov.sim._desk import stream_factory

        self.arrive: list[np.ndarray] = []
        self.service: list[np.ndarray] = []
        self.count = np.zeros(replicates, dtype=np.int64)
        for s in sites:
            svc = ServiceTime(mean_minutes=60.0 / s.rate_per_hour)
            rows = [
                site_draws(
                    s.site_id,
                    s.arrivals_per_hour / 60.0,
                    s.open_min,
                    s.close_min,
                    svc,
                    stream_factory(seed, r),
                )
                for r in range(replicates)
            ]
            width = max((len(t) for t, _ in rows), default=0)
            arr = np.full((replicates, width), np.inf)
            ser = np.zeros((replicates, width))
            for r, (t, v) in enumerate(rows):
                arr[r, : len(t)] = t
                ser[r, : len(v)] = v
                self.count[r] += len(t)
            self.arrive.append(arr)
            self.service.append(ser)


def _simulate(
    sites: list[_Site],
    draws: _Draws,
    lanes: list[int],
    problem: SitesProblem,
    criterion: str,
    seed: int,
    level: float,
) -> SitesSimulation:
    q = problem.policy.wait_quantile
    n_rep = draws.count.shape[0]
    per_site = np.full((n_rep, len(sites)), np.nan)
    pooled: list[list[np.ndarray]] = [[] for _ in range(n_rep)]
    for i, s in enumerate(sites):
        waits = fcfs_waits(draws.arrive[i], draws.service[i], lanes[i], s.open_min)
        for r in range(n_rep):
            w = waits[r][~np.isnan(waits[r])]
            if len(w):
                per_site[r, i] = float(np.quantile(w, q))
                pooled[r].append(w)
    overall = np.array([float(np.quantile(np.concatenate(p), q)) if p else 0.0 for p in pooled])
    return SitesSimulation(
        site_ids=tuple(s.site_id for s in sites),
        lanes=tuple(lanes),
        target_wait_min=problem.policy.target_wait_min,
        quantile=q,
        criterion=criterion,
        seed=seed,
        site_wait_min=per_site,
        overall_wait_min=overall,
        arrivals=draws.count.copy(),
        level=level,
    )


def _check(where: str, replicates: int, seed: int, criterion: str, level: float) -> None:
    check_options_interval(where, "replicates", replicates, Interval(Integral, 1, _MAX_REPLICATES))
    check_options_interval(where, "seed", seed, Interval(Integral, 0, None))
    check_choice(where, "criterion", criterion, CRITERIA)
    check_options_interval(where, "level", level, Interval(Real, 0.0, 1.0, closed="neither"))


def simulate_sites_plan(
    problem: SitesProblem,
    plan: SitesPlan,
    *,
    replicates: int = 200,
    seed: int = 0,
    lanes: Mapping[str, int] | None = None,
    criterion: Literal["overall", "every_site"] = "overall",
    level: float = 0.95,
) -> SitesSimulation:
    """Simulate a planned day as planned: each opened site's desk queue, many replicates.

    Each opened site is an FCFS queue with the plan's lanes, open over its open slots; the
    residents the plan assigns arrive as the planner's model says — a Poisson stream of
    ``residents / open hours`` — with exponential service times of mean ``60 / μ`` minutes
    (see the module notes of :mod:`commgov.sim`). Residents queueing at closing are served.

    Parameters
    ----------
    problem : SitesProblem
        The planned problem (slots, sites' lane rates, the waiting target and quantile).
    plan : SitesPlan
        Its opened sites, their lanes (the same in each open slot) and residents.
    replicates : int, default 200
        Independent days simulated, 1 … 100,000.
    seed : int, default 0
        Root seed (≥ 0); replicate ``r`` uses the streams of ``(seed, r)``.
    lanes : mapping of str to int, optional
        Site id → lanes instead of the plan's (what-if staffing; the residents and their
        draws stay the same: common random numbers).
    criterion : {"overall", "every_site"}, default "overall"
        When a replicate meets the target: the quantile wait over every resident of the day
        within ``policy.target_wait_min``, or each site's.
    level : float, default 0.95
        Confidence level of the share's Wilson interval.

    Returns
    -------
    SitesSimulation
        Per replicate the quantile (p95) wait per site and overall, minutes; the share of
        replicates meeting the target and its interval.

    Raises
    ------
    commgov.errors.InvalidParameterError
        Bad ``replicates``, ``seed``, ``criterion``, ``level`` or ``lanes`` (< 1); a plan
        opening a site the problem does not have, or with lanes that differ between slots
        of one site.

    Notes
    -----
    O(replicates · (N + S·c)) time for N residents of the day, S sites and c lanes, and
    O(replicates · N) memory. Deterministic for the same seed. With Poisson arrivals and
    exponential service this is the M/M/c queue of Erlang C (Kleinrock 1975, §3.5), which
    the planner's lanes are sized on in steady state; the simulated day also shows the
    empty start and the spread of one day around the steady state.

    References
    ----------
    .. [1] Kleinrock, L. (1975). *Queueing Systems, Volume 1: Theory*. Wiley.
    .. [2] Kiefer, J., & Wolfowitz, J. (1955). On the theory of queues with many servers.
       *Trans. Amer. Math. Soc.* 78(1), 1-18.
    .. [3] Law, A. M. (2015). *Simulation Modeling and Analysis* (5th ed.). McGraw-Hill.
    .. [4] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
       inference. *J. Amer. Statist. Assoc.* 22(158), 209-212.

    Examples
    --------
    >>> from commgov.datasets import HUCHIYUAN, gusu
    >>> from commgov.scheduling.sites import plan_sites, sites_problem_from_org
    >>> problem = sites_problem_from_org(gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN)
    >>> sim = simulate_sites_plan(problem, plan_sites(problem), replicates=20)
    >>> sim.overall_wait_min.shape
    (20,)
    """
    _check("simulate_sites_plan", replicates, seed, criterion, level)
    sites = _sites_of(problem, plan)
    chosen = [s.lanes for s in sites]
    if lanes is not None:
        known = {s.site_id for s in sites}
        for sid, c in lanes.items():
            if sid not in known or isinstance(c, bool) or not isinstance(c, int) or c < 1:
                raise InvalidParameterError(
                    "lanes", {sid: c}, "opened site ids → an int ≥ 1", _WHERE
                )
        chosen = [lanes.get(s.site_id, s.lanes) for s in sites]
    draws = _Draws(sites, replicates, seed)
    return _simulate(sites, draws, chosen, problem, criterion, seed, level)


# ------------------------------------------------------------------------------ the search


def _greedy_order(sites: list[_Site], problem: SitesProblem) -> tuple[list[int], list[int]]:
    """Start lanes (one per site) and the sites to add a lane to, in order.

    Each step adds a lane to the site whose expected wait is largest (ties: more arrivals,
    then site order), until every site has its ``max_lanes``: overloaded sites
    (``λ ≥ cμ``) first, the largest fluid wait at closing ``H · (λ − cμ) / cμ`` first
    (``H`` the open time), then stable ones by their Erlang-C quantile wait. The
    allocations are nested: more lanes never take one from a site.
    """
    from commgov.scheduling.staffing import wait_quantile_min

    q = problem.policy.wait_quantile
    delta = problem.policy.slot_minutes

    def wait(i: int, c: int) -> float:
        s = sites[i]
        lam, mu = s.arrivals_per_hour, s.rate_per_hour
        if lam <= 0:
            return 0.0
        if lam >= c * mu:
            fluid = s.slots * delta * (lam - c * mu) / (c * mu)
            return 1e9 + fluid
        return wait_quantile_min(c, lam, mu, q)

    start = [1 for _ in sites]
    cur = list(start)
    order: list[int] = []
    while True:
        best, key = -1, (-math.inf, 0.0, 0)
        for i, s in enumerate(sites):
            if cur[i] >= s.max_lanes:
                continue
            k = (wait(i, cur[i]), s.arrivals_per_hour, -i)
            if k > key:
                best, key = i, k
        if best < 0:
            break
        cur[best] += 1
        order.append(best)
    return start, order


def _staff(
    sites: list[_Site], lanes: list[int], problem: SitesProblem
) -> tuple[int, int, int, float]:
    from commgov.scheduling.sites._rules import staff_for

    by_id = {s.id: s for s in problem.sites}
    sw = rg = od = 0
    minutes = 0
    for s, c in zip(sites, lanes, strict=True):
        a, b, d = staff_for(problem, by_id[s.site_id], c)
        sw, rg, od = sw + a, rg + b, od + d
        minutes += (a + b + d) * s.slots * problem.policy.slot_minutes + s.opening_staff_minutes
    return sw, rg, od, minutes / 60.0


def fewest_staff_meeting_target(
    problem: SitesProblem,
    plan: SitesPlan,
    *,
    share: float = 0.95,
    replicates: int = 200,
    seed: int = 0,
    criterion: Literal["overall", "every_site"] = "overall",
    level: float = 0.95,
) -> StaffSearch:
    """The fewest lanes and staff on the plan's sites whose simulated wait meets the target.

    The plan's sites and building → site assignment stay; the staff budget is the number of
    lanes over the opened sites (their swabbers, registrars and orderlies follow from the
    policy's ratios). Budgets are nested: from one lane at each site, each further lane goes
    to the site whose expected wait is then largest — an overloaded site (``λ ≥ cμ``) first,
    by its fluid wait at closing, then by the Erlang-C quantile wait — up to the sites'
    ``max_lanes`` (marginal allocation, Fox 1966). Budgets below the steady-state minimum are
    tried too: over a day of a few hours a slightly overloaded queue may still meet the
    target. Every budget is simulated on the same residents
    (common random numbers), and since under FCFS a further lane never delays any resident,
    the share of replicates meeting the target never falls as the budget grows; bisection
    finds the smallest budget whose share is at least ``share``.

    Parameters
    ----------
    problem : SitesProblem
    plan : SitesPlan
        The plan whose sites and residents are kept.
    share : float, default 0.95
        Share of replicates that must meet the target, in (0, 1].
    replicates, seed, criterion, level
        As :func:`simulate_sites_plan`.

    Returns
    -------
    StaffSearch
        The lanes per site, staff at once by role, staff-hours, the share at the answer with
        its Wilson interval, the plan's own lanes and staff-hours, and every budget tried.
        ``found`` is false when even every site at its ``max_lanes`` misses ``share``.

    Raises
    ------
    commgov.errors.InvalidParameterError
        As :func:`simulate_sites_plan`, or ``share`` outside (0, 1].

    Notes
    -----
    The residents are drawn once: O(replicates · N) memory. Each budget simulated costs
    O(replicates · (N + S·c)); the bisection simulates ``1 + ⌈log2(L_max − L_min + 1)⌉``
    budgets for ``L`` lanes in all. Deterministic for the same seed. The answer's confidence
    is the Wilson interval of its share: a lower end below ``share`` says that more
    replicates are needed to be sure.

    References
    ----------
    .. [1] Kleinrock, L. (1975). *Queueing Systems, Volume 1: Theory*. Wiley.
    .. [2] Law, A. M. (2015). *Simulation Modeling and Analysis* (5th ed.), §11.2 (common
       random numbers). McGraw-Hill.
    .. [3] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
       inference. *J. Amer. Statist. Assoc.* 22(158), 209-212.
    .. [4] Fox, B. (1966). Discrete optimization via marginal analysis. *Management Science*
       13(3), 210-216.
    """
    where = "fewest_staff_meeting_target"
    _check(where, replicates, seed, criterion, level)
    check_options_interval(where, "share", share, Interval(Real, 0.0, 1.0, closed="right"))
    sites = _sites_of(problem, plan)
    draws = _Draws(sites, replicates, seed)
    start, order = _greedy_order(sites, problem)

    def lanes_at(step: int) -> list[int]:
        cur = list(start)
        for i in order[:step]:
            cur[i] += 1
        return cur

    evaluations: list[tuple[int, float]] = []
    cache: dict[int, SitesSimulation] = {}

    def run(step: int) -> SitesSimulation:
        if step not in cache:
            cur = lanes_at(step)
            cache[step] = _simulate(sites, draws, cur, problem, criterion, seed, level)
            evaluations.append((sum(cur), cache[step].share))
        return cache[step]

    hi = len(order)
    found = run(hi).share >= share
    if found:
        lo = -1  # run(lo) fails (or lo is below the start)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if run(mid).share >= share:
                hi = mid
            else:
                lo = mid
    answer = lanes_at(hi)
    sw, rg, od, hours = _staff(sites, answer, problem)
    plan_lanes = [s.lanes for s in sites]
    return StaffSearch(
        found=found,
        lanes_total=sum(answer),
        lanes={s.site_id: c for s, c in zip(sites, answer, strict=True)},
        swabbers=sw,
        registrars=rg,
        orderlies=od,
        staff_hours=hours,
        plan_lanes_total=sum(plan_lanes),
        plan_staff_hours=_staff(sites, plan_lanes, problem)[3],
        target_share=float(share),
        simulation=cache[hi],
        evaluations=tuple(evaluations),
    )
