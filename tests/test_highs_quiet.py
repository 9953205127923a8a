"""HiGHS's banner never reaches standard output (a command's stdout may be CSV or JSON)."""

from __future__ import annotations

import subprocess
import sys


def test_first_highs_of_a_process_prints_nothing_on_stdout():
    code = (
        "from commgov._highs import new_highs; new_highs(); new_highs(3); "
        "from commgov.scheduling.sites import sites_lower_bound; "
        "from commgov.testing._mut_sites import sites_fixtures; "
        "sites_lower_bound(sites_fixtures()['default']); print('done')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout == "done\n"
    assert "Running HiGHS" not in out.stderr


def test_the_plan_sites_command_prints_no_banner(tmp_path):
    from commgov.testing._mut_sites import sites_fixtures

    problem = tmp_path / "p.json"
    problem.write_text(sites_fixtures()["default"].model_dump_json(), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "commgov", "plan-sites", str(problem), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "HiGHS" not in out.stdout and out.stdout.startswith("Site plan")


def test_a_thread_pool_started_with_another_count_does_not_stop_a_solve():
    """An earlier HiGHS solve in the process (an app's, a test's reference model) started the
    global thread pool with 2 threads; commgov's one-thread solves still run (HiGHS refused
    them with "Not Set" and the bound or plan was silently lost)."""
    code = (
        "import highspy\n"
        "h = highspy.Highs(); h.setOptionValue('output_flag', False)\n"
        "h.setOptionValue('threads', 2); h.addVar(0, 1); h.changeColCost(0, 1.0); h.run()\n"
        "from commgov.scheduling.sites import sites_lower_bound\n"
        "from commgov.testing._mut_sites import sites_fixtures\n"
        "b = sites_lower_bound(sites_fixtures()['default'])\n"
        "print(b.tiers['staff_hours'] > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("True")
