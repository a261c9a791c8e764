"""Highlights of a tantivy hit, marked as whoosh's highlighter marks them."""

from __future__ import annotations

import html
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from search.base import DocType
from search.engines.tantivy.schema import stems_of, text_tokens
from search.names import name_spans

SNIPPET_CHARS, SNIPPET_SURROUND, CHAR_LIMIT = 240, 60, 2**15
Token = tuple[str, int, int, bool]


def _format(text: str, start: int, end: int, marks: Iterable[Token]) -> str:
    """text[start:end] HTML-escaped, with the marked tokens in <mark>."""
    out, index = [], start
    for _t, s, e, _m in sorted(marks, key=lambda t: (t[1], t[1] - t[2])):
        if s >= index:
            out += [html.escape(text[index:s]), f"<mark>{html.escape(text[s:e])}</mark>"]
            index = e
    return "".join(out) + html.escape(text[index:end])


def _whole(text: str, tokens: Iterable[Token], terms: set[str]) -> str:
    """The whole text with tokens in `terms` marked, or "" when none is there."""
    marks = []
    for token in tokens:
        if token[2] > CHAR_LIMIT:
            break
        if token[0] in terms:
            marks.append(token)
    return _format(text, 0, len(text), marks) if marks else ""


def _fragments(tokens: Iterable[Token], terms: set[str]) -> Iterator[tuple[int, int, list[Token]]]:
    """Passages around matched tokens, as whoosh's ContextFragmenter(240, 60) cuts them."""
    first: int | None = None
    firsts: deque[int] = deque()
    countdown, marks, end, size = -1, [], 0, 0
    for token in tokens:
        matched, start, end = token[0] in terms, token[1], token[2]
        if end > CHAR_LIMIT:
            break
        if countdown < 0 and not matched:
            firsts.append(start)
            while firsts and end - firsts[0] > SNIPPET_SURROUND:
                firsts.popleft()
        elif size + end - start > SNIPPET_CHARS:
            countdown = 0
        elif matched:
            countdown = SNIPPET_SURROUND
            if first is None:
                first = firsts[0] if firsts else start
                countdown += 0 if firsts else SNIPPET_SURROUND
            marks.append(token)
        if countdown >= 0:
            size, countdown = size + end - start, countdown - (end - start)
            if countdown <= 0:
                yield (first or 0, end, marks)
                first, firsts, marks, size = None, deque(), [], 0
    if marks:
        yield (first or 0, end, marks)


def _snippet(text: str, terms: set[str]) -> str:
    """The two best passages of `text` with matched words marked, joined by " … "."""
    scored = [
        (len(m) * (len({t[0] for t in m}) * 100 or 1), start, end, m)
        for start, end, m in _fragments(text_tokens(text), terms)
    ]
    best = sorted((f for f in sorted(scored, reverse=True)[:2] if f[0] >= 1), key=lambda f: f[1])
    return " … ".join(_format(text, start, end, m) for _score, start, end, m in best)


def hit_highlights(
    doc_type: DocType, data: Mapping[str, Any], words: tuple[str, ...]
) -> dict[str, str]:
    """Marked name (entity) or title and summary (record) of one hit."""
    if doc_type == "entity":
        name = data["name"]
        spans = [(t, s, e, True) for t, s, e in name_spans(name)]
        terms = {t for t, _s, _e, _m in spans if any(t.startswith(w) for w in words)}
        return {"name": _whole(name, spans, terms) or html.escape(name)}
    stems = {s for w in words for s in stems_of(w)}
    title = data["title"]
    out = {"title": _whole(title, text_tokens(title), stems) or html.escape(title)}
    summary = data.get("summary") or ""
    snippet = _snippet(summary, stems)
    if snippet or summary:
        out["summary"] = snippet or html.escape(summary[:240]) + ("…" if len(summary) > 240 else "")
    return out
