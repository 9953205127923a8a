"""The scan of conftest.py sees errors, log lines and exports, and would catch a leak."""

import logging

import pytest
from io_helpers import (
    COMMUNITY,
    PLANTED,
    find_planted,
    no_personal_data_leaks,  # noqa: F401  (autouse: scans this module)
    overlay_model,
)

from commgov.datasets import gusu_divisions
from commgov.io import TableImportError, export_json, import_community, to_geojson, to_popolo


def test_the_scan_sees_errors_logs_and_exports(request):
    outputs = request.node.scanned_outputs
    base = gusu_divisions()
    rows = [{"id": "u1", "code": "001", "name": PLANTED["name"], "skills": "x:9"}]
    with pytest.raises(TableImportError):
        import_community({"people": rows}, base=base, community_id=COMMUNITY)
    logging.getLogger("commgov.io").info("a log line")
    import_community({"people": [{**rows[0], "skills": "x:1"}]}, base=base, community_id=COMMUNITY)
    model = overlay_model()
    export_json(model)
    to_geojson(model)
    to_popolo(model)
    kinds = [kind for kind, _ in outputs]
    assert kinds.count("error message") >= 1
    assert kinds.count("log line") >= 2
    assert kinds.count("export") == 3
    assert find_planted(outputs) == []


def test_the_scan_would_catch_a_leak():
    leaks = find_planted([("log line", f"imported {PLANTED['phone']}"), ("export", "{}")])
    assert len(leaks) == 1 and "phone" in leaks[0]
