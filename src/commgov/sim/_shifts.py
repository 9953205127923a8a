"""Volunteer shifts, breaks, attrition and recruitment for the simulation submodels.

Pure functions that turn a staffing policy into on-duty windows (float minutes), which every
submodel's crews (:class:`commgov.sim.Crew`: relay volunteers, door-to-door teams, the needs
pool) consume:

* :func:`shift_windows`: work ``shift_minutes``, then ``break_minutes`` off (a break or the
  hand-over to the next shift), repeated over ``[start_min, end_min)`` (e.g. 4 h PPE shifts
  and a 30 min hand-over);
* :func:`leave_times`: attrition, each volunteer leaving after an exponential time of rate
  ``per_hour`` (illness, quarantine, exhaustion), one draw per volunteer;
* :func:`recruit_times`: recruitment, new volunteers joining as a Poisson stream;
* :func:`truncate_windows`: windows cut at a leave time or started at a join time;
* :func:`intersect_windows`: the minutes two window lists have in common (a lane's schedule
  and its staff's shifts);
* :func:`break_phases` and :func:`crew_windows`: staggered breaks, the one way every crew
  (relay volunteers and riders, the needs pool, door-to-door teams, desk lanes) gets its
  on-duty windows from a shift pattern, a seeded phase each, and a leave time;
* :func:`fatigue_factor`: task-time multiplier ``1 + per_hour × hours worked``
  (e.g. +5 % per hour).

Randomness: stream ``"sim_shifts"``, entity the volunteer id (attrition) or
``"<pool>/recruits"`` (recruitment), so removing one volunteer leaves every other volunteer's
leave time unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "SHIFT_STREAM",
    "break_phases",
    "crew_windows",
    "fatigue_factor",
    "intersect_windows",
    "leave_times",
    "recruit_times",
    "shift_windows",
    "truncate_windows",
]

#: Stream of attrition and recruitment draws.
SHIFT_STREAM = "sim_shifts"

#: ``rngs(stream, entity)`` → a fresh generator (the engine's ``ctx.rng``); the one type
#: every sim submodel takes its random streams as.
RngFactory = Callable[[str, str], np.random.Generator]

Windows = tuple[tuple[float, float], ...]


def shift_windows(
    start_min: float, end_min: float, shift_minutes: float | None = None,
    break_minutes: float = 0.0, *, offset_min: float = 0.0, phase_min: float = 0.0,
) -> Windows:
    """On-duty windows: ``shift_minutes`` on, ``break_minutes`` off over ``[start_min, end_min)``.

    Parameters
    ----------
    start_min, end_min : float
        The period covered, minutes; ``end_min`` may be ``inf`` only without shifts.
    shift_minutes : float or None, default None
        Length of a shift, minutes, > 0; ``None``: one window over the whole period.
    break_minutes : float, default 0
        Time off between shifts (break or hand-over), minutes, ≥ 0.
    offset_min : float, default 0
        Start the first shift this late (staggered teams), ≥ 0.
    phase_min : float, default 0
        With shifts: every break comes this many minutes earlier than without a phase, so the
        first shift is ``phase_min`` shorter and the last one (after the last break) that much
        longer (staggered breaks: the crew starts together but does not break together),
        minutes, 0 ≤ ``phase_min`` < ``shift_minutes``. The phase moves *when* the breaks
        fall, never how many there are or how long: the breaks are those of the pattern
        without a phase (each break that starts before ``end_min``), each moved earlier, so
        the on-duty minutes are those without a phase, plus at most the part of the last
        break that ``end_min`` cut off without a phase.

    Returns
    -------
    tuple of (float, float)
        Sorted, disjoint half-open windows (the last one clipped at ``end_min``).

    Raises
    ------
    ValueError
        With shifts: ``shift_minutes`` ≤ 0, ``break_minutes`` < 0, ``end_min`` not finite or
        ``phase_min`` outside ``[0, shift_minutes)``.

    Examples
    --------
    >>> shift_windows(0.0, 600.0, 240.0, 30.0)
    ((0.0, 240.0), (270.0, 510.0), (540.0, 600.0))
    >>> shift_windows(0.0, 600.0, 240.0, 30.0, phase_min=100.0)
    ((0.0, 140.0), (170.0, 410.0), (440.0, 600.0))
    >>> shift_windows(0.0, 260.0, 120.0, 30.0, phase_min=100.0)  # still one break, not two
    ((0.0, 20.0), (50.0, 260.0))
    """
    begin = start_min + offset_min
    if not end_min > begin:
        return ()
    if shift_minutes is None:
        return ((begin, end_min),)
    if not (shift_minutes > 0 and break_minutes >= 0 and math.isfinite(end_min)):
        raise ValueError("shift_minutes must be > 0, break_minutes ≥ 0 and end_min finite")
    if not 0.0 <= phase_min < shift_minutes:
        raise ValueError("phase_min must be in [0, shift_minutes)")
    out = []
    t = begin
    if phase_min == 0.0:
        while t < end_min:
            out.append((t, min(t + shift_minutes, end_min)))
            t += shift_minutes + break_minutes
        return tuple(out)
    # the breaks of the unphased pattern (each starting at t + shift_minutes < end_min),
    # each moved phase_min earlier; on duty in between and after the last one
    lo = begin
    while t + shift_minutes < end_min:
        stop = t + shift_minutes - phase_min
        out.append((lo, stop))
        lo = stop + break_minutes
        t += shift_minutes + break_minutes
    if lo < end_min:
        out.append((lo, end_min))
    return tuple(out)


def truncate_windows(
    windows: Iterable[tuple[float, float]], join_min: float = -math.inf,
    leave_min: float = math.inf,
) -> Windows:
    """The parts of ``windows`` inside ``[join_min, leave_min)``.

    Examples
    --------
    >>> truncate_windows([(0.0, 240.0), (270.0, 510.0)], join_min=100.0, leave_min=300.0)
    ((100.0, 240.0), (270.0, 300.0))
    """
    out = []
    for s, e in windows:
        lo, hi = max(s, join_min), min(e, leave_min)
        if hi > lo:
            out.append((lo, hi))
    return tuple(out)


def intersect_windows(
    a: Iterable[tuple[float, float]], b: Iterable[tuple[float, float]]
) -> Windows:
    """The minutes in both ``a`` and ``b`` (each sorted, disjoint, half-open windows).

    Notes
    -----
    O(len(a) + len(b)) (a merge).

    Examples
    --------
    >>> intersect_windows([(0.0, 240.0), (270.0, 600.0)], [(120.0, 300.0)])
    ((120.0, 240.0), (270.0, 300.0))
    """
    xs, ys = list(a), list(b)
    out = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        lo, hi = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if hi > lo:
            out.append((lo, hi))
        if xs[i][1] <= ys[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def leave_times(
    volunteer_ids: Sequence[str], per_hour: float, rngs: RngFactory
) -> dict[str, float]:
    """Minute each volunteer leaves for good: exponential with rate ``per_hour``.

    Parameters
    ----------
    volunteer_ids : sequence of str
    per_hour : float
        Attrition rate per volunteer-hour, ≥ 0; 0: nobody leaves (``inf``).
    rngs : RngFactory
        ``rngs(stream, entity)``; one draw from ``("sim_shifts", id)`` per volunteer.

    Returns
    -------
    dict of str to float
        Volunteer id → minutes (from minute 0).
    """
    if not (math.isfinite(per_hour) and per_hour >= 0):
        raise ValueError("per_hour must be a finite number ≥ 0")
    if per_hour == 0:
        return {v: math.inf for v in volunteer_ids}
    return {v: float(rngs(SHIFT_STREAM, v).exponential(60.0 / per_hour))
            for v in volunteer_ids}


def break_phases(
    volunteer_ids: Sequence[str], stagger_minutes: float, rngs: RngFactory
) -> dict[str, float]:
    """Each volunteer's shift phase for staggered breaks: uniform on ``[0, stagger_minutes)``.

    Give it as ``phase_min`` to :func:`shift_windows`, so a crew that starts together takes
    its breaks at different minutes instead of all at once (which leaves the post empty for
    the whole break).

    Parameters
    ----------
    volunteer_ids : sequence of str
    stagger_minutes : float
        Width of the phases, minutes, finite and ≥ 0 (keep it below the shift length); 0:
        every phase is 0 and nothing is drawn.
    rngs : RngFactory
        ``rngs(stream, entity)``; one draw from ``("sim_shifts", "<id>/stagger")`` per
        volunteer, so adding or removing a volunteer leaves the others' phases unchanged.

    Returns
    -------
    dict of str to float
        Volunteer id → phase, minutes.

    Raises
    ------
    ValueError
        If ``stagger_minutes`` is negative or not finite.

    Notes
    -----
    O(len(volunteer_ids)).
    """
    if not (math.isfinite(stagger_minutes) and stagger_minutes >= 0):
        raise ValueError("stagger_minutes must be a finite number ≥ 0")
    if stagger_minutes == 0:
        return dict.fromkeys(volunteer_ids, 0.0)
    return {v: float(rngs(SHIFT_STREAM, f"{v}/stagger").uniform(0.0, stagger_minutes))
            for v in volunteer_ids}


def crew_windows(
    members: Sequence[tuple[str, float]],
    off_min: float,
    shift_minutes: float | None,
    break_minutes: float,
    rngs: RngFactory,
    *,
    stagger_minutes: float = 0.0,
    leave_min: Mapping[str, float] | None = None,
) -> dict[str, Windows]:
    """On-duty windows of a crew: one shift pattern, a staggered phase each, a leave time.

    The one way the submodels turn ``shift_minutes``, ``break_minutes`` and
    ``break_stagger_minutes`` into windows: member *m* joining at ``join`` works
    :func:`shift_windows` ``(join, off_min, shift_minutes, break_minutes, phase_min=φ_m)``,
    with φ_m from :func:`break_phases` over ``[0, min(stagger_minutes, shift_minutes))``,
    cut at ``leave_min[m]`` (:func:`truncate_windows`). The stagger moves when a member's
    breaks fall, never how many or how long they are: each member has the breaks and the
    on-duty minutes it would have without a stagger (up to the part of its last break that
    ``off_min`` cuts off without one).

    Parameters
    ----------
    members : sequence of (str, float)
        (Member id, join minute); the id is the entity of its phase draw.
    off_min : float
        End of duty, minutes (finite with shifts).
    shift_minutes : float or None
        Shift length, minutes, > 0; ``None``: one window from the join to ``off_min`` (no
        breaks, no phase, nothing drawn).
    break_minutes : float
        Time off between shifts, minutes, ≥ 0.
    rngs : RngFactory
        ``rngs(stream, entity)``; phases from ``("sim_shifts", "<id>/stagger")``, drawn
        only when the stagger is > 0.
    stagger_minutes : float, default 0
        Width of the phases, minutes, ≥ 0 (capped at ``shift_minutes``); 0: every member
        breaks at the same minutes.
    leave_min : mapping of str to float, optional
        Minute each member leaves for good (attrition, end of availability); default never.

    Returns
    -------
    dict of str to tuple of (float, float)
        Member id → sorted, disjoint windows, in the order of ``members``.

    Raises
    ------
    ValueError
        As :func:`shift_windows` and :func:`break_phases`.

    Notes
    -----
    O(members × shifts per member).

    Examples
    --------
    >>> from commgov.sim import stream_factory
    >>> crew_windows([("a", 0.0)], 600.0, 240.0, 30.0, stream_factory(0))
    {'a': ((0.0, 240.0), (270.0, 510.0), (540.0, 600.0))}
    """
    stagger = 0.0
    if shift_minutes is not None:
        stagger = min(stagger_minutes, shift_minutes)
    phase = break_phases([m for m, _ in members], stagger, rngs)
    gone = {} if leave_min is None else leave_min
    return {
        m: truncate_windows(
            shift_windows(join, off_min, shift_minutes, break_minutes,
                          phase_min=math.fmod(phase[m], stagger) if stagger else 0.0),
            leave_min=gone.get(m, math.inf))
        for m, join in members
    }


def recruit_times(
    per_hour: float, start_min: float, until_min: float, rngs: RngFactory, *,
    pool: str = "volunteers",
) -> list[float]:
    """Minutes at which new volunteers join: a Poisson stream over ``[start_min, until_min)``.

    Parameters
    ----------
    per_hour : float
        Recruits per hour, ≥ 0.
    start_min, until_min : float
        The recruiting period, minutes (``until_min`` finite).
    rngs : RngFactory
        Entity ``"<pool>/recruits"`` of stream ``"sim_shifts"``.
    pool : str, default "volunteers"

    Returns
    -------
    list of float
        Sorted join times.
    """
    if not (math.isfinite(per_hour) and per_hour >= 0 and math.isfinite(until_min)):
        raise ValueError("per_hour must be ≥ 0 and until_min finite")
    if per_hour == 0 or until_min <= start_min:
        return []
    gen = rngs(SHIFT_STREAM, f"{pool}/recruits")
    out: list[float] = []
    t = start_min
    while True:
        t += float(gen.exponential(60.0 / per_hour))
        if t >= until_min:
            return out
        out.append(t)


def fatigue_factor(per_hour: float, worked_min: float) -> float:
    """Task-time multiplier after ``worked_min`` minutes of work: ``1 + per_hour × hours``.

    Examples
    --------
    >>> fatigue_factor(0.05, 120.0)
    1.1
    """
    return 1.0 + per_hour * worked_min / 60.0
