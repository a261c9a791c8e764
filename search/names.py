"""Folding of names so that people find what they type: accents, case, legal forms."""

from __future__ import annotations

import re
import unicodedata

# Each legal form and its usual spellings map to one token (after dots are dropped).
LEGAL_FORMS: dict[str, str] = {
    "limited": "ltd",
    "ltd": "ltd",
    "plc": "plc",
    "incorporated": "inc",
    "inc": "inc",
    "corporation": "corp",
    "corp": "corp",
    "company": "co",
    "co": "co",
    "llc": "llc",
    "llp": "llp",
    "gmbh": "gmbh",
    "ag": "ag",
    "sa": "sa",
    "sau": "sau",
    "sl": "sl",
    "slu": "slu",
    "srl": "srl",
    "spa": "spa",
    "sas": "sas",
    "sarl": "sarl",
    "bv": "bv",
    "nv": "nv",
    "ab": "ab",
    "oy": "oy",
    "kg": "kg",
}
# Multi-word forms, matched on folded text before tokens are mapped.
LEGAL_PHRASES: tuple[tuple[str, str], ...] = (
    ("public limited company", "plc"),
    ("limited liability company", "llc"),
    ("limited liability partnership", "llp"),
    ("gesellschaft mit beschrankter haftung", "gmbh"),
    ("sociedad anonima unipersonal", "sau"),
    ("sociedad anonima", "sa"),
    ("societe anonyme", "sa"),
    ("sociedad limitada", "sl"),
    ("societa per azioni", "spa"),
    ("aktiengesellschaft", "ag"),
)
_JOINERS = re.compile(r"[.'’`]")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def fold(text: str) -> str:
    """Lower-case, strip accents and invisible characters, fold fullwidth forms."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("ł", "l")


def name_tokens(name: str) -> list[str]:
    """Folded words of a name with legal forms reduced to one spelling each."""
    text = _JOINERS.sub("", fold(name).replace("&", " and "))
    text = " " + _NON_WORD.sub(" ", text) + " "
    for phrase, token in LEGAL_PHRASES:
        text = text.replace(f" {phrase} ", f" {token} ")
    return [LEGAL_FORMS.get(word, word) for word in text.split()]


def name_key(name: str) -> str:
    """The key two spellings of one organisation's name share."""
    return " ".join(name_tokens(name))
