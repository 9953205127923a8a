"""The tables of measured figures in the docs are what commgov computes today.

``scripts/doc_tables.py`` holds one function per marked table (``<!-- table: NAME -->`` …
``<!-- /table -->`` in README.md or docs/), computed with the seeds and parameters the page
states. Each table's test recomputes it and fails with a diff naming the page and the table;
``python scripts/doc_tables.py --write --table NAME`` rewrites it. Tables that take more than
a few seconds are marked slow. Timing tables (wall-clock seconds) are marked
``<!-- timing-table: NAME: reason -->`` and are not regenerated; a reason is required.

The script itself refuses a check that checks nothing (a marker naming no function, a
function on no page, a selection left empty by ``--fast``), names a malformed page by
``page:line`` with exit status 2 (1 is a stale table) without failing other pages' tables,
writes all pages or none, and requires a marker on every table of the how-tos and tutorials
(``<!-- reference-table -->`` for options, inputs and codes); these tests run it on pages
made for them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

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


def test_the_pages_and_the_functions_agree() -> None:
    """No malformed marker, no marker without a function, no function on no page, no
    unmarked table in a how-to or tutorial, every timing table with a reason."""
    found = dt.survey()
    assert not found.faults, "\n".join(str(f) for f in found.faults)
    marked = {r.name for r in found.regions()}
    assert marked == set(dt.TABLES)
    timing = [name for page in found.pages for name, _, _ in page.timing]
    assert timing, "the timing tables are listed in the pages"


def test_every_table_of_the_howtos_and_tutorials_has_a_marker() -> None:
    guarded = [p for p in dt.PAGES if dt._guarded(p)]
    assert len(guarded) >= 10, guarded  # the rule covers the how-tos and the tutorials
    assert any(p.name == "tutorial-pioneers.md" for p in guarded)
    found = dt.survey()
    unmarked = [str(f) for page in found.pages for f in page.unmarked]
    assert not unmarked, "\n".join(unmarked)


def test_markers_are_checked(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    for text, fault in [
        ("<!-- table: a -->\n| x |\n", "never closed"),
        ("<!-- /table -->\n", "without an opening"),
        (
            "<!-- table: a -->\n<!-- table: b -->\n<!-- /table -->\n",
            "'b' opens inside table 'a' \\(line 1\\)",
        ),
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


# --------------------------------------------------- the command on pages made for the test


def _page(name: str, a: str = "1") -> str:
    """A page of 9 lines: the marker on line 3."""
    table = f"| a | b |\n| --- | --- |\n| {a} | 2 |\n"
    return f"# p\n\n<!-- table: {name} -->\n\n{table}\n<!-- /table -->\n"


def _rows() -> list[list[str]]:
    return [["a", "b"], ["1", "2"]]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """A checkout of test pages in ``tmp_path`` and three tables: two fast, one slow."""
    monkeypatch.setattr(dt, "ROOT", tmp_path)
    monkeypatch.setattr(dt, "GUARDED", ())
    monkeypatch.setattr(
        dt,
        "TABLES",
        {
            "t_fast": dt.Table("t_fast", _rows, slow=False),
            "t_other": dt.Table("t_other", _rows, slow=False),
            "t_slow": dt.Table("t_slow", _rows, slow=True),
        },
    )
    dt.compute.cache_clear()

    def pages(**texts: str) -> None:
        paths = []
        for name, text in texts.items():
            path = tmp_path / f"{name}.md"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        monkeypatch.setattr(dt, "PAGES", tuple(paths))

    yield pages
    dt.compute.cache_clear()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = dt.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_every_run_says_what_it_checked(site: Any, capsys: Any) -> None:
    site(one=_page("t_fast") + _page("t_slow"), two=_page("t_other"))
    code, out, _ = _run(capsys, "--check")
    assert code == 0
    assert "checked 3 table(s) in 3 region(s) on 2 page(s): 0 stale" in out
    code, out, _ = _run(capsys, "--check", "--fast")
    assert code == 0
    assert "checked 2 table(s)" in out and "skipped as slow (--fast): t_slow" in out
    site(one=_page("t_fast", a="9") + _page("t_slow"), two=_page("t_other"))
    code, out, _ = _run(capsys, "--check")
    assert code == dt.STALE
    assert "one.md: table t_fast differs" in out and "1 stale" in out


def test_a_marker_naming_no_function_fails(site: Any, capsys: Any) -> None:
    """D9.1: `--check --fast` used to pass, never checking the marker's table."""
    site(one=_page("t_fast") + _page("t_slow") + _page("t_other") + _page("ghost"))
    for argv in (["--check", "--fast"], ["--check"], ["--table", "ghost"], ["--write"]):
        code, _, err = _run(capsys, *argv)
        assert code == dt.BROKEN, argv
        assert "one.md:30: the marker names table 'ghost', which has no function" in err
    code, _, _ = _run(capsys, "--check", "--table", "t_fast")  # an unrelated table
    assert code == 0
    with pytest.raises(dt.DocTablesError, match="ghost"):
        dt.check()


def test_a_function_on_no_page_fails(site: Any, capsys: Any) -> None:
    """D9.2: a table whose markers were deleted used to pass `--check --table NAME`."""
    site(one=_page("t_fast") + _page("t_slow"))
    for argv in (["--check", "--table", "t_other"], ["--check", "--fast"], ["--list"]):
        code, out, err = _run(capsys, *argv)
        assert code == dt.BROKEN, argv
        assert "table 't_other' has a function but no marker on any page" in err
    assert "t_other: ON NO PAGE" in out  # the --list
    with pytest.raises(dt.DocTablesError, match="no marker"):
        dt.check(["t_other"])
    assert _run(capsys, "--check", "--table", "t_fast")[0] == 0


def test_a_check_that_selects_nothing_fails(site: Any, capsys: Any) -> None:
    """D9.5: `--check --fast --table day_kpis` (a slow table) used to check nothing."""
    site(one=_page("t_fast") + _page("t_slow") + _page("t_other"))
    code, _, err = _run(capsys, "--check", "--fast", "--table", "t_slow")
    assert code == dt.BROKEN
    assert "nothing to check (t_slow: slow, and --fast skips slow tables)" in err
    with pytest.raises(SystemExit) as exc:  # a name that is nowhere: a usage error
        dt.main(["--table", "nowhere"])
    assert exc.value.code == dt.BROKEN


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("<!-- table: t_other -->\n\n| a |\n", "two.md:1: table 't_other' is never closed"),
        ("| a |\n\n<!-- /table -->\n<!-- table: t_other -->\n", "two.md:3: <!-- /table -->"),
        ("<!--table: t_other-->\n| a |\n<!-- /table -->\n", "two.md:1: malformed table marker"),
        (
            _page("t_other") + "<!-- table: t_other -->\n" + _page("t_other"),
            "two.md:13: table 't_other' opens inside table 't_other' (line 10)",
        ),
        ("<!-- timing-table: t_other -->\n\n| a |\n", "two.md:1: malformed timing-table"),
    ],
)
def test_a_malformed_page_fails_only_its_tables_cleanly(
    site: Any, capsys: Any, broken: str, message: str
) -> None:
    """D9.3: a raw ValueError with exit 1 (as a stale table), and for unrelated tables too."""
    site(one=_page("t_fast") + _page("t_slow"), two=broken)
    for argv in (["--check"], ["--check", "--table", "t_other"], ["--write"]):
        code, _, err = _run(capsys, *argv)
        assert code == dt.BROKEN, argv
        assert message in err
        assert not [ln for ln in err.splitlines() if ln.startswith("error: one.md")]
    assert (dt.ROOT / "two.md").read_text(encoding="utf-8") == broken  # nothing written
    code, out, _ = _run(capsys, "--check", "--table", "t_fast", "--table", "t_slow")
    assert code == 0 and "checked 2 table(s) in 2 region(s) on 1 page(s)" in out


def test_a_table_function_that_raises_fails_cleanly(site: Any, capsys: Any) -> None:
    def broken() -> list[list[str]]:
        raise KeyError("relay.gone")

    site(one=_page("t_fast", a="9") + _page("t_slow") + _page("t_other"))
    dt.TABLES["t_other"] = dt.Table("t_other", broken, slow=False)
    code = dt.main(["--write"])
    _, err = capsys.readouterr()
    assert code == dt.BROKEN
    assert "table 't_other': its function raised KeyError: 'relay.gone'" in err
    assert "| 9 | 2 |" in (dt.ROOT / "one.md").read_text(encoding="utf-8")  # not written


def test_write_is_all_or_nothing_with_a_clean_message(
    site: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """D9.4: a raw PermissionError, and the pages written one by one, not atomically."""
    old = {"one": _page("t_fast", a="8") + _page("t_slow"), "two": _page("t_other", a="9")}
    site(**old)
    root = dt.ROOT

    def unchanged() -> bool:
        names = sorted(p.name for p in root.iterdir())
        return names == ["one.md", "two.md"] and all(
            (root / f"{k}.md").read_text(encoding="utf-8") == v for k, v in old.items()
        )

    real_replace, calls = os.replace, []

    def replace(src: Any, dst: Any) -> None:
        calls.append(dst)
        if len(calls) == 2:  # the second page's rename fails: the first is put back
            raise PermissionError(13, "Permission denied", str(dst))
        real_replace(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", replace)
        code, out, err = _run(capsys, "--write")
    assert code == dt.IO_ERROR
    assert "error: cannot write two.md: Permission denied; no page was changed" in err
    assert unchanged() and "rewrote" not in out

    with monkeypatch.context() as patch:  # a read-only page is refused before any write
        patch.setattr(os, "access", lambda path, mode: not str(path).endswith("two.md"))
        code, _, err = _run(capsys, "--write")
    assert code == dt.IO_ERROR
    assert "cannot write two.md: the page is read-only" in err
    assert unchanged()

    real_rewritten = dt.rewritten

    def rewritten(*args: Any) -> Any:  # a person saves two.md while the tables compute
        with (root / "two.md").open("a", encoding="utf-8") as fh:
            fh.write("new line\n")
        return real_rewritten(*args)

    with monkeypatch.context() as patch:
        patch.setattr(dt, "rewritten", rewritten)
        code, _, err = _run(capsys, "--write")
    assert code == dt.IO_ERROR
    assert "cannot write two.md: the page changed on disk during the run; run again" in err
    assert (root / "two.md").read_text(encoding="utf-8") == old["two"] + "new line\n"
    (root / "two.md").write_text(old["two"], encoding="utf-8")
    assert unchanged()

    code, out, _ = _run(capsys, "--write")
    assert code == 0
    assert "wrote 2 of 3 region(s) of 3 table(s) on 2 page(s)" in out
    assert _run(capsys, "--check")[0] == 0


def test_unmarked_tables_on_guarded_pages(site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dt, "GUARDED", ("howto/*.md",))
    (dt.ROOT / "howto").mkdir()
    page = dt.ROOT / "howto" / "p.md"
    table = "| n | wait |\n| --- | --- |\n| 3 | 13.0 |\n"
    for text, faults in [
        (f"text\n\n{table}", ["howto/p.md:3: a Markdown table without a marker"]),
        (f"<!-- reference-table -->\n\n{table}{table}", []),  # one table: no blank line
        (f"<!-- reference-table -->\n\n{table}\ntext\n\n{table}", ["howto/p.md:9: a"]),
        (
            f"<!-- reference-table -->\ntext\n\n{table}",
            ["p.md:1: reference-table marker not", "p.md:4"],
        ),
        (f"<!-- timing-table: t: seconds on one machine, not rerun -->\n\n{table}", []),
        (f"```text\n{table}```\n", []),  # a table in a code block is not a table
        (_page("t_fast"), []),
    ]:
        page.write_text(text, encoding="utf-8")
        found = dt.scan_page(page, text)
        got = [str(f) for f in found.faults + found.unmarked]
        assert len(got) == len(faults), (text, got)
        for fault, want in zip(got, faults, strict=True):
            assert want in fault, (text, got)
    assert not dt._guarded(dt.ROOT / "reference.md")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<!-- table: t_fast -->",
                "<!-- /table -->",
                "<!-- table: x y -->",
                "<!-- reference-table -->",
                "<!-- timing-table: t: wall seconds on one machine -->",
                "<!-- timing-table: t",
                "| a | 1 |",
                "```",
                "~~~~",
                "text",
                "",
            ]
        ),
        max_size=30,
    )
)
def test_the_scanner_reports_faults_and_never_raises(lines: list[str]) -> None:
    """Any page scans: its markers pair up into regions or each bad one is a fault."""
    page = dt.scan_page(Path("p.md"), "\n".join(lines))
    opened = sum(1 for r in page.regions) + len(page.faults)
    fenced = "```" in lines or "~~~~" in lines
    if "<!-- table: t_fast -->" in lines and not fenced:
        assert opened >= 1
    for region in page.regions:
        assert region.begin < region.end


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
