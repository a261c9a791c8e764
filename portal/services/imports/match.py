"""The entity an imported row names: an existing one matched by normalised name, or a new one.

Entities of a jurisdiction are read once, on the first row that needs them, into
dicts keyed by `search.names.name_key`; no row queries the database on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slugify import slugify
from sqlmodel import Session, col, select

from portal.errors import ValidationFailed
from portal.models import Entity, EntityAlias
from portal.services.entities import EntityInput, parse_entity
from portal.services.imports.columns import MATCHED_ENTITY_FIELDS
from search.names import name_key, name_spans

Key = tuple[str, str]


def match_key(name: str) -> str:
    """The normalised name two spellings share; names in other scripts keep their letters."""
    key = name_key(name)
    if key:
        return key
    # name_key keeps Latin letters only: a Greek name would fold to "" and match every other.
    spans = " ".join(token for token, _, _ in name_spans(name))
    return spans or " ".join(name.casefold().split())


def address_key(address: str | None) -> str:
    """An address folded like a name: case, accents and punctuation do not matter."""
    return name_key(address or "")


@dataclass
class NewEntity:
    """An entity the import will create, shared by every row that names it."""

    data: EntityInput
    spellings: set[str] = field(default_factory=set)
    rows: int = 0
    id: int | None = None


@dataclass
class Existing:
    """An entity already in the register that rows of the import matched."""

    id: int
    name: str
    slug: str
    spellings: set[str] = field(default_factory=set)
    rows: int = 0


@dataclass
class _Index:
    """One jurisdiction's entities by name key, alias key and registration id."""

    names: dict[Key, set[int]] = field(default_factory=dict)
    aliases: dict[Key, set[int]] = field(default_factory=dict)
    reg_ids: dict[str, set[int]] = field(default_factory=dict)


EntityRef = NewEntity | Existing


class EntityMatcher:
    """Plans the entity of every row of one import: an existing one, or one to create."""

    def __init__(self, session: Session, by_address: bool = False) -> None:
        """Read nothing yet: each jurisdiction is read when a row first needs it."""
        self.session = session
        self.by_address = by_address
        self._indexes: dict[str, _Index] = {}
        self._known: dict[int, tuple[str, str]] = {}
        self._new: dict[tuple[str, Key], NewEntity] = {}
        self._existing: dict[int, Existing] = {}
        self._by_slug: dict[str, int | None] = {}
        self._slugs: set[str] | None = None

    @property
    def new(self) -> list[NewEntity]:
        """Entities the import creates, in the order rows first named them."""
        return list(self._new.values())

    @property
    def matched(self) -> list[Existing]:
        """Entities already in the register that rows matched, in first-match order."""
        return list(self._existing.values())

    def resolve(self, fields: Mapping[str, str | None]) -> EntityRef:
        """The entity a mapped row names; ValidationFailed when it cannot be told."""
        if fields.get("slug"):
            return self._seen(self._by_slug_of(fields["slug"] or ""), fields["slug"] or "")
        data = parse_entity({k: fields.get(k) for k in MATCHED_ENTITY_FIELDS})
        index = self._index(data.jurisdiction)
        if data.registration_id and len(index.reg_ids.get(data.registration_id, ())) == 1:
            (found,) = index.reg_ids[data.registration_id]
            return self._seen(found, data.name)
        key = (match_key(data.name), address_key(data.address) if self.by_address else "")
        ids = index.names.get(key) or index.aliases.get(key)
        if ids:
            return self._seen(self._one(ids, data.name), data.name)
        new = self._new.get((data.jurisdiction, key))
        if new is None:
            data.slug = self._free_slug(fields.get("slug_hint") or data.name)
            new = self._new[(data.jurisdiction, key)] = NewEntity(data)
        new.spellings.add(data.name)
        new.rows += 1
        return new

    def _seen(self, entity_id: int, spelling: str) -> Existing:
        """Note that a row matched an existing entity under a spelling."""
        found = self._existing.get(entity_id)
        if found is None:
            name, slug = self._known.get(entity_id) or (spelling, self._slug_of(entity_id))
            found = self._existing[entity_id] = Existing(entity_id, name, slug)
        found.spellings.add(spelling)
        found.rows += 1
        return found

    def _one(self, ids: set[int], name: str) -> int:
        """The single entity a key names; two would be a guess, so the row is refused."""
        if len(ids) == 1:
            return next(iter(ids))
        slugs = sorted(self._slug_of(i) for i in ids)
        raise ValidationFailed(
            "The entity is ambiguous.",
            {"name": f"{name!r} matches {len(ids)} entities ({', '.join(slugs)})"},
        )

    def _slug_of(self, entity_id: int) -> str:
        """An existing entity's slug (read once for entities the index did not hold)."""
        if entity_id in self._known:
            return self._known[entity_id][1]
        return self.session.exec(select(Entity.slug).where(Entity.id == entity_id)).one()

    def _by_slug_of(self, slug: str) -> int:
        """The id of the entity with a slug (read once per slug)."""
        if slug not in self._by_slug:
            row = self.session.exec(
                select(Entity.id, Entity.name, Entity.merged_into_id).where(Entity.slug == slug)
            ).first()
            self._by_slug[slug] = (row[2] or row[0]) if row else None
            if row and not row[2]:
                self._known[row[0]] = (row[1], slug)
        found = self._by_slug[slug]
        if found is None:
            raise ValidationFailed("Unknown entity.", {"slug": f"no entity {slug!r}"})
        return found

    def _index(self, code: str) -> _Index:
        """A jurisdiction's entities and aliases, read in two queries the first time."""
        if code in self._indexes:
            return self._indexes[code]
        index = self._indexes[code] = _Index()
        entities = self.session.exec(
            select(
                Entity.id,
                Entity.slug,
                Entity.name,
                Entity.address,
                Entity.registration_id,
                Entity.merged_into_id,
            ).where(Entity.jurisdiction_code == code)
        ).all()
        for entity_id, slug, name, address, reg_id, merged_into in entities:
            target = merged_into or entity_id
            if not merged_into:
                self._known[entity_id] = (name, slug)
            index.names.setdefault(self._key(name, address), set()).add(target)
            if reg_id:
                index.reg_ids.setdefault(reg_id, set()).add(target)
        aliases = self.session.exec(
            select(EntityAlias.name, Entity.id, Entity.address, Entity.merged_into_id)
            .join(Entity, col(Entity.id) == EntityAlias.entity_id)
            .where(Entity.jurisdiction_code == code)
        ).all()
        for alias, entity_id, address, merged_into in aliases:
            index.aliases.setdefault(self._key(alias, address), set()).add(merged_into or entity_id)
        return index

    def _key(self, name: str, address: str | None) -> Key:
        """The lookup key of a name (and address, when the mapping matches on both)."""
        return (match_key(name), address_key(address) if self.by_address else "")

    def _free_slug(self, text: str) -> str:
        """A readable slug no entity has, from a set of every slug read once."""
        if self._slugs is None:
            self._slugs = set(self.session.exec(select(Entity.slug)).all())
        base = slugify(text, max_length=80, word_boundary=True) or "entity"
        slug, n = base, 2
        while slug in self._slugs:
            slug, n = f"{base}-{n}", n + 1
        self._slugs.add(slug)
        return slug
