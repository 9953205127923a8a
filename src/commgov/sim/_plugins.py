"""Plugins: third-party submodels and policies, from installed packages only (private).

Scenario files are data: a name in one (``submodels.<name>``, a policy ``name``) is looked up
in the registries that commgov and installed plugins fill, and an unknown name is an error
that imports nothing — a scenario naming ``"evilpolicy:X"`` never runs ``evilpolicy.py``.
Two trusted ways fill the registries besides commgov itself:

* installed packages declare an entry point in the group :data:`ENTRY_POINT_GROUP`; its object
  is a module (imported, so its ``@register_submodel`` / ``@register_policy`` decorators run)
  or a callable (called with no arguments) — package metadata the user chose to install;
* the caller names modules in code or on the command line (``run_sweep(...,
  plugins=["my_models"])``, ``commgov simulate --plugin my_models``), as ``pytest -p`` does;
  sweeps import them in every worker too.

Neither comes from a scenario file.

Example ``pyproject.toml`` of a plugin::

    [project.entry-points."commgov.sim"]
    my_submodels = "my_package.commgov_plugin"
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Final

__all__ = ["ENTRY_POINT_GROUP", "load_plugins"]

#: The entry-point group plugins declare.
ENTRY_POINT_GROUP: Final = "commgov.sim"

_loaded: list[str] | None = None

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def load_plugins(modules: Sequence[str] = ()) -> list[str]:
    """Import the caller's plugin modules, and every installed plugin once; return their names.

    Parameters
    ----------
    modules : sequence of str
        Dotted module names the caller chose (code or command line, never a data file), imported
        in order; importing registers their submodels and policies.

    Raises
    ------
    ValueError
        If a module name is not a dotted Python identifier.
    ImportError
        If a plugin cannot be imported (the message names it).
    """
    global _loaded
    for module in modules:
        if not isinstance(module, str) or not _MODULE_NAME.match(module):
            raise ValueError(f"plugin module names are dotted identifiers, got {module!r}")
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ImportError(f"commgov plugin module {module!r} cannot be imported: "
                              f"{exc}") from exc
    if _loaded is not None:
        return [*modules, *_loaded]
    names: list[str] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception as exc:
            raise ImportError(f"commgov plugin {ep.name!r} ({ep.value}) failed to load: "
                              f"{exc}") from exc
        if callable(obj):
            obj()
        names.append(ep.name)
    _loaded = names
    return [*modules, *names]
