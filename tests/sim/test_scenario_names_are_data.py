"""Scenario files are data, never code: a name in one never makes commgov import a module.

A policy or submodel name of the form ``module:attr`` used to import that module (``"this:X"``
printed the Zen of Python; ``evilpolicy:X`` ran ``evilpolicy.py`` from the scenario's folder).
Names now resolve only through the registries that commgov and installed plugins fill.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCENARIO = textwrap.dedent("""
    import json, sys
    from commgov.errors import InputError
    from commgov.sim import Scenario
    base = {{"name": "t", "start": "2022-04-11T19:00:00+08:00",
            "community": {{"dataset": "gusu", "seed": 0, "community": "320508017016"}}}}
    try:
        Scenario.from_dict({{**base, "submodels": {submodels}}})
    except InputError as exc:
        print("REFUSED", exc.issues[0].field, exc.issues[0].constraint)
    print("IMPORTED", sorted(m for m in ("this", "evilpolicy", "evilmod") if m in sys.modules))
""")

CASES = {
    "policy names a stdlib module": '{"notification": {"read_delay": {"name": "this:X"}}}',
    "policy names a file beside the scenario": '{"notification": {"channel": "evilpolicy:X"}}',
    "submodel names a file beside the scenario": '{"evilmod:run": {}}',
}


@pytest.mark.parametrize("submodels", list(CASES.values()), ids=list(CASES))
def test_a_scenario_name_imports_nothing(tmp_path, submodels):
    """The name is refused with a field-named error, and no module it names is imported."""
    marker = tmp_path / "ran.txt"
    for module in ("evilpolicy", "evilmod"):
        (tmp_path / f"{module}.py").write_text(
            f"open({str(marker)!r}, 'w').write('ran')\nX = run = None\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", SCENARIO.format(submodels=submodels)],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=120,
    )
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("REFUSED submodels."), out.stdout
    assert "unknown" in lines[0] and "never imported" in lines[0]
    assert lines[-1] == "IMPORTED []"
    assert "Beautiful is better than ugly" not in out.stdout
    assert not marker.exists()


def test_registered_names_still_resolve_by_short_and_qualified_name():
    """Short names and the ``module:qualname`` of a registered (or re-exported) class work."""
    from commgov.sim import ParetoDelay, get_policy, get_submodel

    assert get_policy("read_delay", "pareto") is ParetoDelay
    assert get_policy("read_delay", "commgov.sim:ParetoDelay") is ParetoDelay
    assert get_submodel("queues").name == "queues"
    assert get_submodel(get_submodel("queues").qualname).name == "queues"
