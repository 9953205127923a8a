"""Griffe extension for the API site: the constructor signature of record classes.

Pydantic models and attrs classes get their ``__init__`` at run time, so griffe, which reads
the source, sees none; their numpydoc ``Parameters`` sections (the fields) would then be
reported as "parameter does not appear in the function signature". This extension imports
each such class and gives it an ``__init__`` with the runtime signature (keyword parameters
annotated as the class's fields are), so that check still catches a parameter documented but
not in the signature.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


def _runtime_class(cls: griffe.Class) -> Any:
    try:
        obj: Any = importlib.import_module(cls.module.path)
        for part in cls.path[len(cls.module.path) + 1 :].split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj if inspect.isclass(obj) else None


def _is_record(obj: Any) -> bool:
    try:
        import pydantic

        if issubclass(obj, pydantic.BaseModel):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        import attrs

        return bool(attrs.has(obj))
    except ImportError:  # pragma: no cover
        return False


class RecordSignatures(griffe.Extension):
    """Give pydantic and attrs classes the ``__init__`` signature they have at run time."""

    def on_class(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        """Add the runtime ``__init__`` unless the class defines its own signature."""
        own = cls.members.get("__init__")
        if own is not None and [p.kind for p in own.parameters][1:] != [
            griffe.ParameterKind.var_keyword
        ]:
            return  # a real signature of its own (not just ``**data`` passed to pydantic)
        obj = _runtime_class(cls)
        if obj is None or not _is_record(obj):
            return
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):
            return
        params = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
        for p in signature.parameters.values():
            member = cls.members.get(p.name)
            annotation = getattr(member, "annotation", None) if member is not None else None
            default = None if p.default is inspect.Parameter.empty else repr(p.default)
            kind = _KINDS[p.kind]
            params.append(
                griffe.Parameter(p.name, annotation=annotation, kind=kind, default=default)
            )
        init = griffe.Function(
            "__init__",
            lineno=0,
            endlineno=0,
            parent=cls,
            parameters=griffe.Parameters(*params),
            returns="None",
        )
        init.labels.add("synthetic")
        cls.set_member("__init__", init)
