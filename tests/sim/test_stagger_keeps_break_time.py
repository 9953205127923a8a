"""Staggered breaks move *when* breaks fall, never how much break a member gets (issue 15 D6).

Before the fix a phase φ started the shift pattern φ minutes early, so the first shift was
shorter and a member could fit one break more into the duty: 9 members on duty 690–1080 with
120/30 shifts had 2,970 on-duty minutes without stagger and 2,798 with a stagger of 120. Now
a phase moves each break of the unphased pattern φ earlier: same breaks, same lengths, the
same on-duty minutes up to what the duty's end cut off the last break.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings, strategies as st

from commgov.sim import (
    Scenario,
    break_phases,
    crew_windows,
    run_replicate,
    shift_windows,
    stream_factory,
)

COMMUNITY = {"dataset": "gusu", "seed": 0, "community": "320508017016"}
EPS = 1e-9


def _on(windows) -> float:
    return sum(e - s for s, e in windows)


def _breaks(windows, end: float) -> list[tuple[float, float]]:
    """The gaps between consecutive windows and after the last one (up to ``end``)."""
    gaps = [(e1, s2) for (_, e1), (s2, _) in itertools.pairwise(windows)]
    if windows and windows[-1][1] < end:
        gaps.append((windows[-1][1], end))
    return gaps


def _phase(member: str, stagger: float, shift: float, rngs) -> float:
    width = min(stagger, shift)
    return math.fmod(break_phases([member], width, rngs)[member], width) if width else 0.0


def check_same_break_time(flat, phased, end: float, shift: float, brk: float, phase: float) -> None:
    """The invariant: the phased pattern's breaks are the flat one's, φ earlier."""
    flat_breaks, phased_breaks = _breaks(flat, end), _breaks(phased, end)
    assert len(phased_breaks) == len(flat_breaks)
    for (fs, fe), (ps, pe) in zip(flat_breaks, phased_breaks, strict=True):
        assert ps == pytest.approx(fs - phase, abs=EPS)  # only moved earlier
        assert pe - ps == pytest.approx(min(brk, end - ps), abs=EPS)  # full length unless cut
        assert pe - ps >= fe - fs - EPS
    cut = brk - (flat_breaks[-1][1] - flat_breaks[-1][0]) if flat_breaks else 0.0
    assert _on(flat) - cut - EPS <= _on(phased) <= _on(flat) + EPS
    assert phased[0][0] == flat[0][0]


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 600),
    length=st.integers(1, 1200),
    shift=st.integers(1, 300),
    brk=st.integers(0, 120),
    phase_frac=st.floats(0.0, 0.999),
)
def test_a_phase_moves_the_breaks_and_keeps_their_number_and_length(
    start, length, shift, brk, phase_frac
):
    end = float(start + length)
    phase = phase_frac * shift
    flat = shift_windows(float(start), end, float(shift), float(brk))
    phased = shift_windows(float(start), end, float(shift), float(brk), phase_min=phase)
    check_same_break_time(flat, phased, end, shift, brk, phase)


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 12),
    joins=st.lists(st.integers(0, 200), min_size=12, max_size=12),
    length=st.integers(1, 900),
    shift=st.integers(1, 300),
    brk=st.integers(0, 90),
    stagger=st.integers(0, 400),
    seed=st.integers(0, 3),
)
def test_crew_windows_keeps_each_member_s_break_time(n, joins, length, shift, brk, stagger, seed):
    rngs = stream_factory(seed)
    members = [(f"m{k}", float(joins[k])) for k in range(n)]
    off = 200.0 + length
    flat = crew_windows(members, off, float(shift), float(brk), rngs)
    phased = crew_windows(
        members, off, float(shift), float(brk), rngs, stagger_minutes=float(stagger)
    )
    for m, _ in members:
        if not flat[m]:
            assert phased[m] == ()
            continue
        check_same_break_time(flat[m], phased[m], off, shift, brk, _phase(m, stagger, shift, rngs))


def test_the_break_testers_crew_keeps_its_on_duty_minutes():
    members = [(f"v{k}", 690.0) for k in range(9)]
    rngs = stream_factory(0)
    flat = crew_windows(members, 1080.0, 120.0, 30.0, rngs)
    staggered = crew_windows(members, 1080.0, 120.0, 30.0, rngs, stagger_minutes=120.0)
    assert sum(_on(w) for w in flat.values()) == 2970.0
    assert sum(_on(w) for w in staggered.values()) == pytest.approx(2970.0, abs=1e-6)
    assert len({w[0][1] for w in staggered.values()}) == 9  # the breaks are staggered


# ------------------------------------------------------------- every crew that uses it

_BASE = {"start": "2022-04-12T08:00:00+08:00", "horizon_min": 600, "community": COMMUNITY}
_CREWS = {
    "relay volunteers": (
        "_relay",
        {
            "relay": {
                "volunteers": 6,
                "shift_minutes": 120,
                "break_minutes": 30,
                "break_stagger_minutes": 120,
            }
        },
    ),
    "relay riders": (
        "_relay",
        {
            "relay": {
                "volunteers": 6,
                "riders_per_hour": 60,
                "arrivals_until_min": 480,
                "riders": 3,
                "rider_shift_minutes": 120,
                "rider_break_minutes": 30,
                "rider_break_stagger_minutes": 120,
            }
        },
    ),
    "needs pool": (
        "_needs",
        {
            "needs": {
                "volunteers": 6,
                "needs_per_household_per_day": 0.2,
                "shift_minutes": 120,
                "break_minutes": 30,
                "break_stagger_minutes": 120,
            }
        },
    ),
    "door-to-door teams": (
        "_door_to_door",
        {
            "door_to_door": {
                "crews": "generic",
                "teams": 4,
                "seal_largest": 3,
                "shift_minutes": 120,
                "break_minutes": 30,
                "break_stagger_minutes": 120,
            }
        },
    ),
    "desk lanes": (
        "_lanes",
        {
            "queues": {
                "lanes": 3,
                "lane_shift_minutes": 120,
                "lane_break_minutes": 30,
                "lane_break_stagger_minutes": 120,
                "plan_time_limit_s": 5,
            }
        },
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("crew", sorted(_CREWS))
def test_every_crew_keeps_its_break_time_when_staggered(crew, monkeypatch):
    """Each crew's windows, as its submodel asks for them, satisfy the invariant."""
    import importlib

    module, submodels = _CREWS[crew]
    mod = importlib.import_module(f"commgov.sim.{module}")
    real = crew_windows
    seen: list[int] = []

    def spy(
        members, off_min, shift_minutes, break_minutes, rngs, *, stagger_minutes=0.0, leave_min=None
    ):
        got = real(
            members,
            off_min,
            shift_minutes,
            break_minutes,
            rngs,
            stagger_minutes=stagger_minutes,
            leave_min=leave_min,
        )
        if shift_minutes is not None and stagger_minutes > 0 and members:
            seen.append(len(members))
            flat = real(members, off_min, shift_minutes, break_minutes, rngs)
            phased = real(
                members,
                off_min,
                shift_minutes,
                break_minutes,
                rngs,
                stagger_minutes=stagger_minutes,
            )
            for m, _ in members:
                check_same_break_time(
                    flat[m],
                    phased[m],
                    off_min,
                    shift_minutes,
                    break_minutes,
                    _phase(m, stagger_minutes, shift_minutes, rngs),
                )
                assert (
                    sum(e - s for s, e in phased[m])
                    >= sum(e - s for s, e in flat[m]) - break_minutes - EPS
                )
        return got

    monkeypatch.setattr(mod, "crew_windows", spy)
    scenario = Scenario.from_dict(_BASE | {"name": "stagger", "submodels": submodels})
    run_replicate(scenario, 0, 0)
    assert seen, f"{crew}: crew_windows was not asked for staggered windows"
    assert not math.isnan(sum(seen))
