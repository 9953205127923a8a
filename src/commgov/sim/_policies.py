"""Parameter records and the policy registry of the simulation (private; see ``commgov.sim``).

Scenarios hold no callables: a policy is named in a scenario file by its registered short name
(``"escalation"``) or by ``"module:qualname"`` of its class, where the module may be the one
that defines it or any module that exports it (``"commgov.sim:Escalation"``), with its
parameters beside the name::

    [submodels.notification.channel]
    name = "escalation"
    chase_after_min = 15

A policy is a frozen pydantic record (a subclass of :class:`PolicyParams`) registered with
:func:`register_policy` under a *kind* (``"channel"``, ``"activation"`` ...); its parameters
are its fields, its behaviour its methods. A scenario stores the normalised spec (the short
name and every parameter, defaults included), so two spellings of one policy hash alike.

An unknown name raises :class:`commgov.errors.InputError` naming the field, the value and the
known names. A ``"module:qualname"`` name whose module is not imported yet is imported (so a
spawned worker finds user policies); it must then be registered under the same kind.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import SerializerFunctionWrapHandler, ValidationError, model_serializer

from commgov.errors import InputError, InputIssue
from commgov.sim._params import Params

__all__ = [
    "PolicyParams",
    "get_policy",
    "make_policy",
    "policy_names",
    "register_policy",
]

_WHAT = "scenario"

P = TypeVar("P", bound="type[PolicyParams]")


class PolicyParams(Params):
    """Base of a registered policy: its fields are the parameters, its methods the behaviour.

    Attributes
    ----------
    policy_kind : str
        The kind it was registered under (class attribute, set by :func:`register_policy`).
    policy_name : str
        Its registered short name (class attribute).
    """

    policy_kind: ClassVar[str] = ""
    policy_name: ClassVar[str] = ""

    @model_serializer(mode="wrap")
    def _with_name(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        return {"name": self.policy_name, **data}

    def spec(self) -> dict[str, Any]:
        """The normalised spec: ``{"name": short name, **parameters}`` (JSON-ready)."""
        out: dict[str, Any] = self.model_dump(mode="json")
        return out


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    name: str
    qualname: str
    cls: type[PolicyParams]


#: kind → short name → entry; and kind → "module:qualname" → entry.
_BY_NAME: dict[str, dict[str, _Entry]] = {}
_BY_QUALNAME: dict[str, dict[str, _Entry]] = {}


def register_policy(name: str, *, kind: str) -> Callable[[P], P]:
    """Class decorator: register a :class:`PolicyParams` subclass as a policy.

    Parameters
    ----------
    name : str
        Short name used in scenario files (``"escalation"``); unique within ``kind``.
    kind : str
        What the policy decides (``"channel"``, ``"activation"``, ``"read_delay"`` ...).

    Returns
    -------
    callable
        The decorator; it returns the class unchanged (with ``policy_kind`` and
        ``policy_name`` set).

    Raises
    ------
    TypeError
        If the decorated object is not a :class:`PolicyParams` subclass.
    ValueError
        If ``name`` is already registered under ``kind`` by another class.
    """

    def decorate(cls: P) -> P:
        if not (isinstance(cls, type) and issubclass(cls, PolicyParams)):
            raise TypeError(f"policy {name!r} must be a PolicyParams subclass, not {cls!r}")
        qualname = f"{cls.__module__}:{cls.__qualname__}"
        known = _BY_NAME.setdefault(kind, {})
        old = known.get(name)
        if old is not None and old.qualname != qualname:
            raise ValueError(f"{kind} policy {name!r} is already registered by {old.qualname}")
        cls.policy_kind = kind
        cls.policy_name = name
        entry = _Entry(kind, name, qualname, cls)
        known[name] = entry
        _BY_QUALNAME.setdefault(kind, {})[qualname] = entry
        return cls

    return decorate


def policy_names(kind: str) -> list[str]:
    """Registered short names of one kind of policy, sorted."""
    return sorted(_BY_NAME.get(kind, {}))


def get_policy(kind: str, name: str, *, field: str = "name") -> type[PolicyParams]:
    """The class registered as ``name`` (short or ``module:qualname``) under ``kind``.

    Parameters
    ----------
    kind : str
        Policy kind.
    name : str
        Short name or ``"module:qualname"`` (the defining module, or an imported module that
        exports the class, e.g. ``"commgov.sim:ParetoDelay"``). Nothing is imported: names
        resolve through the registry that commgov and installed plugins fill.
    field : str, default "name"
        Dotted scenario field named by the error.

    Raises
    ------
    commgov.errors.InputError
        If no such policy is registered; the message lists the known names.
    """
    from commgov.sim._plugins import load_plugins

    entry = _lookup(kind, name)
    if entry is None:
        load_plugins()
        entry = _lookup(kind, name)
    if entry is None:
        known = ", ".join(policy_names(kind)) or "none"
        raise InputError.single(
            "scenario", field, name,
            f"unknown {kind} policy (scenario files name registered policies only; modules "
            f"are never imported); known: {known}", what=_WHAT)
    return entry.cls


def _lookup(kind: str, name: str) -> _Entry | None:
    """A registered entry by short name, ``module:qualname``, or a re-export of one by a module
    that is already imported (never importing one)."""
    entry = _BY_NAME.get(kind, {}).get(name) or _BY_QUALNAME.get(kind, {}).get(name)
    if entry is None and ":" in name:
        module, qualname = name.split(":", 1)
        loaded = sys.modules.get(module)
        if loaded is not None:
            entry = _exported(kind, loaded, qualname)
    return entry


def _exported(kind: str, module: object, qualname: str) -> _Entry | None:
    """The entry of the class that ``module`` exports as ``qualname`` (a re-export), if any."""
    obj: object = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    for entry in _BY_QUALNAME.get(kind, {}).values():
        if entry.cls is obj:
            return entry
    return None


def make_policy(kind: str, spec: object, *, field: str) -> PolicyParams:
    """Build a policy from its spec (``{"name": ..., **parameters}``, or a bare name).

    Parameters
    ----------
    kind : str
        Policy kind.
    spec : mapping or str or PolicyParams
        The spec from a scenario; a bare string is a name with default parameters.
    field : str
        Dotted scenario field of the spec, named by errors (``"submodels.notification.channel"``).

    Returns
    -------
    PolicyParams
        The validated policy.

    Raises
    ------
    commgov.errors.InputError
        If the name is missing or unknown or a parameter is refused; each issue names the
        field (``submodels.notification.channel.fanout``) and value.
    """
    if isinstance(spec, PolicyParams):
        if spec.policy_kind != kind:
            raise InputError.single(
                "scenario", field, spec.policy_name, f"is a {spec.policy_kind} policy, "
                f"not a {kind} policy", what=_WHAT)
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise InputError.single(
            "scenario", f"{field}.name", spec if isinstance(spec, str) else "<missing>",
            f"a {kind} policy needs a name; known: {', '.join(policy_names(kind))}",
            what=_WHAT)
    cls = get_policy(kind, spec["name"], field=f"{field}.name")
    params = {k: v for k, v in spec.items() if k != "name"}
    try:
        return cls.model_validate(params)
    except ValidationError as exc:
        issues = [
            InputIssue("scenario", f"{field}.{i.field}" if i.field else field, i.value,
                       i.constraint)
            for i in InputError.from_validation(exc, params).issues
        ]
        raise InputError(issues, what=_WHAT) from None
