"""Every file format commgov reads or writes.

This first release writes JSON and formula-safe CSV atomically; JSON Schema comes from each
model's ``json_schema()``/``model_json_schema()``.
"""

from commgov.io._files import formula_safe, write_csv, write_json

__all__ = ["formula_safe", "write_csv", "write_json"]
