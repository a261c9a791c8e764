"""Ranking over document sets: the entity tiers and facet counts.

Engine-free: an engine hands in sets of document numbers and per-document
columns, so every engine orders and counts the same way.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence


def rank(
    matched: set[int], tiers: Sequence[Sequence[set[int]]], names: Sequence[bytes], depth: int
) -> list[tuple[int, float]]:
    """The best `depth` documents of `matched` found in any tier set, with a relevance.

    A document ranks by how many sets of each tier hold it, the first tier
    deciding first, then by the shorter name and the name itself. Relevance
    reads those counts (each capped at 9) as the digits of one number.
    """
    sets = [s for tier in tiers for s in tier]
    if not sets:
        return []
    positive = matched.intersection(sets[0].union(*sets[1:]))

    def first(docs: set[int], count: int) -> list[int]:
        """The shorter name first, then the name, then the number."""
        return heapq.nsmallest(count, docs, key=lambda d: (len(names[d]), names[d], d))

    # Groups by tier counts, ordered only as far as the page reaches: a common word's
    # thousands of matches are not each given a sort key.
    return tiered(positive, tiers, depth, first)


def _by_count(docs: set[int], sets: Sequence[set[int]]) -> Iterator[tuple[int, set[int]]]:
    """`docs` split by how many of `sets` hold each one, most first (empty groups left out)."""
    if len(sets) <= 1:
        inside = docs.intersection(*sets) if sets else set()
        groups = [(1, inside), (0, docs - inside)] if sets else [(0, docs)]
    else:
        counts: Counter[int] = Counter()
        for found in sets:
            counts.update(found & docs)
        by_count: dict[int, set[int]] = {0: docs.difference(counts)}
        for doc, count in counts.items():
            by_count.setdefault(count, set()).add(doc)
        groups = sorted(by_count.items(), reverse=True)
    return ((count, group) for count, group in groups if group)


def tiered(
    matched: set[int],
    tiers: Sequence[Sequence[set[int]]],
    depth: int,
    first: Callable[[set[int], int], list[int]],
) -> list[tuple[int, float]]:
    """The best `depth` of `matched`: by how many sets of each tier hold a document, the
    first tier deciding first, then in the order `first(docs, n)` gives within a group.

    Only the groups a page reaches are ordered, so a large `matched` costs set operations,
    not a score per document. Relevance reads the counts (capped at 9) as digits.
    """
    out: list[tuple[int, float]] = []

    def walk(docs: set[int], level: int, digits: str) -> None:
        """Fill `out` from `docs`, best group first, until it holds `depth`."""
        if level == len(tiers):
            out.extend((d, float(digits or 0)) for d in first(docs, depth - len(out)))
            return
        for count, group in _by_count(docs, tiers[level]):
            walk(group, level + 1, digits + str(min(count, 9)))
            if len(out) >= depth:
                return

    if depth > 0 and matched:
        walk(matched, 0, "")
    return out


def facet_counts(column: Sequence[str], docs: Iterable[int]) -> tuple[tuple[str, int], ...]:
    """Values of a per-document column over `docs`, by count descending then value."""
    return sorted_counts(Counter(map(column.__getitem__, docs)))


def sorted_counts(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    """Counted facet values (the empty value left out), by count descending then value."""
    return tuple(sorted(((v, n) for v, n in counts.items() if v), key=lambda i: (-i[1], i[0])))
