"""What shapes a sweep's results: a fingerprint of the code and library versions (private).

A :class:`~commgov.sim.SweepStore` reuses a stored replicate only when the code that would
compute it again is the code that computed it. The package version cannot say so (it stays the
same while the code changes), so the store keys every batch on a *fingerprint*:

* the SHA-256 of the bytes of every file of the installed ``commgov`` package except the
  command line (``cli/``) and the test helpers (``testing/``) — the simulator, the planners and
  matchers it calls, the datasets (their code and data files), the shared types and results:
  a changed runner, submodel, policy, planner or embedded table gives another fingerprint;
* the SHA-256 of the source file of each module outside commgov that the sweep names: the
  runner's module and the plugin modules (``plugins=``, ``--plugin``, installed entry points),
  which register submodels and policies;
* the versions of Python and of the libraries that shape results: numpy, SimPy, OR-Tools,
  NetworkX, SciPy, pydantic (and pydantic-core), pandas and tzdata.

The package part is computed once per process (about 2 MB of files) and cached; a module file
outside commgov is hashed again whenever its size or modification time changes.

What the fingerprint cannot see: code a runner or plugin imports from elsewhere (hash it into
its own module or bump its package version), C extensions' behaviour beyond their version, and
workers on other machines running other code (a Dask cluster must run the same environment).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import MappingProxyType

__all__ = [
    "LIBRARIES",
    "code_digest",
    "fingerprint",
    "library_versions",
    "module_digests",
    "package_digest",
    "sweep_fingerprint",
]

#: Distributions whose versions shape results (besides Python itself).
LIBRARIES = (
    "numpy",
    "simpy",
    "ortools",
    "networkx",
    "scipy",
    "pydantic",
    "pydantic_core",
    "pandas",
    "tzdata",
)

#: Top-level folders of the package that cannot change a KPI.
_EXCLUDED = frozenset({"cli", "testing", "__pycache__"})

_SKIPPED_SUFFIXES = (".pyc", ".pyo")


def code_digest(root: str | os.PathLike[str], exclude: Iterable[str] = _EXCLUDED) -> str:
    """SHA-256 over the relative paths and bytes of every file under a folder.

    Parameters
    ----------
    root : str or os.PathLike
        The folder (the commgov package).
    exclude : iterable of str
        Names of folders skipped wherever they are (``__pycache__`` …) and of top-level
        folders skipped.

    Returns
    -------
    str
        64 hexadecimal digits; the same files give the same digest on every machine.

    Notes
    -----
    O(total bytes); files are visited in sorted order of their POSIX relative paths.
    """
    base = Path(root)
    skip = frozenset(exclude)
    files = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
        for name in filenames:
            if name.endswith(_SKIPPED_SUFFIXES) or name.startswith("."):
                continue
            path = Path(dirpath, name)
            files.append((path.relative_to(base).as_posix(), path))
    digest = hashlib.sha256()
    for rel, path in sorted(files):
        data = path.read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@cache
def package_digest() -> str:
    """The digest of the installed commgov package (once per process; see the module notes)."""
    import commgov

    return code_digest(Path(commgov.__file__).parent)


@cache
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def module_digests(modules: Iterable[str]) -> dict[str, str]:
    """SHA-256 of the source files of imported modules outside commgov.

    Parameters
    ----------
    modules : iterable of str
        Module names (a runner's ``__module__``, plugin modules).

    Returns
    -------
    dict
        ``module → digest``; modules inside commgov are left out (the package digest covers
        them), a module without a source file (built-in, interactive ``__main__``) maps to
        ``"no source"``.
    """
    out: dict[str, str] = {}
    for name in sorted(set(modules)):
        if name == "commgov" or name.startswith("commgov."):
            continue
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None) if module is not None else None
        try:
            stat = os.stat(file) if file else None
        except OSError:
            stat = None
        if file is None or stat is None:
            out[name] = "no source"
            continue
        out[name] = _file_digest(os.path.abspath(file), stat.st_size, stat.st_mtime_ns)
    return out


@cache
def library_versions() -> Mapping[str, str]:
    """Python's implementation and version and the versions of :data:`LIBRARIES`."""
    out = {"python": f"{platform.python_implementation()} {platform.python_version()}"}
    for dist in LIBRARIES:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return MappingProxyType(out)


def fingerprint(modules: Iterable[str] = ()) -> tuple[str, dict[str, object]]:
    """The fingerprint of what shapes results, and its parts.

    Parameters
    ----------
    modules : iterable of str
        Modules outside commgov that the sweep runs (runner and plugins).

    Returns
    -------
    (str, dict)
        The SHA-256 (64 hex digits) of the canonical JSON of the parts, and the parts:
        ``{"commgov": package digest, "modules": {name: digest}, "versions": {...}}``.

    Notes
    -----
    The package digest costs one read of the package's files per process; the rest is O(number
    of modules).
    """
    parts: dict[str, object] = {
        "commgov": package_digest(),
        "modules": module_digests(modules),
        "versions": dict(library_versions()),
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest(), parts


@cache
def _entry_point_modules() -> tuple[str, ...]:
    from importlib.metadata import entry_points

    from commgov.sim._plugins import ENTRY_POINT_GROUP

    return tuple(sorted({ep.module for ep in entry_points(group=ENTRY_POINT_GROUP)}))


def sweep_fingerprint(runner: str, plugins: Iterable[str] = ()) -> tuple[str, dict[str, object]]:
    """:func:`fingerprint` of a sweep: its runner's module, its plugins and installed plugins.

    Parameters
    ----------
    runner : str
        The runner's ``module:qualname``.
    plugins : iterable of str
        Plugin modules named by the caller.

    Returns
    -------
    (str, dict)
        As :func:`fingerprint`.
    """
    module = runner.split(":", 1)[0]
    return fingerprint([module, *plugins, *_entry_point_modules()])
