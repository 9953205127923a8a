"""Scenarios as data: a pydantic :class:`Scenario` read from TOML or JSON, with a content hash.

A scenario says *what* is simulated — which community (a dataset by name and seed), from
when (a tz-aware instant), for how long (minutes), and which submodels run with which
parameters and policies — and holds no callables. Policies are named
(:mod:`commgov.sim._policies`); submodels are looked up in the engine's registry
(:func:`commgov.sim.register_submodel`). The scenario stores every parameter normalised
(defaults filled in, policy names in their short form), so its canonical JSON and
:attr:`Scenario.content_hash` identify what runs.

Example (``examples/scenarios/huchiyuan_lockdown.toml``)::

    schema_version = "1.0"
    name = "huchiyuan_lockdown"
    start = 2022-04-11T19:00:00+08:00
    horizon_min = 1440

    [community]
    dataset = "gusu"
    seed = 0
    community = "320508017016"

    [submodels.notification]
    volunteers = 20
    read_delay = { name = "lognormal", median_min = 6.0, sigma = 1.0 }
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, Field, ValidationError, model_validator

from commgov._input import parse_json, parse_toml, read_text
from commgov._records import FrozenModel
from commgov.errors import InputError, InputIssue
from commgov.types import Line, Text, no_personal_number

__all__ = ["SCENARIO_SCHEMA_VERSION", "CommunitySpec", "Scenario"]

#: Layout version of scenario files.
SCENARIO_SCHEMA_VERSION: Literal["1.0"] = "1.0"

_WHAT = "scenario"
#: Longest horizon accepted: 60 days, in minutes.
MAX_HORIZON_MIN = 60 * 24 * 60.0


class CommunitySpec(FrozenModel):
    """Which community a scenario runs on: a dataset by name and seed, and a community code.

    Parameters
    ----------
    dataset : str, default "gusu"
        Dataset loader: ``"gusu"`` (:func:`commgov.datasets.gusu`, restricted to the
        community) or ``"synthetic_community"`` (:func:`commgov.datasets.synthetic_community`).
    seed : int, default 0
        Dataset seed (≥ 0); not the simulation's root seed.
    community : str
        Official code of what is simulated: a 12-digit community code (``"320508017016"`` =
        虎池苑社区), or, with the ``"gusu"`` dataset, a 9-digit sub-district code
        (``"320508017"`` = 白洋湾街道) or the 6-digit district code (``"320508"`` = 姑苏区,
        all 171 communities). An area runs every enabled submodel once per community in it,
        with the same parameters, in community-code order (:func:`commgov.sim.run_replicate`).
    """

    dataset: Literal["gusu", "synthetic_community"] = "gusu"
    seed: int = Field(default=0, ge=0, le=2**64 - 1)
    community: str = Field(pattern=r"^\d{6}(\d{3}){0,2}$")

    @model_validator(mode="after")
    def _known_community(self) -> CommunitySpec:
        from commgov._catalog import dataset_provider

        provider = dataset_provider(self.dataset)
        if provider is None or provider.areas is None:
            if len(self.community) != 12:
                raise ValueError(f"dataset {self.dataset!r} needs a 12-digit community code")
            return self
        areas = provider.areas()
        if len(self.community) < 12 and self.community not in areas:
            raise ValueError(
                f"area {self.community!r} is not Gusu's district code or one of its "
                f"sub-district codes ({', '.join(sorted(areas))})"
            )
        codes = provider.communities() if provider.communities is not None else None
        if len(self.community) == 12 and codes is not None and self.community not in codes:
            raise ValueError(
                f"community {self.community!r} is not one of Gusu's {len(codes)} community "
                "codes (list them with `commgov communities`)"
            )
        return self

    @property
    def is_area(self) -> bool:
        """Whether :attr:`community` is a district or sub-district (several communities)."""
        return len(self.community) < 12


class Scenario(FrozenModel):
    """A simulation scenario (frozen; build with the constructor or ``from_*``).

    Construction validates everything and raises :class:`commgov.errors.InputError` listing
    each issue with its dotted field (``submodels.notification.channel.name``), value and rule
    — unknown fields, unknown submodels and unknown policies (with the known names) included.

    Parameters
    ----------
    schema_version : str, default "1.0"
        Layout version.
    name : str
        Short name (used in outputs).
    description : str, default ""
        Free text.
    community : CommunitySpec
        Dataset and community.
    start : datetime
        Timezone-aware instant of simulated minute 0.
    horizon_min : float, default 1440
        Simulated minutes (0 < horizon ≤ 86,400 = 60 days).
    submodels : dict
        Submodel name → parameters (``enabled`` plus the submodel's own; see each
        submodel's params record, e.g. :class:`commgov.sim.NotificationParams`). Stored
        normalised as JSON-ready dicts.

    Examples
    --------
    >>> s = Scenario.from_toml('''
    ... name = "demo"
    ... start = 2022-04-11T19:00:00+08:00
    ... community = { community = "320508017016" }
    ... ''')
    >>> s.horizon_min, len(s.content_hash)
    (1440.0, 64)
    >>> Scenario.from_json(s.to_json()) == s
    True
    """

    schema_version: Literal["1.0"] = SCENARIO_SCHEMA_VERSION
    name: Annotated[Line, AfterValidator(no_personal_number)] = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=5000)
    community: CommunitySpec
    start: AwareDatetime
    horizon_min: float = Field(default=1440.0, gt=0.0, le=MAX_HORIZON_MIN, allow_inf_nan=False)
    submodels: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def __init__(self, /, **data: Any) -> None:
        issues: list[InputIssue] = []
        subs = data.get("submodels", {})
        if isinstance(subs, Mapping):
            normal: dict[str, dict[str, Any]] = {}
            for name in sorted(subs):
                normal_params = _normalise_submodel(str(name), subs[name], issues)
                if normal_params is not None:
                    normal[str(name)] = normal_params
            data = {**data, "submodels": normal}
        try:
            super().__init__(**data)
        except ValidationError as exc:
            issues = [*InputError.from_validation(exc, data, record="scenario").issues, *issues]
        if issues:
            raise InputError(issues, what=_WHAT)

    # ------------------------------------------------------------------ reading, writing

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from a mapping (as read from TOML or JSON); see the class for errors."""
        if not isinstance(data, Mapping):
            raise InputError.single("scenario", "", type(data).__name__,
                                    "a scenario must be a table/object", what=_WHAT)
        return cls(**{str(k): v for k, v in data.items()})

    @classmethod
    def from_toml(cls, source: str | Path) -> Scenario:
        """Read a scenario from TOML text or a ``.toml`` file path.

        Parameters
        ----------
        source : str or pathlib.Path
            A :class:`~pathlib.Path`, a one-line string ending in ``.toml`` (a path), or
            TOML text.

        Raises
        ------
        commgov.errors.InputError
            On a TOML syntax error (with its line) or any scenario issue.
        FileNotFoundError
            If a path is given and does not exist.
        """
        return cls.from_dict(parse_toml(_read(source, ".toml"), label="scenario", what=_WHAT))

    @classmethod
    def from_json(cls, source: str | bytes | Path) -> Scenario:
        """Read a scenario from JSON text or a ``.json`` file path (as :meth:`from_toml`)."""
        text = source if isinstance(source, bytes) else _read(source, ".json")
        return cls.from_dict(parse_json(text, label="scenario", what=_WHAT))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field (normalised)."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces, UTF-8 characters kept."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, allow_nan=False)

    @property
    def content_hash(self) -> str:
        """sha256 hex digest of :meth:`to_json`: the scenario's id."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def with_updates(self, updates: Mapping[str, Any]) -> Scenario:
        r"""A copy with dotted fields replaced, re-validated.

        Parameters
        ----------
        updates : mapping of str to object
            Dotted field → new value, e.g. ``{"submodels.notification.volunteers": 10,
            "submodels.notification.phone_tree.fanout": 2}``.

        Raises
        ------
        commgov.errors.InputError
            If a dotted field does not exist or a new value is refused.

        Examples
        --------
        >>> s = Scenario.from_toml('name = "x"\nstart = 2022-04-11T19:00:00+08:00\n'
        ...                        'community = { community = "320508017016" }')
        >>> s.with_updates({"horizon_min": 60}).horizon_min
        60.0
        """
        data = self.to_dict()
        for key in sorted(updates):
            parts = key.split(".")
            node: Any = data
            for i, part in enumerate(parts[:-1]):
                if not isinstance(node, dict) or part not in node:
                    raise InputError.single("scenario", key, updates[key],
                                            f"no field {'.'.join(parts[:i + 1])!r} to update",
                                            what=_WHAT)
                node = node[part]
            if not isinstance(node, dict) or parts[-1] not in node:
                raise InputError.single("scenario", key, updates[key], "no such field",
                                        what=_WHAT)
            node[parts[-1]] = updates[key]
        return type(self).from_dict(data)


def _read(source: str | Path, suffix: str) -> str:
    if not isinstance(source, str | Path):
        raise TypeError(
            f"a scenario source is TOML/JSON text or a path, not {type(source).__name__} "
            "(use Scenario.from_dict for a parsed mapping)"
        )
    if isinstance(source, Path):
        return read_text(source)
    if "\n" not in source and source.strip().endswith(suffix):
        return read_text(source.strip())
    return source


def _normalise_submodel(name: str, raw: object, issues: list[InputIssue]) -> dict[str, Any] | None:
    from commgov.sim._engine import get_submodel

    try:
        sub = get_submodel(name)
    except InputError as exc:
        issues.extend(exc.issues)
        return None
    if not isinstance(raw, Mapping):
        issues.append(InputIssue("scenario", f"submodels.{name}", type(raw).__name__,
                                 "must be a table of parameters"))
        return None
    try:
        params = sub.params.model_validate(dict(raw))
    except ValidationError as exc:
        # data=None: an error inside a list keeps its position as the record part
        # ("seal_buildings[1]", "categories[0]"), which goes back into the dotted field
        for i in InputError.from_validation(exc, None, record="scenario").issues:
            where = "" if i.record == "scenario" else f"{i.record}."
            issues.append(InputIssue("scenario",
                                     f"submodels.{name}.{where}{i.field}".rstrip("."),
                                     i.value, i.constraint))
        return None
    dumped: dict[str, Any] = params.model_dump(mode="json")
    return dumped
