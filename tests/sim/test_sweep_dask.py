"""Sweeps on a Dask LocalCluster (two worker processes): the same KPI file as in process."""

import pytest

distributed = pytest.importorskip("distributed")

from sweep_helpers import ToyScenario, flaky_runner, toy_runner  # noqa: E402

from commgov.sim import Experiment, run_sweep  # noqa: E402


@pytest.fixture(scope="module")
def dask_executor():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=40,
    )
    client = distributed.Client(cluster)
    try:
        yield client.get_executor()
    finally:
        client.close()
        cluster.close()


def _experiment():
    return Experiment(
        ToyScenario(), {"notification.volunteers": [20, 10, 5]}, replicates=12, root_seed=3
    )


@pytest.mark.parametrize("batch_size", [1, 8])
def test_dask_csv_is_byte_identical_to_serial(tmp_path, dask_executor, batch_size):
    serial = run_sweep(_experiment(), runner=toy_runner).to_csv(tmp_path / "serial.csv")
    result = run_sweep(
        _experiment(), executor=dask_executor, runner=toy_runner, batch_size=batch_size
    )
    dask_csv = result.to_csv(tmp_path / "dask.csv")
    assert dask_csv.read_bytes() == serial.read_bytes()
    assert len(result.rows) == 36 and not result.failed


def test_dask_records_failures_like_serial(dask_executor):
    serial = run_sweep(_experiment(), runner=flaky_runner)
    result = run_sweep(_experiment(), executor=dask_executor, runner=flaky_runner, batch_size=5)
    assert len(result.failed) == 12
    assert result.csv_text() == serial.csv_text()
    with pytest.raises(ValueError, match="toy failure"):
        run_sweep(_experiment(), executor=dask_executor, runner=flaky_runner, on_error="raise")
