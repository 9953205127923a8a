"""Every ```python block of README.md and docs/**/*.md runs, so the docs show the current API.

The blocks of one file run in order in one namespace (a later block may use what an earlier one
defined), in a fresh temporary directory (with ``examples/`` of the checkout), with the
non-interactive Matplotlib backend. Blocks fenced as ``pycon`` or ``python-norun`` are shown,
not run (only for code that must not run here, such as an address of a Dask cluster); shell,
TOML, JSON and text blocks are never run.
A failure names the Markdown file and line, as the traceback's file name and line number.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

#: Info strings (first word) of the blocks that run, and of Python blocks shown but not run.
RUN = frozenset({"python", "py"})
NO_RUN = frozenset({"pycon", "python-norun"})

#: Files whose blocks take more than a few seconds: they run in the whole suite, marked slow.
SLOW: frozenset[str] = frozenset(
    {
        "docs/howto/simulation.md",
        "docs/howto/sites.md",
        "docs/tutorial-pioneers.md",
        "docs/howto/calibration.md",
    }
)

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The blocks to run: (line number of the first code line, code), in file order."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        words = m["info"].strip().split()
        lang = words[0].lower() if words else ""
        start = i + 1
        j = start
        while j < len(lines):
            close = _FENCE.match(lines[j])
            if (
                close is not None
                and close["fence"][0] == fence[0]
                and len(close["fence"]) >= len(fence)
                and not close["info"].strip()
            ):
                break
            j += 1
        if lang in RUN:
            body = [line[indent:] if line[:indent].isspace() else line for line in lines[start:j]]
            blocks.append((start + 1, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def _param(path: Path) -> object:
    rel = path.relative_to(ROOT).as_posix()
    marks = [pytest.mark.slow] if rel in SLOW else []
    return pytest.param(path, id=rel, marks=marks)


def test_fence_parser() -> None:
    text = (
        "```python\na = 1\n```\n\n```bash\necho no\n```\n"
        "```pycon\n>>> shown()\n```\n"
        '````python title="x"\nb = a + 1\n```\nc = b\n````\n'
    )
    assert python_blocks(text) == [(2, "a = 1\n"), (12, "b = a + 1\n```\nc = b\n")]


@pytest.mark.parametrize(
    "path", [_param(p) for p in DOC_FILES if python_blocks(p.read_text(encoding="utf-8"))]
)
def test_doc_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    # The pages run from a checkout's root: examples/ is there to read (outputs go to tmp_path).
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    rel = path.relative_to(ROOT).as_posix()
    namespace: dict[str, object] = {"__name__": "__doc_blocks__"}
    try:
        for line, code in blocks:
            # Padding makes the traceback's line numbers those of the Markdown file.
            exec(compile("\n" * (line - 1) + code, rel, "exec"), namespace)
    finally:
        plt = __import__("sys").modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")
