"""``commgov communities``: Gusu's communities with their official 12-digit codes."""

from __future__ import annotations

__all__ = ["run_communities"]


def run_communities() -> int:
    """Print one line per community: code, sub-district, name and kind."""
    from commgov.datasets import gusu_divisions

    model = gusu_divisions()
    areas = {a.id: a for a in model.areas}
    for community in model.communities:
        print(
            f"{community.id}  {areas[community.parent_id].short_name}  "
            f"{community.short_name}  ({community.kind})"
        )
    return 0
