"""The register's tables; importing this module registers them all."""

from portal.models.accounts import ApiToken, User
from portal.models.audit import AuditEvent, Counter, ReportIssue
from portal.models.base import utcnow
from portal.models.due_process import Claim, CorrectionRequest, Notification
from portal.models.enums import (
    ENDED_STATUSES,
    KIND_LABELS,
    KIND_SINGULAR,
    PUBLIC_STATUSES,
    AppealStatus,
    ClaimStatus,
    EntityKind,
    Measure,
    Nature,
    RecordStatus,
    RequestStatus,
    Role,
    Severity,
)
from portal.models.records import Appeal, Record, RecordRevision, Response
from portal.models.register import Agency, DuplicateDecision, Entity, EntityAlias, Jurisdiction

__all__ = [
    "ENDED_STATUSES",
    "KIND_LABELS",
    "KIND_SINGULAR",
    "PUBLIC_STATUSES",
    "Agency",
    "ApiToken",
    "Appeal",
    "AppealStatus",
    "AuditEvent",
    "Claim",
    "ClaimStatus",
    "CorrectionRequest",
    "DuplicateDecision",
    "Notification",
    "RequestStatus",
    "Counter",
    "Entity",
    "EntityAlias",
    "EntityKind",
    "Jurisdiction",
    "Nature",
    "Record",
    "RecordRevision",
    "RecordStatus",
    "ReportIssue",
    "Response",
    "Role",
    "Measure",
    "Severity",
    "User",
    "utcnow",
]
