"""Every scenario file under examples/scenarios/ loads, runs one replicate and is deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest

from commgov.sim import Scenario, run_replicate

SCENARIOS = sorted((Path(__file__).parents[2] / "examples" / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_file_runs(path: Path) -> None:
    s = Scenario.from_toml(path.read_text(encoding="utf-8"))
    if s.community.is_area:  # the district takes ~30 s a replicate: its smallest sub-district
        s = s.with_updates({"community.community": "320508023"})
    a = run_replicate(s, 0, 7)
    assert a.kpis == run_replicate(s, 0, 7).kpis
    for name in s.submodels:
        assert any(k.startswith(f"{name}.") for k in a.kpis), name


def test_day_scenario_has_every_submodel() -> None:
    day = Scenario.from_toml(
        next(p for p in SCENARIOS if p.name == "huchiyuan_day.toml").read_text(encoding="utf-8")
    )
    assert set(day.submodels) == {"door_to_door", "needs", "notification", "queues", "relay"}
