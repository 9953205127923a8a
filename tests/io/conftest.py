"""Scan every error message, log line and export of each test in tests/io for planted
personal data (io_helpers.PLANTED); a test marked ``personal_data`` asked for it in clear."""

from __future__ import annotations

import json
import logging

import pytest
from io_helpers import find_planted

import commgov.errors
from commgov.io import _privacy


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "personal_data: the test asks for personal data in clear; its outputs are not scanned",
    )


class _Lines(logging.Handler):
    def __init__(self, out: list[tuple[str, str]]) -> None:
        super().__init__(logging.DEBUG)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        self.out.append(("log line", self.format(record)))


@pytest.fixture(autouse=True)
def no_personal_data_leaks(request, monkeypatch):
    outputs: list[tuple[str, str]] = []
    logger = logging.getLogger("commgov")
    handler = _Lines(outputs)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    base_init = commgov.errors.CommgovError.__init__

    def init(self, *args, **kwargs):
        base_init(self, *args, **kwargs)
        outputs.append(("error message", f"{self}\n{getattr(self, 'issues', '')!r}"))

    monkeypatch.setattr(commgov.errors.CommgovError, "__init__", init)
    release = _privacy.released

    def released(data):
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        outputs.append(("export", text))
        return release(data)

    monkeypatch.setattr(_privacy, "released", released)
    request.node.scanned_outputs = outputs
    try:
        yield outputs
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    if request.node.get_closest_marker("personal_data") is None:
        leaks = find_planted(outputs)
        if leaks:
            pytest.fail("personal data leaked:\n" + "\n".join(leaks), pytrace=False)
