"""Who is acting, and the access rules every writing service checks."""

from __future__ import annotations

from dataclasses import dataclass

from portal.errors import PermissionDenied
from portal.models import Role


@dataclass(frozen=True)
class Actor:
    """The person or process behind a change, as the change log names it."""

    label: str
    role: Role | None = None
    user_id: int | None = None
    agency_id: int | None = None
    entity_id: int | None = None
    system: bool = False

    @classmethod
    def cli(cls, name: str = "cli") -> Actor:
        """An operator at the command line, trusted like the server itself."""
        return cls(label=name, system=True)

    @classmethod
    def anonymous(cls) -> Actor:
        """A member of the public who has not signed in."""
        return cls(label="anonymous")


def may_manage_register(actor: Actor) -> bool:
    """Admins and operators maintain entities and jurisdictions."""
    return actor.system or actor.role == Role.ADMIN


def may_create_entity(actor: Actor) -> bool:
    """Regulators may add the entity a new finding is about."""
    return may_manage_register(actor) or actor.role == Role.REGULATOR


def may_act_for_agency(actor: Actor, agency_id: int) -> bool:
    """Only a regulator of that agency (or an operator) writes its findings."""
    if actor.system:
        return True
    return actor.role == Role.REGULATOR and actor.agency_id == agency_id


def require(allowed: bool, what: str) -> None:
    """Refuse with one clear message when a rule says no."""
    if not allowed:
        raise PermissionDenied(f"You are not allowed to {what}.")
