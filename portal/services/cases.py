"""The measure a record imposes and the case it enforces: checks and the shared case key.

Records of one case (one bank's debarment, cross-debarred by others) share a key:
the case named by agency and id (folded), or the key of the originating record
when it is in the register (its own ref when it names no case).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, select

from portal.errors import ValidationFailed
from portal.models import Agency, Record, RecordStatus
from portal.services import fields


def check_measure_rules(data: Mapping[str, Any], errors: dict[str, str]) -> None:
    """A period belongs to a measure and runs forwards; a case id names its agency."""
    start, until = data.get("in_force_from"), data.get("in_force_until")
    if (start or until) and not data.get("measure"):
        errors.setdefault("measure", "is required with in_force_from or in_force_until")
    if start and until and until < start:
        errors.setdefault("in_force_until", "is before in_force_from")
    if data.get("case_id") and not data.get("case_agency"):
        errors.setdefault("case_agency", "is required with case_id")
    if data.get("case_record") and data.get("case_id"):
        errors.setdefault("case_record", "give either case_record or case_agency and case_id")


def case_key_of(session: Session, record: Record) -> str | None:
    """The key shared by every record of one case: the case named, or the origin's key."""
    if record.case_id:
        return f"{fields.fold_key(record.case_agency or '')}:{fields.fold_key(record.case_id)}"
    if record.case_record_id:
        origin = session.get(Record, record.case_record_id)
        if origin is not None:
            return origin.case_key or f"ref:{origin.ref}"
    return None


def case_origin(session: Session, ref: str | None, agency: Agency) -> int | None:
    """The id of the record a new one enforces, by ref; it must be public and another's."""
    if not ref:
        return None
    origin = session.exec(select(Record).where(Record.ref == ref.strip().upper())).first()
    if origin is None or origin.status not in (RecordStatus.PUBLISHED, RecordStatus.UNDER_APPEAL):
        raise ValidationFailed(
            "The case record is not valid.", {"case_record": f"no public record has ref {ref!r}"}
        )
    return origin.id
