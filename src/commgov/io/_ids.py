"""The app's ids both ways: the id map an import returns, applied to results and exports."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from commgov._records import FrozenModel

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
                wanted = key in columns if columns is not None else (
                    key == "id" or key.endswith("_id"))
                if wanted:
                    hit = back.get(value) if isinstance(value, str) else None
                    new[f"app_{key}"] = "" if hit is None else hit[1]
            out.append(new)
        return out
