"""The tantivy index's fields, how text is analysed for them, and documents as tantivy's.

Tantivy's Python bindings take no custom analysers, so text is analysed here
(`search.names`, `search.query`, `search.documents`) and indexed as space-separated tokens with
tantivy's `whitespace` tokenizer; exact values use `raw`. Every word is
indexed with its first letter tripled ("acme" -> "aaacme"): tantivy's fuzzy
query has no fixed prefix, and whoosh's keeps the first letter, so a changed
first letter must cost three edits. Fields: `name`, `aliases`, `entity_name`,
`agency_name` (folded words, legal forms in one spelling), `title`, `summary`,
`statute` (the same, stop words dropped and Snowball-stemmed), `name_ngram`
(edge n-grams 2-15 of name and alias words), `name_key`/`name_start` (the whole
folded name, and its prefixes), `ident`, the facet columns, `jurisdictions`
(a code and its parents) and three sort keys (`sort_keys`), each held as four
numbers, its first 32 bytes: tantivy orders by numbers far faster than by text.
"""

from __future__ import annotations

import functools
import json
import struct
import threading
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import tantivy

from search.base import ENTITY_FACETS, RECORD_FACETS
from search.documents import SEVERITY_RANK, name_key_of
from search.names import name_spans

# 2: entities carry the sanction facet and line.
SCHEMA_VERSION = 2
META_UID = "meta:seq"
NGRAM_MAX = 15
START_MAX = 8  # whole-name prefixes indexed up to this many characters (shared by many)
SORT_CAP = 1000
# whoosh's default English stop list (StopFilter drops these and words under 2 letters).
STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the "  # noqa: SIM905
    "this to us we when will with yet you your".split()
)
NAME_FIELDS = ("name", "aliases", "entity_name", "agency_name")
STEM_FIELDS = ("title", "summary", "statute")
RAW_FIELDS = ("uid", "doc_type", "ident", "entity_key", "name_key")
LIST_FIELDS = ("name_ngram", "name_start", "jurisdictions")
FACET_FIELDS = tuple(sorted(set(ENTITY_FACETS) | set(RECORD_FACETS)))
ORDERS = ("order_name", "order_score", "order_len")
CODES = 4  # u64 numbers per sort key: its first 32 bytes, in order


def _schema() -> tantivy.Schema:
    """Every field, as described in the module docstring."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_bytes_field("data", stored=True)
    for name in RAW_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in NAME_FIELDS + STEM_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace")
    for name in LIST_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="basic")
    for name in FACET_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for order in ORDERS:
        for i in range(CODES):
            builder.add_unsigned_field(f"{order}_{i}", indexed=True, fast=True)
    return builder.build()


SCHEMA = _schema()
_STEMMER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)
_STEM_LOCK = threading.Lock()


def pad(word: str) -> str:
    """A word as indexed: its first letter tripled, so fuzzy matches keep the first letter."""
    return word[:1] * 2 + word


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """The English Snowball stem of one folded word."""
    with _STEM_LOCK:
        stems = _STEMMER.analyze(word)
    return stems[0] if stems and stems[0] else word


def text_tokens(text: str) -> list[tuple[str, int, int, bool]]:
    """Record-text tokens: (stem, or the word if it is a stop word; start; end; matchable)."""
    out = []
    for word, start, end in name_spans(text):
        stop = len(word) < 2 or word in STOP_WORDS
        out.append((word if stop else _stem(word), start, end, not stop))
    return out


def stems_of(text: str) -> list[str]:
    """Record text as indexed: stems of the words that are not stop words."""
    return [stem for stem, _s, _e, keep in text_tokens(text) if keep]


def _words(text: str) -> str:
    """Name text as indexed: padded folded words."""
    return " ".join(pad(t) for t, _s, _e in name_spans(text))


def _ngrams(*texts: str) -> str:
    """Edge n-grams (2 to 15 letters) of every word of the names.

    whoosh reads the name and aliases as one text; here each is read alone (its
    words are already known), which differs only for a legal form split between them.
    """
    words = {t for text in texts if text for t, _s, _e in name_spans(text) if len(t) >= 2}
    return " ".join(w[:n] for w in words for n in range(2, min(NGRAM_MAX, len(w)) + 1))


def _starts(name_key: str) -> str:
    """Prefixes of the whole folded name (spaces as `_`), up to START_MAX characters."""
    key = name_key.replace(" ", "_")
    return " ".join(key[:n] for n in range(1, min(START_MAX, len(key)) + 1) if key[n - 1] != "_")


def _descending(value: float) -> bytes:
    """Eight bytes that sort floats from largest to smallest."""
    bits = int.from_bytes(struct.pack(">d", value), "big")
    rising = bits ^ (2**64 - 1) if bits >> 63 else bits | 2**63
    return (rising ^ (2**64 - 1)).to_bytes(8, "big")


def sort_keys(doc_type: str, key: str, data: Mapping[str, Any]) -> dict[str, bytes]:
    """A document's sort keys as bytes, each ending in its key, from its stored data.

    Entities: by name (`order_name`), by score then name, by name length then
    name (`order_len`, relevance ties). Records: by decision date (newest first)
    then title, or by severity (most severe first) then date. Names compare as
    whoosh compares them: folded name keys as UTF-8 bytes.
    """
    tail = b"\x00" + key.encode()
    if doc_type == "entity":
        name = name_key_of(data["name"]).encode()
        score = data.get("score")
        num = _descending(-1.0 if score is None else float(score))
        size = min(len(name), 2**16 - 1).to_bytes(2, "big")
        name = name[:SORT_CAP] + tail
        return {"order_name": name, "order_score": num + name, "order_len": size + name}
    when = _descending(float(date.fromisoformat(data["decided_on"]).toordinal()))
    severity = bytes([9 - SEVERITY_RANK.get(data["severity"], 0)])
    title = name_key_of(data["title"]).encode()[:SORT_CAP]
    return {"order_name": when + title + tail, "order_score": severity + when + tail}


def _codes(key: bytes) -> list[int]:
    """The first CODES * 8 bytes of a sort key as numbers that sort as the bytes do."""
    return [int.from_bytes(key[i : i + 8].ljust(8, b"\x00"), "big") for i in range(0, CODES * 8, 8)]


@functools.lru_cache(maxsize=65536)
def _indexed_stem(word: str) -> str:
    """A record-text word as indexed: stemmed and padded ("" for a stop word)."""
    return "" if len(word) < 2 or word in STOP_WORDS else pad(_stem(word))


def _stemmed(text: str) -> str:
    """Record text as indexed: padded stems, stop words left out."""
    return " ".join(filter(None, (_indexed_stem(w) for w, _s, _e in name_spans(text))))


Plan = tuple[tuple[str, Callable[[str], str] | None], ...]
# The fields of `search.documents.doc_fields` indexed as they are (None) or converted.
_PLANS: dict[str, Plan] = {
    "entity": (
        *(("uid", None), ("doc_type", None), ("name", _words), ("aliases", _words)),
        *(("ident", None), ("jurisdictions", None), *((f, None) for f in ENTITY_FACETS)),
    ),
    "record": (
        *(("uid", None), ("doc_type", None), *((f, _stemmed) for f in STEM_FIELDS)),
        *(("entity_name", _words), ("agency_name", _words), ("entity_key", None)),
        *(("ident", None), ("jurisdictions", None), *((f, None) for f in RECORD_FACETS)),
    ),
}


def index_document(fields: Mapping[str, Any]) -> tantivy.Document:
    """Index fields (`search.documents.doc_fields`) as a tantivy document."""
    doc = tantivy.Document()
    doc.add_text("key", fields["key"])
    doc.add_bytes("data", json.dumps(fields["data"], separators=(",", ":")).encode())
    for name, convert in _PLANS[fields["doc_type"]]:
        value = fields[name]
        if value:
            doc.add_text(name, convert(value) if convert else value)
    if fields["doc_type"] == "entity":
        key = fields["sort_name"][:SORT_CAP]
        doc.add_text("name_key", key)
        doc.add_text("name_start", _starts(key))
        doc.add_text("name_ngram", _ngrams(fields["name"], fields["aliases"]))
    for order, sort_key in sort_keys(fields["doc_type"], fields["key"], fields["data"]).items():
        for i, code in enumerate(_codes(sort_key)):
            doc.add_unsigned(f"{order}_{i}", code)
    return doc


def meta_document(seq: int) -> tantivy.Document:
    """The metadata document: the change-log seq and the schema version."""
    doc = tantivy.Document()
    doc.add_text("uid", META_UID)
    doc.add_text("doc_type", "meta")
    doc.add_bytes("data", json.dumps({"seq": seq, "schema": SCHEMA_VERSION}).encode())
    return doc
