"""Lane schedules and lane breaks of a sampling point's desks (private; see ``commgov.sim``).

A :class:`commgov.sim.DeskPoint` may give each lane on-duty windows (``lane_windows``): a
lane then starts a swab only inside its windows, finishes the one under way when a window
ends, and leaves the queue to the other lanes until its next window (a lane closed by the
schedule, or its staff on a break). Without ``lane_windows`` every lane is open from
``open_min`` on, as in the M/M/c model.

:func:`lane_windows` builds them from

* a **lane schedule**: steps ``(from_min, lanes)`` — from minute ``from_min`` on, ``lanes``
  lanes are open, until the next step (before the first step, the point's own lanes); lane
  *k* is open while the scheduled count is at least *k*;
* **lane breaks**: each lane's staff work ``shift_minutes`` from the opening, then
  ``break_minutes`` off, with staggered phases (:func:`commgov.sim.crew_windows`, entity
  ``"<point>/L<k>"``), intersected with the schedule (:func:`commgov.sim.intersect_windows`).

A schedule that keeps every lane open for the whole opening gives ``None``, so the point
runs exactly as without one (the same events, byte for byte).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import simpy

from commgov.sim._shifts import RngFactory, crew_windows, intersect_windows

__all__ = ["lane_windows"]

Windows = tuple[tuple[float, float], ...]


def _schedule_windows(
    open_min: float,
    close_min: float,
    base_lanes: int,
    steps: Sequence[tuple[float, int]],
) -> list[Windows]:
    """Per lane, the minutes of ``[open_min, close_min)`` in which the schedule opens it."""
    cuts = [(-math.inf, base_lanes), *((float(t), int(n)) for t, n in steps)]
    segments = []
    for i, (t, n) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else math.inf
        lo, hi = max(t, open_min), min(end, close_min)
        if hi > lo:
            segments.append((lo, hi, n))
    most = max((n for _, _, n in segments), default=0)
    out: list[Windows] = []
    for k in range(1, most + 1):
        merged: list[tuple[float, float]] = []
        for lo, hi, n in segments:
            if n < k:
                continue
            if merged and merged[-1][1] == lo:
                merged[-1] = (merged[-1][0], hi)
            else:
                merged.append((lo, hi))
        out.append(tuple(merged))
    return out


def lane_windows(
    point_id: str,
    open_min: float,
    close_min: float,
    base_lanes: int,
    rngs: RngFactory,
    *,
    schedule: Sequence[tuple[float, int]] = (),
    shift_minutes: float | None = None,
    break_minutes: float = 30.0,
    stagger_minutes: float = 0.0,
) -> tuple[int, tuple[Windows, ...] | None]:
    """Lanes and per-lane on-duty windows of a point from a lane schedule and lane breaks.

    Parameters
    ----------
    point_id : str
        Names the lanes ``"<point>/L<k>"`` (entities of their phase draws).
    open_min, close_min : float
        The point's opening window, minutes of simulated time (``close_min`` finite).
    base_lanes : int
        Lanes before the schedule's first step (the point's own), ≥ 1.
    rngs : RngFactory
        ``rngs(stream, entity)``; phases from ``("sim_shifts", "<point>/L<k>/stagger")``,
        drawn only with shifts and a stagger > 0.
    schedule : sequence of (float, int), default ()
        Steps ``(from_min, lanes)``, minutes of simulated time strictly increasing, lanes
        0 … 1,000.
    shift_minutes : float or None, default None
        Each lane's staff work this long from the opening, then take ``break_minutes``
        off, minutes; ``None``: no breaks.
    break_minutes : float, default 30
        Minutes off between a lane's shifts.
    stagger_minutes : float, default 0
        Width of the lanes' seeded phases, minutes (capped at ``shift_minutes``); 0: every
        lane breaks at the same minutes.

    Returns
    -------
    (int, tuple of windows or None)
        The number of lanes (the most the schedule opens at once, ≥ 1) and each lane's
        windows (an end at or after ``close_min`` is ``inf``: the point's closing rule
        applies), or ``None`` when every lane is open for the whole opening.

    Raises
    ------
    ValueError
        If no lane is ever open while the point is, the steps are not increasing, or a
        figure is out of range (as :func:`commgov.sim.crew_windows`).

    Notes
    -----
    O(lanes × (steps + shifts)).

    Examples
    --------
    >>> from commgov.sim import stream_factory
    >>> lane_windows("P", 0.0, 600.0, 2, stream_factory(0), schedule=[(240.0, 1)])
    (2, (((0.0, inf),), ((0.0, 240.0),)))
    >>> lane_windows("P", 0.0, 600.0, 2, stream_factory(0), schedule=[(0.0, 2)])
    (2, None)
    """
    times = [t for t, _ in schedule]
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise ValueError("lane schedule steps must have strictly increasing from_min")
    if any(n < 0 for _, n in schedule) or base_lanes < 1:
        raise ValueError("lanes must be ≥ 0 in a schedule and ≥ 1 at the point")
    if not math.isfinite(close_min):
        raise ValueError("close_min must be finite for a lane schedule or lane breaks")
    by_lane = _schedule_windows(open_min, close_min, base_lanes, schedule)
    if not by_lane:
        raise ValueError(f"point {point_id}: the lane schedule opens no lane while it is open")
    if shift_minutes is not None:
        members = [(f"{point_id}/L{k}", open_min) for k in range(1, len(by_lane) + 1)]
        shifts = crew_windows(
            members, close_min, shift_minutes, break_minutes, rngs, stagger_minutes=stagger_minutes
        )
        by_lane = [
            intersect_windows(w, shifts[m]) for w, (m, _) in zip(by_lane, members, strict=True)
        ]
    full = ((open_min, close_min),)
    if all(w == full for w in by_lane):
        return len(by_lane), None
    return len(by_lane), tuple(
        tuple((s, math.inf if e >= close_min else e) for s, e in w) for w in by_lane
    )


def scheduled_lane(env: simpy.Environment, desk: Any, lane_id: str, windows: Windows) -> Any:
    """A lane that serves only inside ``windows`` (the process of ``_desk._lane``'s twin).

    ``desk`` is the point's ``_desk._Desk``; the lane takes the head of the queue, or waits
    idle until a resident comes, its window ends, or the point closes with nobody waiting.
    """
    from commgov.sim._desk import serve, take_head

    idle, worked = desk.idle, 0.0
    for start, end in windows:
        start = max(start, desk.point.open_min)
        if start > env.now:
            yield env.timeout(start - env.now)
        while env.now < end:
            item = take_head(desk)
            if item is None:
                if desk.closed:
                    return
                wake = env.event()
                idle.append(wake)
                if math.isfinite(end):
                    yield wake | env.timeout(end - env.now)
                    if not wake.triggered:
                        idle.remove(wake)
                        continue
                    item = wake.value
                else:
                    item = yield wake
                if item is None:
                    return
            worked = yield from serve(env, desk, lane_id, item, worked)
