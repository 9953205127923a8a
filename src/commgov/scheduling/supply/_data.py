"""The arrays the supply planner, its greedy completion and its bound share (private)."""

from __future__ import annotations

from dataclasses import dataclass

from commgov.errors import check_size
from commgov.scheduling._location import measure_reach
from commgov.scheduling.supply._problem import SupplyProblem
from commgov.scheduling.supply._rules import carry_m, fits_alone

__all__ = ["MAX_PAIRS", "SupplyData", "supply_data"]

#: Most compound × candidate-station pairs measured (size guard, checked before measuring).
MAX_PAIRS = 50_000_000


@dataclass
class SupplyData:
    """Solver arrays of a canonical :class:`SupplyProblem` (compounds and stations by id)."""

    problem: SupplyProblem
    reach: dict[int, list[tuple[int, int]]]  # compound (parcels > 0) → [(station, carry_m)]
    nearest: dict[int, int]  # compound without reach → metres to the nearest station

    def parcels(self, c: int) -> int:
        return self.problem.compounds[c].parcels

    def pairs(self) -> list[tuple[int, int, int]]:
        """``(compound, station, carry_m)`` of every pair in reach where the station could
        serve the compound at all (:func:`._rules.fits_alone`), by compound then station."""
        p = self.problem
        return [
            (c, s, w)
            for c in sorted(self.reach)
            for s, w in self.reach[c]
            if fits_alone(p.compounds[c], p.stations[s], p.volunteers)
        ]


def supply_data(problem: SupplyProblem) -> SupplyData:
    """The arrays of the canonical ``problem``; O(C·S) distances, in chunks of compounds.

    Measured in full even when a run is cancelled (vectorised, well under a second for a
    district): the totals name the parcels in reach, which only the legs tell.
    """
    compounds, stations = problem.compounds, problem.stations
    check_size(
        "supply problem: compounds × candidate stations",
        len(compounds) * len(stations),
        MAX_PAIRS,
        "plan a smaller area at once (a sub-district or a community)",
    )
    reach, nearest, _ = measure_reach(
        [c.gate for c in compounds],
        [c for c, cd in enumerate(compounds) if cd.parcels > 0],
        [s.location for s in stations],
        list(range(len(stations))),
        problem.policy.max_walk_m,
        lambda c, s: carry_m(compounds[c], stations[s]),
    )
    return SupplyData(problem, reach, nearest)
