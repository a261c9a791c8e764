"""The closed vocabularies of the register, stored as checked strings."""

from __future__ import annotations

from enum import StrEnum

from scoring.model import MEASURES


class EntityKind(StrEnum):
    """What sort of body an entity is."""

    BUSINESS = "business"
    SOCIAL_ORGANISATION = "social_organisation"
    GOVERNMENT_BODY = "government_body"
    OFFICIAL = "official"


class Nature(StrEnum):
    """Whether a record counts against or for an entity."""

    VIOLATION = "violation"
    COMMENDATION = "commendation"


class Severity(StrEnum):
    """How serious a finding is; the rulebook gives each its points."""

    MINOR = "minor"
    MODERATE = "moderate"
    SERIOUS = "serious"
    SEVERE = "severe"


class RecordStatus(StrEnum):
    """Where a record stands in the publishing and appeal workflow."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PUBLISHED = "published"
    UNDER_APPEAL = "under_appeal"
    OVERTURNED = "overturned"
    WITHDRAWN = "withdrawn"


PUBLIC_STATUSES = (RecordStatus.PUBLISHED, RecordStatus.UNDER_APPEAL)
# Records that left public view: the page and the feed say what happened, not the allegation.
ENDED_STATUSES = (RecordStatus.WITHDRAWN, RecordStatus.OVERTURNED)


class Role(StrEnum):
    """What a signed-in user may do."""

    ADMIN = "admin"
    REGULATOR = "regulator"
    REPRESENTATIVE = "representative"


class AppealStatus(StrEnum):
    """The state of an appeal against one record."""

    OPEN = "open"
    DISMISSED = "dismissed"
    GRANTED = "granted"
    AMENDED = "amended"


class ClaimStatus(StrEnum):
    """Where a claim to represent an entity stands."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class RequestStatus(StrEnum):
    """Where a correction request stands."""

    PENDING = "pending"
    APPLIED = "applied"
    DECLINED = "declined"


KIND_SINGULAR = {
    EntityKind.BUSINESS: "Business",
    EntityKind.SOCIAL_ORGANISATION: "Social organisation",
    EntityKind.GOVERNMENT_BODY: "Government body",
    EntityKind.OFFICIAL: "Public official",
}

KIND_LABELS = {
    EntityKind.BUSINESS: "Businesses",
    EntityKind.SOCIAL_ORGANISATION: "Social organisations",
    EntityKind.GOVERNMENT_BODY: "Government bodies",
    EntityKind.OFFICIAL: "Public officials",
}


# Kept from scoring's vocabulary, its one home: a rulebook prices each kind.
Measure = StrEnum("Measure", {kind.upper(): kind for kind in MEASURES})  # type: ignore[misc]
Measure.__doc__ = "What a record imposes: a debarment, suspension, listing, fine ..."
