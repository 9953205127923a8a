"""Sources cited in the code and the docs are published works or files of the repository.

A docstring, comment or page that cites a file (``docs/datasets.md``, ``tests/data/…``) must
name one the repository ships; private notes outside it (a research memo, a shared folder of
the developers) cannot be checked by a reader and are not sources.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*(ROOT / "src" / "commgov").rglob("*.py"), *(ROOT / "docs").rglob("*.md")])

PATH = re.compile(r"(?<![\w/.:-])((?:\.\./)?(?:[\w.-]+/)+[\w.-]+\.(?:md|csv|txt|json|toml|pdf))\b")
#: Phrases that cite material readers do not have.
UNSHIPPED = re.compile(
    r"reference notes|research notes|scheduling notes|field notes|extent note|shared/|/work/",
    re.IGNORECASE,
)


def _resolves(cited: str, where: Path) -> bool:
    return any((base / cited).exists() for base in (ROOT, ROOT / "docs", where.parent))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_cited_files_are_in_the_repository(path):
    text = path.read_text(encoding="utf-8")
    missing = [m for m in PATH.findall(text) if not m.startswith("http") and not _resolves(m, path)]
    # a URL's path is not a file of ours
    missing = [
        m
        for m in missing
        if f"//{m}" not in text and not re.search(rf"https?://\S*{re.escape(m)}", text)
    ]
    assert not missing, f"{path.relative_to(ROOT)} cites files not in the repository: {missing}"
    bad = sorted({m.group(0) for m in UNSHIPPED.finditer(text)})
    assert not bad, f"{path.relative_to(ROOT)} cites material outside the repository: {bad}"
