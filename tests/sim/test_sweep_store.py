"""The sweep store cannot be fooled: checksums, strict JSON, disagreeing batches, code keys."""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sweep_helpers import CALLS, ToyScenario, counting_runner, toy_runner

from commgov.sim import (
    Experiment,
    RecomputedReplicate,
    StoreIssue,
    SweepStore,
    _fingerprint,
    run_sweep,
)
from commgov.sim._fingerprint import code_digest, sweep_fingerprint

RUNNER = "sweep_helpers:counting_runner"


def _experiment(replicates=4, seed=7):
    return Experiment(ToyScenario(), {"households": [200, 400]}, replicates=replicates,
                      root_seed=seed)  # fmt: skip


def _fresh_csv(replicates=4):
    return run_sweep(_experiment(replicates), runner=counting_runner).csv_text()


def _filled(tmp_path, batch_size=2):
    """A store holding the whole toy sweep; returns (store, its batch files)."""
    store = SweepStore(tmp_path / "store")
    run_sweep(_experiment(), runner=counting_runner, store=store, batch_size=batch_size)
    return store, sorted(store.path.glob("batch-*.json"))


def _resume(store, caplog):
    CALLS.clear()
    with caplog.at_level(logging.WARNING, logger="commgov.sim"):
        result = run_sweep(_experiment(), runner=counting_runner, store=store, batch_size=2)
    return result, list(CALLS)


def _edit(path, fn):
    doc = json.loads(path.read_text(encoding="utf-8"))
    fn(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return doc


def _point_of(scenario):
    return next(p.index for p in _experiment().points if p.scenario_id == scenario)


# ------------------------------------------------------------------------------ the examples


def test_a_hand_edited_kpi_is_recomputed_and_reported(tmp_path, caplog):
    store, files = _filled(tmp_path)
    doc = _edit(files[0], lambda d: d["rows"][0]["kpis"][0].__setitem__(1, 1.0))
    result, calls = _resume(store, caplog)
    point, replicates = _point_of(doc["scenario_id"]), [r["replicate"] for r in doc["rows"]]
    assert sorted(r for _, r in calls) == replicates  # only that batch ran again
    assert [(x.point, x.replicate) for x in result.recomputed] == [(point, r) for r in replicates]
    assert all(isinstance(x, RecomputedReplicate) for x in result.recomputed)
    assert all(files[0].name in x.reason and "checksum" in x.reason for x in result.recomputed)
    assert [i.file for i in result.store_issues] == [files[0].name]
    assert f"not trusting {files[0].name}: checksum" in caplog.text
    assert "running again 2 replicate(s)" in caplog.text
    assert result.provenance["recomputed"][0]["point"] == point
    # the result is the uninterrupted one, and the edited file is kept aside, not read again
    assert result.csv_text() == _fresh_csv()
    assert (store.path / "rejected" / files[0].name).is_file()
    caplog.clear()
    again, calls = _resume(store, caplog)
    assert calls == [] and again.recomputed == () and again.store_issues == ()
    assert "not trusting" not in caplog.text


def test_a_bare_nan_is_refused_as_damage(tmp_path, caplog):
    store, files = _filled(tmp_path)
    text = files[1].read_text(encoding="utf-8")
    # put a bare NaN where a KPI number was, keeping the checksum
    doc = json.loads(text)
    value = doc["rows"][0]["kpis"][0][1]
    files[1].write_text(text.replace(json.dumps(value), "NaN", 1), encoding="utf-8")
    result, calls = _resume(store, caplog)
    assert len(calls) == 2
    (issue,) = result.store_issues
    assert issue.reason.startswith("not strict JSON: ") and "NaN" in issue.reason
    # the file could not be read, but the batch that replaces it has its name: same replicates
    point = _point_of(doc["scenario_id"])
    held = [r["replicate"] for r in doc["rows"]]
    assert [(x.point, x.replicate) for x in result.recomputed] == [(point, r) for r in held]
    assert result.recomputed[0].reason == f"{files[1].name}: {issue.reason}"
    assert result.csv_text() == _fresh_csv()
    for constant in ("Infinity", "-Infinity"):
        files[1].write_text(text.replace(json.dumps(value), constant, 1), encoding="utf-8")
        lookup = store.load({doc["scenario_id"]}, 7, RUNNER, fingerprint=_fp())
        assert "is not a JSON value" in lookup.issues[0].reason
    # a number too large for a float is read as inf: caught as well
    files[1].write_text(text.replace(json.dumps(value), "1e400", 1), encoding="utf-8")
    lookup = store.load({doc["scenario_id"]}, 7, RUNNER, fingerprint=_fp())
    assert "checksum" in lookup.issues[0].reason


def test_two_batches_disagreeing_on_a_replicate_are_both_recomputed(tmp_path, caplog):
    store, files = _filled(tmp_path)
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    sid, replicate = doc["scenario_id"], doc["rows"][0]["replicate"]
    kpis = dict(doc["rows"][0]["kpis"])
    # a second, well-formed batch (valid checksum) with another t50 for the same replicate
    forged = store.put(sid, 7, RUNNER, [(replicate, {**kpis, "t50": kpis["t50"] + 1})],
                       fingerprint=_fp())  # fmt: skip
    assert forged is not None and forged.name != files[0].name
    result, calls = _resume(store, caplog)
    held = [r["replicate"] for r in doc["rows"]]
    assert sorted(r for _, r in calls) == held  # all replicates of both files ran again
    issues = {i.file: i.reason for i in result.store_issues}
    assert set(issues) == {files[0].name, forged.name}
    assert issues[forged.name] == f"disagrees with {files[0].name} on replicate {replicate}"
    assert result.csv_text() == _fresh_csv()
    caplog.clear()
    again, calls = _resume(store, caplog)  # settled: nothing runs, nothing is reported
    assert calls == [] and again.store_issues == ()


def test_batches_that_agree_are_trusted(tmp_path, caplog):
    store, files = _filled(tmp_path)
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    row = doc["rows"][0]
    store.put(doc["scenario_id"], 7, RUNNER, [(row["replicate"], dict(row["kpis"]))],
              fingerprint=_fp())  # fmt: skip
    result, calls = _resume(store, caplog)
    assert calls == [] and result.store_issues == ()


# ------------------------------------------------------------------------------ other damage


def _fp(plugins=()):
    return sweep_fingerprint(RUNNER, plugins)[0]


def test_a_byte_order_mark_is_no_damage(tmp_path, caplog):
    """The one reader drops a UTF-8 byte-order mark everywhere; the checksum still holds."""
    store, files = _filled(tmp_path)
    files[2].write_text("\ufeff" + files[2].read_text(encoding="utf-8"), encoding="utf-8")
    result, calls = _resume(store, caplog)
    assert calls == [] and result.store_issues == ()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda t: t[: len(t) // 2], "not strict JSON"),  # cut short
        (lambda t: t.replace('"format"', '"format":1,"format"', 1), "more than once"),
        (lambda t: "[" * 100_000 + "]" * 100_000, "not strict JSON"),  # too deep
        (lambda t: t.replace("}", "} ", 1).encode("utf-16").decode("latin-1"), "not strict"),
        (lambda t: "[]", "not a batch object"),
    ],
)
def test_damaged_files_are_not_trusted(tmp_path, caplog, damage, reason):
    store, files = _filled(tmp_path)
    files[2].write_text(damage(files[2].read_text(encoding="utf-8")), encoding="utf-8")
    result, calls = _resume(store, caplog)
    assert len(calls) == 2
    assert [i.file for i in result.store_issues] == [files[2].name]
    assert reason in result.store_issues[0].reason
    assert result.csv_text() == _fresh_csv()


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d["rows"][0].__setitem__("replicate", 3), "checksum"),
        (lambda d: d["rows"].append(d["rows"][0]), "checksum"),
        (lambda d: d.pop("checksum"), "checksum"),
        (lambda d: d.__setitem__("checksum", 5), "checksum"),
        (lambda d: d["rows"][0]["kpis"][0].__setitem__(1, True), "checksum"),
    ],
)
def test_edits_of_any_field_are_caught(tmp_path, caplog, edit, reason):
    store, files = _filled(tmp_path)
    _edit(files[0], edit)
    result, calls = _resume(store, caplog)
    assert len(calls) == 2
    assert reason in result.store_issues[0].reason
    assert result.csv_text() == _fresh_csv()


def _resign(doc):
    from commgov.sim._store import _checksum

    doc["checksum"] = _checksum(doc)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d["rows"].append(d["rows"][0]), "is repeated"),
        (lambda d: d["rows"].reverse(), "sorted"),
        (lambda d: d["rows"][0]["kpis"][0].__setitem__(1, "1.5"), "not a number"),
        (lambda d: d["rows"][0]["kpis"][0].__setitem__(1, None), "not a number"),
        (lambda d: d["rows"][0]["kpis"].append(d["rows"][0]["kpis"][0]), "repeated"),
        (lambda d: d["rows"][0].__setitem__("extra", 1), "exactly replicate and kpis"),
        (lambda d: d.__setitem__("root_seed", -1), "root_seed"),
        (lambda d: d.__setitem__("rows", []), "non-empty"),
        (lambda d: d["rows"][0].__setitem__("kpis", {"t50": 1.0}), "pairs"),
    ],
)
def test_malformed_batches_with_a_valid_checksum_are_not_trusted(tmp_path, edit, reason):
    store, files = _filled(tmp_path)
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    edit(doc)
    _resign(doc)
    files[0].write_text(json.dumps(doc), encoding="utf-8")
    lookup = store.load({doc["scenario_id"]}, 7, RUNNER, fingerprint=_fp())
    assert [i.file for i in lookup.issues] == [files[0].name]
    assert reason in lookup.issues[0].reason


def test_a_renamed_or_moved_batch_is_not_trusted(tmp_path, caplog):
    store, files = _filled(tmp_path)
    files[0].rename(store.path / "batch-0000.json")
    result, calls = _resume(store, caplog)
    assert len(calls) == 2
    assert "name does not match" in result.store_issues[0].reason


def test_what_is_not_a_regular_file_or_too_large(tmp_path, caplog, monkeypatch):
    store, files = _filled(tmp_path)
    files[0].unlink()
    files[0].mkdir()
    lookup = store.load(set(), 7, RUNNER)
    assert lookup.issues == (StoreIssue(files[0].name, "not a regular file"),)
    monkeypatch.setattr("commgov.sim._store.MAX_BATCH_BYTES", 100)
    lookup = store.load(set(), 7, RUNNER)
    assert {i.reason for i in lookup.issues} == {"not a regular file", "larger than 100 bytes"}
    result, calls = _resume(store, caplog)
    assert len(calls) == 8 and len(result.store_issues) == 4
    assert sorted(p.name for p in (store.path / "rejected").iterdir()) == [f.name for f in files]


def test_non_finite_kpis_round_trip_as_strings(tmp_path):
    store = SweepStore(tmp_path)
    kpis = {"t100": math.nan, "up": math.inf, "down": -math.inf, "x": 1.5}
    path = store.put("abc", 1, "m:f", [(0, kpis)])
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    back = store.get({"abc"}, 1, "m:f")[("abc", 0)]
    assert list(back) == list(kpis)  # KPI order survives (the table's column order)
    assert math.isnan(back["t100"]) and back["up"] == math.inf and back["down"] == -math.inf


def _old_format(doc):  # as commgov wrote batches before checksums and code keys
    del doc["checksum"], doc["fingerprint"]
    doc["format_version"], doc["commgov"] = 1, "0.1.0"


def _future_format(doc):  # an intact batch of a later format version
    doc["format_version"] = 3
    _resign(doc)


@pytest.mark.parametrize("edit", [_old_format, _future_format])
def test_intact_files_of_another_format_version_are_ignored_quietly(tmp_path, caplog, edit):
    store, files = _filled(tmp_path)
    _edit(files[0], edit)
    result, calls = _resume(store, caplog)
    assert len(calls) == 2 and result.store_issues == () and "not trusting" not in caplog.text


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d.__setitem__("format_version", 1), "checksum"),
        (lambda d: d.__setitem__("format", "other"), "not a commgov sweep batch"),
        (lambda d: d.pop("format"), "not a commgov sweep batch"),
    ],
)
def test_an_edited_format_is_reported(tmp_path, caplog, edit, reason):
    store, files = _filled(tmp_path)
    _edit(files[0], edit)
    result, calls = _resume(store, caplog)
    assert len(calls) == 2 and reason in result.store_issues[0].reason


def test_a_damaged_file_of_another_sweep_is_reported_but_does_not_recompute_ours(tmp_path):
    store, _ = _filled(tmp_path)
    other = store.put("another-scenario", 7, RUNNER, [(0, {"t50": 1.0})], fingerprint=_fp())
    _edit(other, lambda d: d["rows"][0]["kpis"][0].__setitem__(1, 2.0))
    CALLS.clear()
    result = run_sweep(_experiment(), runner=counting_runner, store=store)
    assert CALLS == [] and result.recomputed == ()
    assert [(i.file, i.scenario_id) for i in result.store_issues] == [
        (other.name, "another-scenario")
    ]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_byte_is_caught_or_harmless(tmp_path_factory, data):
    """Change one byte anywhere: the store reports the file, or returns the very same KPIs."""
    folder = tmp_path_factory.mktemp("store")
    store = SweepStore(folder)
    kpis = {"t50": 12.25, "t95": 30.5, "n": 3.0, "gone": math.nan}
    path = store.put("abc", 7, "m:f", [(0, kpis), (1, {**kpis, "t50": 13.5})])
    raw = bytearray(path.read_bytes())
    at = data.draw(st.integers(0, len(raw) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]))
    raw[at] = new
    path.write_bytes(bytes(raw))
    lookup = store.load({"abc"}, 7, "m:f")
    if lookup.issues:
        assert lookup.found == {}
    elif lookup.found:  # e.g. a space turned into a tab: same data, same checksum
        assert json.dumps(lookup.found[("abc", 0)]) == json.dumps(kpis)
        assert lookup.found[("abc", 1)]["t50"] == 13.5
    else:
        pytest.fail("a changed batch was neither reported nor read")


# ------------------------------------------------------------------------------ code keys


def test_changing_the_runner_source_recomputes(tmp_path, monkeypatch):
    module = tmp_path / "mod" / "fp_runner_mod.py"
    module.parent.mkdir()
    source = textwrap.dedent(
        """
        CALLS = []

        def runner(scenario, replicate, root_seed):
            CALLS.append(replicate)
            return {"x": float(replicate) * SCALE}

        SCALE = 1.0
        """
    )
    module.write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(module.parent))
    mod = importlib.import_module("fp_runner_mod")
    store = SweepStore(tmp_path / "store")
    exp = Experiment(ToyScenario(), replicates=3)
    run_sweep(exp, runner=mod.runner, store=store)
    mod.CALLS.clear()
    run_sweep(exp, runner=mod.runner, store=store)
    assert mod.CALLS == []  # same code: reused
    module.write_text(source.replace("SCALE = 1.0", "SCALE = 2.0"), encoding="utf-8")
    os.utime(module, ns=(1, 1))  # another size or time: hashed again
    importlib.reload(mod)
    result = run_sweep(exp, runner=mod.runner, store=store)
    assert mod.CALLS == [0, 1, 2]  # changed runner: recomputed
    assert [row.kpis["x"] for row in result.rows] == [0.0, 2.0, 4.0]
    assert result.store_issues == ()  # old batches are not damage, just other code
    sys.modules.pop("fp_runner_mod", None)


_VERSIONS = dict(_fingerprint.library_versions())


@pytest.mark.parametrize(
    "patch",
    [
        lambda m: m.setattr(_fingerprint, "package_digest", lambda: "0" * 64),
        lambda m: m.setattr(
            _fingerprint, "library_versions", lambda: {**_VERSIONS, "simpy": "9.9"}
        ),
        lambda m: m.setattr(
            _fingerprint, "library_versions", lambda: {**_VERSIONS, "python": "CPython 3.99.0"}
        ),
        lambda m: m.setattr(
            _fingerprint, "library_versions", lambda: {**_VERSIONS, "ortools": "0.0"}
        ),
    ],
)  # fmt: skip
def test_changing_commgov_or_a_library_recomputes(tmp_path, monkeypatch, patch):
    store = SweepStore(tmp_path)
    run_sweep(_experiment(replicates=2), runner=counting_runner, store=store)
    CALLS.clear()
    run_sweep(_experiment(replicates=2), runner=counting_runner, store=store)
    assert CALLS == []
    patch(monkeypatch)
    result = run_sweep(_experiment(replicates=2), runner=counting_runner, store=store)
    assert len(CALLS) == 4 and result.store_issues == ()


def test_plugins_are_part_of_the_key(tmp_path):
    store = SweepStore(tmp_path)
    run_sweep(_experiment(replicates=1), runner=counting_runner, store=store)
    CALLS.clear()
    run_sweep(_experiment(replicates=1), runner=counting_runner, store=store,
              plugins=["sweep_orphan_plugin"])  # fmt: skip
    assert len(CALLS) == 2
    assert _fp(["sweep_orphan_plugin"]) != _fp()


def test_code_digest_sees_every_byte_but_not_caches_cli_or_testing(tmp_path):
    import shutil

    import commgov

    pkg = tmp_path / "commgov"
    shutil.copytree(os.path.dirname(commgov.__file__), pkg,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    before = code_digest(pkg)
    assert before == _fingerprint.package_digest()
    (pkg / "cli" / "extra.py").write_text("x = 1\n", encoding="utf-8")
    (pkg / "sim" / "__pycache__").mkdir(exist_ok=True)
    (pkg / "sim" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert code_digest(pkg) == before
    runner = pkg / "sim" / "_engine.py"
    runner.write_bytes(runner.read_bytes() + b"\n")
    assert code_digest(pkg) != before
    data = next((pkg / "datasets" / "data").glob("*.csv"))
    runner.write_bytes(runner.read_bytes()[:-1])
    assert code_digest(pkg) == before
    data.write_bytes(data.read_bytes() + b"\n")
    assert code_digest(pkg) != before


def test_provenance_names_the_fingerprint():
    result = run_sweep(_experiment(replicates=1), runner=toy_runner)
    digest, parts = sweep_fingerprint("sweep_helpers:toy_runner")
    assert result.provenance["fingerprint"] == digest
    assert result.provenance["code"]["commgov"] == parts["commgov"]
    assert set(result.provenance["versions"]) >= {"numpy", "simpy", "ortools", "networkx"}
    assert result.recomputed == () and result.store_issues == ()


# ------------------------------------------------------------------------------ the command


CLI_SCENARIO = """
name = "quick"
start = 2022-04-11T19:00:00+08:00
horizon_min = 600

[community]
dataset = "gusu"
community = "320508017016"

[submodels."sweep_orphan_plugin:orphan_slow_tick"]
sleep_s = 0.0
"""


def test_simulate_recomputes_an_edited_store_and_says_so(tmp_path, capsys, caplog):
    from commgov.cli import main

    scenario = tmp_path / "quick.toml"
    scenario.write_text(CLI_SCENARIO, encoding="utf-8")
    out = tmp_path / "out"
    args = ["simulate", str(scenario), "--replicates", "3", "--batch-size", "1",
            "--plugin", "sweep_orphan_plugin", "--plots", "none", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    first = (out / "kpis.csv").read_bytes()
    batch = sorted((out / "store").glob("batch-*.json"))[0]
    _edit(batch, lambda d: d["rows"][0]["kpis"][0].__setitem__(1, 99.0))
    capsys.readouterr()
    with caplog.at_level(logging.WARNING, logger="commgov.sim"):
        assert main(args) == 0
    assert f"not trusting {batch.name}: checksum" in caplog.text  # stderr outside pytest
    assert (out / "kpis.csv").read_bytes() == first
    described = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    assert len(described["provenance"]["recomputed"]) == 1
