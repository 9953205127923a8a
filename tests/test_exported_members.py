"""The public surface is the packages' ``__init__`` modules, and it is complete.

As httpx's ``tests/test_exported_members.py``: every name a public package exports resolves,
no module outside the curated list is public by name (implementation lives in ``_private``
modules), and every commgov type that a public function takes or returns — or that a public
record holds in a field — is exported from some public module, so users never need to import
from a private one.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import typing
from types import ModuleType

import pydantic
import pytest

import commgov

#: Modules that are public by name besides packages: the core contracts.
CORE_MODULES = {
    "commgov.crs",
    "commgov.jobs",
    "commgov.errors",
    "commgov.results",
    "commgov.types",
    "commgov.verification",
    "commgov.testing.strategies",
}


def _all_modules() -> list[str]:
    names = ["commgov"]
    for info in pkgutil.walk_packages(commgov.__path__, "commgov."):
        names.append(info.name)
    return sorted(names)


def _is_public_name(dotted: str) -> bool:
    return not any(part.startswith("_") for part in dotted.split("."))


def _is_package(module: ModuleType) -> bool:
    return hasattr(module, "__path__")


def _public_modules() -> list[ModuleType]:
    out = []
    for name in _all_modules():
        if not _is_public_name(name):
            continue
        out.append(importlib.import_module(name))
    return out


def test_no_public_by_name_module_outside_the_curated_list():
    """Every module without a leading underscore is a package or a core contract module."""
    stray = []
    for name in _all_modules():
        if not _is_public_name(name):
            continue
        module = importlib.import_module(name)
        if not _is_package(module) and name not in CORE_MODULES:
            stray.append(name)
    assert stray == []


def _exported() -> dict[int, str]:
    out: dict[int, str] = {}
    for module in _public_modules():
        for attr in getattr(module, "__all__", ()):
            out.setdefault(id(getattr(module, attr)), f"{module.__name__}.{attr}")
    return out


def _classes_in(annotation: object, seen: set[int]) -> typing.Iterator[type]:
    if id(annotation) in seen:
        return
    seen.add(id(annotation))
    if isinstance(annotation, type):
        if annotation.__module__.startswith("commgov"):
            yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _classes_in(arg, seen)
    origin = typing.get_origin(annotation)
    if isinstance(origin, type) and origin.__module__.startswith("commgov"):
        yield origin


def _hints(obj: object) -> dict[str, object]:
    module = inspect.getmodule(obj)
    namespace: dict[str, object] = {}
    for public in _public_modules():
        for attr in getattr(public, "__all__", ()):
            namespace.setdefault(attr, getattr(public, attr))
    if module is not None:
        namespace.update(vars(module))
    try:
        return typing.get_type_hints(obj, globalns=namespace, include_extras=False)
    except Exception:  # an annotation naming something only imported for type checking
        return {}


def _referenced_types() -> dict[type, str]:
    """commgov classes taken or returned by public callables or held in public records."""
    found: dict[type, str] = {}
    todo: list[tuple[object, str]] = []
    for module in _public_modules():
        for attr in getattr(module, "__all__", ()):
            todo.append((getattr(module, attr), f"{module.__name__}.{attr}"))
    done: set[int] = set()
    while todo:
        obj, where = todo.pop()
        if id(obj) in done:
            continue
        done.add(id(obj))
        annotations: list[object] = []
        if inspect.isfunction(obj):
            annotations.extend(_hints(obj).values())
        elif isinstance(obj, type) and obj.__module__.startswith("commgov"):
            if issubclass(obj, pydantic.BaseModel):
                annotations.extend(f.annotation for f in obj.model_fields.values())
            if not issubclass(obj, enum.Enum):
                for name, member in vars(obj).items():
                    if name.startswith("_") or not inspect.isfunction(member):
                        continue
                    annotations.extend(_hints(member).values())
        seen: set[int] = set()
        for annotation in annotations:
            for cls in _classes_in(annotation, seen):
                if cls not in found:
                    found[cls] = where
                    todo.append((cls, f"{cls.__module__}.{cls.__qualname__}"))
    return found


def test_every_type_in_a_public_signature_is_exported():
    """No public function or record hands out a type that only a private module exports."""
    exported = _exported()
    missing = sorted(
        f"{cls.__module__}.{cls.__qualname__} (used by {where})"
        for cls, where in _referenced_types().items()
        if id(cls) not in exported
    )
    assert missing == []


@pytest.mark.parametrize("module", [m.__name__ for m in _public_modules()])
def test_public_module_all_resolves(module):
    """Each public module's ``__all__`` names attributes that exist."""
    mod = importlib.import_module(module)
    for attr in getattr(mod, "__all__", ()):
        assert hasattr(mod, attr), f"{module}.{attr}"
