"""Register the built-in datasets with the simulator's dataset registry (private)."""

from __future__ import annotations

from functools import lru_cache

from commgov._catalog import DatasetProvider, register_dataset
from commgov.datasets._community import synthetic_community
from commgov.datasets._divisions import gusu_divisions
from commgov.datasets._gusu import gusu
from commgov.org import OrgModel


@lru_cache(maxsize=1)
def _gusu_areas() -> frozenset[str]:
    return frozenset(a.id for a in gusu_divisions().areas)


@lru_cache(maxsize=1)
def _gusu_communities() -> frozenset[str]:
    return frozenset(c.id for c in gusu_divisions().communities)


def _load_gusu(code: str, seed: int) -> OrgModel:
    """Gusu restricted to one community, or to every community inside an area code."""
    if len(code) < 12:
        inside = [c.id for c in gusu_divisions().communities if c.id.startswith(code)]
        return gusu(seed, communities=inside)
    return gusu(seed, communities=[code])


def _load_synthetic(code: str, seed: int) -> OrgModel:
    return synthetic_community(code, seed=seed)


register_dataset(DatasetProvider("gusu", _load_gusu, _gusu_areas, _gusu_communities))
register_dataset(DatasetProvider("synthetic_community", _load_synthetic))
