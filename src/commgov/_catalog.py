"""The dataset registry: how the simulator finds worlds without importing the datasets (private).

Layers run one way (core → org → lists → matching, scheduling → sim → datasets, io → cli), so
:mod:`commgov.sim` may not import :mod:`commgov.datasets`. Instead a dataset registers a
:class:`DatasetProvider` here under a name (``"gusu"``, ``"synthetic_community"``), and a
scenario names the dataset. :func:`dataset_provider` looks the name up; when nothing is
registered yet it imports the built-in providers, :mod:`commgov.datasets`, by the constant
module name below — never a module named by a data file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["DatasetProvider", "dataset_names", "dataset_provider", "register_dataset"]

#: The module that registers the built-in datasets when it is imported (a constant: data
#: files never name code).
BUILTIN_PROVIDERS: Final = "commgov.datasets"


@dataclass(frozen=True, slots=True)
class DatasetProvider:
    """A named source of organisation models for simulations.

    Attributes
    ----------
    name : str
        The name scenarios use (``community.dataset``).
    load : callable
        ``load(code, seed) -> OrgModel``: the model of a 12-digit community or, where
        :attr:`areas` is given, of every community inside a district or sub-district code.
    areas : callable or None
        ``areas() -> frozenset`` of the district and sub-district codes :attr:`load` accepts;
        ``None`` when only community codes are accepted.
    communities : callable or None
        ``communities() -> frozenset`` of the community codes :attr:`load` accepts; ``None``
        when any 12-digit code is (a generator).
    """

    name: str
    load: Callable[[str, int], Any]  # -> commgov.org.OrgModel (org sits above the core)
    areas: Callable[[], frozenset[str]] | None = None
    communities: Callable[[], frozenset[str]] | None = None


_PROVIDERS: dict[str, DatasetProvider] = {}


def register_dataset(provider: DatasetProvider) -> None:
    """Register (or replace) a dataset provider under its name."""
    _PROVIDERS[provider.name] = provider


def _ensure_builtins() -> None:
    if not _PROVIDERS:
        importlib.import_module(BUILTIN_PROVIDERS)


def dataset_names() -> list[str]:
    """The registered dataset names, sorted."""
    _ensure_builtins()
    return sorted(_PROVIDERS)


def dataset_provider(name: str) -> DatasetProvider | None:
    """The provider registered as ``name``, or ``None``."""
    _ensure_builtins()
    return _PROVIDERS.get(name)
