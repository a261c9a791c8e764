"""Imports of entities and records from CSV or JSON Lines files, all rows or none.

The entry points are in `run.py` (`run_import`, `preview_import`). A mapped
import reads its modules in this order, one step each:

1. read: `read.py` checks the size and the encoding and yields CSV or JSON Lines
   rows (`staging.py` keeps an uploaded file between the preview and the commit);
2. map: `mapping.py` loads and checks a column mapping, whose value specs are in
   `specs.py`; `transform.py` turns one source row into our columns (or a skip);
3. match: `match.py` finds the entity a row names in the register, or plans a new one;
4. plan: `plan.py` maps, checks and matches every row, reading only (a dry run stops here);
5. write: `write.py` writes the plan in bulk and rescores each touched entity once;
6. report: `report.py` says what was (or would be) done, and every bad row.

`columns.py` holds the columns of the import format, which the exports and the
write API share. A file in our own columns skips the mapping: `run.py` reads it
and creates each row through the domain services.
"""
