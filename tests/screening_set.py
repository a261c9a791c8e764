"""A labelled screening set from the real data in ../shared/data (tests and benchmarks).

Parties of the DFAT sanctions list (an entity row, its aka and original-script rows
joined by reference), GDPR controllers as the fines name them, and names that are
in neither (US government bodies, UK charities) to count false alarms.
"""

from __future__ import annotations

import csv
import random
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import SHARED

DFAT = SHARED / "sanctions" / "australia-dfat-consolidated-list.xlsx"
GDPR = SHARED / "gdpr-fines" / "gdpr_fines.csv"
DOTGOV = SHARED / "us-government-bodies" / "dotgov-domains.csv"
MERGERS = SHARED / "uk-charities" / "ccew-register-of-mergers.csv"
MAPPINGS = Path(__file__).resolve().parent.parent / "portal" / "mappings"


@dataclass(frozen=True)
class Party:
    """One organisation: its name, other names and jurisdiction."""

    reference: str
    name: str
    aliases: tuple[str, ...]
    scripts: tuple[str, ...]
    jurisdiction: str
    former: tuple[str, ...] = ()


def dfat_parties(limit: int | None = None) -> list[Party]:
    """The list's entities (not individuals), other names joined to their party by reference."""
    from portal.services.spreadsheets import xlsx_rows

    parties: dict[str, dict[str, list[str] | str]] = {}
    for _n, _line, row in xlsx_rows(DFAT.read_bytes()):
        if (row.get("Type") or "").strip().lower() != "entity":
            continue
        ref = (row.get("Reference") or "").strip()
        base = ref.rstrip("abcdefghijklmnopqrstuvwxyz")
        name = " ".join((row.get("Name of Individual or Entity") or "").split())
        kind = (row.get("Name Type") or "").strip().lower()
        party = parties.setdefault(base, {"name": "", "aliases": [], "scripts": []})
        if kind == "primary name":
            party["name"] = name
        elif kind == "original script":
            party["scripts"].append(name)  # type: ignore[union-attr]
        elif name:
            party["aliases"].append(name)  # type: ignore[union-attr]
    found = [
        Party(ref, str(p["name"]), tuple(p["aliases"]), tuple(p["scripts"]), "AU")
        for ref, p in parties.items()
        if p["name"]
    ]
    return found[:limit] if limit else found


def _placeholders() -> tuple[set[str], list[re.Pattern[str]]]:
    """The names the shipped GDPR mapping declares as naming no organisation."""
    spec = tomllib.loads((MAPPINGS / "gdpr-fines.toml").read_text(encoding="utf-8"))
    entity = spec["entity"]
    names = {n.casefold() for n in entity.get("placeholders", [])}
    return names, [re.compile(p, re.IGNORECASE) for p in entity.get("placeholder_patterns", [])]


def gdpr_controllers(limit: int | None = None) -> list[Party]:
    """Distinct controllers fined under the GDPR, with their country; one per name key,
    as an import makes them, with the other spellings the fines use as aliases."""
    from portal.services.countries import country_code
    from search.names import name_key

    names, patterns = _placeholders()
    seen: dict[tuple[str, str], tuple[str, str, list[str]]] = {}
    with GDPR.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            name = " ".join((row["controller_processor"] or "").split())
            if not name or name.casefold() in names or any(p.search(name) for p in patterns):
                continue
            code = country_code(row["country"].title())
            ref, first, spellings = seen.setdefault((name_key(name), code), (row["etid"], name, []))
            if name != first and name not in spellings:
                spellings.append(name)
    found = [
        Party(ref, first, tuple(other), (), code)
        for (_k, code), (ref, first, other) in seen.items()
    ]
    return found[:limit] if limit else found


def charity_parties(limit: int | None = None) -> list[Party]:
    """Charities of England and Wales that others merged into, the merged names as former
    names (an old name is still what many suppliers' lists say)."""
    found: dict[str, tuple[str, list[str]]] = {}
    with MERGERS.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            name = " ".join(row["org_name_b"].split())
            former = " ".join(row["org_name_a"].split())
            _name, formers = found.setdefault(row["org_id_b"], (name, []))
            if former and former.casefold() != name.casefold() and len(former) < 120:
                formers.append(former)
    parties = [
        Party(ref, name, (), (), "GB", tuple(dict.fromkeys(formers)))
        for ref, (name, formers) in found.items()
        if formers
    ]
    return parties[:limit] if limit else parties


def outsiders(limit: int = 300) -> list[str]:
    """Names of US government bodies: organisations the register does not hold."""
    with DOTGOV.open(encoding="utf-8") as handle:
        names = [
            row.get("Organization name") or row.get("Organization") or ""
            for row in csv.DictReader(handle)
        ]
    names = sorted({" ".join(n.split()) for n in names if n and len(n) > 6})
    random.Random(7).shuffle(names)
    return names[:limit]


def unaccented(text: str) -> str:
    """The name typed without accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def typo(text: str, seed: int) -> str:
    """The name with two neighbouring letters of its longest word swapped."""
    words = text.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 5:
        return text
    i = random.Random(seed).randrange(1, len(word) - 2)
    words[longest] = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return " ".join(words)


def available() -> bool:
    """Whether the real data sets are beside the checkout."""
    return all(path.is_file() for path in (DFAT, GDPR, DOTGOV, MERGERS))


def labelled(parties: list[Party]) -> Iterator[tuple[str, str, str]]:
    """(query, expected party reference, how it was written) for each party."""
    for number, party in enumerate(parties):
        yield party.name, party.reference, "as listed"
        if unaccented(party.name) != party.name:
            yield unaccented(party.name), party.reference, "accents removed"
        changed = typo(party.name, number)
        if changed != party.name:
            yield changed, party.reference, "one typo"
        for alias in party.aliases[:2]:
            yield alias, party.reference, "alias"
        for script in party.scripts[:1]:
            yield script, party.reference, "other script"
        for name in party.former[:1]:
            yield name, party.reference, "former name"


def path_of(name: str) -> Path:
    """A data set's path (for skip messages)."""
    return SHARED / name
