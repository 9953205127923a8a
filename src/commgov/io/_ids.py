"""The app's ids both ways: the id map an import returns, applied to results and exports."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from commgov._records import FrozenModel

if TYPE_CHECKING:
    from commgov.org import OrgModel

__all__ = ["IdMap"]


class IdMap(FrozenModel):
    """The app's ids ↔ commgov's ids, per table, both ways (from :func:`import_community`).

    Attributes
    ----------
    ids : dict of str to dict of str to str
        Table → the app's id → commgov id (as :attr:`CommunityImport.ids`).

    Examples
    --------
    >>> m = IdMap(ids={"buildings": {"bd-1": "320508017016/C01/B01"}})
    >>> m.to_commgov("bd-1"), m.to_app("320508017016/C01/B01")
    ('320508017016/C01/B01', 'bd-1')
    >>> m.app_rows([{"building_id": "320508017016/C01/B01", "people": 30}])
    [{'building_id': '320508017016/C01/B01', 'app_building_id': 'bd-1', 'people': 30}]
    """

    ids: dict[str, dict[str, str]]

    #: The model's record lists named by the import table they come from (others by their own
    #: name): ``units`` are the ``compounds`` table of :func:`import_community`.
    TABLE_OF_LIST: ClassVar[dict[str, str]] = {"units": "compounds"}

    @classmethod
    def from_model(cls, model: OrgModel) -> IdMap:
        """The id map of every record of ``model`` that carries the app's id.

        Reads ``provenance.app_id``, which :func:`import_community` sets on each record it
        makes and which every save and load keeps (JSON, :mod:`commgov.store`): the map
        survives without the :class:`CommunityImport` that first held it.

        Parameters
        ----------
        model : OrgModel

        Returns
        -------
        IdMap
            Tables named as in :data:`IMPORT_TABLES` (``compounds`` for the model's units).

        Raises
        ------
        TypeError
            If ``model`` is not an :class:`~commgov.org.OrgModel`.
        commgov.errors.InputError
            If two records of one table carry the same app id (the map would lose one), naming
            both records.

        Notes
        -----
        O(records).
        """
        from commgov.errors import InputError, InputIssue
        from commgov.org import OrgModel

        if not isinstance(model, OrgModel):
            raise TypeError(f"model must be an OrgModel, not {type(model).__name__}")
        ids: dict[str, dict[str, str]] = {}
        issues: list[InputIssue] = []
        for name in OrgModel.model_fields:
            records = getattr(model, name)
            if not isinstance(records, list):
                continue
            for r in records:
                prov = getattr(r, "provenance", None)
                if prov is not None and prov.app_id is not None:
                    table = cls.TABLE_OF_LIST.get(name, name)
                    seen = ids.setdefault(table, {})
                    if prov.app_id in seen:
                        issues.append(
                            InputIssue(
                                r.id,
                                "provenance.app_id",
                                prov.app_id,
                                f"is also the app id of {seen[prov.app_id]} ({table})",
                            )
                        )
                    seen.setdefault(prov.app_id, r.id)
        if issues:
            raise InputError(issues[:50], what="the app's ids of the model")
        return cls(ids={t: dict(sorted(m.items())) for t, m in ids.items()})

    @functools.cached_property
    def _reverse(self) -> dict[str, tuple[str, str]]:
        """commgov id → (table, app id): a derived index, built once."""
        return {cid: (table, app) for table, m in self.ids.items() for app, cid in m.items()}

    def _back(self) -> dict[str, tuple[str, str]]:
        return self._reverse

    def to_commgov(self, app_id: str, table: str | None = None) -> str:
        """The commgov id of the app's ``app_id`` (in ``table``, when ids repeat across tables).

        Raises
        ------
        KeyError
            If no table (or not ``table``) holds ``app_id``.
        ValueError
            If several tables hold it and no ``table`` is given.
        """
        if table is not None:
            return self.ids.get(table, {})[app_id]
        hits = [m[app_id] for m in self.ids.values() if app_id in m]
        if not hits:
            raise KeyError(app_id)
        if len(hits) > 1:
            tables = sorted(t for t, m in self.ids.items() if app_id in m)
            raise ValueError(f"{app_id!r} is an id in {', '.join(tables)}: name the table")
        return hits[0]

    def to_app(self, commgov_id: str) -> str | None:
        """The app's id of a commgov id, or ``None`` for a record the app did not give."""
        hit = self._back().get(commgov_id)
        return None if hit is None else hit[1]

    def table_of(self, commgov_id: str) -> str | None:
        """The app's table a commgov id came from, or ``None``."""
        hit = self._back().get(commgov_id)
        return None if hit is None else hit[0]

    def app_rows(
        self, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Rows (a result's ``rows()``, CSV rows) with the app's ids beside commgov's.

        After each id column (``columns``, default every column ending in ``_id`` or named
        ``id``) comes ``app_<column>``: the app's id of the value, empty where the record
        did not come from the app. O(cells).
        """
        back = self._back()
        out: list[dict[str, Any]] = []
        for row in rows:
            new: dict[str, Any] = {}
            for key, value in row.items():
                new[key] = value
                wanted = (
                    key in columns if columns is not None else (key == "id" or key.endswith("_id"))
                )
                if wanted:
                    hit = back.get(value) if isinstance(value, str) else None
                    new[f"app_{key}"] = "" if hit is None else hit[1]
            out.append(new)
        return out

    def app_csv(self, text: str, columns: Sequence[str] | None = None) -> str:
        """CSV text (an export of commgov's) with the app's ids beside commgov's.

        The text is read by the one CSV reader (:func:`commgov._input.csv_rows`), each row
        goes through :meth:`app_rows`, and the result is written formula-safe by
        :func:`commgov.io.csv_text`: ``buildings.csv`` gains ``app_building_id`` after
        ``building_id``, and so on. Display names (``building_name``, ``point_name``) are
        kept as they are; ``app_*`` columns already there are refilled, not repeated, so the
        call may be made twice. A byte-order mark and empty lines are dropped.

        Parameters
        ----------
        text : str
            CSV text with a header row.
        columns : sequence of str, optional
            As in :meth:`app_rows`.

        Returns
        -------
        str

        Raises
        ------
        commgov.errors.InputError
            If the text is not CSV of the one dialect, the header repeats a column, or a row
            has more or fewer cells than the header (by row number); nothing is returned.
        commgov.errors.SizeLimitError
            If it has more rows than the reader's limit.
        TypeError
            If ``text`` is not a string.

        Notes
        -----
        O(cells).
        """
        from commgov._files import csv_text
        from commgov._input import csv_rows
        from commgov.errors import InputError, InputIssue, expect_type

        expect_type(text, str, "text")
        rows = [
            (n, cells)
            for n, cells in csv_rows(text.removeprefix("\ufeff"), label="csv")
            if any(c != "" for c in cells)
        ]
        if not rows:
            return ""
        (_, header), body = rows[0], rows[1:]
        issues = [
            InputIssue("csv:row 1", h, h, "is a column twice")
            for i, h in enumerate(header)
            if h in header[:i]
        ]
        issues.extend(
            InputIssue(f"csv:row {n}", "", len(cells), f"cells, the header has {len(header)}")
            for n, cells in body
            if len(cells) != len(header)
        )
        if issues:
            raise InputError(issues[:50], what="CSV with the app's ids")
        id_cols = (
            list(columns)
            if columns is not None
            else [
                h for h in header if (h == "id" or h.endswith("_id")) and not h.startswith("app_")
            ]
        )
        refill = {f"app_{c}" for c in id_cols}  # an earlier call's columns: filled anew
        base = [h for h in header if h not in refill]
        mapped = self.app_rows(
            (
                {h: c for h, c in zip(header, cells, strict=True) if h not in refill}
                for _n, cells in body
            ),
            id_cols,
        )
        head = list(self.app_rows([dict.fromkeys(base, "")], id_cols)[0])
        return csv_text(mapped, head)
