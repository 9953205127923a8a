"""Decision rules of the notification submodel: its policies, who is in charge, the phone tree.

* read delays (policy kind ``"read_delay"``): :class:`LognormalDelay`, :class:`ParetoDelay`;
* escalation channels (kind ``"channel"``): :class:`Escalation`, :class:`GroupThenDoor`,
  :class:`PhoneThenDoor`, :class:`DoorOnly`;
* activation (kind ``"activation"``): :class:`AllAtOnce`, :class:`PhoneTree`, run by
  :func:`phone_tree`;
* :func:`assign_buildings`: each building in one volunteer's charge.

Minutes throughout; distances in metres, walking speeds in metres per minute.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import simpy
from pydantic import Field

from commgov.sim._policies import PolicyParams, register_policy
from commgov.types import haversine_m

__all__ = [
    "Activation",
    "AllAtOnce",
    "ChannelPolicy",
    "DoorOnly",
    "Escalation",
    "GroupThenDoor",
    "LognormalDelay",
    "ParetoDelay",
    "PhoneThenDoor",
    "PhoneTree",
    "ReadDelay",
    "assign_buildings",
    "phone_tree",
]

# ------------------------------------------------------------------------------ policies


class ReadDelay(PolicyParams):
    """Base of read-delay distributions (policy kind ``"read_delay"``).

    A delay is the minutes from a post until a group member reads it.
    """

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` delays in minutes (≥ 0)."""
        raise NotImplementedError


@register_policy("lognormal", kind="read_delay")
class LognormalDelay(ReadDelay):
    """Lognormal read delay: ``median_min × exp(sigma × Z)``, Z standard normal.

    Parameters
    ----------
    median_min : float, default 6.0
        Median delay, minutes (> 0). An assumption: no read latency of building groups was
        published; short-message inter-event times are
        heavy-tailed (Hong et al., arXiv:0802.2577).
    sigma : float, default 1.0
        Log-scale spread (0–5); the tail sets t100.
    """

    median_min: float = Field(default=6.0, gt=0.0, le=1440.0)
    sigma: float = Field(default=1.0, ge=0.0, le=5.0)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.median_min * np.exp(self.sigma * rng.standard_normal(n))


@register_policy("pareto", kind="read_delay")
class ParetoDelay(ReadDelay):
    """Pareto (Lomax, type II) read delay: ``scale_min × (U^(−1/shape) − 1)``, U uniform.

    Parameters
    ----------
    scale_min : float, default 4.0
        Scale, minutes (> 0); the median is ``scale_min × (2^(1/shape) − 1)``.
    shape : float, default 1.5
        Tail index (> 0; ≤ 1 has no mean, ≤ 2 no variance).
    """

    scale_min: float = Field(default=4.0, gt=0.0, le=1440.0)
    shape: float = Field(default=1.5, gt=0.0, le=100.0)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        u = 1.0 - rng.random(n)  # in (0, 1]
        return self.scale_min * (u ** (-1.0 / self.shape) - 1.0)


class ChannelPolicy(PolicyParams):
    """Base of escalation policies (policy kind ``"channel"``).

    Class attributes ``use_group`` (post in building groups) and ``use_phone`` (phone before
    knocking) say which steps of group → phone → door are used; ``chase_after_min`` is the
    wait after a post before unread members are followed up.
    """

    use_group: ClassVar[bool] = True
    use_phone: ClassVar[bool] = True
    chase_after_min: float = 15.0


@register_policy("escalation", kind="channel")
class Escalation(ChannelPolicy):
    """Group post → phone call → door knock.

    Parameters
    ----------
    chase_after_min : float, default 15.0
        Minutes after a post until members who have not read it are phoned (0–1,440).
    """

    chase_after_min: float = Field(default=15.0, ge=0.0, le=1440.0)


@register_policy("group_then_door", kind="channel")
class GroupThenDoor(ChannelPolicy):
    """Group post → door knock (no phone calls).

    Parameters
    ----------
    chase_after_min : float, default 15.0
        Minutes after a post until members who have not read it are knocked on (0–1,440).
    """

    use_phone: ClassVar[bool] = False
    chase_after_min: float = Field(default=15.0, ge=0.0, le=1440.0)


@register_policy("phone_then_door", kind="channel")
class PhoneThenDoor(ChannelPolicy):
    """Phone every household; knock where nobody answers (no group posts)."""

    use_group: ClassVar[bool] = False


@register_policy("door_only", kind="channel")
class DoorOnly(ChannelPolicy):
    """Knock on every door."""

    use_group: ClassVar[bool] = False
    use_phone: ClassVar[bool] = False


class Activation(PolicyParams):
    """Base of activation policies (policy kind ``"activation"``).

    An activation policy says how the volunteers learn of the notice.
    """


@register_policy("all_at_once", kind="activation")
class AllAtOnce(Activation):
    """Every volunteer knows at minute 0 (e.g. a message in the volunteers' own group)."""


@register_policy("phone_tree", kind="activation")
class PhoneTree(Activation):
    """A call tree: each volunteer who knows phones up to ``fanout`` others first.

    Parameters
    ----------
    fanout : int, default 3
        Calls each volunteer makes (1–1,000).
    call_minutes : float, default 1.0
        Nominal minutes a call (× the caller's lognormal factor; > 0).
    """

    fanout: int = Field(default=3, ge=1, le=1000)
    call_minutes: float = Field(default=1.0, gt=0.0, le=60.0)


def assign_buildings(
    buildings: Sequence[tuple[str, float, float, int]],
    volunteers: Sequence[tuple[str, float, float]],
    minutes_per_household: float,
    walking_speed_m_per_min: float = 80.0,
    detour_factor: float = 1.3,
) -> dict[str, list[str]]:
    """Put each building in one volunteer's charge (deterministic greedy).

    Buildings are taken in id order; each goes to the volunteer with the least estimated
    finish: work so far (``minutes_per_household`` × households) plus the walk from where
    the volunteer last was (home at first), ties by volunteer id.

    Parameters
    ----------
    buildings : sequence of (id, lon, lat, households)
    volunteers : sequence of (id, lon, lat)
        Home locations, WGS84.
    minutes_per_household : float
        Estimated minutes of follow-up per household.
    walking_speed_m_per_min : float, default 80
    detour_factor : float, default 1.3

    Returns
    -------
    dict of str to list of str
        Volunteer id → building ids in the order taken (every volunteer is a key).

    Examples
    --------
    >>> assign_buildings([("b1", 120.0, 31.0, 10), ("b2", 120.01, 31.0, 10)],
    ...                  [("v1", 120.0, 31.0), ("v2", 120.01, 31.0)], 1.0)
    {'v1': ['b1'], 'v2': ['b2']}
    """
    order = sorted(range(len(volunteers)), key=lambda i: volunteers[i][0])
    load = {i: 0.0 for i in order}
    where = {i: (volunteers[i][1], volunteers[i][2]) for i in order}
    out: dict[str, list[str]] = {volunteers[i][0]: [] for i in order}
    for bid, lon, lat, n in sorted(buildings):
        best = min(order, key=lambda i: (
            load[i] + haversine_m(where[i][0], where[i][1], lon, lat) * detour_factor
            / walking_speed_m_per_min, volunteers[i][0]))
        load[best] += (haversine_m(where[best][0], where[best][1], lon, lat) * detour_factor
                       / walking_speed_m_per_min + n * minutes_per_household)
        where[best] = (lon, lat)
        out[volunteers[best][0]].append(bid)
    return out


# ------------------------------------------------------------------------------ phone tree


def phone_tree(
    env: simpy.Environment,
    members: Sequence[str],
    fanout: int,
    call_minutes: Callable[[str], float],
    on_call: Callable[[str, str, float, float], None] | None = None,
) -> dict[str, simpy.Event]:
    """Start a call tree over ``members``; return, per member, the event "free to work".

    ``members[0]`` knows at ``env.now``. Every member who knows calls the next members who
    do not (in ``members`` order, from one shared queue), up to ``fanout`` calls, one at a
    time, each lasting ``call_minutes(caller)``; a callee knows when the call ends. A
    member's event fires, with the time they learnt of the notice as value, when their own
    calls are done. With calls of at least one minute the last member cannot know before
    ⌈log₂ n⌉ minutes (each round at most doubles who knows; Grigni & Peleg 1991), and with
    ``fanout ≥ ⌈log₂ n⌉`` and unit calls it knows exactly then.

    Parameters
    ----------
    env : simpy.Environment
    members : sequence of str
        Member ids, caller order (the root first); unique.
    fanout : int
        Calls per member (≥ 1).
    call_minutes : callable
        ``call_minutes(caller_id)`` → minutes of the caller's next call (≥ 0).
    on_call : callable, optional
        ``on_call(caller, callee, start_min, minutes)`` after each call.

    Returns
    -------
    dict of str to simpy.Event
        Member → event fired when the member is free (value: minute they learnt).
    """
    free = {m: env.event() for m in members}
    if not members:
        return free
    waiting = deque(members[1:])

    def member(who: str, learnt: float) -> Any:
        for _ in range(fanout):
            if not waiting:
                break
            callee = waiting.popleft()
            minutes = call_minutes(who)
            start = env.now
            yield env.timeout(minutes)
            if on_call is not None:
                on_call(who, callee, start, minutes)
            env.process(member(callee, env.now))
        free[who].succeed(learnt)

    env.process(member(members[0], env.now))
    return free

