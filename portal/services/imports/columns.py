"""The columns of the import format: what a file in our own columns, or a mapping, may name.

The open-data exports write the same columns (so an export imports again) and
the write API accepts the record columns as its JSON fields.
"""

from __future__ import annotations

ENTITY_COLUMNS = (
    "name",
    "kind",
    "jurisdiction",
    "slug",
    "sector",
    "registration_id",
    "aliases",
    "parent_slug",
    "address",
    "website",
    "role_title",
    "body_slug",
    "term_start",
    "term_end",
)
RECORD_COLUMNS = (
    "entity_slug",
    "entity_registration_id",
    "category",
    "severity",
    "title",
    "decided_on",
    "nature",
    "source_id",
    "summary",
    "statute",
    "occurred_on",
    "penalty_amount",
    "penalty_currency",
    "source_url",
    # A measure in force for a period, and the case a record enforces (issue 16).
    "measure",
    "in_force_from",
    "in_force_until",
    "case_agency",
    "case_id",
    "case_record",
)
# A mapped row's entity: the fields matched against the register or given to a new entity.
MATCHED_ENTITY_FIELDS = (
    "name",
    "kind",
    "jurisdiction",
    "sector",
    "address",
    "website",
    "registration_id",
)
# A mapping's [entity] table: those fields, or the slug of a known entity, or a slug to prefer.
MAPPED_ENTITY_FIELDS = (*MATCHED_ENTITY_FIELDS, "slug", "slug_hint")
# A mapping's [record] table names the record's own columns; its entity comes from [entity].
MAPPED_RECORD_FIELDS = tuple(c for c in RECORD_COLUMNS if not c.startswith("entity_"))
REQUIRED_RECORD_FIELDS = ("category", "severity", "title", "decided_on")
