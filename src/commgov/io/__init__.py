"""Every file format commgov reads or writes.

This first release writes JSON and formula-safe CSV atomically (several files together with
:func:`write_texts`: all or none); JSON Schema comes from each
model's ``json_schema()``/``model_json_schema()``.
"""

from commgov.io._files import (
    csv_text,
    formula_safe,
    json_text,
    write_csv,
    write_json,
    write_texts,
)

__all__ = ["csv_text", "formula_safe", "json_text", "write_csv", "write_json", "write_texts"]
