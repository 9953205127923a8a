"""Versions, the history of a key's writes and the staleness of its results (private)."""

from __future__ import annotations

from sqlalchemy import select

from commgov._redact import redact
from commgov.errors import InvalidParameterError
from commgov.store import _registry
from commgov.store._base import (
    StoreBase,
    _check_id,
)
from commgov.store._errors import NotFoundError
from commgov.store._records import Change, StaleResult
from commgov.store._schema import changes, snapshots

__all__ = ["History"]


class History(StoreBase):
    """The history and staleness methods of :class:`~commgov.store.Store`."""

    def version(self, key: str, kind: str, name: str = "") -> int | None:
        """The current version of a key's model, lists, problem, result or live stream.

        Parameters
        ----------
        key : str
            The key.
        kind : {"model", "lists", "problem", "result", "live"}
            What; ``"live"`` is the key's live stream (events and state snapshots).
        name : str, default ""
            The problem's or result's name.

        Returns
        -------
        int or None
            The latest version, ``None`` when nothing is stored.

        Notes
        -----
        One indexed query.
        """
        key = _check_id(key, "key")
        name = _check_id(name, "name", empty=True)
        with self._read() as conn:
            if kind == "live":
                return self._live_head(conn, key)
            self._check_kind(kind)
            return self._head(conn, key, kind, name)

    def history(
        self,
        key: str,
        *,
        kind: str | None = None,
        name: str | None = None,
        reveal: bool = False,
    ) -> list[Change]:
        """Every write under a key, oldest first: who, when, what and why.

        Parameters
        ----------
        key : str
            The key.
        kind : str, optional
            Only writes of this kind (``"model"``, …, ``"state"``, ``"events"``).
        name : str, optional
            Only writes of this name.
        reveal : bool, default False
            Show the reasons in clear; by default phone and identity numbers in them are
            masked (:func:`commgov.errors` rule, :mod:`commgov._redact`).

        Returns
        -------
        list of Change

        Notes
        -----
        One indexed query; O(number of writes under the key).
        """
        key = _check_id(key, "key")
        query = select(changes).where(changes.c.key == key).order_by(changes.c.id)
        if kind is not None:
            if kind not in (*_registry.KINDS, "events"):
                raise InvalidParameterError(
                    "kind", kind, f"one of {', '.join((*_registry.KINDS, 'events'))}", "store"
                )
            query = query.where(changes.c.kind == kind)
        if name is not None:
            name = _check_id(name, "name", empty=True)
            query = query.where(changes.c.name == name)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [
            Change(
                key=r.key,
                kind=r.kind,
                name=r.name,
                first_version=r.first_version,
                version=r.version,
                type_name=r.type_name,
                hash=r.hash,
                actor=r.actor,
                recorded_at=r.recorded_at,
                why=r.why if reveal else redact(r.why),
            )
            for r in rows
        ]

    def stale_results(self, key: str) -> list[StaleResult]:
        """The latest results under a key that were computed from an older model or problem.

        A result is stale when the model hash it recorded differs from the key's current
        model, or its problem hash from the current problem of the same name (a result named
        ``"sampling"`` is checked against the problem named ``"sampling"``). What is not
        recorded, or not stored, is not compared.

        Returns
        -------
        list of StaleResult
            Sorted by name.

        Notes
        -----
        Two queries: O(number of stored results and problems under the key).
        """
        key = _check_id(key, "key")
        with self._read() as conn:
            rows = conn.execute(
                select(
                    snapshots.c.kind,
                    snapshots.c.name,
                    snapshots.c.version,
                    snapshots.c.hash,
                    snapshots.c.model_hash,
                    snapshots.c.problem_hash,
                )
                .where(snapshots.c.key == key, snapshots.c.kind.in_(("model", "problem", "result")))
                .order_by(snapshots.c.kind, snapshots.c.name, snapshots.c.version)
            ).all()
        latest = {(r.kind, r.name): r for r in rows}  # the last version wins
        model = latest.get(("model", ""))
        current_model = None if model is None else model.hash
        out = []
        for (kind, name), r in sorted(latest.items()):
            if kind != "result":
                continue
            problem = latest.get(("problem", name))
            current_problem = None if problem is None else problem.hash
            reasons = []
            if r.model_hash and current_model and r.model_hash != current_model:
                reasons.append("model")
            if r.problem_hash and current_problem and r.problem_hash != current_problem:
                reasons.append("problem")
            if reasons:
                out.append(
                    StaleResult(
                        key=key,
                        name=name,
                        version=r.version,
                        reasons=tuple(reasons),
                        model_hash=r.model_hash,
                        problem_hash=r.problem_hash,
                        current_model_hash=current_model,
                        current_problem_hash=current_problem,
                    )
                )
        return out

    def is_stale(self, key: str, name: str) -> bool:
        """Whether the latest result ``name`` under ``key`` is stale (see :meth:`stale_results`).

        Raises
        ------
        NotFoundError
            If no result of that name is stored.
        """
        key = _check_id(key, "key")
        if self.version(key, "result", name) is None:
            raise NotFoundError(key, "result", name)
        return any(s.name == name for s in self.stale_results(key))
