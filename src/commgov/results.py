"""The shared result contract and machine-readable reasons.

Every solver result carries a :class:`SolveInfo`: status, objective, bound and gap where known,
the options it ran with, the seed and the versions of the libraries involved. Anything left
unserved or unmatched carries :class:`Reason` records: a code with its parameters, a predicate
a verifier can check, rendered to English or Chinese on demand. Each planning family owns its
codes (a :class:`enum.StrEnum` registered with :func:`register_reasons`, values unique across
families); :class:`CommonReasonCode` holds the codes every family may use. Every
``<family>_lower_bound`` returns an :class:`ObjectiveBound`; every result derives from
:class:`PlanResult`.
Wall-clock times are deliberately not part of results, so that the same input, seed, options
and versions give byte-identical result JSON.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AfterValidator, BaseModel, Field, model_validator

from commgov._records import FrozenModel
from commgov.types import Id, no_personal_number

__all__ = [
    "REASONS",
    "CommonReasonCode",
    "LeftOut",
    "LeftOutReasonCode",
    "ObjectiveBound",
    "PlanResult",
    "Reason",
    "ReasonSpec",
    "SolveInfo",
    "SolveStatus",
    "check_lang",
    "library_versions",
    "reason_codes",
    "register_reasons",
]


class SolveStatus(StrEnum):
    """Outcome of a solve.

    ``OPTIMAL``: proven optimal for the stated objective. ``FEASIBLE``: a valid result whose
    optimality is not proven (``bound`` and ``gap`` say how far it may be). ``INFEASIBLE``: the
    hard rules admit no result at all (rare: most problems return a partial result with reasons
    instead). ``LIMIT``: a time or size limit stopped the solve before a complete result was
    found; what is returned (if anything) obeys the hard rules but is partial, and its reasons
    for what is left out are not all checked. ``CANCELLED``: the caller's ``cancel`` token
    stopped the run; what is returned is the best valid result found by then (partial where
    the planner had not finished, with ``bound`` and ``gap`` where known), never a
    half-built one.
    """

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    LIMIT = "LIMIT"
    CANCELLED = "CANCELLED"


#: Chinese names of parameter values, by parameter, used by ``text("zh")`` (families add theirs
#: through :func:`register_reasons`).
_ZH_VALUES: dict[str, dict[str, str]] = {}


@dataclass(frozen=True, slots=True)
class ReasonSpec:
    """What one registered reason code takes and how it reads.

    Attributes
    ----------
    family : str
        The planning family that owns the code (``"matching"``, ``"sampling"`` …).
    code : enum.StrEnum
        The code, a member of the family's code enum.
    required, optional : frozenset of str
        Parameter names.
    texts : dict
        ``""`` → the (English, Chinese) templates; ``"without <name>"`` → the variant used when
        the optional parameter ``<name>`` is absent.
    """

    family: str
    code: StrEnum
    required: frozenset[str]
    optional: frozenset[str]
    texts: dict[str, tuple[str, str]]


#: Every registered reason code, by its value (values are unique across families, so a code in
#: JSON names one rule).
REASONS: dict[str, ReasonSpec] = {}


def register_reasons(
    family: str,
    codes: type[StrEnum],
    params: Mapping[Any, tuple[Iterable[str], Iterable[str]]],
    texts: Mapping[Any, tuple[str, str]],
    zh_values: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Register a family's reason codes with their parameters and texts.

    Parameters
    ----------
    family : str
        The family's name.
    codes : type of enum.StrEnum
        The family's code enum; every member must have ``params`` and a text.
    params : mapping
        Code → (required parameter names, optional parameter names).
    texts : mapping
        Code → (English, Chinese) template, formatted with the parameters; a key
        ``(code, "without <name>")`` gives the variant for when optional ``<name>`` is absent.
    zh_values : mapping, optional
        Parameter name → {value → Chinese}: values shown translated by ``text("zh")``.

    Raises
    ------
    ValueError
        If a code lacks parameters or a text, or its value is already registered by another
        family (codes are unique across families).
    """
    for code in codes:
        owner = REASONS.get(code.value)
        if owner is not None and owner.family != family:
            raise ValueError(
                f"reason code {code.value} is already registered by family {owner.family!r}"
            )
        if code not in params or code not in texts:
            raise ValueError(f"reason code {code.value} of {family!r} needs params and a text")
        required, optional = params[code]
        variants = {"": texts[code]}
        for key, value in texts.items():
            if isinstance(key, tuple) and key[0] == code:
                variants[key[1]] = value
        REASONS[code.value] = ReasonSpec(
            family, code, frozenset(required), frozenset(optional), variants
        )
    for name, mapping in (zh_values or {}).items():
        _ZH_VALUES.setdefault(name, {}).update(mapping)


def reason_codes(family: str) -> list[StrEnum]:
    """The reason codes registered by ``family``, in registration order."""
    return [spec.code for spec in REASONS.values() if spec.family == family]


def _registered(value: Any) -> StrEnum:
    spec = REASONS.get(str(value))
    if spec is None:
        raise ValueError(
            f"unknown reason code {value!r} (registered: {', '.join(sorted(REASONS))})"
        )
    return spec.code


class Reason(FrozenModel):
    """A reason code with its parameters.

    Parameters
    ----------
    code : enum.StrEnum or str
        What happened: a code registered by a family (:func:`register_reasons`), given as the
        family's enum member or its string value; stored as the enum member.
    params : dict of str to str, int or float
        The code's parameters: all required ones, optional ones when known, nothing else.

    Raises
    ------
    pydantic.ValidationError
        If the code is not registered, a required parameter is missing or an unknown one is
        given.

    Examples
    --------
    >>> import commgov.matching, commgov.scheduling
    >>> r = Reason(code="TOO_FAR", params={"distance_m": 1450, "limit_m": 1000})
    >>> r.text()
    'the nearest volunteer with the skill is 1450 m away (limit 1000 m)'
    >>> r.text("zh")
    '具备该技能的最近志愿者距离1450米（上限1000米）'
    >>> Reason(code="NO_POINT_IN_REACH", params={"limit_m": 1170}).text("zh")
    '没有允许该楼栋使用、开放且有容量的采样点（步行上限1170米）'
    """

    code: Annotated[str, AfterValidator(_registered)]
    params: dict[str, str | int | float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_params(self) -> Self:
        spec = REASONS[self.code]
        required, optional = spec.required, spec.optional
        missing = sorted(required - self.params.keys())
        unknown = sorted(self.params.keys() - required - optional)
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown {', '.join(unknown)}")
            expected = ", ".join(sorted(required)) or "none"
            raise ValueError(
                f"params of {self.code}: {'; '.join(parts)} "
                f"(required: {expected}; optional: {', '.join(sorted(optional)) or 'none'})"
            )
        return self

    @property
    def family(self) -> str:
        """The family that registered the code."""
        return REASONS[self.code].family

    def text(self, lang: str = "en") -> str:
        """Render the reason in ``"en"`` or ``"zh"``.

        Raises
        ------
        ValueError
            If ``lang`` is neither ``"en"`` nor ``"zh"``.
        """
        check_lang(lang)
        spec = REASONS[self.code]
        key = ""
        for name in sorted(spec.optional - self.params.keys()):
            if f"without {name}" in spec.texts:
                key = f"without {name}"
        template = spec.texts[key][0 if lang == "en" else 1]
        params = self.params
        if lang == "zh":
            params = {
                k: _ZH_VALUES[k].get(v, v) if k in _ZH_VALUES and isinstance(v, str) else v
                for k, v in params.items()
            }
        return template.format(**params)


def check_lang(lang: object) -> str:
    """Check a ``lang`` argument: ``"en"`` or ``"zh"``.

    Raises
    ------
    commgov.errors.InvalidParameterError
        For any other value (a ``ValueError`` and a ``TypeError``).
    """
    from commgov._options import check_choice

    return check_choice("lang", "lang", lang, ("en", "zh"))


class CommonReasonCode(StrEnum):
    """Reason codes every family may use: a run stopped before an item could be tried."""

    TIME_LIMIT_REACHED = "TIME_LIMIT_REACHED"
    CANCELLED = "CANCELLED"


register_reasons(
    "common",
    CommonReasonCode,
    {
        CommonReasonCode.TIME_LIMIT_REACHED: ({"time_limit_s"}, ()),
        CommonReasonCode.CANCELLED: ((), ()),
    },
    {
        CommonReasonCode.TIME_LIMIT_REACHED: (
            "not placed: the time limit ({time_limit_s} s) was reached before it could be "
            "tried (status LIMIT; raise the limit)",
            "未安排：尚未尝试即已达到时间上限（{time_limit_s}秒）；请放宽时间上限",
        ),
        CommonReasonCode.CANCELLED: (
            "not placed: the run was cancelled before it could be tried",
            "未安排：运行已被取消，尚未尝试",
        ),
    },
)


class LeftOutReasonCode(StrEnum):
    """Why a builder (``*_problem_from_org``) left a record of the model out of a problem."""

    NO_LOCATION = "NO_LOCATION"
    """Neither the record nor its home building has a position."""
    NOT_AVAILABLE = "NOT_AVAILABLE"
    """The person is not available in the problem's window."""
    NOT_ENROLLED = "NOT_ENROLLED"
    """The person is not enrolled in the enrolment the builder was asked for."""
    NO_PARTNER = "NO_PARTNER"
    """Teams are pairs and no partner was left for this person."""
    NO_HOUSEHOLDS = "NO_HOUSEHOLDS"
    """The building has no household to serve."""
    NO_LANES = "NO_LANES"
    """The site is marked as a sampling point but has no lanes."""
    NOT_A_FOOTPRINT = "NOT_A_FOOTPRINT"
    """A map feature without a polygon (a point, a line, no geometry)."""
    TOO_SMALL = "TOO_SMALL"
    """A footprint smaller than the importer's smallest building (a shed, a kiosk)."""
    NO_UNIT_IN_REACH = "NO_UNIT_IN_REACH"
    """No neighbourhood unit is near enough to take the building."""
    OUTSIDE_AREAS = "OUTSIDE_AREAS"
    """The building lies in none of the given unit areas."""
    CLAIM_NOT_PINNED = "CLAIM_NOT_PINNED"
    """A task claimed by a volunteer whom the problem cannot hold to it (out of the
    problem's scope or reach, or past a capacity): the claimer serves it, matching does not."""


register_reasons(
    "builders",
    LeftOutReasonCode,
    {
        LeftOutReasonCode.NO_LOCATION: ((), ()),
        LeftOutReasonCode.NOT_AVAILABLE: ((), ()),
        LeftOutReasonCode.NOT_ENROLLED: ({"enrolment"}, ()),
        LeftOutReasonCode.NO_PARTNER: ((), ()),
        LeftOutReasonCode.NO_HOUSEHOLDS: ((), ()),
        LeftOutReasonCode.NO_LANES: ((), ()),
        LeftOutReasonCode.NOT_A_FOOTPRINT: ((), ()),
        LeftOutReasonCode.TOO_SMALL: ({"area_m2", "min_m2"}, ()),
        LeftOutReasonCode.NO_UNIT_IN_REACH: ((), ()),
        LeftOutReasonCode.OUTSIDE_AREAS: ((), ()),
        LeftOutReasonCode.CLAIM_NOT_PINNED: ({"volunteer_id"}, ()),
    },
    {
        LeftOutReasonCode.NO_LOCATION: (
            "left out: no position, and no home building with one",
            "未纳入：无位置信息，居住楼栋也无位置",
        ),
        LeftOutReasonCode.NOT_AVAILABLE: (
            "left out: not available in the window",
            "未纳入：该时段内不可用",
        ),
        LeftOutReasonCode.NOT_ENROLLED: (
            "left out: not enrolled in {enrolment}",
            "未纳入：未加入{enrolment}",
        ),
        LeftOutReasonCode.NO_PARTNER: (
            "left out: teams are pairs and no partner was left",
            "未纳入：按两人一组编队，没有剩余的搭档",
        ),
        LeftOutReasonCode.NO_HOUSEHOLDS: (
            "left out: no household to serve",
            "未纳入：没有需要服务的住户",
        ),
        LeftOutReasonCode.NO_LANES: (
            "left out: marked as a sampling point but has no lanes",
            "未纳入：标为采样点但没有采样台",
        ),
        LeftOutReasonCode.NOT_A_FOOTPRINT: (
            "left out: the map feature has no polygon",
            "未纳入：地图要素不是面",
        ),
        LeftOutReasonCode.TOO_SMALL: (
            "left out: footprint {area_m2} m², smaller than {min_m2} m²",
            "未纳入：占地{area_m2}平方米，小于{min_m2}平方米",
        ),
        LeftOutReasonCode.NO_UNIT_IN_REACH: (
            "left out: no neighbourhood unit near enough",
            "未纳入：附近没有可归属的小区或街巷",
        ),
        LeftOutReasonCode.OUTSIDE_AREAS: (
            "left out: in none of the given areas",
            "未纳入：不在任何给定范围内",
        ),
        LeftOutReasonCode.CLAIM_NOT_PINNED: (
            "left out: claimed by {volunteer_id}, whom this problem cannot hold to it (out of "
            "scope or reach, or no room left); the claimer serves it",
            "未纳入：已由{volunteer_id}认领，但其不在本次匹配范围内或已无余量，由认领人完成",
        ),
    },
)


class LeftOut(FrozenModel):
    """A record of the organisation model that a builder did not put into a problem, and why.

    Every ``*_problem_from_org`` builder accounts for the records it considers: each is in
    the problem or in its ``left_out`` (records in = records placed + records reported).

    Attributes
    ----------
    record : str
        The model record's id (a person, building or site).
    kind : {"person", "building", "site", "footprint", "task"}
        What the record is (a footprint: a map feature, record ``feature/<index>``; a task:
        a claimed task a live matching problem leaves to its claimer).
    code : LeftOutReasonCode
        Why it was left out.
    params : dict of str to str
        The code's parameters (``enrolment`` for ``NOT_ENROLLED``).

    Examples
    --------
    >>> r = LeftOut(record="p1", kind="person", code="NOT_ENROLLED",
    ...             params={"enrolment": "海棠先锋"})
    >>> r.text()
    'left out: not enrolled in 海棠先锋'
    """

    record: Id
    kind: Literal["person", "building", "site", "footprint", "task"]
    code: LeftOutReasonCode
    params: dict[
        Annotated[str, Field(max_length=40)],
        Annotated[str, Field(max_length=200), AfterValidator(no_personal_number)],
    ] = Field(default_factory=dict, max_length=8)

    @model_validator(mode="after")
    def _known_params(self) -> Self:
        self.reason  # noqa: B018 - the code's parameter rule, as for every reason
        return self

    @property
    def reason(self) -> Reason:
        """The same as a :class:`Reason` (registered family ``"builders"``)."""
        return Reason(code=self.code, params=dict(self.params))

    def text(self, lang: str = "en") -> str:
        """Render why, in ``"en"`` or ``"zh"`` (see :meth:`Reason.text`)."""
        return self.reason.text(lang)


def library_versions(*packages: str) -> dict[str, str]:
    """Versions of commgov, Python and the named packages (``"missing"`` if absent)."""
    from commgov import __version__

    out = {"commgov": __version__, "python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def _content_hash_text(value: str) -> str:
    from commgov._hashing import is_content_hash

    if not is_content_hash(value):
        raise ValueError("must be a content hash 'sha256:<64 hex digits>'")
    return value


class SolveInfo(FrozenModel):
    """The result contract every solver fills in.

    Attributes
    ----------
    status : SolveStatus
        Outcome (see :class:`SolveStatus`).
    solver : str
        Which algorithm produced the result (``"cp-sat"``, ``"min-cost-flow"`` ...).
    objective : dict of str to float
        The objective tiers in lexicographic order, by name (``{"served": ..., "walk_m": ...}``).
    bound : float or None
        A proven bound on the main minimised tier, when known.
    gap : float or None
        ``(objective - bound) / bound`` on the main tier, when both are known.
    options : dict
        The options the solver ran with, so a run can be repeated.
    seed : int or None
        The seed used, if the solver is randomised.
    versions : dict of str to str
        commgov, Python and solver library versions.
    stopped_by : {"cancel", "wall_clock"} or None
        What cut the search short, when something other than its own stopping rule or its
        deterministic work budget did: ``"cancel"`` (the caller's token) or ``"wall_clock"``
        (the time limit, a safety cap). A result with ``stopped_by="wall_clock"`` may differ
        between runs on machines of different speed; every other result repeats byte for byte.
        Always ``None`` when the status is ``OPTIMAL`` or ``INFEASIBLE``: a proven result was
        not cut short, whatever was noticed after the proof.
    model_hash, problem_hash : str or None
        Content hashes (``"sha256:<hex>"`` of the canonical JSON) of the organisation model
        and the problem the result was computed from, set by :meth:`PlanResult.stamped` (and
        kept by :mod:`commgov.store`), so a cache can tell when the result is stale; not
        written when ``None``.
    """

    status: SolveStatus
    solver: str
    objective: dict[str, float] = Field(default_factory=dict)
    bound: float | None = None
    gap: float | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    stopped_by: Literal["cancel", "wall_clock"] | None = None
    model_hash: Annotated[str, AfterValidator(_content_hash_text)] | None = Field(
        default=None, exclude_if=lambda v: v is None
    )
    problem_hash: Annotated[str, AfterValidator(_content_hash_text)] | None = Field(
        default=None, exclude_if=lambda v: v is None
    )

    @model_validator(mode="after")
    def _proven_is_not_cut_short(self) -> Self:
        if self.stopped_by is not None and self.status in (
            SolveStatus.OPTIMAL,
            SolveStatus.INFEASIBLE,
        ):
            object.__setattr__(self, "stopped_by", None)
        return self


class PlanResult(FrozenModel):
    """Base of every planner's result: JSON, flat rows and a data frame, one way each.

    Subclasses are frozen pydantic models with an ``info: SolveInfo`` field; they list their
    row columns in :attr:`ROW_COLUMNS` and build the rows in :meth:`_rows`.
    """

    #: Column names of :meth:`rows`, in order (so an empty result still has a CSV header).
    ROW_COLUMNS: ClassVar[tuple[str, ...]] = ()

    def to_json(self, indent: int | None = None) -> str:
        """The result as JSON, byte-identical for identical results.

        Parameters
        ----------
        indent : int or None, default None
            Pretty-print indentation; ``None`` for compact JSON.
        """
        return self.model_dump_json(indent=indent)

    def stamped(self, *, problem: BaseModel | None = None, model: BaseModel | None = None) -> Self:
        """A copy whose ``info`` carries the content hashes of what it was computed from.

        Parameters
        ----------
        problem : pydantic.BaseModel, optional
            The problem the result solves (its hash goes to ``info.problem_hash``).
        model : commgov.org.OrgModel, optional
            The organisation model the problem was built from (``info.model_hash``).

        Returns
        -------
        PlanResult
            The same result, with the hashes set (the others left as they were).

        Raises
        ------
        TypeError
            If ``problem`` or ``model`` is not a pydantic record.

        Notes
        -----
        O(size of their JSON): ``gusu()`` (24 MB) hashes in about half a second. Hashes are
        those of :func:`commgov.store.content_hash` (SHA-256, NIST FIPS 180-4).

        Examples
        --------
        >>> from commgov.matching import MatchingProblem, match_volunteers
        >>> p = MatchingProblem(timezone="Asia/Shanghai")
        >>> r = match_volunteers(p).stamped(problem=p)
        >>> r.info.problem_hash.startswith("sha256:")
        True
        """
        from commgov._hashing import content_hash

        update: dict[str, str] = {}
        for name, record in (("problem_hash", problem), ("model_hash", model)):
            if record is not None:
                if not isinstance(record, BaseModel):
                    raise TypeError(
                        f"{name[:-5]} must be a pydantic record, not {type(record).__name__}"
                    )
                update[name] = content_hash(record)
        info = getattr(self, "info", None)
        if not update or info is None:
            return self
        return self.model_copy(update={"info": info.model_copy(update=update)})

    def rows(self, lang: str = "en") -> list[dict[str, Any]]:
        """One flat row per item of the result (for CSV), keys :attr:`ROW_COLUMNS`.

        Parameters
        ----------
        lang : {"en", "zh"}, default "en"
            Language of reason texts.

        Raises
        ------
        ValueError
            If ``lang`` is neither ``"en"`` nor ``"zh"``.
        """
        return self._rows(check_lang(lang))

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} defines no rows")

    def to_frame(self, lang: str = "en") -> Any:
        """:meth:`rows` as a :class:`pandas.DataFrame` (columns :attr:`ROW_COLUMNS`).

        pandas is installed with OR-Tools, a core dependency.
        """
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]

        return pd.DataFrame(self.rows(lang), columns=list(self.ROW_COLUMNS))


class ObjectiveBound(FrozenModel):
    """A proven bound on a family's objective: what every ``<family>_lower_bound`` returns.

    Attributes
    ----------
    family : str
        The family (``"sampling"``, ``"door_to_door"`` …).
    method : str
        How the bound was proven (``"min-cost-flow relaxation"``, ``"analytic"`` …).
    tiers : dict of str to float
        Objective tier → bound, in the objective's lexicographic order, in the tier's own unit
        (named in the key: ``walk_person_m`` person-metres, ``makespan_s`` seconds …). For a
        maximised tier (``served``) the bound is an upper bound; for a minimised tier a lower
        bound, valid for results that reach the earlier tiers' bounds.
    main : str
        The tier on which a result's ``info.gap`` is measured (a key of ``tiers``).
    figures : dict of str to float
        Other figures computed with the bound (``reachable_people`` …).

    Examples
    --------
    >>> b = ObjectiveBound(family="demo", method="analytic", tiers={"makespan_s": 600.0},
    ...                    main="makespan_s")
    >>> b.value
    600.0
    """

    family: str
    method: str
    tiers: dict[str, float]
    main: str
    figures: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _main_is_a_tier(self) -> Self:
        if self.main not in self.tiers:
            raise ValueError(f"main tier {self.main!r} is not one of the tiers {list(self.tiers)}")
        return self

    @property
    def value(self) -> float:
        """The bound on the main tier."""
        return self.tiers[self.main]

    def gap(self, objective: float) -> float | None:
        """``(objective − bound) / bound`` on the main tier (``None`` when the bound is 0)."""
        bound = self.value
        return None if bound == 0 else (objective - bound) / bound
