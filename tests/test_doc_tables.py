"""The tables of measured figures in the docs are what commgov computes today.

``scripts/doc_tables.py`` holds one function per marked table (``<!-- table: NAME -->`` …
``<!-- /table -->`` in README.md or docs/), computed with the seeds and parameters the page
states. Each table's test recomputes it and fails with a diff naming the page and the table;
``python scripts/doc_tables.py --write --table NAME`` rewrites it. Tables that take more than
a few seconds are marked slow. Timing tables (wall-clock seconds) are marked
``<!-- timing-table: NAME: reason -->`` and are not regenerated; a reason is required.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    name = "commgov_doc_tables"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "doc_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


dt = _load()


def test_every_marker_names_a_table_and_every_table_is_on_a_page() -> None:
    marked = [r.name for r in dt.all_regions()]
    assert set(marked) <= set(dt.TABLES), sorted(set(marked) - set(dt.TABLES))
    assert set(dt.TABLES) <= set(marked), f"tables on no page: {set(dt.TABLES) - set(marked)}"
    timing = [(page, name, why) for page in dt.PAGES for name, why, _ in dt.timing_tables(page)]
    assert timing, "the timing tables are listed in the pages"
    for page, name, why in timing:
        assert name not in dt.TABLES, f"{page}: {name} is both generated and a timing table"
        assert len(why.split()) >= 5, f"{page}: timing table {name} needs a reason"
    names = [name for _, name, _ in timing]
    assert len(names) == len(set(names))


def test_markers_are_checked(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    for text, fault in [
        ("<!-- table: a -->\n| x |\n", "never closed"),
        ("<!-- /table -->\n", "without an opening"),
        ("<!-- table: a -->\n<!-- table: b -->\n<!-- /table -->\n", "inside another"),
        ("<!-- table: A B -->\n<!-- /table -->\n", "malformed"),
    ]:
        page.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=fault):
            dt.regions(page)
    page.write_text("<!-- timing-table: t: wall\nseconds here -->\n\n| a |\n", encoding="utf-8")
    assert dt.timing_tables(page) == [("t", "wall seconds here", 1)]
    page.write_text("<!-- timing-table: no reason -->\n", encoding="utf-8")
    with pytest.raises(ValueError, match="malformed"):
        dt.timing_tables(page)


def test_kept_columns_come_from_the_page_and_formats() -> None:
    spec = dt.Table("t", lambda: [], slow=False, keep=("time",))
    page = ["", "| case | value | time |", "| --- | --- | --- |", "| a | 1 | 3 s |", ""]
    rows = [["case", "value", "time"], ["a", "2", ""], ["b", "3", ""]]
    assert dt.expected_lines(spec, page, rows) == [
        "",
        "| case | value | time |",
        "| --- | --- | --- |",
        "| a | 2 | 3 s |",
        "| b | 3 | ? |",  # a new row's timing is for a person to measure
        "",
    ]
    assert dt.render([["a", "b"], ["1", ""]])[-1] == "| 1 | |"


def test_a_missing_timing_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "page.md"
    body = "| case | value | time |\n| --- | --- | --- |\n| a | 2 | {} |\n"
    monkeypatch.setattr(dt, "ROOT", tmp_path)
    monkeypatch.setattr(dt, "PAGES", (page,))
    monkeypatch.setitem(
        dt.TABLES,
        "t_probe",
        dt.Table("t_probe", lambda: [["case", "value", "time"], ["a", "2", ""]], False, ("time",)),
    )
    for cell, stale in (("3 s", False), ("?", True)):
        page.write_text(f"x\n<!-- table: t_probe -->\n\n{body.format(cell)}\n<!-- /table -->\n")
        assert bool(dt.check(["t_probe"])) is stale
    page.write_text("x\n<!-- table: t_probe -->\n\n| old |\n\n<!-- /table -->\n")
    assert [r.name for r in dt.write(["t_probe"])] == ["t_probe"]
    assert "| a | 2 | ? |" in page.read_text()
    assert dt.check(["t_probe"])  # still reported until measured
    assert dt.num(-0.001, 2) == "0.00"
    assert dt.num(-1234.5, 1) == "−1,234.5"
    assert dt.num(0.5, 2, sign=True) == "+0.50"
    assert dt.num(-0.001, 1, sign=True) == "+0.0"


def _param(name: str) -> object:
    marks = [pytest.mark.slow] if dt.TABLES[name].slow else []
    return pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("name", [_param(n) for n in dt.TABLES])
def test_table_is_current(name: str) -> None:
    stale = dt.check([name])
    if stale:
        pytest.fail(
            "\n\n".join(
                f"{region.rel}: table {region.name} is stale (run `python "
                f"scripts/doc_tables.py --write --table {region.name}`):\n{diff}"
                for region, diff in stale
            ),
            pytrace=False,
        )
