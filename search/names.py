"""Folding of names so that people find what they type: accents, case, legal forms."""

from __future__ import annotations

import functools
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
    "ev": "ev",
}
# Forms people also type as spaced letters ("S A", "e V"): the longest run is joined first.
_LETTER_RUNS = (4, 3, 2)
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
# Format characters that draw nothing: soft hyphen, zero widths, joiners, direction marks,
# overrides and isolates, the byte-order mark. Removed, so "Zeta\u200bmax" is "zetamax".
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")

# Cyrillic and Greek letters drawn like a Latin letter (lower case, after folding), from
# Unicode's confusables.txt (UTS #39). Applied only inside a word that also has Latin
# letters: "Аcme" with a Cyrillic А is a look-alike of "acme"; "Газпром" stays Cyrillic.
LOOK_ALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
        "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "ѕ": "s", "т": "t",
        "у": "y", "х": "x", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "ӏ": "l",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j",
    }
)  # fmt: skip
_LETTERS = re.compile(r"[^\W\d_]+")


def latin_look_alike(word: str) -> str:
    """A folded word that mixes Latin letters with Cyrillic or Greek look-alikes, in Latin."""
    if word.isascii() or not any("a" <= c <= "z" for c in word):
        return word
    return word.translate(LOOK_ALIKES)


def fold(text: str) -> str:
    """Lower-case, strip accents and invisible characters, fold fullwidth forms and look-alikes."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = stripped.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("ł", "l")
    if folded.isascii():
        return folded
    return _LETTERS.sub(lambda m: latin_look_alike(m.group()), folded)


def scripts(text: str) -> tuple[str, ...]:
    """The alphabets a name's letters come from, in order of first use ("LATIN", "CYRILLIC")."""
    found: dict[str, None] = {}
    for c in text:
        if c.isalpha():
            found.setdefault(unicodedata.name(c, "UNKNOWN").split(" ", 1)[0])
    return tuple(found)


def name_tokens(name: str) -> list[str]:
    """Folded words of a name with legal forms reduced to one spelling each."""
    text = _JOINERS.sub("", fold(name).replace("&", " and "))
    text = " " + _NON_WORD.sub(" ", text) + " "
    return [word for word, _s, _e in _merge_legal_phrases([(w, 0, 0) for w in text.split()])]


def name_key(name: str) -> str:
    """The key two spellings of one organisation's name share."""
    return " ".join(name_tokens(name))


# Letters NFKD leaves whole; spelled out so "Œuvre" and "Đuro" match what people type.
_TRANSLIT = str.maketrans({"œ": "oe", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h"})
_WORD = re.compile(r"[^\W_]+")
_PHRASE_WORDS: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    (tuple(phrase.split()), token) for phrase, token in LEGAL_PHRASES
)
_PHRASES_BY_FIRST: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _words, _token in _PHRASE_WORDS:
    _PHRASES_BY_FIRST.setdefault(_words[0], []).append((_words, _token))
Span = tuple[str, int, int]


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """One character folded as `fold` folds it, with joiners dropped and `&` spelled out."""
    folded = _JOINERS.sub("", fold(char).translate(_TRANSLIT))
    return " and " if folded == "&" else folded


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the offset it came from in `text`."""
    if text.isascii():
        clean = text.lower().replace("\0", " ").replace("\x01", " ")
        return _JOINERS.sub("\0", clean).replace("&", "\x01"), list(range(len(text)))
    chars: list[str] = []
    where: list[int] = []
    for offset, char in enumerate(text):
        piece = _fold_char(char)
        chars.append(piece)
        where.extend([offset] * len(piece))
    return "".join(chars), where


def _merge_legal_phrases(words: list[Span]) -> list[Span]:
    """Replace multi-word legal forms by their one token, spanning all their words."""
    out: list[Span] = []
    i = 0
    while i < len(words):
        if len(words[i][0]) == 1 and (run := _letter_run(words, i)):
            out.append((LEGAL_FORMS[run], words[i][1], words[i + len(run) - 1][2]))
            i += len(run)
            continue
        for phrase, token in _PHRASES_BY_FIRST.get(words[i][0], ()):
            if tuple(w[0] for w in words[i : i + len(phrase)]) == phrase:
                out.append((token, words[i][1], words[i + len(phrase) - 1][2]))
                i += len(phrase)
                break
        else:
            out.append(words[i])
            i += 1
    return [(LEGAL_FORMS.get(word, word), start, end) for word, start, end in out]


def _letter_run(words: list[Span], i: int) -> str:
    """The legal form spelled by single letters from `words[i]` on ("s a u": "sau"), or ""."""
    for size in _LETTER_RUNS:
        run = words[i : i + size]
        if len(run) == size and all(len(w[0]) == 1 for w in run):
            joined = "".join(w[0] for w in run)
            if joined in LEGAL_FORMS:
                return joined
    return ""


def name_spans(text: str) -> tuple[Span, ...]:
    """Folded name tokens in any script, each with the characters it covers in `text`.

    For Latin text this gives the tokens of `name_tokens`; unlike it, Greek,
    Cyrillic and other letters are kept rather than dropped.
    """
    # Names are analysed for several fields in a row; long texts are not worth keeping.
    return _cached_spans(text) if len(text) <= 256 else _spans(text)


@functools.lru_cache(maxsize=4096)
def _cached_spans(text: str) -> tuple[Span, ...]:
    """`_spans`, remembered."""
    return _spans(text)


def _spans(text: str) -> tuple[Span, ...]:
    """Name tokens with their character spans."""
    folded, where = _folded_with_offsets(text)
    if text.isascii():
        words = _ascii_words(folded)
    else:
        matches = _WORD.finditer(folded)
        words = [
            (latin_look_alike(m.group()), where[m.start()], where[m.end() - 1] + 1) for m in matches
        ]
    return tuple(_merge_legal_phrases(words))


def _ascii_words(folded: str) -> list[Span]:
    """Words of lower-cased ASCII text in which joiners are NUL and `&` is \\x01."""
    words: list[Span] = []
    for match in re.finditer(r"[0-9a-z\0]+|\x01", folded):
        if match.group() == "\x01":
            words.append(("and", match.start(), match.end()))
            continue
        word = match.group().replace("\0", "")
        if word:
            start = match.start() + (len(match.group()) - len(match.group().lstrip("\0")))
            end = match.end() - (len(match.group()) - len(match.group().rstrip("\0")))
            words.append((word, start, end))
    return words
