"""The CLI's progress bar: drawn on a terminal for runs over two seconds, never elsewhere."""

import sys

import pytest

from commgov import ProgressEvent
from commgov.cli._progress import DELAY_S, ProgressBar

BAR_CHARS = ("\r", "█", "%|")


def _events(planner="plan_sampling"):
    yield ProgressEvent(planner, "bound", None, None, 1200.0, 0.1)
    yield ProgressEvent(planner, "search", 0.5, 1300.0, 1200.0, 0.6)
    yield ProgressEvent(planner, "done", 1.0, 1250.0, 1250.0, 0.9)


def test_not_a_terminal_draws_nothing(capsys):
    with ProgressBar("sampling plan", delay_s=0) as progress:
        assert not progress.active
        for event in _events():
            assert progress(event) is None
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_quick_run_on_a_terminal_draws_nothing(monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert DELAY_S == 2.0
    with ProgressBar("sampling plan") as progress:
        assert progress.active
        for event in _events():
            progress(event)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_long_run_on_a_terminal_shows_phase_incumbent_and_bound(monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with ProgressBar("sampling plan", delay_s=0) as progress:
        for event in _events():
            progress(event)
        progress(ProgressEvent("plan_sampling", "done", 1.0, None, None, 1.0))  # after close
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert "sampling plan:" in err and "search, best 1,300, bound 1,200" in err
    assert "100%" in err and err.endswith("\n") and err.count("\n") == 1


def test_a_failing_run_closes_the_bar(monkeypatch, capsys):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with pytest.raises(RuntimeError), ProgressBar("matching", delay_s=0) as progress:
        progress(ProgressEvent("match_volunteers", "search", 0.25, None, None, 0.1))
        raise RuntimeError("solver failed")
    err = capsys.readouterr().err
    assert "matching:" in err and "25%" in err and err.endswith("\n")


def test_closed_stderr_is_not_a_terminal(monkeypatch):
    class Closed:
        def isatty(self):
            raise ValueError("I/O operation on closed file")

    monkeypatch.setattr(sys, "stderr", Closed())
    with ProgressBar("sampling plan", delay_s=0) as progress:
        assert not progress.active
        for event in _events():
            progress(event)
