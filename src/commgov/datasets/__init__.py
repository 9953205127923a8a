"""Embedded datasets: Gusu's official divisions and calibrated synthetic detail.

Real and synthetic parts are told apart by each record's ``provenance``.
"""

from commgov.datasets._community import HUCHIYUAN, gusu, synthetic_community
from commgov.datasets._divisions import GUSU_CODE, gusu_divisions

__all__ = ["GUSU_CODE", "HUCHIYUAN", "gusu", "gusu_divisions", "synthetic_community"]
