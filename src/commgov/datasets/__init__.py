"""Embedded datasets: Gusu's official divisions and calibrated synthetic detail.

Real and synthetic parts are told apart by each record's ``provenance``
(see ``docs/datasets.md``).
"""

from commgov.datasets import _providers  # noqa: F401  (registers the datasets with commgov._catalog)
from commgov.datasets._community import synthetic_community
from commgov.datasets._divisions import GUSU_CODE, gusu_divisions
from commgov.datasets._door_to_door_instances import door_to_door_instance
from commgov.datasets._gusu import HUCHIYUAN, gusu
from commgov.datasets._matching_instances import MATCHING_SCALES, matching_instance
from commgov.datasets._sampling_instances import SAMPLING_TIERS, sampling_instance
from commgov.datasets._tasks import WAVES, synthetic_tasks

__all__ = [
    "GUSU_CODE",
    "HUCHIYUAN",
    "MATCHING_SCALES",
    "SAMPLING_TIERS",
    "WAVES",
    "door_to_door_instance",
    "gusu",
    "gusu_divisions",
    "matching_instance",
    "sampling_instance",
    "synthetic_community",
    "synthetic_tasks",
]
