"""The whoosh engine: one index holding entities and records, swapped whole on rebuild.

A directory backend keeps `CURRENT` (the name of the live `gen-*` folder), the
generations, and `.write.lock`. The change-log seq is a metadata document
committed with the documents it describes, so it can never run ahead of them.
"""

from __future__ import annotations

import fcntl
import html
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from whoosh import columns, highlight, query  # type: ignore[import-untyped]
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

from search import analysis as an
from search.base import (
    ENTITY_FACETS,
    RECORD_FACETS,
    ChangeBatch,
    Doc,
    DocType,
    Hit,
    QueryRefused,
    SearchQuery,
    SearchResults,
    Suggestion,
)
from search.names import fold, name_spans

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 1
LOCK_TIMEOUT = 120.0
META_UID = "meta:seq"
MAX_PER_PAGE = 100
MAX_DEPTH = 10_000
_GEN_NAME = re.compile(r"gen-[0-9a-f]+-[0-9a-f]+")


class FoldFilter(Filter):  # type: ignore[misc]
    """Folds each token with `search.names.fold` (case, accents, fullwidth, ß)."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        """Yield the tokens with their text folded."""
        for token in tokens:
            token.text = fold(token.text)
            yield token


class NameTokenizer(Tokenizer):  # type: ignore[misc]
    """Folded words with legal forms in one spelling (`search.names.name_spans`)."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Any]:  # fmt: skip
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


class MarkFormatter(highlight.Formatter):  # type: ignore[misc]
    """Highlights as `<mark>` around matched words, every other character HTML-escaped."""

    between = " … "

    def _text(self, text: str) -> str:
        """Escape text between matches."""
        return html.escape(text)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        """Escape a matched word and mark it."""
        return f"<mark>{html.escape(highlight.get_text(text, token, replace))}</mark>"


NAMES = NameTokenizer()
TEXT_ANALYZER = NameTokenizer() | StopFilter() | StemFilter()
KEY_ANALYZER = IDTokenizer() | FoldFilter()
SCHEMA = Schema(
    uid=ID(unique=True), doc_type=ID, key=ID(stored=True), data=STORED,
    name=TEXT(NAMES), aliases=TEXT(NAMES), entity_name=TEXT(NAMES), agency_name=TEXT(NAMES),
    name_ngram=TEXT(NAMES | NgramFilter(2, 15, at="start"), phrase=False),
    name_start=TEXT(KEY_ANALYZER | NgramFilter(1, 24, at="start"), phrase=False),
    name_key=ID(analyzer=KEY_ANALYZER), ident=ID(analyzer=KEY_ANALYZER),
    title=TEXT(TEXT_ANALYZER), summary=TEXT(TEXT_ANALYZER), statute=TEXT(TEXT_ANALYZER),
    entity_key=ID, jurisdictions=KEYWORD,
    **{f: ID(sortable=True) for f in sorted(set(ENTITY_FACETS) | set(RECORD_FACETS))},
    sort_name=COLUMN(columns.VarBytesColumn()),
    sort_num=COLUMN(columns.NumericColumn("d", default=-1.0)),
)  # fmt: skip
FACETS: dict[str, tuple[str, ...]] = {"entity": ENTITY_FACETS, "record": RECORD_FACETS}


def _prepared(fields: dict[str, Any]) -> dict[str, Any]:
    """Field values as whoosh takes them: no empty strings, sort name as bytes."""
    out = {k: v for k, v in fields.items() if v != ""}
    out["sort_name"] = fields.get("sort_name", "").encode()
    return out


def _meta(seq: int) -> dict[str, Any]:
    """The metadata document: the change-log seq and the schema version."""
    return {"uid": META_UID, "doc_type": "meta", "data": {"seq": seq, "schema": SCHEMA_VERSION}}


@contextmanager
def _file_lock(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive flock on `path`, waiting up to `timeout` seconds."""
    with open(path, "a+b") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"search index busy: {path} held > {timeout}s") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Generations:
    """The folders of a directory backend: `CURRENT` names the live `gen-*` one."""

    def __init__(self, root: Path) -> None:
        """Remember (and create) the backend directory."""
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def current(self) -> str | None:
        """The live generation's folder name, or None when there is none (or garbage)."""
        with suppress(OSError, UnicodeDecodeError):
            name = (self.root / "CURRENT").read_text().strip()
            if _GEN_NAME.fullmatch(name) and (self.root / name).is_dir():
                return name
        return None

    def create(self) -> str:
        """Make an empty folder for a new generation and return its name."""
        name = f"gen-{time.time_ns():x}-{secrets.token_hex(4)}"
        (self.root / name).mkdir()
        return name

    def publish(self, name: str) -> None:
        """Point CURRENT at `name` in one atomic rename, flushed to disk."""
        tmp = self.root / f"CURRENT.{secrets.token_hex(4)}"
        with open(tmp, "w") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / "CURRENT")
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, keep: str, only: str | None = None) -> None:
        """Delete generation folders other than `keep` (just `only`, when given)."""
        for path in self.root.glob("gen-*"):
            if path.name != keep and only in (None, path.name):
                shutil.rmtree(path, ignore_errors=True)


class _View:
    """One searcher and what is cached for it: doc sets, columns, sort orders."""

    def __init__(self, searcher: Any, segment_columns: dict[tuple[str, str], list[Any]]) -> None:
        """Wrap a searcher; `segment_columns` outlives views (segments are immutable)."""
        self.searcher = searcher
        self._segment_columns = segment_columns
        self._memo: dict[Hashable, Any] = {}

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """A value computed once per view."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]  # type: ignore[no-any-return]

    def docs(self, q: Any) -> set[int]:
        """Document numbers matching a query."""
        return set(self.searcher.docs_for_query(q))

    def term_docs(self, field: str, value: str) -> set[int]:
        """Document numbers holding one term, cached."""
        return self.memo(("term", field, value), lambda: self.docs(query.Term(field, value)))

    def column(self, field: str) -> list[Any]:
        """A field's column value for every document number, cached per segment."""
        return self.memo(("column", field), lambda: self._load_column(field))

    def _load_column(self, field: str) -> list[Any]:
        """Concatenate per-segment columns, reading only segments not seen before."""
        out: list[Any] = []
        for reader, _offset in self.searcher.reader().leaf_readers():
            key = (reader.segment().segment_id(), field)
            if key not in self._segment_columns:
                shared: dict[Any, Any] = {}
                values = reader.column_reader(field, translate=True)
                self._segment_columns[key] = [shared.setdefault(v, v) for v in values]
            out.extend(self._segment_columns[key])
        return out

    def order(self, doc_type: DocType, sort: str) -> list[int]:
        """Every live document of a type in a sort order, cached."""
        return self.memo(("order", doc_type, sort), lambda: self.sort(
            self.term_docs("doc_type", doc_type), doc_type, sort))  # fmt: skip

    def sort(self, docs: Iterable[int], doc_type: DocType, sort: str) -> list[int]:
        """Document numbers sorted: by date newest first, by score best (or most severe)."""
        name, num = self.column("sort_name"), self.column("sort_num")
        if doc_type == "entity" and sort == "score":
            return sorted(docs, key=lambda d: (-num[d], name[d], d))
        if doc_type == "entity":
            return sorted(docs, key=lambda d: (name[d], d))
        if sort == "score":
            sev = self.column("severity")
            return sorted(docs, key=lambda d: (-an.SEVERITY_RANK.get(sev[d], 0), -num[d], d))
        return sorted(docs, key=lambda d: (-num[d], name[d], d))

    def top(self, docs: set[int], doc_type: DocType, sort: str, count: int) -> list[int]:
        """The first `count` of `docs` in a sort order (scanning the cached order if large)."""
        if len(docs) <= 2000:
            return self.sort(docs, doc_type, sort)[:count]
        out: list[int] = []
        for docnum in self.order(doc_type, sort):
            if docnum in docs:
                out.append(docnum)
                if len(out) == count:
                    break
        return out


def _stems(word: str) -> list[str]:
    """A query word as the record text fields index it (stemmed; empty for a stop word)."""
    return [t.text for t in TEXT_ANALYZER(word)]


def _fuzzy(field: str, word: str, boost: float = 1.0) -> list[Any]:
    """A fuzzy term for a word long enough to have typos, else nothing."""
    dist = an.fuzz_distance(word)
    return [query.FuzzyTerm(field, word, boost, maxdist=dist, prefixlength=1)] if dist else []


def _entity_word(word: str, fuzzy: bool) -> Any:
    """One typed word against an entity: whole word, word prefix, then typos."""
    subs = [query.Term("name", word, boost=3.0), query.Term("aliases", word, boost=1.5)]
    if len(word) >= 2:
        subs.append(query.Term("name_ngram", word[:15]))
    if fuzzy:
        subs += _fuzzy("name", word, 1.0) + _fuzzy("aliases", word, 0.5)
    return query.Or(subs)


def _record_word(word: str, fuzzy: bool) -> Any:
    """One typed word against a record: stemmed text fields and the names it carries."""
    subs = [query.Term("entity_name", word, boost=2.0), query.Term("agency_name", word)]
    for stem in _stems(word):
        subs += [query.Term("title", stem, boost=3.0), query.Term("summary", stem)]
        subs.append(query.Term("statute", stem))
        if fuzzy:
            subs += _fuzzy("title", stem, 1.5) + _fuzzy("summary", stem, 0.5)
    if fuzzy:
        subs += _fuzzy("entity_name", word, 1.0)
    return query.Or(subs)


def _phrase(doc_type: DocType, words: tuple[str, ...]) -> Any:
    """A quoted phrase: consecutive words in a name, or in record text once stemmed."""
    if doc_type == "entity":
        fields = [("name", words, 3.0), ("aliases", words, 1.5)]
    else:
        stems = tuple(_stems(" ".join(words)))
        fields = [("entity_name", words, 2.0)]
        fields += [(f, stems, b) for f, b in (("title", 3.0), ("summary", 1.0), ("statute", 1.0))]
    return query.Or([query.Phrase(f, list(w), boost=b) for f, w, b in fields if len(w) > 1])


def build_query(p: an.ParsedQuery, doc_type: DocType, fuzzy: bool = False) -> Any:
    """The whoosh query for parsed user text; `fuzzy` also accepts near spellings."""
    word = _entity_word if doc_type == "entity" else _record_word
    required = [w for w in p.required() if doc_type == "entity" or _stems(w)] or list(p.terms)
    parts = [word(w, fuzzy) for w in required]
    if fuzzy:
        parts += [word(w, fuzzy) for phrase in p.phrases for w in phrase]
    else:
        parts += [_phrase(doc_type, phrase) for phrase in p.phrases]
    text_q = query.And(parts) if parts else query.NullQuery
    boosts = [word(w, False) for w in p.terms if w not in required]
    key = " ".join(p.terms)
    if doc_type == "entity" and key and not p.phrases:
        boosts += [query.Term("name_start", key[:24], 4.0), query.Term("name_key", key, 8.0)]
    if parts and boosts:
        text_q = query.AndMaybe(text_q, query.Or(boosts))
    if p.ident:
        return query.Or([text_q, query.Term("ident", p.ident, boost=10.0)])
    return text_q


def _marked(text: str, terms: set[str], analyzer: Any, fragmenter: Any) -> str:
    """`text` as escaped HTML with the words in `terms` marked, or "" if none is there."""
    formatter = MarkFormatter()
    return str(highlight.highlight(text, terms, analyzer, fragmenter, formatter, top=2))


def _highlights(doc_type: DocType, data: dict[str, Any], words: tuple[str, ...]) -> dict[str, str]:
    """Marked name (entity) or title and summary (record) of one hit."""
    if doc_type == "entity":
        name = data["name"]
        terms = {t for t, _s, _e in name_spans(name) if any(t.startswith(w) for w in words)}
        whole = highlight.WholeFragmenter()
        return {"name": _marked(name, terms, NAMES, whole) or html.escape(name)}
    stems = {s for w in words for s in _stems(w)}
    title = _marked(data["title"], stems, TEXT_ANALYZER, highlight.WholeFragmenter())
    out = {"title": title or html.escape(data["title"])}
    summary = data.get("summary") or ""
    context = highlight.ContextFragmenter(maxchars=240, surround=60)
    snippet = _marked(summary, stems, TEXT_ANALYZER, context)
    if snippet or summary:
        out["summary"] = snippet or html.escape(summary[:240]) + ("…" if len(summary) > 240 else "")
    return out


def _vocabulary(doc_type: DocType, data: dict[str, Any]) -> list[str]:
    """The words of a hit a "did you mean" may draw on."""
    if doc_type == "entity":
        texts = [data["name"], *data.get("aliases", [])]
    else:
        texts = [data["title"], data["entity_name"], data.get("summary") or ""]
    return [t for text in texts for t, _s, _e in name_spans(text)]
