"""Sensitivity analysis through SALib: known indices of a toy model, reproducibility on the
notification model, the command line, and refused input."""

from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel

pytest.importorskip("SALib")

from commgov.cli import main
from commgov.errors import InputError, InvalidParameterError
from commgov.sim import (
    Scenario,
    SensitivityParam,
    plot_sensitivity,
    run_sensitivity,
)

LOCKDOWN = (
    Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "huchiyuan_lockdown.toml"
)
PARAMS = [
    "submodels.notification.volunteers=5:20",
    "submodels.notification.group_share=0.6:0.95",
    "submodels.notification.read_delay.median_min=3:12",
]


class Linear(BaseModel):
    a: float = 0.5
    b: float = 0.5
    c: float = 0.5
    k: int = 3


def linear_runner(scenario, replicate, root_seed):
    """y = a + 2b (c has no effect); y2 = k."""
    return {"x.y_min": scenario.a + 2.0 * scenario.b + 0.0 * scenario.c, "x.k": float(scenario.k)}


def test_sobol_indices_of_a_linear_model():
    """Var(a + 2b) over the unit square: S1 = ST = 0.2 (a), 0.8 (b), 0 (c)."""
    res = run_sensitivity(
        Linear(),
        ["a=0:1", "b=0:1", "c=0:1"],
        n=256,
        seed=3,
        runner=linear_runner,
        kpis=["x.y_min"],
    )
    s1 = dict(zip(res.indices["param"], res.indices["S1"], strict=True))
    st = dict(zip(res.indices["param"], res.indices["ST"], strict=True))
    assert s1 == pytest.approx({"a": 0.2, "b": 0.8, "c": 0.0}, abs=0.08)
    assert st == pytest.approx({"a": 0.2, "b": 0.8, "c": 0.0}, abs=0.08)
    assert (res.indices["S1_low"] <= res.indices["S1"]).all()
    assert (res.indices["ST"] <= res.indices["ST_high"]).all()
    assert len(res.design) == 256 * 5


def test_morris_effects_of_a_linear_model_and_whole_numbers_rounded():
    res = run_sensitivity(
        Linear(),
        ["a=0:1", "b=0:1", "k=1:9"],
        method="morris",
        n=10,
        seed=1,
        runner=linear_runner,
    )
    y = res.indices[res.indices["kpi"] == "x.y_min"]
    assert list(y["mu_star"]) == pytest.approx([1.0, 2.0, 0.0])
    assert list(y["sigma"]) == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    assert all(isinstance(v, int) for v in res.design["k"])  # k is a whole number
    assert set(res.design["k"]) <= set(range(1, 10))


def test_a_kpi_that_does_not_vary_has_nan_indices():
    res = run_sensitivity(Linear(), ["a=0:1", "b=0:1"], n=8, runner=linear_runner)
    k = res.indices[res.indices["kpi"] == "x.k"]
    assert k["S1"].isna().all() and k["ST"].isna().all()


def test_sobol_on_the_notification_model_is_byte_identical():
    """Three parameters of the lockdown notice, N = 8: the same indices, byte for byte."""
    base = Scenario.from_toml(LOCKDOWN)
    kpis = ["notification.t50_min", "notification.t95_min"]
    one = run_sensitivity(base, PARAMS, n=8, seed=4, kpis=kpis)
    two = run_sensitivity(base, PARAMS, n=8, seed=4, kpis=kpis)
    assert one.indices_csv() == two.indices_csv()
    assert one.sweep.csv_text() == two.sweep.csv_text()
    assert one.indices_csv().splitlines()[0] == "kpi,param,S1,S1_low,S1_high,ST,ST_low,ST_high"
    assert np.isfinite(one.indices[["S1", "ST"]].to_numpy()).all()
    # common random numbers: every design point ran replicate 0 with the same root seed
    assert {r.replicate for r in one.sweep.rows} == {0}
    other = run_sensitivity(base, PARAMS, n=8, seed=5, kpis=kpis)
    assert other.indices_csv() != one.indices_csv()


def test_figure_labels_name_kpis_units_and_parameters():
    pytest.importorskip("matplotlib")
    res = run_sensitivity(
        Linear(),
        ["a=0:1", "b=0:2"],
        method="morris",
        n=4,
        runner=linear_runner,
        kpis=["x.y_min"],
    )
    fig = plot_sensitivity(res)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "elementary effect (min)"
    assert ax.get_title() == "x.y_min (min)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a\n[0, 1]", "b\n[0, 2]"]
    sobol = run_sensitivity(
        Linear(), ["a=0:1", "b=0:2"], n=8, runner=linear_runner, kpis=["x.y_min"]
    )
    ax = plot_sensitivity(sobol).axes[0]
    assert ax.get_ylabel() == "Sobol index (share of variance)"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "first order S1 (95 % bootstrap interval)",
        "total order ST (95 % bootstrap interval)",
    }


def test_bad_input_is_refused():
    with pytest.raises(InvalidParameterError, match="power of two"):
        run_sensitivity(Linear(), ["a=0:1"], n=10, runner=linear_runner)
    with pytest.raises(InvalidParameterError, match="once"):
        run_sensitivity(Linear(), ["a=0:1", "a=0:2"], runner=linear_runner)
    with pytest.raises(InputError, match="no such field"):
        run_sensitivity(Linear(), ["z=0:1"], runner=linear_runner)
    with pytest.raises(InvalidParameterError, match="method"):
        run_sensitivity(Linear(), ["a=0:1"], method="fast", runner=linear_runner)
    for text in ("a=1:0", "a=0", "a=x:1", "=0:1", "a=0:inf"):
        with pytest.raises(InvalidParameterError):
            SensitivityParam.parse(text)


def test_cli_sensitivity_writes_indices_design_and_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    args = [
        "sensitivity",
        str(LOCKDOWN),
        *[a for p in PARAMS for a in ("--param", p)],
        "--method",
        "sobol",
        "--n",
        "4",
        "--seed",
        "2",
        "--kpi",
        "notification.t*_min",
    ]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    stdout = capsys.readouterr().out
    assert "Sobol analysis of huchiyuan_lockdown: 3 parameters, N = 4, 20 design points" in stdout
    names = sorted(p.name for p in (tmp_path / "a").iterdir() if not p.name.startswith("."))
    assert names == [
        "design.csv",
        "indices.csv",
        "kpis.csv",
        "sensitivity.json",
        "sensitivity.png",
        "store",
    ]
    indices = (tmp_path / "a" / "indices.csv").read_text(encoding="utf-8").splitlines()
    assert len(indices) == 1 + 3 * 3  # t50, t95, t100 × three parameters
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    for name in ("indices.csv", "design.csv", "kpis.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert main([*args[:-2], "--n", "6", "--out", str(tmp_path / "c")]) == 2  # not 2^k
    assert "power of two" in capsys.readouterr().err
