"""Every third-party package that commgov's code imports is declared in pyproject.toml.

The imports are read from the source (every ``import`` statement, lazy ones inside functions
too); a module counts as declared when the distribution that provides it is a core dependency
or in some extra. A module provided through an extra of another distribution
(``dask[distributed]`` → ``distributed``) counts as declared by that requirement.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "commgov"


def _imported_top_modules() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top != "commgov" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements.extend(extra)
    names: set[str] = set()
    for req in requirements:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", req)
        assert m, req
        names.add(m.group(1).lower().replace("_", "-"))
        names.update(x.strip().lower() for x in (m.group(2) or "").split(",") if x.strip())
    return names


def test_every_imported_package_is_declared():
    providers = packages_distributions()
    declared = _declared()
    missing = {}
    for module, files in _imported_top_modules().items():
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
        if not dists & declared:
            missing[module] = sorted(files)[:3]
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_pandas_is_a_core_dependency():
    """Tables (``PlanResult.to_frame``, sweep summaries) need pandas in every install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(re.match(r"pandas\b", r) for r in project["dependencies"])
