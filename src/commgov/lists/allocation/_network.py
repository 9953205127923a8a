"""The allocation network, vectorised (private; used by :func:`~commgov.lists.allocate`).

:func:`_network` finds the need → resource arcs with numpy — per category and measure, a
latitude band for the distance limit, integer microseconds for time, an exact scalar recheck
of every distance whose rounding is in doubt — equal to the per-pair rule
:func:`~commgov.lists.allocation._rules.eligible` arc for arc (tested), and counts what the
unmet reasons need (:func:`_unmet_reason`, equal to
:func:`~commgov.lists.allocation._rules.unmet_reason`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from commgov.errors import check_size
from commgov.lists._records import Need, Resource
from commgov.lists.allocation._rules import (
    AllocationReasonCode,
    allocation_distance_m,
    spans as item_spans,
)
from commgov.results import Reason
from commgov.types import EARTH_RADIUS_M, GeoPoint, haversine_array_m

__all__ = ["MAX_ALLOCATION_ARCS"]

#: Size guard: the allocation network may have at most this many need → resource arcs.
MAX_ALLOCATION_ARCS = 20_000_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Needs per block of the vectorised eligibility, and time spans (rows) per block.
_BLOCK_NEEDS = 256
_BLOCK_SPANS = 1024
#: Pairs (block needs × candidate resources) computed at once, at most (about).
_BLOCK_PAIRS = 1_000_000


def _micros(t: datetime) -> int:
    """Exact microseconds since the Unix epoch of an aware datetime (orders like it)."""
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True)
class _Network:
    """The need → resource arcs of :func:`allocate` and the counts its reasons need.

    Attributes
    ----------
    tail, head, dist : numpy.ndarray
        Need index, resource index and distance_m (int64) of every arc, sorted by (need,
        resource): the pairs that are :func:`~commgov.lists.allocation._rules.eligible` and whose
        resource has quantity available.
    n_kind, n_near, n_eligible : list of int
        Per need: resources in scope of its category and measure; of those, within
        ``max_distance_m``; of those, sharing time with it (available quantity or not).
    nearest_m : dict of int to int
        Per need with resources of its kind but none within the limit: the distance to the
        nearest of them.
    """

    tail: Any
    head: Any
    dist: Any
    n_kind: list[int]
    n_near: list[int]
    n_eligible: list[int]
    nearest_m: dict[int, int]

    def max_distance(self) -> list[int]:
        """Per need, the largest distance_m of its arcs (0 without arcs), as Python ints."""
        import numpy as np

        out = np.zeros(len(self.n_kind), dtype=np.int64)
        np.maximum.at(out, self.tail, self.dist)
        return [int(x) for x in out.tolist()]


def _approx_m(n_lat: Any, n_lon: Any, r_lat: Any, r_lon: Any) -> Any:
    """``haversine_m + 0.5`` of (need, resource) pairs, vectorised (broadcast), unrounded.

    The formula and operation order of :func:`commgov.types.haversine_m` (need first), on
    numpy's transcendental functions, which may differ from libm in the last bits.
    """
    return haversine_array_m(n_lon, n_lat, r_lon, r_lat) + 0.5


def _unsure(x: Any, floor: Any) -> Any:
    """Where rounding ``x`` down could differ between numpy and libm (within 1e-9 relative of
    an integer, or not finite): those distances are recomputed exactly."""
    import numpy as np

    frac = x - floor
    return (np.minimum(frac, 1.0 - frac) <= 1e-9 * (1.0 + np.abs(x))) | ~np.isfinite(x)


def _network(
    needs: Sequence[Need],
    resources: Sequence[Resource],
    avail: list[int],
    at: datetime,
    places: Mapping[str, GeoPoint] | None,
    max_distance_m: int | None,
    check: Callable[[float], None] | None = None,
) -> _Network:
    """The allocation arcs, vectorised per category and measure, equal to the per-pair rules.

    For each kind (category, measure), needs are taken in blocks in latitude order; the
    candidate resources of a block are those of the kind in a latitude band that holds every
    resource within ``max_distance_m`` + 1 m of a need of the block (a great-circle distance is
    at least R·|Δlatitude|), all of the kind without a limit. Time overlap is computed on exact
    integer microseconds of the spans of :func:`~commgov.lists.allocation._rules.common_window`.
    Distances use the formula of :func:`commgov.types.haversine_m` on numpy; wherever
    ``distance + 0.5`` lies within a relative 1e-9 of an integer (so that a last-bit difference
    could change the whole metre, hence also the limit comparison), it is recomputed with
    :func:`~commgov.lists.allocation._rules.allocation_distance_m` itself. So the arcs, distances
    and counts are exactly those of the per-pair predicate
    :func:`~commgov.lists.allocation._rules.eligible` (a test compares them on random instances).

    ``check(fraction)``, if given, is called before each block with the share of needs done
    (it may raise to stop the build: the caller's cancellation and time limit).

    Raises
    ------
    commgov.errors.SizeLimitError
        If there are more than :data:`MAX_ALLOCATION_ARCS` arcs.
    """
    import numpy as np

    n_need = len(needs)
    n_kind = np.zeros(n_need, dtype=np.int64)
    n_near = np.zeros(n_need, dtype=np.int64)
    n_elig = np.zeros(n_need, dtype=np.int64)
    nearest: dict[int, int] = {}
    res_by_kind: dict[tuple[str, str], list[int]] = {}
    for j, r in enumerate(resources):
        res_by_kind.setdefault((r.category.value, r.measure), []).append(j)
    need_by_kind: dict[tuple[str, str], list[int]] = {}
    for i, n in enumerate(needs):
        if (n.category.value, n.measure) in res_by_kind:
            need_by_kind.setdefault((n.category.value, n.measure), []).append(i)
    avail_a = np.array(avail, dtype=np.int64)
    # resources have at most one span; needs one per occurrence
    r_s = np.zeros(len(resources), dtype=np.int64)
    r_e = np.zeros(len(resources), dtype=np.int64)
    r_has = np.zeros(len(resources), dtype=bool)
    for j, r in enumerate(resources):
        for s, e in item_spans(r, at):
            r_s[j], r_e[j], r_has[j] = _micros(s), _micros(e), True
    spans = [[(_micros(s), _micros(e)) for s, e in item_spans(n, at)] for n in needs]
    if places is not None:
        n_pt = [places[n.place_id or ""] for n in needs]
        r_pt = [places[r.place_id or ""] for r in resources]
        n_lat = np.array([p.lat for p in n_pt], dtype=np.float64)
        n_lon = np.array([p.lon for p in n_pt], dtype=np.float64)
        r_lat = np.array([p.lat for p in r_pt], dtype=np.float64)
        r_lon = np.array([p.lon for p in r_pt], dtype=np.float64)
    half = (
        math.degrees((max_distance_m + 1.0) / EARTH_RADIUS_M)
        if places is not None and max_distance_m is not None
        else None
    )
    parts: list[tuple[Any, Any, Any]] = []
    total = 0
    done = 0
    for key in sorted(need_by_kind):
        res_j = np.array(res_by_kind[key], dtype=np.int64)
        need_i = np.array(need_by_kind[key], dtype=np.int64)
        n_kind[need_i] = len(res_j)
        if places is not None:
            res_j = res_j[np.argsort(r_lat[res_j], kind="stable")]
            need_i = need_i[np.argsort(n_lat[need_i], kind="stable")]
            res_lat = r_lat[res_j]
        per_block = max(1, min(_BLOCK_NEEDS, _BLOCK_PAIRS // len(res_j)))
        for block in _blocks(need_i.tolist(), spans, per_block):
            if check is not None:
                check(done / n_need)
            done += len(block)
            bi = np.array(block, dtype=np.int64)
            lo, hi = 0, len(res_j)
            if half is not None:
                lo = int(np.searchsorted(res_lat, n_lat[bi].min() - half, side="left"))
                hi = int(np.searchsorted(res_lat, n_lat[bi].max() + half, side="right"))
            jb = res_j[lo:hi]
            if len(jb) == 0:
                continue
            timely = _overlaps([spans[i] for i in block], r_s[jb], r_e[jb], r_has[jb])
            if places is None:
                dist = np.zeros((len(bi), len(jb)), dtype=np.int64)
            else:
                x = _approx_m(n_lat[bi][:, None], n_lon[bi][:, None], r_lat[jb], r_lon[jb])
                fl = np.floor(x)
                dist = np.where(np.isfinite(fl), fl, -1).astype(np.int64)
                for a, b in zip(*np.nonzero(_unsure(x, fl)), strict=True):
                    dist[a, b] = allocation_distance_m(needs[bi[a]], resources[jb[b]], places)
            near = dist <= max_distance_m if max_distance_m is not None else None
            ok = timely if near is None else timely & near
            if near is not None:
                n_near[bi] += near.sum(axis=1)
            n_elig[bi] += ok.sum(axis=1)
            rows, cols = np.nonzero(ok & (avail_a[jb] > 0)[None, :])
            parts.append((bi[rows], jb[cols], dist[rows, cols]))
            total += len(rows)
            check_size(
                "allocation network: need-resource arcs",
                total,
                MAX_ALLOCATION_ARCS,
                "split the lists (by unit or category) or set max_distance_m",
            )
        if max_distance_m is not None and places is not None:
            for k, i in enumerate(need_i[n_near[need_i] == 0].tolist()):
                if check is not None and not k % 256:
                    check(done / n_need)
                x = _approx_m(n_lat[i], n_lon[i], r_lat[res_j], r_lon[res_j])
                close = res_j[~(x > np.nanmin(x) + 1.0)] if np.isfinite(x).any() else res_j
                nearest[i] = min(
                    allocation_distance_m(needs[i], resources[j], places) for j in close.tolist()
                )
    if parts:
        if check is not None:
            check(1.0)
        tail = np.concatenate([p[0] for p in parts])
        head = np.concatenate([p[1] for p in parts])
        dist_all = np.concatenate([p[2] for p in parts])
        # by (need, resource): the pairs are distinct, so one integer key orders them alike
        order = np.argsort(tail * max(1, len(resources)) + head)
        tail, head, dist_all = tail[order], head[order], dist_all[order]
    else:
        tail = head = dist_all = np.zeros(0, dtype=np.int64)
    if places is None:
        n_near = n_kind.copy()
    return _Network(
        tail=tail,
        head=head,
        dist=dist_all,
        n_kind=n_kind.tolist(),
        n_near=n_near.tolist(),
        n_eligible=n_elig.tolist(),
        nearest_m=nearest,
    )


def _blocks(
    order: list[int], spans: list[list[tuple[int, int]]], per_block: int
) -> list[list[int]]:
    """Consecutive runs of ``order`` of at most ``per_block`` needs and, unless one need has
    more alone, :data:`_BLOCK_SPANS` spans."""
    out: list[list[int]] = []
    cur: list[int] = []
    rows = 0
    for i in order:
        k = len(spans[i])
        if cur and (len(cur) >= per_block or rows + k > _BLOCK_SPANS):
            out.append(cur)
            cur, rows = [], 0
        cur.append(i)
        rows += k
    if cur:
        out.append(cur)
    return out


def _overlaps(need_spans: list[list[tuple[int, int]]], r_s: Any, r_e: Any, r_has: Any) -> Any:
    """Boolean (need, resource): some span of the need and the resource's span overlap.

    The test of :func:`~commgov.lists.allocation._rules.common_window`, ``max(s1, s2) < min(e1,
    e2)``, on integer microseconds.
    """
    import numpy as np

    out = np.zeros((len(need_spans), len(r_s)), dtype=bool)
    owner = [k for k, sp in enumerate(need_spans) for _ in sp]
    if not owner:
        return out
    s = np.array([a for sp in need_spans for a, _ in sp], dtype=np.int64)[:, None]
    e = np.array([b for sp in need_spans for _, b in sp], dtype=np.int64)[:, None]
    rows = (np.maximum(s, r_s[None, :]) < np.minimum(e, r_e[None, :])) & r_has[None, :]
    own = np.array(owner, dtype=np.int64)
    first = np.flatnonzero(np.r_[True, own[1:] != own[:-1]])
    out[own[first]] = np.logical_or.reduceat(rows, first, axis=0)
    return out


def _unmet_reason(net: _Network, i: int, need: Need, short: int, limit: int | None) -> Reason:
    """:func:`~commgov.lists.allocation._rules.unmet_reason` of need ``i``, from the network's
    counts."""
    if net.n_kind[i] == 0:
        return Reason(
            code=AllocationReasonCode.NO_RESOURCE_OF_CATEGORY,
            params={"category": need.category.value, "measure": need.measure},
        )
    if limit is not None and net.n_near[i] == 0:
        return Reason(
            code=AllocationReasonCode.RESOURCE_TOO_FAR,
            params={"distance_m": net.nearest_m[i], "limit_m": limit},
        )
    if net.n_eligible[i] == 0:
        return Reason(code=AllocationReasonCode.NO_RESOURCE_IN_WINDOW)
    return Reason(
        code=AllocationReasonCode.RESOURCE_QUANTITY_USED,
        params={"short": short, "eligible": net.n_eligible[i]},
    )
