"""Size guards of the sampling planners (private).

Every guard is checked with :func:`commgov.errors.check_size` from counts, before anything of
that size is built: the record counts when a :class:`SamplingProblem` is constructed (before
pydantic validates a single record), the solver data in
:func:`commgov.scheduling.sampling._data.check_sizes`, the CP-SAT model before it is built.
The limits keep every phase of :func:`commgov.scheduling.sampling.plan_sampling` of an
accepted problem within seconds on the 2-core reference machine, so that a time limit holds.
"""

from __future__ import annotations

from commgov.errors import check_size

__all__ = [
    "MAX_BATCHES",
    "MAX_BUILDINGS",
    "MAX_CANDIDATE_PAIRS",
    "MAX_POINTS",
    "MAX_POINT_SLOTS",
    "MAX_REACH_PAIRS",
    "MAX_SCAN_PAIRS",
    "MAX_TIER_VARS",
    "check_record_counts",
]

#: Most buildings, batches and sampling points of one problem (a district of a million
#: residents has ~10,000 buildings and ~20,000 batches of 60 people). Buildings and batches
#: are capped where ``commgov plan-sampling --time-limit 5`` still returns within 6 s,
#: exports included, on a loaded machine too (measured: 100,000 batches took 3.9-4.6 s on
#: a quiet core and 6.0 s with another test process on the other; plan a larger area by
#: subdistrict).
MAX_BUILDINGS = 20_000
MAX_BATCHES = 50_000
MAX_POINTS = 5_000
#: Most (point, slot) cells: capacity rows, queue loads and the plan's load records.
MAX_POINT_SLOTS = 100_000
#: Most (building, point) distances screened (designated points, or points within the walk
#: limit in latitude): numpy work, O(pairs).
MAX_CANDIDATE_PAIRS = 2_000_000
#: Most buildings × points scanned for the nearest point of buildings without designated
#: points (numpy, a vector per building with no point in reach).
MAX_SCAN_PAIRS = 50_000_000
#: Most (building, point) pairs within the walk limit: exact distances, flow arcs and
#: CP-SAT variables are built per pair.
MAX_REACH_PAIRS = 400_000
#: Most Boolean variables of the batch-level CP-SAT tier model (method ``"cpsat"``).
MAX_TIER_VARS = 2_000_000


def check_record_counts(n_buildings: int, n_points: int, n_batches: int) -> None:
    """Refuse more buildings, points or batches than :data:`MAX_BUILDINGS`,
    :data:`MAX_POINTS` and :data:`MAX_BATCHES` (O(1)).

    Raises
    ------
    commgov.errors.SizeLimitError
        Naming the figure, the limit and what to change.
    """
    split = "split the area into smaller sampling problems"
    check_size("sampling problem: buildings", n_buildings, MAX_BUILDINGS, split)
    check_size("sampling problem: sampling points", n_points, MAX_POINTS, split)
    check_size(
        "sampling problem: batches",
        n_batches,
        MAX_BATCHES,
        "use larger batches (max_batch_households) or split the area",
    )
