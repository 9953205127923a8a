"""Post-solver phases: slots by earliest fit, greedy completion (private).

The batches of each point, chosen by a solving method, are scheduled earliest-fit
(:func:`finish`); then the greedy completion (:func:`complete`) inserts, one at a time, any
batch that still fits. Both check insertions incrementally on one point's queue
(:class:`PointQueue`): O(T) per check instead of recomputing every point's queue, so the
greedy completion of n batches costs O(n · points in reach · T) at worst.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from commgov._redact import get_logger
from commgov.scheduling.sampling._data import Data, capacity_row, slot_free

log = get_logger("commgov.scheduling")

#: A stop test: true once a phase must stop (deadline passed, or cancelled).
Stop = Callable[[], bool]


def _never() -> bool:
    return False


class PointQueue:
    """The F2 fluid queue of one point, updated one batch at a time.

    ``arrivals[t]`` people arrive in slot ``t``; the backlog is
    ``q_t = max(0, q_{t-1} + a_t - c_t)`` with ``c_t`` the slot capacity (0 when closed). The
    arrivals are *valid* when ``q_t ≤ qmax`` in every slot and ``q_{T-1} = 0``.

    Adding ``p`` people in slot ``t`` leaves ``q_s`` unchanged for ``s < t`` and raises it by
    ``δ_s = max(0, p - U(t..s))`` for ``s ≥ t``, where ``U(t..s)`` is the capacity left unused
    in slots ``t … s`` (``u_s = max(0, c_s - q_{s-1} - a_s)``). So after one O(T) pass over the
    current arrivals (redone only after :meth:`add`), :meth:`fits` answers in O(T) at most,
    usually O(1), exactly as a fresh O(T) scan of the queue with the batch added would.
    """

    __slots__ = ("_bad", "_free", "_ok", "_q", "_stale", "_u", "arrivals", "capacity", "qmax")

    def __init__(self, capacity: list[int], qmax: int) -> None:
        self.capacity = capacity
        self.qmax = qmax
        self.arrivals = [0] * len(capacity)
        self._q: list[int] = []
        self._u: list[int] = []
        self._free: list[int] = []
        self._bad = 0  # slots whose backlog exceeds qmax
        self._ok = True
        self._stale = True

    def add(self, t: int, people: int) -> None:
        """Commit ``people`` arrivals in slot ``t``.

        Once the queue has been computed, only slots ``t …`` are updated, up to the first
        whose backlog and unused capacity are unchanged (the rest of the queue then is), and
        the suffix sums of unused capacity before ``t`` are shifted: O(T) at worst, usually a
        few slots.
        """
        self.arrivals[t] += people
        if self._stale:
            return
        qs, us, free, cap, arr, qmax = (
            self._q,
            self._u,
            self._free,
            self.capacity,
            self.arrivals,
            self.qmax,
        )
        n = len(qs)
        q = qs[t - 1] if t else 0
        bad = self._bad
        end = n - 1  # last slot whose figures may have changed
        for s in range(t, n):
            x = q + arr[s] - cap[s]
            if x >= 0:
                q, u = x, 0
            else:
                q, u = 0, -x
            if q == qs[s] and u == us[s]:
                end = s - 1
                break
            bad += (q > qmax) - (qs[s] > qmax)
            qs[s] = q
            us[s] = u
        self._bad = bad
        if end >= t:
            old = free[t]
            for s in range(end, t - 1, -1):
                free[s] = free[s + 1] + us[s]
            shift = free[t] - old
            if shift:
                for s in range(t):
                    free[s] += shift
        self._ok = bad == 0 and qs[-1] == 0 if n else True

    def _refresh(self) -> None:
        q = 0
        qs: list[int] = []
        us: list[int] = []
        bad = 0
        for a, c in zip(self.arrivals, self.capacity, strict=True):
            x = q + a - c
            if x >= 0:
                q, u = x, 0
            else:
                q, u = 0, -x
            if q > self.qmax:
                bad += 1
            qs.append(q)
            us.append(u)
        free = [0] * (len(us) + 1)
        for t in range(len(us) - 1, -1, -1):
            free[t] = free[t + 1] + us[t]
        self._q, self._u, self._free = qs, us, free
        self._bad = bad
        self._ok = bad == 0 and q == 0
        self._stale = False

    def fits(self, t: int, people: int) -> bool:
        """Whether ``people`` more arrivals in slot ``t`` keep the queue valid."""
        if self._stale:
            self._refresh()
        if not self._ok or people > self._free[t]:
            return False
        excess = people
        for s in range(t, len(self._q)):
            excess -= self._u[s]
            if excess <= 0:
                return True  # from here on the queue is the current, valid one
            if self._q[s] + excess > self.qmax:
                return False
        return excess <= 0  # not reached: people ≤ free[t] absorbs the batch by slot T-1

    def first_fit(self, slots: list[int], people: int) -> int | None:
        """The first of ``slots`` (ascending) where ``people`` more arrivals fit, or ``None``."""
        if self._stale:
            self._refresh()
        for t in slots:
            if people > self._free[t]:
                return None  # unused capacity from t on only shrinks as t grows
            if self.fits(t, people):
                return t
        return None


def complete(d: Data, placed: dict[str, tuple[str, int]], stop: Stop = _never) -> tuple[int, bool]:
    """Greedily insert unplaced batches that still fit.

    Each unplaced batch with a point in reach goes, in id order, to its building's point if the
    building already has one, else to the nearest reachable point where it fits, in the
    earliest open slot where it fits under ``max_queue``. ``stop()`` is asked before each
    batch: once it is true (deadline passed, or cancelled), no further batch is tried.

    Returns
    -------
    added : int
        Batches inserted into ``placed`` (in place).
    complete : bool
        ``False`` if ``stop`` ended the pass with batches left untried.
    """
    added = 0
    qmax = d.problem.policy.max_queue
    people = d.people
    queues = {p.id: PointQueue(capacity_row(d, p.id), qmax) for p in d.points}
    for kid, (pid, t) in placed.items():
        queues[pid].add(t, people[kid])
    bpoint = {kb: placed[k.id][0] for k in d.batches if k.id in placed for kb in [k.building_id]}
    for k in d.batches:
        if k.id in placed or not d.reach[k.building_id]:
            continue
        if stop():
            log.warning(
                "greedy completion stopped (time limit or cancel): %d batches "
                "inserted, the rest left untried",
                added,
            )
            return added, False
        b = k.building_id
        cands = [bpoint[b]] if b in bpoint else sorted(d.reach[b], key=lambda p: (d.dist[b, p], p))
        for pid in cands:
            slot = queues[pid].first_fit(d.open[pid], k.people)
            if slot is not None:
                placed[k.id] = (pid, slot)
                queues[pid].add(slot, k.people)
                bpoint[b] = pid
                added += 1
                break
    return added, True


def earliest_fit(
    d: Data, pid: str, kids: list[str], queue_cap: int | None = None, stop: Stop = _never
) -> tuple[dict[str, int], bool]:
    """Earliest slot for each batch in turn, keeping the carried queue ≤ ``queue_cap``.

    Returns the slots found and whether every batch was tried before ``stop()`` was true.
    """
    people = d.people
    qmax = d.problem.policy.max_queue if queue_cap is None else queue_cap
    queue = PointQueue(capacity_row(d, pid), qmax)
    out: dict[str, int] = {}
    for kid in kids:
        if stop():
            return out, False
        t = queue.first_fit(d.open[pid], people[kid])
        if t is not None:
            queue.add(t, people[kid])
            out[kid] = t
    return out, True


def finish(d: Data, placed: dict[str, tuple[str, int]], stop: Stop = _never) -> tuple[int, bool]:
    """Schedule the batches of each point earliest-fit (in place); (dropped, complete).

    ``stop()`` is asked before each batch; once it is true, the batches not yet scheduled are
    removed from ``placed`` (``dropped``) and ``complete`` is ``False``.
    """
    dropped = 0
    complete = True
    if slot_free(d):
        # finish tier: earliest-fit per point, building by building, with the carried queue
        # capped at the point's largest batch θ. If a batch does not fit in slot t then
        # q + a − c > θ − p ≥ 0, so the lanes are busy: each point serves at full capacity until
        # its last batch is done and finishes at the earliest slot its load allows, while
        # nobody queues behind more than θ people (not the policy's max_queue).
        by_point: dict[str, list[str]] = defaultdict(list)
        for kid in sorted(placed):
            by_point[placed[kid][0]].append(kid)
        people = d.people
        building = {k.id: k.building_id for k in d.batches}
        for pid, kids in by_point.items():
            theta = max(people[k] for k in kids)
            order = sorted(kids, key=lambda k: (building[k], k))
            fit, tried = earliest_fit(d, pid, order, theta, stop) if complete else ({}, False)
            complete = complete and tried
            for kid in kids:
                if kid in fit:
                    placed[kid] = (pid, fit[kid])
                else:  # a stop (never a misfit when every batch ≤ max_queue)
                    del placed[kid]
                    dropped += 1
        if not complete:
            log.warning(
                "scheduling slots stopped (time limit): %d batches left to the greedy completion",
                dropped,
            )
    return dropped, complete
