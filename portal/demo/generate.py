"""Deterministic fictional entities and the life of their records, batch by batch."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker
from slugify import slugify

from portal.demo import reference as ref
from portal.models import PUBLIC_STATUSES
from portal.services.appeals import OUTCOMES
from portal.services.records import REVISION_FIELDS
from scoring.model import SEVERITIES
from search.names import name_key

KIND_WEIGHTS = (
    ("business", 62),
    ("social_organisation", 14),
    ("government_body", 14),
    ("official", 10),
)
RESPONSE_TEXTS = (
    "We accept the finding and have changed our procedures; an independent audit followed.",
    "We disagree with the severity of this finding and have appealed it.",
    "The issue was fixed within a week of the inspection and staff were retrained.",
    "We have co-operated fully with the regulator and published our own report.",
)


def _b36(n: int) -> str:
    """A short base-36 number, to keep demo slugs unique and readable."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


@dataclass
class Batch:
    """Rows of one batch, each a dict of column values, plus the events to log."""

    entities: list[dict[str, Any]] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    # Per record: ordered (when, action, extra payload, record state) steps.
    histories: dict[str, list[tuple[datetime, str, dict[str, Any], dict[str, Any]]]] = field(
        default_factory=dict
    )
    revisions: list[dict[str, Any]] = field(default_factory=list)
    appeals: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)


class DemoGenerator:
    """Makes entities and records; the same seed and day give the same data."""

    def __init__(self, seed: int, today: date, agency_ids: dict[str, int]) -> None:
        """Remember the seed, the day the demo is anchored to, and the agencies' ids."""
        self.seed = seed
        self.today = today
        self.agency_ids = agency_ids
        self.currency = {code: cur for code, _p, _l, cur in ref.JURISDICTIONS}
        self.locale = {code: loc for code, _p, loc, _c in ref.JURISDICTIONS}
        self.parent = {code: parent for code, parent, _l, _c in ref.JURISDICTIONS}
        self._agencies_for: dict[tuple[str, str], list[ref.DemoAgency]] = {}

    def fakers(self, batch_no: int) -> dict[str, Faker]:
        """One seeded Faker per locale for a batch."""
        out = {}
        for locale in sorted(set(self.locale.values())):
            fake = Faker(locale)
            fake.seed_instance(f"{self.seed}:{batch_no}:{locale}")
            out[locale] = fake
        return out

    def agencies_for(self, jurisdiction: str, kind: str) -> list[ref.DemoAgency]:
        """Agencies over a jurisdiction (or its parents) that publish about this kind."""
        key = (jurisdiction, kind)
        if key not in self._agencies_for:
            chain, code = set(), jurisdiction
            while code:
                chain.add(code)
                code = self.parent.get(code) or ""
            allowed = ref.KIND_CATEGORIES[kind]
            self._agencies_for[key] = [
                a for a in ref.AGENCIES if a.jurisdiction in chain and allowed & set(a.categories)
            ]
        return self._agencies_for[key]

    def batch(self, batch_no: int, first_id: int, count: int, next_record_id: int) -> Batch:
        """Generate `count` entities from id `first_id`, with all their records."""
        rng = random.Random(f"demo:{self.seed}:{batch_no}")
        fakers = self.fakers(batch_no)
        out = Batch()
        state = _BatchState(next_record_id)
        for entity_id in range(first_id, first_id + count):
            entity = self._entity(rng, fakers, entity_id, out, state)
            self._records_for(rng, entity, out, state)
        return out

    def _entity(
        self,
        rng: random.Random,
        fakers: dict[str, Faker],
        entity_id: int,
        out: Batch,
        state: _BatchState,
    ) -> dict[str, Any]:
        """One entity row, with its aliases appended to the batch."""
        jurisdiction = _weighted(rng, ref.ENTITY_JURISDICTIONS)
        country = jurisdiction.split("-")[0]
        kind = _weighted(rng, KIND_WEIGHTS)
        if kind == "official" and (country not in {"GB", "US"} or not state.bodies.get(country)):
            kind = "government_body"
        fake = fakers[self.locale[jurisdiction]]
        row = _blank_entity(entity_id, kind, jurisdiction, self.today)
        row["sector"] = rng.choice(ref.SECTORS[kind])
        name, aliases = self._name(rng, fake, kind, jurisdiction, row, state)
        row.update(name=name, name_key=name_key(name))
        row["slug"] = f"{slugify(name, max_length=60, word_boundary=True)}-{_b36(entity_id)}"
        row["registration_id"] = _registration_id(rng, kind, country)
        for alias, former in aliases:
            out.aliases.append(
                {
                    "entity_id": entity_id,
                    "name": alias,
                    "name_key": name_key(alias),
                    "former": former,
                }
            )
        if kind == "government_body":
            state.bodies.setdefault(country, []).append(entity_id)
        out.entities.append(row)
        return row

    def _name(
        self,
        rng: random.Random,
        fake: Faker,
        kind: str,
        jurisdiction: str,
        row: dict[str, Any],
        state: _BatchState,
    ) -> tuple[str, list[tuple[str, bool]]]:
        """A realistic name and its aliases; officials get their office too."""
        country = jurisdiction.split("-")[0]
        if kind == "official":
            row["role_title"] = rng.choice(ref.ROLE_TITLES)
            row["body_id"] = rng.choice(state.bodies[country])
            start = self.today - timedelta(days=rng.randint(200, 4000))
            row["term_start"] = start
            if rng.random() < 0.4:
                row["term_end"] = min(start + timedelta(days=rng.randint(365, 1900)), self.today)
            return fake.name(), []
        if kind == "government_body":
            patterns = ref.BODY_PATTERNS.get(country, ref.BODY_PATTERNS["default"])
            return rng.choice(patterns).format(fake.city()), []
        if kind == "social_organisation":
            patterns = ref.SOCIAL_PATTERNS.get(country, ref.SOCIAL_PATTERNS["default"])
            return rng.choice(patterns).format(fake.city()), []
        return self._business_name(rng, fake, country, row, state)

    def _business_name(
        self, rng: random.Random, fake: Faker, country: str, row: dict[str, Any], state: _BatchState
    ) -> tuple[str, list[tuple[str, bool]]]:
        """A company name with its legal form, sometimes a group's subsidiary."""
        forms = ref.LEGAL_FORMS.get(country, ref.LEGAL_FORMS["GB"])
        short, long_form = rng.choice(forms)
        groups = state.groups.setdefault(country, [])
        if groups and rng.random() < 0.12:
            parent_id, base = rng.choice(groups)
            row["parent_id"] = parent_id
            base = f"{base} {rng.choice(('Services', 'Logistics', 'Retail', 'Holdings', 'Energy'))}"
        else:
            base = self._business_base(rng, fake, country)
            if rng.random() < 0.05:
                groups.append((row["id"], base))
        aliases: list[tuple[str, bool]] = []
        if rng.random() < 0.3:
            aliases.append((f"{base} {long_form}", False))
        if rng.random() < 0.08:
            aliases.append((f"{fake.last_name()} & {fake.last_name()} {short}", True))
        return f"{base} {short}", aliases

    def _business_base(self, rng: random.Random, fake: Faker, country: str) -> str:
        """A company name before its legal form: surnames, sometimes with a trade."""
        roll = rng.random()
        if roll < 0.2:
            base = f"{fake.last_name()} & {fake.last_name()}"
        elif roll < 0.3:
            base = f"{fake.last_name()}-{fake.last_name()}"
        else:
            base = fake.last_name()
        if rng.random() < 0.6:
            words = ref.TRADE_WORDS.get(country, ref.TRADE_WORDS["default"])
            base = f"{base} {rng.choice(words)}"
        return base

    def _records_for(
        self, rng: random.Random, entity: dict[str, Any], out: Batch, state: _BatchState
    ) -> None:
        """Zero or more records about an entity, each with its whole history."""
        if rng.random() < 0.3:
            return
        count = min(1 + int(rng.expovariate(1 / 5.8)), 60)
        if entity["kind"] == "official":
            count = min(count, 4)
        agencies = self.agencies_for(entity["jurisdiction_code"], entity["kind"])
        if not agencies:
            return
        for _ in range(count):
            agency = rng.choice(agencies)
            life = RecordLife(self, rng, entity, agency, state.take_record_id())
            life.build(out)


class _BatchState:
    """Counters and lookups shared by the entities of one batch."""

    def __init__(self, next_record_id: int) -> None:
        """Start record ids where the last batch stopped."""
        self.next_record_id = next_record_id
        self.bodies: dict[str, list[int]] = {}
        self.groups: dict[str, list[tuple[int, str]]] = {}

    def take_record_id(self) -> int:
        """The next record id."""
        self.next_record_id += 1
        return self.next_record_id - 1


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    """Pick one value by integer weights."""
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


def _blank_entity(entity_id: int, kind: str, jurisdiction: str, today: date) -> dict[str, Any]:
    """An entity row with every optional column empty."""
    stamp = datetime.combine(today, time(9), tzinfo=UTC)
    return {
        "id": entity_id,
        "kind": kind,
        "jurisdiction_code": jurisdiction,
        "parent_id": None,
        "body_id": None,
        "role_title": None,
        "term_start": None,
        "term_end": None,
        "address": None,
        "website": None,
        "score": None,
        "band": None,
        "trusted": False,
        "watchlist": False,
        "score_rulebook": None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def _registration_id(rng: random.Random, kind: str, country: str) -> str | None:
    """A registration number in the style of the country's register."""
    if kind in {"official", "government_body"}:
        return None
    if kind == "social_organisation" and country == "GB":
        return f"GB-CHC-{rng.randint(200000, 1199999)}"
    if kind == "social_organisation" and country == "DE":
        return f"VR {rng.randint(1000, 99999)}"
    n = rng.randint(10**7, 10**8 - 1)
    return {
        "GB": f"{n:08d}",
        "US": f"{n // 10 % 100:02d}-{n % 10**7:07d}",
        "DE": f"HRB {n % 10**5}",
        "FR": f"{n % 10**9:09d}",
        "ES": f"B{n:08d}",
        "IE": f"{n % 10**6:06d}",
    }[country]


def _at(day: date, rng: random.Random) -> datetime:
    """A working-hours moment on a day, in UTC."""
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=UTC)


class RecordLife:
    """One record from draft to its current state, as rows and logged steps."""

    def __init__(
        self,
        gen: DemoGenerator,
        rng: random.Random,
        entity: dict[str, Any],
        agency: ref.DemoAgency,
        record_id: int,
    ) -> None:
        """Pick what the record is about; its history is built by build()."""
        self.gen, self.rng, self.entity, self.agency = gen, rng, entity, agency
        self.today = gen.today
        allowed = ref.KIND_CATEGORIES[entity["kind"]]
        violations = [c for c in agency.categories if c in allowed]
        praise = [c for c in agency.categories if c in ref.COMMENDATION_CATEGORIES]
        commend = bool(praise) and rng.random() < 0.12
        category = rng.choice(praise if commend or not violations else violations)
        decided = self.today - timedelta(days=rng.randint(0, 6 * 365))
        occurred = decided - timedelta(days=rng.randint(0, 180)) if rng.random() < 0.8 else None
        if occurred and entity["term_start"] and occurred < entity["term_start"]:
            occurred = None
        self.row = {
            "id": record_id,
            "entity_id": entity["id"],
            "agency_id": gen.agency_ids[agency.slug],
            "nature": "commendation" if category in ref.COMMENDATION_CATEGORIES else "violation",
            "category": category,
            "severity": rng.choices(SEVERITIES, (40, 35, 18, 7))[0],
            "title": rng.choice(ref.TITLES[category]),
            "summary": None,
            "statute": rng.choice(ref.STATUTES[category]) if category in ref.STATUTES else None,
            "occurred_on": occurred,
            "decided_on": decided,
            "published_at": None,
            "penalty_amount": None,
            "penalty_currency": None,
            "source_url": None,
            "source_id": f"demo-{record_id}",
            "remediated_on": None,
            "measure": None,
            "in_force_from": None,
            "in_force_until": None,
            "lifted_on": None,
            "lifted_reason": None,
            "case_key": None,
            "status": "draft",
            "revision": 1,
            "status_reason": None,
            "created_by_id": None,
        }
        self.row["ref"] = f"R-{decided.year}-{record_id:06d}"
        self._penalty()
        self.steps: list[tuple[datetime, str, dict[str, Any], dict[str, Any]]] = []

    def _penalty(self) -> None:
        """Fines for the more serious violations, in the entity's currency."""
        row, rng = self.row, self.rng
        chance = {"minor": 0.05, "moderate": 0.3, "serious": 0.6, "severe": 0.8}[row["severity"]]
        if row["nature"] == "violation" and rng.random() < chance:
            scale = {"minor": 500, "moderate": 5000, "serious": 50000, "severe": 500000}
            amount = Decimal(int(scale[row["severity"]] * rng.lognormvariate(0, 1)))
            row["penalty_amount"] = amount
            row["penalty_currency"] = self.gen.currency[self.entity["jurisdiction_code"]]
        row["summary"] = (
            f"{self.agency.name} found: {row['title'].lower()}. "
            f"The finding concerns {self.entity['name'].rstrip('.')}."
        )

    def step(self, when: datetime, action: str, extra: dict[str, Any] | None = None) -> None:
        """Log one change with the record's state after it."""
        self.steps.append((when, action, extra or {}, dict(self.row)))

    def build(self, out: Batch) -> None:
        """Walk the record through its life and append its rows to the batch."""
        row, rng = self.row, self.rng
        created = _at(row["decided_on"], rng)
        row["created_at"] = created
        self.step(created, "record.created")
        age = (self.today - row["decided_on"]).days
        if age < 45 and rng.random() < 0.35:
            self._unpublished(created)
        else:
            self._publish(out)
        row["updated_at"] = self.steps[-1][0]
        out.records.append(row)
        out.histories[row["ref"]] = self.steps

    def _unpublished(self, created: datetime) -> None:
        """A draft, a draft submitted for approval, or an approved one not yet out."""
        stage = self.rng.choice(("draft", "submitted", "approved"))
        if stage in {"submitted", "approved"}:
            self.row["status"] = "submitted"
            self.step(created + timedelta(hours=2), "record.submitted")
        if stage == "approved":
            self.row["status"] = "approved"
            self.step(created + timedelta(hours=5), "record.approved")

    def _publish(self, out: Batch) -> None:
        """Publish, then perhaps remediate, correct, appeal, respond or withdraw."""
        row, rng = self.row, self.rng
        published = _at(
            min(row["decided_on"] + timedelta(days=rng.randint(1, 20)), self.today), rng
        )
        row.update(status="published", published_at=published)
        self.step(published, "record.published")
        out.revisions.append(self._revision(1, published, None))
        roll = rng.random()
        if roll < 0.08:
            AppealStory(self, out).tell()
        elif roll < 0.11:
            self._withdraw()
        elif roll < 0.13:
            self._correct(out)
        if row["status"] == "published" and row["nature"] == "violation" and rng.random() < 0.25:
            self._remediate()
        if row["status"] in PUBLIC_STATUSES and rng.random() < 0.06:
            self._respond(out)

    def later(self, days_low: int, days_high: int) -> datetime | None:
        """A moment some days after the last step, or None if that is still to come."""
        last = self.steps[-1][0]
        when = last + timedelta(days=self.rng.randint(days_low, days_high), hours=1)
        return when if when.date() <= self.today else None

    def _withdraw(self) -> None:
        """The agency withdraws its finding."""
        when = self.later(10, 300)
        if when:
            reason = "The finding was issued in error and is withdrawn."
            self.row.update(status="withdrawn", status_reason=reason)
            self.step(when, "record.withdrawn", {"reason": reason})

    def _correct(self, out: Batch) -> None:
        """A published correction: a new revision with its reason."""
        when = self.later(3, 60)
        if when:
            old = self.row["title"]
            self.row.update(title=f"{old} (corrected)", revision=self.row["revision"] + 1)
            reason = "The title misdescribed the finding."
            changes = {"title": {"from": old, "to": self.row["title"]}}
            self.step(when, "record.corrected", {"changes": changes, "reason": reason})
            out.revisions.append(self._revision(self.row["revision"], when, reason))

    def _remediate(self) -> None:
        """The agency verifies that the entity put the problem right."""
        when = self.later(14, 365)
        if when:
            self.row["remediated_on"] = when.date()
            self.step(when, "record.remediated")

    def _respond(self, out: Batch) -> None:
        """The entity's published reply."""
        when = self.later(1, 30)
        if when:
            body = self.rng.choice(RESPONSE_TEXTS)
            response = {
                "record_id": self.row["id"],
                "entity_id": self.entity["id"],
                "body": body,
                "published_at": when,
                "hidden_at": None,
                "hidden_reason": None,
            }
            out.responses.append(response)
            self.step(when, "response.published", {"response": body})
            hidden = self.later(1, 10) if self.rng.random() < 0.08 else None
            if hidden:
                # Some replies are hidden by the agency, with the reason made public.
                reason = "The reply named a private individual and was hidden by the agency."
                response.update(hidden_at=hidden, hidden_reason=reason)
                self.step(hidden, "response.hidden", {"reason": reason})

    def _revision(self, number: int, when: datetime, reason: str | None) -> dict[str, Any]:
        """A revision row with the record's fields at that moment."""
        values = {k: self.row[k] for k in REVISION_FIELDS}
        jsonable = {
            k: v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v
            for k, v in values.items()
        }
        return {
            "record_id": self.row["id"],
            "revision": number,
            "fields": jsonable,
            "reason": reason,
            "created_at": when,
            "actor": "demo",
        }


class AppealStory:
    """An appeal filed within the window and decided, or still open (perhaps overdue)."""

    def __init__(self, life: RecordLife, out: Batch) -> None:
        """Attach to a published record."""
        self.life, self.out = life, out

    def tell(self) -> None:
        """File the appeal, then decide it unless it is recent."""
        life, rng = self.life, self.life.rng
        filed = life.later(1, 20)
        if filed is None:
            return
        grounds = "The facts were misread; the inspection report supports our position."
        life.row["status"] = "under_appeal"
        life.step(filed, "appeal.filed", {"grounds": grounds})
        appeal = {
            "record_id": life.row["id"],
            "entity_id": life.entity["id"],
            "grounds": grounds,
            "filed_at": filed,
            "status": "open",
            "decided_at": None,
            "decision_reason": None,
        }
        self.out.appeals.append(appeal)
        decided = life.later(3, 30)
        if decided is None or rng.random() < 0.1:
            return
        outcome = rng.choices(OUTCOMES, (55, 25, 20))[0]
        self._decide(appeal, decided, outcome)

    def _decide(self, appeal: dict[str, Any], when: datetime, outcome: str) -> None:
        """Record the decision and what it does to the record."""
        life = self.life
        reasons = {
            "dismissed": "The evidence supports the finding as published.",
            "granted": "The finding is overturned: the evidence does not support it.",
            "amended": "The finding stands at a lower severity.",
        }
        appeal.update(status=outcome, decided_at=when, decision_reason=reasons[outcome])
        extra: dict[str, Any] = {"outcome": outcome, "reason": reasons[outcome]}
        life.row["status"] = "overturned" if outcome == "granted" else "published"
        if outcome == "amended":
            lower = {"severe": "serious", "serious": "moderate", "moderate": "minor"}
            old = life.row["severity"]
            life.row["severity"] = lower.get(old, old)
            life.row["revision"] += 1
            extra["changes"] = {"severity": {"from": old, "to": life.row["severity"]}}
            self.out.revisions.append(life._revision(life.row["revision"], when, reasons[outcome]))
        life.step(when, "appeal.decided", extra)
