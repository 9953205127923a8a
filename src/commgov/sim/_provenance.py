"""How a run came about: command line, git commits, library versions and a timestamp.

What :func:`run_record` returns goes into ``experiment.json`` (and the sensitivity command's
``sensitivity.json``) only — never into the KPI files (``kpis.csv``, ``summary.csv``,
``differences.csv``), which stay byte-identical between runs of the same command.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from commgov._redact import redact

__all__ = ["git_state", "run_record"]

#: Longest wait for one ``git`` call, in seconds (a slow network file system must not hang a
#: run).
_GIT_TIMEOUT_S = 5.0


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git, no permission, too slow
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(path: str | Path) -> dict[str, Any] | None:
    """The git commit of the work tree holding ``path``, or None outside a repository.

    Returns
    -------
    dict or None
        ``{"commit": 40 hex digits, "dirty": bool}`` (``dirty``: tracked files in that folder
        changed since the commit); None when ``path`` is in no git work tree or git is not
        installed.
    """
    folder = Path(path)
    folder = folder if folder.is_dir() else folder.parent
    commit = _git(folder, "rev-parse", "--verify", "HEAD")
    if not commit or len(commit) != 40:
        return None
    status = _git(folder, "status", "--porcelain", "--untracked-files=no", "--", ".")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _dist(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def run_record(
    command: Sequence[str] | None, *, inputs: Sequence[str | Path] = ()
) -> dict[str, Any]:
    """The provenance of one run, for ``experiment.json``.

    Parameters
    ----------
    command : sequence of str or None
        The command line (``["commgov", "simulate", ...]``); phone and identity numbers in it
        are masked.
    inputs : sequence of path
        Input files (the scenario file): the git commit of each one's work tree is recorded.

    Returns
    -------
    dict
        ``command``; ``started_utc`` (ISO 8601, seconds); ``git`` — ``{"commgov": state,
        "inputs": {path: state}}`` with :func:`git_state` (None outside a repository);
        ``versions`` of commgov and OR-Tools (the planners inside two submodels), SimPy, NumPy,
        SciPy and pandas.
    """
    import commgov

    package = Path(commgov.__file__).resolve().parent
    return {
        "command": None if command is None else [redact(str(a)) for a in command],
        "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git": {
            "commgov": git_state(package),
            "inputs": {str(p): git_state(Path(p).resolve()) for p in inputs},
        },
        "versions": {
            "commgov": commgov.__version__,
            **{d: _dist(d) for d in ("ortools", "simpy", "numpy", "scipy", "pandas")},
        },
    }
