"""The bases of every record class (private core).

Records are immutable pydantic models that reject unknown fields, so a typo in a field name
fails loudly instead of being dropped. :class:`FrozenRecord` also strips the white space
around strings, for records typed or imported by people (ids, names, notes).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["FrozenModel", "FrozenRecord"]


class FrozenModel(BaseModel):
    """Base of immutable records: frozen, no extra fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class FrozenRecord(FrozenModel):
    """Base of immutable input records: frozen, no extra fields, strings stripped."""

    model_config = ConfigDict(str_strip_whitespace=True)
