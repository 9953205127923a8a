"""Every file format commgov reads or writes, and personal data at the boundary.

* Files: JSON and formula-safe CSV, written atomically (several files together with
  :func:`write_texts`: all or none).
* Import: :func:`import_community` builds an organisation model from an app's tables (CSV,
  JSON or row mappings), all or nothing, with per-row errors (:class:`TableImportError`);
  :func:`import_footprints` adds buildings from map footprints (GeoJSON polygons), their
  households estimated and marked so, every feature placed or reported.
* The three lists (published as tables in practice): :func:`import_lists` reads needs,
  resources and projects from CSV, JSON or rows, all or nothing, with per-row errors;
  :func:`export_lists` writes formula-safe CSV, personal data masked by default.
* Coordinates: :func:`gcj02_to_wgs84` and :func:`wgs84_to_gcj02` convert the datum of
  Chinese web maps at the boundary (all systems and the one ``crs`` option:
  :mod:`commgov.crs`); commgov keeps WGS84 inside.
* Exports: :func:`record_schemas` (JSON Schema of every record), :func:`export_json` (the
  model, masked, optionally pseudonymised), :func:`to_geojson` (places, RFC 7946) and
  :func:`to_popolo` (organisations, people, posts, memberships).
* Personal data: fields marked ``{"sensitive": True}`` (:func:`commgov.org.sensitive_fields`)
  are masked
  (:data:`MASK`) in errors, logs and exports; :func:`pseudonym` makes keyed, stable ids.
* Sampling plans: :func:`sampling_csv_texts` (per point and per building),
  :func:`sampling_ics` (iCalendar, extra ``ical``) and :func:`building_notices` (zh/en).
"""

from commgov._files import (
    csv_text,
    formula_safe,
    json_text,
    write_csv,
    write_json,
    write_texts,
)
from commgov.crs import CHINA_BOX, gcj02_to_wgs84, in_china_box, wgs84_to_gcj02
from commgov.io._export import (
    GEOJSON_PLACES,
    PersonalData,
    export_json,
    record_schemas,
    to_geojson,
    to_popolo,
    write_record_schemas,
)
from commgov.io._footprints import FootprintImport, import_footprints
from commgov.io._ids import IdMap
from commgov.io._import import (
    IMPORT_TABLES,
    CommunityImport,
    TableImportError,
    import_community,
)
from commgov.io._lists_csv import (
    LIST_COLUMNS,
    LIST_TABLES,
    export_lists,
    import_lists,
    lists_csv_texts,
)
from commgov.io._privacy import MASK, MIN_KEY_BYTES, pseudonym
from commgov.io._sampling_export import sampling_csv_texts
from commgov.io._sampling_ics import calendar_available, sampling_ics, sampling_uid_namespace
from commgov.io._sampling_notices import building_notices
from commgov.io._tables import TableIssue, TableSource

__all__ = [
    "CHINA_BOX",
    "GEOJSON_PLACES",
    "IMPORT_TABLES",
    "LIST_COLUMNS",
    "LIST_TABLES",
    "MASK",
    "MIN_KEY_BYTES",
    "CommunityImport",
    "FootprintImport",
    "IdMap",
    "PersonalData",
    "TableImportError",
    "TableIssue",
    "TableSource",
    "building_notices",
    "calendar_available",
    "csv_text",
    "export_json",
    "export_lists",
    "formula_safe",
    "gcj02_to_wgs84",
    "import_community",
    "import_footprints",
    "import_lists",
    "in_china_box",
    "json_text",
    "lists_csv_texts",
    "pseudonym",
    "record_schemas",
    "sampling_csv_texts",
    "sampling_ics",
    "sampling_uid_namespace",
    "to_geojson",
    "to_popolo",
    "wgs84_to_gcj02",
    "write_csv",
    "write_json",
    "write_record_schemas",
    "write_texts",
]
