"""District and sub-district scenarios: one run over many communities, each as in its own run."""

from __future__ import annotations

import pytest

from commgov.errors import InputError
from commgov.sim import Scenario, area_communities, load_world, run_replicate

SUBDISTRICT = "320508023"  # 苏锦街道, the smallest sub-district (13 communities)
TEXT = """
name = "area"
start = 2022-04-11T19:00:00+08:00
community = {{ community = "{code}" }}
[submodels.notification]
[submodels.relay]
volunteers = 3
riders_per_hour = 12
"""


def _scenario(code: str) -> Scenario:
    return Scenario.from_toml(TEXT.format(code=code))


def _events(log, cid: str) -> list[tuple[float, str, str, str, float]]:
    """The events of community ``cid``, relay's made-up ids without the area's prefix."""

    def norm(x: str) -> str:
        made_up = x.startswith((f"{cid}/riders", f"{cid}/relay-"))
        return x.removeprefix(f"{cid}/") if made_up else x

    out = []
    for t, kind, entity, actor, value in zip(log.t_min, log.kind, log.entity, log.actor,
                                            log.value, strict=True):
        if entity == cid or entity.startswith(f"{cid}/") or actor.startswith(f"{cid}/"):
            out.append((t, kind, norm(entity), norm(actor), -1.0 if value != value else value))
    return out


def _all(log) -> list[tuple[float, str, str, str, float]]:
    return [(t, k, e, a, -1.0 if v != v else v) for t, k, e, a, v in zip(
        log.t_min, log.kind, log.entity, log.actor, log.value, strict=True)]


def test_area_codes_are_accepted_and_checked() -> None:
    assert _scenario("320508").community.is_area
    assert not _scenario("320508017016").community.is_area
    with pytest.raises(InputError, match="sub-district"):
        _scenario("320508099")
    with pytest.raises(InputError, match="12-digit"):
        Scenario.from_toml(TEXT.format(code="320508023").replace(
            'community = "320508023"', 'community = "320508023", dataset = "synthetic_community"'))


def test_existing_scenario_hash_unchanged() -> None:
    s = Scenario.from_toml('name = "x"\nstart = 2022-04-11T19:00:00+08:00\n'
                           'community = { community = "320508017016" }')
    assert "is_area" not in s.to_json()


def test_subdistrict_runs_each_community_as_alone() -> None:
    area = _scenario(SUBDISTRICT)
    _model, graph = load_world("gusu", 0, SUBDISTRICT)
    cids = area_communities(graph, SUBDISTRICT)
    assert len(cids) == 13 and cids == sorted(cids)
    both = run_replicate(area, 2, 11)
    assert both.kpis == run_replicate(area, 2, 11).kpis
    alone_total = 0.0
    for cid in (cids[0], cids[-1]):
        alone = run_replicate(_scenario(cid), 2, 11)
        alone_total += alone.kpis["notification.households"]
        assert sorted(_events(both.log, cid)) == sorted(_all(alone.log)), cid
    assert both.kpis["notification.households"] > alone_total
    # relay's made-up ids are unique across communities in an area's log
    vols = {a for k, a in zip(both.log.kind, both.log.actor, strict=True) if k == "trip_start"}
    assert len(vols) == 3 * len(cids)


def test_relay_streams_differ_between_communities() -> None:
    area = run_replicate(_scenario(SUBDISTRICT), 0, 5)
    first: dict[str, float] = {}
    for t, kind, entity in zip(area.log.t_min, area.log.kind, area.log.entity, strict=True):
        if kind == "parcel_at_gate":
            first.setdefault(entity.split("/")[0], t)
    assert len(first) == 13 and len(set(first.values())) == 13
