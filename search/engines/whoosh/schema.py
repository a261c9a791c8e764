"""The whoosh index's fields and analysers, its metadata document, and opening it.

Schema: `uid` ("entity:<slug>", "record:<ref>") is the unique key and `doc_type`
tells the two apart; `data` stores what a result list shows. Names (`name`,
`aliases`, `entity_name`, `agency_name`) are folded words with legal forms in
one spelling and are not stemmed; record text (`title`, `summary`, `statute`)
is stemmed; `name_ngram` holds edge n-grams (2-15) of every name and alias
word for prefixes; `ident` holds registration ids and refs as letters and
digits. Facet fields are columns; `jurisdictions` holds a code and its parents.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoosh import columns, formats, query  # type: ignore[import-untyped]
from whoosh.analysis import (  # type: ignore[import-untyped]
    Filter,
    IDTokenizer,
    NgramFilter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema  # type: ignore[import-untyped]
from whoosh.filedb.filestore import FileStorage, RamStorage  # type: ignore[import-untyped]

from search.base import ENTITY_FACETS, RECORD_FACETS
from search.names import fold, name_spans

# 2: entities carry the sanction facet and line.
SCHEMA_VERSION = 2
META_UID = "meta:seq"


class FoldFilter(Filter):  # type: ignore[misc]
    """Folds each token with `search.names.fold` (case, accents, fullwidth, ß)."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        """Yield the tokens with their text folded."""
        for token in tokens:
            token.text = fold(token.text)
            yield token


class NameTokenizer(Tokenizer):  # type: ignore[misc]
    """Folded words with legal forms in one spelling (`search.names.name_spans`)."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Yield one reused whoosh Token per name token, with positions and offsets."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        spans = name_spans(value) if tokenize else [(fold(value), 0, len(value))]
        for pos, (text, start, end) in enumerate(spans):
            token.text, token.boost, token.stopped = text, 1.0, False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


def _existence(field: Any) -> Any:
    """A field kept as document sets only (no frequencies): entity relevance is computed by
    `search.ranking.rank`. It stays "scorable": whoosh 2.7.5 stats a file per posting
    at commit for fields without a length column."""
    field.format = formats.Existence()
    return field


NAMES = NameTokenizer()
# English snowball stemmer: whoosh's default Porter stemmer leaves "running" as "runn".
TEXT_ANALYZER = NameTokenizer() | StopFilter() | StemFilter(lang="en")
KEY_ANALYZER = IDTokenizer() | FoldFilter()
SCHEMA = Schema(
    uid=ID(unique=True),
    doc_type=ID,
    key=ID(stored=True),
    data=STORED,
    name=TEXT(NAMES),
    aliases=TEXT(NAMES),
    entity_name=TEXT(NAMES),
    agency_name=TEXT(NAMES),
    name_ngram=_existence(TEXT(NAMES | NgramFilter(2, 15, at="start"), phrase=False)),
    ident=ID(analyzer=KEY_ANALYZER),
    title=TEXT(TEXT_ANALYZER),
    summary=TEXT(TEXT_ANALYZER),
    statute=TEXT(TEXT_ANALYZER),
    entity_key=ID,
    jurisdictions=KEYWORD,
    **{f: ID(sortable=True) for f in sorted(set(ENTITY_FACETS) | set(RECORD_FACETS))},
    sort_name=COLUMN(columns.VarBytesColumn()),
    sort_num=COLUMN(columns.NumericColumn("d", default=-1.0)),
)


def prepared_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Field values as whoosh takes them: no empty strings, sort name as bytes."""
    out = {k: v for k, v in fields.items() if v != ""}
    out["sort_name"] = fields.get("sort_name", "").encode()
    return out


def meta_document(seq: int) -> dict[str, Any]:
    """The metadata document: the change-log seq and the schema version."""
    return {"uid": META_UID, "doc_type": "meta", "data": {"seq": seq, "schema": SCHEMA_VERSION}}


def stems_of(word: str) -> list[str]:
    """A query word as the record text fields index it (stemmed; empty for a stop word)."""
    return [t.text for t in TEXT_ANALYZER(word)]


def ram_index() -> Any:
    """A new in-memory index. Its name is unique because whoosh writers spill to
    `<tempdir>/<indexname>.tmp` and delete that folder on commit: with the default
    name, in-memory indexes in other threads or processes would delete each other's."""
    return RamStorage().create_index(SCHEMA, indexname=f"ram-{secrets.token_hex(8)}")


def open_checked(path: Path) -> Any:
    """Open the index in `path`, reading its metadata and one document to prove it sound."""
    ix = FileStorage(str(path)).open_index()
    with ix.searcher() as searcher:
        meta = searcher.document(uid=META_UID)
        if meta is not None and meta["data"].get("schema") != SCHEMA_VERSION:
            raise ValueError("built by another schema version")
        searcher.search(query.Every(), limit=1)
    return ix


def seq_of(searcher: Any) -> int:
    """The seq the metadata document records (0 when there is none)."""
    meta = searcher.document(uid=META_UID)
    return int(meta["data"]["seq"]) if meta else 0
