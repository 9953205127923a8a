"""Calibration with common random numbers (commgov.sim.calibrate).

The documented example (docs/howto/calibration.md): the notification model of
``examples/scenarios/huchiyuan_lockdown.toml`` with ``phone_minutes`` fitted so that 20
pioneers notify 95 % of the 1,765 households in 30 minutes; it must converge within the
documented tolerance (fitted mean t95 within 0.5 min of 30, the fit inside its interval).
Toy runners check the search itself (known optimum, several parameters, determinism) and the
refusals.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import BaseModel

from commgov.sim import CalibrationResult, Scenario, calibrate

ROOT = Path(__file__).resolve().parents[2]


class Toy(BaseModel):
    x: float = 1.0
    z: float = 1.0


def linear(scenario: Toy, replicate: int, root_seed: int) -> dict[str, float]:
    noise = 0.2 * math.sin(replicate + root_seed)  # common to every x, z (CRN)
    return {"a": 2.0 * scenario.x + noise, "b": scenario.x - 3.0 * scenario.z + noise}


def test_one_parameter_recovers_the_known_value():
    fit = calibrate(Toy(), {"x": (0.0, 5.0)}, {"a": 3.0}, replicates=8, runner=linear)
    mean_noise = sum(0.2 * math.sin(r) for r in range(8)) / 8
    assert fit.values["x"] == pytest.approx((3.0 - mean_noise) / 2, abs=5e-3)
    assert fit.converged and fit.objective < 1e-5
    lo, hi = fit.interval["x"]
    assert lo <= fit.values["x"] <= hi
    assert fit.std_error["x"] > 0


def test_two_parameters_by_nelder_mead():
    fit = calibrate(
        Toy(),
        {"x": (0.0, 4.0), "z": (-2.0, 2.0)},
        {"a": 3.0, "b": -1.5},
        replicates=6,
        runner=linear,
        xatol=1e-4,
        max_evaluations=200,
    )
    m = sum(0.2 * math.sin(r) for r in range(6)) / 6
    x = (3.0 - m) / 2
    z = (x + m + 1.5) / 3
    assert fit.values["x"] == pytest.approx(x, abs=2e-3)
    assert fit.values["z"] == pytest.approx(z, abs=2e-3)
    assert fit.fitted_kpis["a"] == pytest.approx(3.0, abs=1e-2)


def test_same_call_same_result_and_target_sd_widens_the_interval():
    kwargs = {"replicates": 8, "runner": linear, "root_seed": 3}
    a = calibrate(Toy(), {"x": (0.0, 5.0)}, {"a": 3.0}, **kwargs)
    b = calibrate(Toy(), {"x": (0.0, 5.0)}, {"a": 3.0}, **kwargs)
    assert a == b
    wide = calibrate(Toy(), {"x": (0.0, 5.0)}, {"a": 3.0}, target_sd={"a": 0.5}, **kwargs)
    assert wide.std_error["x"] > 3 * a.std_error["x"]
    none = calibrate(Toy(), {"x": (0.0, 5.0)}, {"a": 3.0}, bootstrap=0, **kwargs)
    assert math.isnan(none.std_error["x"]) and none.values == a.values


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bounds": {}}, "parameters"),
        ({"bounds": {"x": (1.0, 1.0)}}, "low < high"),
        ({"bounds": {"x": (0.0, math.inf)}}, "finite"),
        ({"targets": {}}, "target"),
        ({"targets": {"a": math.nan}}, "finite"),
        ({"target_sd": {"q": 1.0}}, "not a target"),
        ({"target_sd": {"a": 0.0}}, "> 0"),
        ({"replicates": 1}, "replicates"),
        ({"bootstrap": -1}, "bootstrap"),
        ({"xatol": 0.0}, "xatol"),
        ({"max_evaluations": 2}, "max_evaluations"),
        ({"step": 0.7}, "step"),
        ({"level": 1.0}, "level"),
        ({"scan": 2}, "scan"),
        ({"targets": {"missing": 1.0}}, "not among"),
    ],
)
def test_malformed_calls_are_refused_by_name(kwargs, match):
    args = {"bounds": {"x": (0.0, 5.0)}, "targets": {"a": 3.0}, "replicates": 4}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        calibrate(Toy(), runner=linear, **args)


def test_a_kpi_that_is_not_finite_is_refused():
    def never(scenario: Toy, replicate: int, root_seed: int) -> dict[str, float]:
        return {"a": math.nan if replicate == 2 else 1.0}

    with pytest.raises(ValueError, match="not finite"):
        calibrate(Toy(), {"x": (0.0, 1.0)}, {"a": 1.0}, replicates=4, runner=never)


#: The documented example and its tolerance (docs/howto/calibration.md).
TOLERANCE_MIN = 0.5


@pytest.mark.slow
def test_notification_calibration_example_converges_within_its_tolerance():
    base = Scenario.from_toml(ROOT / "examples/scenarios/huchiyuan_lockdown.toml")
    fit = calibrate(
        base,
        {"submodels.notification.phone_minutes": (0.3, 1.5)},
        {"notification.t95_min": 30.0},
        replicates=20,
        root_seed=2022,
        xatol=0.01,
    )
    assert isinstance(fit, CalibrationResult) and fit.converged
    assert abs(fit.fitted_kpis["notification.t95_min"] - 30.0) <= TOLERANCE_MIN
    value = fit.values["submodels.notification.phone_minutes"]
    lo, hi = fit.interval["submodels.notification.phone_minutes"]
    assert lo <= value <= hi and 0.3 <= value < 0.6  # well below the assumed 1.5 min
