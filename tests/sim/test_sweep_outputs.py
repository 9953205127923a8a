"""Outputs of a sweep on request: event logs and time series as Parquet, spatial KPIs as GeoJSON.

Kinds of fault covered: a sample that is not reproducible or not paired across points; a time
series that loses or double-counts events (at interval edges, in the last partial interval);
queue balances that drift; files whose bytes depend on the run (executor, second call); stale
outputs left by an earlier call; a runner that is not a pure function passing silently;
GeoJSON in lat/lon order or without units.
"""

import hashlib
import json
import math

import pytest
from hypothesis import given, settings, strategies as st

from commgov.errors import InvalidParameterError
from commgov.sim import (
    EventLog,
    Experiment,
    Scenario,
    SweepResult,
    kpi_info,
    run_replicate,
    run_sweep,
    select_replicates,
    spatial_kpis,
    time_series,
    write_sweep_outputs,
)

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

LOCKDOWN = "examples/scenarios/huchiyuan_lockdown.toml"


@pytest.fixture(scope="module")
def base():
    return Scenario.from_toml(LOCKDOWN).with_updates({"horizon_min": 240})


@pytest.fixture(scope="module")
def sweep(base):
    """2 points × 3 replicates of the lockdown notice (about 2 s)."""
    experiment = Experiment(
        base, {"submodels.notification.volunteers": [20, 10]}, replicates=3, root_seed=7
    )
    return run_sweep(experiment)


def _digests(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------------------- the sample


def test_select_all_and_sample_are_sorted_reproducible_subsets():
    assert select_replicates(5, "all", 0) == (0, 1, 2, 3, 4)
    sample = select_replicates(50, 4, 11)
    assert sample == select_replicates(50, 4, 11)  # seeded
    assert len(sample) == 4 and list(sample) == sorted(set(sample))
    assert all(0 <= r < 50 for r in sample)
    assert select_replicates(3, 10, 0) == (0, 1, 2)  # more than there are: all


def test_samples_differ_between_root_seeds():
    assert len({select_replicates(1000, 3, seed) for seed in range(5)}) > 1


@pytest.mark.parametrize("choice", [0, -1, True, 2.5, "some"])
def test_a_bad_choice_is_refused(choice):
    with pytest.raises(InvalidParameterError):
        select_replicates(10, choice, 0)


# ---------------------------------------------------------------------------- time series


def _series(ts):
    out = {}
    for start, metric, value in zip(ts["start_min"], ts["metric"], ts["value"], strict=True):
        out.setdefault(metric, []).append((start, value))
    return out


def test_counts_per_kind_and_interval_with_a_partial_last_interval():
    log = EventLog()
    for t, kind in [(0.0, "a"), (9.999, "a"), (10.0, "a"), (10.0, "b"), (24.9, "b")]:
        log.record(t, kind, "x")
    ts = time_series(log, 10, 25)
    assert ts["start_min"][::2] == [0.0, 10.0, 20.0]
    assert ts["end_min"][::2] == [10.0, 20.0, 25.0]  # the last interval ends at the horizon
    series = _series(ts)
    assert series["count.a"] == [(0.0, 2.0), (10.0, 1.0), (20.0, 0.0)]
    assert series["count.b"] == [(0.0, 0.0), (10.0, 1.0), (20.0, 1.0)]
    assert "queue.waiting" not in series  # no desk events, no queue series


def test_queue_length_and_in_system_at_each_intervals_end():
    log = EventLog()
    events = [
        (1.0, "queue_join", "r1"),
        (1.0, "service_start", "r1"),
        (2.0, "queue_join", "r2"),
        (3.0, "queue_join", "r3"),
        (6.0, "service_end", "r1"),
        (6.0, "service_start", "r2"),
        (7.0, "queue_renege", "r3"),
        (12.0, "service_end", "r2"),
    ]
    for t, kind, who in events:
        log.record(t, kind, who, actor="P1")
    series = _series(time_series(log, 5, 15))
    assert series["queue.waiting"] == [(0.0, 2.0), (5.0, 0.0), (10.0, 0.0)]
    assert series["queue.in_system"] == [(0.0, 3.0), (5.0, 1.0), (10.0, 0.0)]


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.floats(0, 99.999, allow_nan=False), max_size=40),
    interval=st.floats(0.5, 120, allow_nan=False),
)
def test_every_event_is_counted_once(times, interval):
    log = EventLog()
    for i, t in enumerate(times):
        log.record(t, "k" if i % 2 else "j", "x")
    ts = time_series(log, interval, 100)
    assert sum(ts["value"]) == len(times)
    assert ts["end_min"][-1:] == ([100.0] if times else [])  # an empty log has no series


@pytest.mark.parametrize("interval", [0, -5, math.inf, math.nan, True, "5"])
def test_a_bad_interval_is_refused(interval):
    with pytest.raises(InvalidParameterError):
        time_series(EventLog(), interval, 100)


def test_too_many_intervals_are_refused():
    with pytest.raises(InvalidParameterError, match="100,000"):
        time_series(EventLog(), 0.001, 1440)


# ---------------------------------------------------------------------------- Parquet files


def test_event_logs_and_series_of_a_sample_hold_the_replicates_events(sweep, base, tmp_path):
    paths = write_sweep_outputs(sweep, tmp_path, event_logs=True, time_series_min=30, replicates=2)
    chosen = select_replicates(3, 2, 7)
    names = [p.relative_to(tmp_path).as_posix() for p in paths]
    assert names == sorted(
        f"{folder}/point_{p}/replicate_{r}.parquet"
        for folder in ("events", "timeseries")
        for p in (0, 1)
        for r in chosen
    )
    r = chosen[0]
    events = pq.read_table(tmp_path / f"events/point_1/replicate_{r}.parquet")
    assert events.column_names == [
        "point",
        "replicate",
        "t_min",
        "kind",
        "entity",
        "actor",
        "community",
        "value",
    ]
    assert str(events.schema.field("t_min").type) == "double"
    again = run_replicate(sweep.experiment.points[1].scenario, r, 7)
    assert events.column("kind").to_pylist() == again.log.kind
    assert events.column("t_min").to_pylist() == again.log.t_min
    assert set(events.column("point").to_pylist()) == {1}
    series = pq.read_table(tmp_path / f"timeseries/point_1/replicate_{r}.parquet")
    assert series.column_names == ["point", "replicate", "start_min", "end_min", "metric", "value"]
    metrics = series.column("metric").to_pylist()
    values = series.column("value").to_pylist()
    counted = sum(v for m, v in zip(metrics, values, strict=True) if m.startswith("count."))
    assert counted == len(again.log)


def test_the_same_sweep_gives_byte_identical_files(sweep, tmp_path, monkeypatch):
    kwargs = {"event_logs": True, "time_series_min": 60, "geojson": True, "replicates": 2}
    write_sweep_outputs(sweep, tmp_path / "a", **kwargs)
    monkeypatch.setattr("commgov.sim._replicate_files._FLUSH_BYTES", 1)  # a write per batch
    write_sweep_outputs(sweep, tmp_path / "b", batch_size=1, **kwargs)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


@pytest.mark.slow
def test_a_process_pool_writes_the_same_bytes(sweep, tmp_path):
    from commgov.sim import worker_pool

    kwargs = {"event_logs": True, "time_series_min": 60, "geojson": True, "replicates": 2}
    write_sweep_outputs(sweep, tmp_path / "here", **kwargs)
    with worker_pool(2) as pool:
        write_sweep_outputs(sweep, tmp_path / "pool", executor=pool, batch_size=1, **kwargs)
    assert _digests(tmp_path / "here") == _digests(tmp_path / "pool")


@pytest.mark.slow
def test_a_dask_cluster_writes_the_same_bytes(sweep, tmp_path):
    distributed = pytest.importorskip("distributed")
    kwargs = {"event_logs": True, "time_series_min": 60, "geojson": True, "replicates": 2}
    write_sweep_outputs(sweep, tmp_path / "here", **kwargs)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    client = distributed.Client(cluster)
    try:
        write_sweep_outputs(
            sweep, tmp_path / "dask", executor=client.get_executor(), batch_size=1, **kwargs
        )
    finally:
        client.close()
        cluster.close()
    assert _digests(tmp_path / "here") == _digests(tmp_path / "dask")


def test_an_earlier_calls_outputs_are_refused_or_replaced(sweep, tmp_path):
    write_sweep_outputs(sweep, tmp_path, event_logs=True, geojson=True)  # all 3 replicates
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_sweep_outputs(sweep, tmp_path, event_logs=True, replicates=1)
    assert len(list((tmp_path / "events").rglob("*.parquet"))) == 6  # nothing written
    (tmp_path / "kpis.csv").write_text("mine\n", encoding="utf-8")  # not the function's
    paths = write_sweep_outputs(sweep, tmp_path, event_logs=True, replicates=1, overwrite=True)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted([*paths, tmp_path / "kpis.csv"])  # no stale replicate, no spatial/
    assert not (tmp_path / "spatial").exists()


def test_a_runner_that_is_not_pure_is_caught(sweep, tmp_path):
    row = sweep.rows[0]
    kpis = dict(row.kpis)
    kpis["notification.t95_min"] += 1.0
    edited = SweepResult(
        sweep.experiment,
        (
            type(row)(row.point, row.scenario_id, row.values, row.replicate, "ok", kpis),
            *sweep.rows[1:],
        ),
        sweep.provenance,
    )
    with pytest.raises(RuntimeError, match="other KPIs when run again"):
        write_sweep_outputs(edited, tmp_path, event_logs=True, replicates="all")


def test_nothing_asked_for_is_an_error(sweep, tmp_path):
    with pytest.raises(ValueError, match="nothing to write"):
        write_sweep_outputs(sweep, tmp_path)


# ---------------------------------------------------------------------------- GeoJSON


def _check_rfc7946(fc):
    """The structure RFC 7946 asks for, as QGIS and web maps read it."""
    assert fc["type"] == "FeatureCollection"
    for feature in fc["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        lon, lat = geometry["coordinates"]
        assert 73 <= lon <= 135 and 18 <= lat <= 54  # China, longitude first (WGS84)
    json.dumps(fc, allow_nan=False)  # no NaN: JSON has none


def test_spatial_kpis_per_building_and_community(base):
    results = [run_replicate(base, r, 0) for r in range(2)]
    fc = spatial_kpis(base, results)
    _check_rfc7946(fc)
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert kinds[0] == "community" and set(kinds[1:]) == {"building"}
    community = fc["features"][0]["properties"]
    buildings = [f["properties"] for f in fc["features"][1:]]
    assert community["id"] == "320508017016" and community["households"] == 1765
    assert sum(b["households"] for b in buildings) == 1765
    assert sum(b["notification.notified"] for b in buildings) == community["notification.notified"]
    mean_t95 = sum(r.kpis["notification.t95_min"] for r in results) / 2
    assert community["notification.t95_min"] == pytest.approx(mean_t95, abs=1e-6)
    for b in buildings:
        assert 0 <= b["notification.notified_share"] <= 1
        assert b["notification.t50_min"] <= b["notification.t95_min"]
    assert fc["units"] == {name: kpi_info(name).unit for name in fc["units"]}
    assert fc["units"]["notification.t95_min"] == "min"
    assert fc["units"]["notification.notified_share"] == "share"
    assert json.dumps(fc, sort_keys=True) == json.dumps(spatial_kpis(base, results), sort_keys=True)


def test_door_to_door_swabs_per_building():
    day = Scenario.from_toml("examples/scenarios/huchiyuan_day.toml")
    result = run_replicate(day, 0, 0)
    fc = spatial_kpis(day, result)
    _check_rfc7946(fc)
    community = fc["features"][0]["properties"]
    assert community["door_to_door.swabbed"] == result.kpis["door_to_door.swabbed"]
    assert fc["units"]["door_to_door.last_swab_min"] == "min"


def test_the_geojson_file_of_a_sweep(sweep, tmp_path):
    write_sweep_outputs(sweep, tmp_path, geojson=True, replicates=2)
    fc = json.loads((tmp_path / "spatial/point_1.geojson").read_text(encoding="utf-8"))
    _check_rfc7946(fc)
    assert fc["point"] == 1 and fc["values"] == {"submodels.notification.volunteers": 10}
    assert fc["replicate_numbers"] == list(select_replicates(3, 2, 7))
    assert fc["replicates"] == 2


def test_a_result_of_another_scenario_is_refused(base):
    other = base.with_updates({"submodels.notification.volunteers": 5})
    with pytest.raises(ValueError, match="not a replicate"):
        spatial_kpis(base, run_replicate(other, 0, 0))


def test_each_community_of_a_subdistrict_matches_its_own_kpis():
    """In an area run, a community's feature carries its own run's figures."""
    from commgov.sim import community_kpis

    area = Scenario.from_toml(
        'name = "area"\nstart = 2022-04-11T19:00:00+08:00\nhorizon_min = 240\n'
        'community = { community = "320508023" }\n[submodels.notification]\n'
    )
    result = run_replicate(area, 0, 0)
    fc = spatial_kpis(area, result)
    _check_rfc7946(fc)
    own = community_kpis(area, result)
    communities = [f["properties"] for f in fc["features"] if f["id"] in own]
    assert len(communities) == len(own) == 13
    for props in communities:
        mine = own[props["id"]]
        share = mine["notification.notified_share"]
        assert props["notification.notified_share"] == pytest.approx(share, abs=1e-6)
        t95 = mine["notification.t95_min"]
        assert props["notification.t95_min"] == (None if math.isnan(t95) else pytest.approx(t95))
