"""Imports run one way, down the layers.

core (errors, types, results, verification and the private contracts) → ``org`` → ``lists`` →
``matching``, ``scheduling`` → ``sim`` → ``datasets``, ``io`` → ``cli``. Every import
statement of every module is read from its source (imports inside functions too), so a lazy
import that climbs a layer fails here as well. ``sim`` reaches the datasets through the world
registry that :mod:`commgov.datasets` fills, never by importing it; nothing in the runtime
imports :mod:`commgov.testing`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import commgov

SRC = Path(commgov.__file__).parent

#: Layer of each top-level part of the package (a module or subpackage under commgov/).
LAYERS = {
    "org": 1,
    "lists": 2,
    "matching": 3,
    "scheduling": 3,
    "sim": 4,
    "live": 4,
    "datasets": 5,
    "io": 5,
    "store": 5,
    "cli": 6,
    "__main__": 6,
    "testing": 7,
}
CORE = 0


def _layer(dotted: str) -> int:
    parts = dotted.split(".")
    if parts[0] != "commgov" or len(parts) == 1:
        return CORE
    return LAYERS.get(parts[1], CORE)


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return [(line, name) for line, name in out if name.split(".")[0] == "commgov"]


_FILES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", _FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_down_the_layers(path):
    """A module imports only from its own layer or the layers below."""
    name = _module_name(path)
    own = _layer(name)
    upward = [
        f"line {line}: {target} (layer {_layer(target)} > {own})"
        for line, target in _imports(path)
        if _layer(target) > own
    ]
    assert upward == []


def test_nothing_in_the_runtime_imports_testing():
    """commgov.testing (Hypothesis) stays optional: no runtime module imports it."""
    offenders = [
        f"{_module_name(p)} line {line}"
        for p in _FILES
        if _layer(_module_name(p)) < LAYERS["testing"]
        for line, target in _imports(p)
        if _layer(target) == LAYERS["testing"]
    ]
    assert offenders == []
