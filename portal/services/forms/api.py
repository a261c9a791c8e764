"""The regulators' write API: bearer tokens, JSON in, the same services as the workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.db import Database
from portal.errors import ValidationFailed
from portal.models import Agency, Entity, Record, utcnow
from portal.services.access import Actor
from portal.services.accounts import actor_for, user_for_token
from portal.services.entities import entity_for_row
from portal.services.forms.workspace import act_on_record, agency_of
from portal.services.imports.columns import RECORD_COLUMNS
from portal.services.records import create_record, parse_record, publish_record


def actor_for_token(db: Database, raw: str) -> Actor | None:
    """The regulator behind a live bearer token, or None."""
    with db.session() as session:
        user = user_for_token(session, raw)
    return actor_for(user) if user else None


def _text_fields(body: Mapping[str, Any]) -> dict[str, str | None]:
    """JSON values as the strings the field parsers read; unknown or wrongly typed refused."""
    allowed = set(RECORD_COLUMNS) | {"publish"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        shown = {k[:60]: "is not a record field" for k in unknown[:20]}
        if len(unknown) > 20:
            shown["..."] = f"and {len(unknown) - 20} more unknown fields"
        raise ValidationFailed("Unknown fields.", shown)
    wrong = {
        key: "must be a string or a number"
        for key, value in body.items()
        if key != "publish"
        and (isinstance(value, bool) or not isinstance(value, str | int | float | None))
    }
    if "publish" in body and not isinstance(body["publish"], bool):
        wrong["publish"] = "must be true or false"
    if wrong:
        raise ValidationFailed("Some fields have the wrong type.", wrong)
    return {k: None if v is None else str(v) for k, v in body.items() if k != "publish"}


def create_record_from_json(
    db: Database, actor: Actor, body: Mapping[str, Any]
) -> tuple[Record, str, str]:
    """Create a draft (and publish it when asked and allowed) from a JSON body."""
    row = _text_fields(body)
    with db.writing() as session:
        agency = agency_of(session, actor)
        data = parse_record(row, agency, utcnow().date())
        entity = entity_for_row(session, row)
        record = create_record(session, actor, agency, entity, data)
        if body.get("publish") is True:
            publish_record(session, actor, record)
        session.flush()
        session.expunge(record)
    return record, entity.slug, agency.slug


def record_action_from_json(
    db: Database, actor: Actor, ref: str, action: str, body: Mapping[str, Any]
) -> tuple[Record, str, str]:
    """One workflow step on a record through the API."""
    form = {k: "" if v is None else str(v) for k, v in body.items()}
    with db.writing() as session:
        record = act_on_record(session, actor, ref, action, form)
        session.flush()
        slugs = (session.get(Entity, record.entity_id), session.get(Agency, record.agency_id))
        session.expunge(record)
    return record, slugs[0].slug if slugs[0] else "", slugs[1].slug if slugs[1] else ""
