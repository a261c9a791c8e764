"""A mapped import in two steps: plan every row (reads only), then write the plan.

Planning maps, validates and matches every row against dicts read once per
jurisdiction and agency, so a dry run is the plan alone and writes nothing. The
write step creates agencies, entities and records in the caller's transaction
and rescores each touched entity once at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from portal.errors import NotFound, PermissionDenied, PortalError, ValidationFailed
from portal.models import Agency, Record, utcnow
from portal.services.access import Actor, may_act_for_agency, may_manage_register, require
from portal.services.duplicates import resembling
from portal.services.imports.mapping import ColumnMapping
from portal.services.imports.match import EntityMatcher, EntityRef
from portal.services.imports.read import HeaderCheck, Row, required_columns
from portal.services.imports.report import (
    EntitySummary,
    ImportReport,
    RowError,
    SkippedRow,
    describe,
)
from portal.services.imports.specs import ValueSpec
from portal.services.imports.transform import MappedRow, RowMapper, Skip
from portal.services.imports.write import rescore, write_records
from portal.services.records import RecordInput, parse_record
from portal.services.register import create_agency

OTHER_AGENCY_REASON = "is another agency's finding"
T = TypeVar("T")


class Rollback(Exception):
    """Raised inside the transaction to undo a dry run or a failed import."""


@dataclass(frozen=True)
class Planned:
    """One row that will become a published record."""

    row: int
    line: int
    agency: str
    entity: EntityRef
    data: RecordInput


class MappedImport:
    """Plans and writes the rows of one file through one mapping."""

    def __init__(
        self,
        mapping: ColumnMapping,
        actor: Actor,
        agency_slug: str | None,
        params: Mapping[str, str],
        report: ImportReport,
    ) -> None:
        """Check the mapping's parameters and how the agency is chosen, before any row."""
        self.mapping = mapping
        self.actor = actor
        self.mapper = RowMapper(mapping, params)
        self.report = report
        fixed = mapping.agency is None or mapping.agency.value is not None
        if mapping.agency is None and not agency_slug:
            raise ValidationFailed(
                f"Mapping {mapping.name} does not choose an agency; name one (--agency SLUG).",
                {"agency": "is required with this mapping"},
            )
        # A fixed agency is replaced by the one named; a per-row agency is filtered by it.
        self.agency_override = agency_slug if fixed else None
        self.agency_filter = None if fixed else agency_slug
        self.today = utcnow().date()
        self.planned: list[Planned] = []
        self._agencies: dict[str, Agency] = {}
        self._new_agencies: list[str] = []
        self._source_ids: dict[str, dict[str, int]] = {}
        self.matcher: EntityMatcher | None = None

    def header_check(self) -> HeaderCheck:
        """Refuse a CSV file lacking a column the mapping reads."""
        return required_columns(self.mapping.columns(), self.mapping.name)

    def plan(self, session: Session, rows: Iterable[Row]) -> None:
        """Map, check and match every row, reading but never writing; note every bad row."""
        self.matcher = EntityMatcher(session, by_address=self.mapping.match == "name_and_address")
        named = self.agency_override or self.agency_filter
        if named and named not in self.mapping.agencies and not self._exists(session, named):
            raise NotFound(f"No agency has the slug {named!r}.")
        for number, line, raw in rows:
            self.report.rows += 1
            try:
                outcome = self._plan_row(session, number, line, raw)
            except PermissionDenied:
                raise
            except PortalError as exc:
                self.report.errors.append(RowError(number, line, describe(exc)))
                continue
            if isinstance(outcome, Skip):
                self.report.skipped.append(SkippedRow(number, line, outcome.reason, outcome.detail))
            elif outcome is None:
                self.report.present += 1
            else:
                self.planned.append(outcome)
        self._summarise(session)

    @staticmethod
    def _exists(session: Session, slug: str) -> bool:
        """True when the register has an agency with this slug."""
        return session.exec(select(Agency.id).where(Agency.slug == slug)).first() is not None

    def write(self, session: Session) -> None:
        """Create what the plan says, in the caller's transaction, and rescore once."""
        if self.report.errors or self.matcher is None:
            raise Rollback
        agencies = {slug: self._created_agency(session, slug) for slug in self._agencies}
        plan = [(p.agency, p.entity, p.data) for p in self.planned]
        try:
            touched = write_records(session, self.actor, plan, agencies)
        except IntegrityError as exc:
            raise PortalError(
                "the register changed while the file was imported "
                f"({type(exc.orig).__name__}); nothing was imported, try again"
            ) from None
        rescore(session, touched)

    def _plan_row(
        self, session: Session, number: int, line: int, raw: Mapping[str, str | None]
    ) -> Planned | Skip | None:
        """One row's plan, a Skip, or None when its record is already in the register."""
        if "__error__" in raw:
            raise PortalError(raw["__error__"] or "cannot be read")
        mapped = self.mapper.apply(raw)
        if isinstance(mapped, Skip):
            return mapped
        slug = self.agency_override or mapped.agency or ""
        if self.agency_filter and slug != self.agency_filter:
            return Skip(f"{OTHER_AGENCY_REASON} (not {self.agency_filter})", slug)
        agency = self._agency(session, slug)
        record = self.mapping.record
        data = _prefixed(lambda: parse_record(mapped.record, agency, self.today), record)
        seen = self._seen_source_ids(session, agency)
        source_id = data.source_id or ""
        if seen.get(source_id) == 0:
            return None
        if source_id in seen:
            raise ValidationFailed(
                "Repeated source id.",
                {"record.source_id": f"{source_id!r} is also on row {seen[source_id]}"},
            )
        entity = self._entity(mapped)
        seen[source_id] = number
        return Planned(number, line, slug, entity, data)

    def _entity(self, mapped: MappedRow) -> EntityRef:
        """The planned entity of a mapped row."""
        assert self.matcher is not None
        matcher = self.matcher
        return _prefixed(lambda: matcher.resolve(mapped.entity), self.mapping.entity)

    def _agency(self, session: Session, slug: str) -> Agency:
        """The agency of a row: in the register, or declared by the mapping (created later)."""
        if slug in self._agencies:
            return self._agencies[slug]
        if not slug:
            spec = self.mapping.agency
            where = f" ({spec.source()})" if spec else ""
            raise ValidationFailed("No agency.", {"agency": f"is empty{where}"})
        agency = session.exec(select(Agency).where(Agency.slug == slug)).first()
        if agency is not None:
            require(
                may_act_for_agency(self.actor, agency.id or 0), f"write findings for {agency.name}"
            )
        else:
            decl = self.mapping.agencies.get(slug)
            if decl is None:
                raise ValidationFailed(
                    "Unknown agency.",
                    {"agency": f"no agency {slug!r} (mapping {self.mapping.name} declares none)"},
                )
            require(may_manage_register(self.actor), f"add the agency {decl.name}")
            # A new agency has no regulators yet: only the operator writes its first findings.
            require(may_act_for_agency(self.actor, -1), f"write findings for {decl.name}")
            # Not added to the session: it only lends its categories to the checks until written.
            agency = Agency(
                slug=slug,
                name=decl.name,
                jurisdiction_code=decl.jurisdiction,
                categories=list(decl.categories),
                requires_second_approval=decl.requires_second_approval,
            )
            self._new_agencies.append(slug)
        if agency.requires_second_approval and not self.actor.system:
            raise PermissionDenied(
                f"{agency.name} requires a second approval before publication; "
                "an import cannot publish its findings directly."
            )
        self._agencies[slug] = agency
        return agency

    def _created_agency(self, session: Session, slug: str) -> Agency:
        """The agency row, created through create_agency when the plan declared it new."""
        agency = self._agencies[slug]
        if agency.id is None:
            agency = create_agency(
                session,
                self.actor,
                agency.slug,
                agency.name,
                agency.jurisdiction_code,
                list(agency.categories),
                requires_second_approval=agency.requires_second_approval,
            )
            self._agencies[slug] = agency
        return agency

    def _seen_source_ids(self, session: Session, agency: Agency) -> dict[str, int]:
        """Source id → 0 for records in the register, or the row that first had it here."""
        if agency.slug not in self._source_ids:
            found: list[str | None] = []
            if agency.id is not None:
                found = list(
                    session.exec(
                        select(Record.source_id).where(
                            Record.agency_id == agency.id, col(Record.source_id).is_not(None)
                        )
                    ).all()
                )
            self._source_ids[agency.slug] = {s: 0 for s in found if s}
        return self._source_ids[agency.slug]

    def _summarise(self, session: Session) -> None:
        """Counts and names for the report, and which new entities look like existing ones
        (so that a row can be pointed at the right one before anything is written)."""
        assert self.matcher is not None
        self.report.created = len(self.planned)
        self.report.agencies_created = list(self._new_agencies)
        new = list(self.matcher.new)
        alike = resembling(session, [(n.data.name, n.data.jurisdiction) for n in new])
        self.report.entities_new = [
            EntitySummary(
                n.data.name,
                n.data.slug,
                n.rows,
                sorted(n.spellings),
                [f"{r.name} ({r.slug}, {r.jurisdiction})" for r in rows],
            )
            for n, rows in zip(new, alike, strict=True)
        ]
        self.report.entities_matched = [
            EntitySummary(e.name, e.slug, e.rows, sorted(e.spellings)) for e in self.matcher.matched
        ]


def _prefixed(call: Callable[[], T], specs: Mapping[str, ValueSpec]) -> T:
    """Run a parse, naming each bad field as the mapping does (`record.x`) with its source."""
    try:
        return call()
    except ValidationFailed as exc:
        details = exc.details if isinstance(exc.details, Mapping) else {}
        named = {}
        for key, reason in details.items():
            spec = specs.get(key)
            label = spec.key if spec else f"{_section(specs)}.{key}"
            named[label] = f"{reason} ({spec.source()})" if spec else reason
        raise ValidationFailed(exc.message, named) from None


def _section(specs: Mapping[str, ValueSpec]) -> str:
    """`record` or `entity`: the table a set of specs comes from."""
    first = next(iter(specs.values()), None)
    return first.key.split(".", 1)[0] if first else "row"
