"""Experiment designs: scenario ids, dotted-path updates, design points and :class:`Experiment`."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from commgov.errors import InputError, InputIssue, check_size

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

__all__ = ["FIXED_COLUMNS", "DesignPoint", "Experiment", "scenario_id", "with_values"]

#: Columns of every sweep table besides the varied keys and the KPIs, in table order:
#: ``point``, ``scenario_id``, (varied keys), ``replicate``, ``status``, (KPIs), ``error``.
FIXED_COLUMNS = ("point", "scenario_id", "replicate", "status", "error")

#: Most design points one experiment may have (checked from the grid's value counts before
#: any point is built).
MAX_DESIGN_POINTS = 100_000
#: Most runs (design points × replicates) one experiment may have.
MAX_RUNS = 10_000_000

_WHAT = "experiment"

# --------------------------------------------------------------------------------------------
# scenarios: ids and dotted-key updates


def scenario_id(scenario: BaseModel) -> str:
    """The content hash of a scenario, its id.

    ``scenario.content_hash`` (an attribute, property or method) when the model has one, else
    the SHA-256 of its canonical JSON (``model_dump(mode="json")``, keys sorted).

    Parameters
    ----------
    scenario : pydantic.BaseModel
        The scenario.

    Returns
    -------
    str
        The hash as text.
    """
    value = getattr(scenario, "content_hash", None)
    if callable(value):
        value = value()
    if isinstance(value, str) and value:
        return value
    text = json.dumps(
        scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """Numpy scalars and arrays (from a design table) as Python values; tuples as lists."""
    if hasattr(value, "item") and hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist") and hasattr(value, "dtype"):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _lookup(data: Any, parts: Sequence[str]) -> tuple[bool, Any]:
    for part in parts:
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False, None
    return True, data


def _set_path(data: dict[str, Any], obj: Any, key: str, value: Any) -> str | None:
    """Set ``key`` (dotted; list items by index) in nested dumped data; an error or None.

    ``obj`` is the model ``data`` was dumped from, walked alongside: a missing name is refused
    on a model (it has no such field) and accepted on a free-form mapping field.
    """
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, dict):
            fields = type(obj).model_fields if isinstance(obj, BaseModel) else None
            if part not in node and (fields is not None or not last):
                known = ", ".join(sorted(map(str, fields if fields is not None else node)))
                return f"no field {where!r} in the scenario (fields here: {known or 'none'})"
            if last:
                node[part] = value  # a new key of a free-form mapping; checked after validation
                return None
            node = node[part]
            obj = getattr(obj, part, None) if fields is not None else (
                obj.get(part) if isinstance(obj, Mapping) else None
            )
        elif isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return f"{where!r}: expected an index below {len(node)} into a list"
            if last:
                node[int(part)] = value
                return None
            node = node[int(part)]
            obj = obj[int(part)] if isinstance(obj, Sequence) else None
        else:
            parent = ".".join(parts[:depth])
            return f"{parent!r} is a value ({type(node).__name__}), it has no field {part!r}"
    return None  # pragma: no cover - loop always returns


def with_values(base: BaseModel, values: Mapping[str, Any], *, what: str = _WHAT) -> BaseModel:
    """A copy of ``base`` with dotted field paths set, validated like a new scenario.

    A scenario with its own ``with_updates(mapping)`` (:class:`commgov.sim.Scenario`)
    does the update itself; for any other pydantic model the fields are set in its
    ``model_dump`` and the result re-validated with ``model_validate``.

    Parameters
    ----------
    base : pydantic.BaseModel
        The base scenario (not changed).
    values : mapping of str to object
        Dotted field path → new value (``"submodels.notification.volunteers": 10``); list
        items are addressed by index (``"points.0.lanes"``).
    what : str
        What is being built, for error messages.

    Returns
    -------
    pydantic.BaseModel
        A new scenario of the same class.

    Raises
    ------
    commgov.errors.InputError
        When a path names no field, or the new scenario does not validate.
    """
    if not values:
        return base
    own = getattr(base, "with_updates", None)
    if callable(own):  # the scenario knows how to re-validate itself (commgov.sim.Scenario)
        try:
            updated = own({k: _plain(v) for k, v in values.items()})
        except InputError as exc:
            raise type(exc)(exc.issues, what=what) from None
        if not isinstance(updated, BaseModel):
            raise TypeError(f"{type(base).__name__}.with_updates returned {updated!r}")
        return updated
    cls = type(base)
    computed = set(getattr(cls, "model_computed_fields", {}))
    data = base.model_dump(mode="python", round_trip=True, exclude=computed or None)
    issues = []
    for key, value in values.items():
        error = _set_path(data, base, key, _plain(value))
        if error is not None:
            issues.append(InputIssue(what, key, value, error))
    if issues:
        raise InputError(issues, what=what)
    try:
        new = cls.model_validate(data)
    except ValidationError as exc:
        raise InputError.from_validation(exc, data, record=what, what=what) from None
    dumped = new.model_dump(mode="python", round_trip=True)
    for key, value in values.items():
        present, _ = _lookup(dumped, key.split("."))
        if not present:
            raise InputError.single(what, key, value, "no such field in the scenario", what=what)
    return new


# --------------------------------------------------------------------------------------------
# experiments


@dataclass(frozen=True, slots=True)
class DesignPoint:
    """One scenario of an experiment.

    Attributes
    ----------
    index : int
        Position in the design (0-based): grid order, or the design table's row order.
    values : mapping of str to object
        The varied values of this point, dotted path → value.
    scenario : pydantic.BaseModel
        The base scenario with these values set.
    scenario_id : str
        The scenario's content hash.
    """

    index: int
    values: Mapping[str, Any]
    scenario: BaseModel
    scenario_id: str


class Experiment:
    """A base scenario, what varies, replicates and a root seed.

    Parameters
    ----------
    base : pydantic.BaseModel
        The base scenario (a :class:`commgov.sim.Scenario`, or any pydantic model a
        runner understands).
    grid : mapping of str to sequence, optional
        Factorial design: dotted field path → values. Every combination is one design point,
        the first key varying slowest (like :func:`itertools.product`).
    replicates : int, default 1
        Replicates per design point, numbered ``0 … replicates-1``.
    root_seed : int, default 0
        Root of every random stream (``SeedSequence(root_seed, spawn_key=(replicate, …))``).
    design : sequence of mapping, optional
        Any design instead of a grid: one mapping (dotted path → value) per design point, all
        with the same keys. See also :meth:`from_dataframe`.

    Attributes
    ----------
    base : pydantic.BaseModel
    keys : tuple of str
        The varied paths, in grid or design-table column order.
    points : tuple of DesignPoint
        Every scenario, validated when the experiment is made.
    replicates : int
    root_seed : int

    Raises
    ------
    commgov.errors.InputError
        If a path names no field of the scenario, or a varied scenario does not validate.
    ValueError
        If the grid or design is malformed (empty value lists, differing keys, both given).

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> class Toy(BaseModel):
    ...     volunteers: int = 20
    >>> exp = Experiment(Toy(), {"volunteers": [20, 10, 5]}, replicates=100, root_seed=1)
    >>> [p.scenario.volunteers for p in exp.points], exp.n_tasks
    ([20, 10, 5], 300)
    """

    __slots__ = ("_base", "_keys", "_points", "_replicates", "_root_seed")

    def __init__(
        self,
        base: BaseModel,
        grid: Mapping[str, Sequence[Any]] | None = None,
        *,
        replicates: int = 1,
        root_seed: int = 0,
        design: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        if not isinstance(base, BaseModel):
            raise TypeError(
                f"base must be a scenario (a pydantic model), got {type(base).__name__}"
            )
        if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
            raise ValueError(f"replicates must be a whole number ≥ 1, got {replicates!r}")
        if isinstance(root_seed, bool) or not isinstance(root_seed, int) or root_seed < 0:
            raise ValueError(f"root_seed must be a whole number ≥ 0, got {root_seed!r}")
        if grid is not None and design is not None:
            raise ValueError("give either grid or design, not both")
        rows, keys = self._rows(grid, design)
        check_size(
            "experiment: runs (design points × replicates)",
            len(rows) * replicates,
            MAX_RUNS,
            "use fewer design points or replicates, or split the sweep",
        )
        points = []
        for index, values in enumerate(rows):
            what = f"design point {index} ({_describe(values)})"
            scenario = with_values(base, values, what=what)
            points.append(DesignPoint(index, values, scenario, scenario_id(scenario)))
        self._base = base
        self._keys = keys
        self._points = tuple(points)
        self._replicates = replicates
        self._root_seed = root_seed

    @staticmethod
    def _rows(
        grid: Mapping[str, Sequence[Any]] | None, design: Sequence[Mapping[str, Any]] | None
    ) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        if design is not None:
            if isinstance(design, Mapping | str) or not isinstance(design, Iterable):
                raise TypeError("design must be a sequence of mappings (one per design point)")
            rows = [{str(k): _plain(v) for k, v in dict(row).items()} for row in design]
            if not rows:
                raise ValueError("design has no rows")
            keys = tuple(rows[0])
            for i, row in enumerate(rows):
                if tuple(row) != keys:
                    raise ValueError(f"design row {i} has keys {list(row)}, row 0 has {list(keys)}")
        else:
            grid = dict(grid or {})
            for key, values in grid.items():
                if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
                    raise TypeError(f"grid[{key!r}] must be a list of values, got {values!r}")
            lists = {str(k): [_plain(v) for v in vs] for k, vs in grid.items()}
            for key, values in lists.items():
                if not values:
                    raise ValueError(f"grid[{key!r}] has no values")
            keys = tuple(lists)
            check_size(
                "experiment: design points of the grid",
                math.prod(len(v) for v in lists.values()),
                MAX_DESIGN_POINTS,
                "vary fewer fields or fewer values at once, or give a design of chosen points",
            )
            combos = itertools.product(*lists.values())
            rows = [dict(zip(keys, combo, strict=True)) for combo in combos]
        for key in keys:
            if not key or any(not part for part in key.split(".")):
                raise ValueError(f"{key!r} is not a dotted field path (like 'a.b.c')")
            if key in FIXED_COLUMNS:
                raise ValueError(f"{key!r} cannot be varied: it is a column of the sweep table")
        return rows, keys

    @classmethod
    def from_dataframe(
        cls, base: BaseModel, df: pd.DataFrame, *, replicates: int = 1, root_seed: int = 0
    ) -> Experiment:
        """An experiment whose design points are the rows of a table.

        Parameters
        ----------
        base : pydantic.BaseModel
            The base scenario.
        df : pandas.DataFrame
            One row per design point, one column per dotted field path (from SALib,
            :mod:`scipy.stats.qmc`, a spreadsheet ...). Numpy values become Python values.
        replicates : int, default 1
            Replicates per design point.
        root_seed : int, default 0
            The root seed.

        Returns
        -------
        Experiment
            Design point ``i`` is row ``i`` (in the table's order, whatever its index).
        """
        columns = [str(c) for c in df.columns]
        if len(set(columns)) != len(columns):
            raise ValueError(f"design table has repeated columns: {columns}")
        rows = [dict(zip(columns, row, strict=True)) for row in df.itertuples(index=False)]
        return cls(base, replicates=replicates, root_seed=root_seed, design=rows)

    def _with_replicates(self, replicates: int) -> Experiment:
        """The same design points (not validated again) with another number of replicates."""
        check_size(
            "experiment: runs (design points × replicates)",
            len(self._points) * replicates,
            MAX_RUNS,
            "use fewer design points or replicates, or split the sweep",
        )
        new = object.__new__(Experiment)
        new._base, new._keys, new._points = self._base, self._keys, self._points
        new._replicates, new._root_seed = replicates, self._root_seed
        return new

    @property
    def base(self) -> BaseModel:
        """The base scenario."""
        return self._base

    @property
    def keys(self) -> tuple[str, ...]:
        """The varied dotted paths, in table column order."""
        return self._keys

    @property
    def points(self) -> tuple[DesignPoint, ...]:
        """Every design point, in design order."""
        return self._points

    @property
    def replicates(self) -> int:
        """Replicates per design point."""
        return self._replicates

    @property
    def root_seed(self) -> int:
        """The root seed of every random stream."""
        return self._root_seed

    @property
    def n_tasks(self) -> int:
        """Number of (design point, replicate) runs."""
        return len(self._points) * self._replicates

    def __repr__(self) -> str:
        return (
            f"Experiment({type(self._base).__name__}, {len(self._points)} point(s) over "
            f"{list(self._keys)}, replicates={self._replicates}, root_seed={self._root_seed})"
        )


def _describe(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items()) or "the base scenario"

