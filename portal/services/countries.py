"""Country names as real lists spell them, to ISO 3166 codes, never guessed.

pycountry knows the ISO names and codes; sanctions and debarment lists use others
("Peoples Republic of China", "Turkiye", "Lao PDR", "Kyrgz Republic"). Those are
in SPELLINGS, reviewed one by one. A name that is neither, or that could be two
countries ("Korea", "Congo"), is refused with the reason, so that an import names
the row instead of filing a firm under the wrong country.
"""

from __future__ import annotations

import re
import unicodedata

import pycountry

# Codes that registers use where ISO 3166 has none (user-assigned in ISO terms).
EXTRA_CODES = {"XK": "Kosovo"}

# Folded spelling -> code. Folding: accents, case, punctuation and "the" do not matter.
SPELLINGS = {
    "peoples republic of china": "CN",
    "china peoples republic of": "CN",
    "prc": "CN",
    "turkiye": "TR",
    "turkey": "TR",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "korea rep": "KR",
    "south korea": "KR",
    "democratic peoples republic of korea": "KP",
    "korea democratic peoples republic of": "KP",
    "korea dem peoples rep": "KP",
    "dprk": "KP",
    "north korea": "KP",
    "lao pdr": "LA",
    "laos": "LA",
    "lao peoples democratic republic": "LA",
    "kyrgz republic": "KG",
    "kyrgyz republic": "KG",
    "kyrgyzstan": "KG",
    "kosovo": "XK",
    "russia": "RU",
    "russian federation": "RU",
    "iran": "IR",
    "iran islamic republic of": "IR",
    "syria": "SY",
    "syrian arab republic": "SY",
    "vietnam": "VN",
    "viet nam": "VN",
    "cote divoire": "CI",
    "ivory coast": "CI",
    "democratic republic of the congo": "CD",
    "democratic republic of congo": "CD",
    "congo democratic republic of": "CD",
    "congo dem rep": "CD",
    "drc": "CD",
    "republic of the congo": "CG",
    "republic of congo": "CG",
    "congo republic of": "CG",
    "congo rep": "CG",
    "bolivia": "BO",
    "tanzania": "TZ",
    "moldova": "MD",
    "venezuela": "VE",
    "macedonia": "MK",
    "north macedonia": "MK",
    "fyr macedonia": "MK",
    "czech republic": "CZ",
    "netherlands": "NL",
    "holland": "NL",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "taiwan": "TW",
    "palestine": "PS",
    "west bank and gaza": "PS",
    "gambia": "GM",
    "bahamas": "BS",
    "micronesia": "FM",
    "egypt arab republic of": "EG",
    "yemen republic of": "YE",
    "swaziland": "SZ",
    "eswatini": "SZ",
    "burma": "MM",
    "myanmar": "MM",
    "cape verde": "CV",
    "cabo verde": "CV",
    "east timor": "TL",
    "timor leste": "TL",
    "st lucia": "LC",
    "st kitts and nevis": "KN",
    "st vincent and the grenadines": "VC",
    "brunei": "BN",
    "vatican": "VA",
    "sao tome and principe": "ST",
    "bosnia": "BA",
    "bosnia herzegovina": "BA",
    "uae": "AE",
}

# Names that fit two countries: refused, naming both.
AMBIGUOUS = {
    "korea": ("KR", "KP"),
    "congo": ("CG", "CD"),
    "virgin islands": ("VG", "VI"),
}


class UnknownCountry(ValueError):
    """A country name that is no country, or could be more than one."""


def fold_country(name: str) -> str:
    """A country name as a comparison key: no accents, case, punctuation or leading "the"."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['’`]", "", text)
    text = re.sub(r"[^\w]+", " ", text).strip()
    return re.sub(r"^the ", "", text)


def country_code(name: str) -> str:
    """The ISO 3166-1 alpha-2 code (or XK) of a country as written; UnknownCountry if none."""
    key = fold_country(name)
    if not key:
        raise UnknownCountry("is empty")
    if key in AMBIGUOUS:
        codes = " or ".join(AMBIGUOUS[key])
        raise UnknownCountry(f"{name.strip()!r} could be {codes}; write the country in full")
    if key in SPELLINGS:
        return SPELLINGS[key]
    if key.upper() in EXTRA_CODES:
        return key.upper()
    try:
        # lookup() matches codes and ISO names exactly (any case), never approximately.
        return str(pycountry.countries.lookup(name.strip()).alpha_2)
    except LookupError:
        pass
    raise UnknownCountry(f"{name.strip()!r} is not a country name this register knows")


def extra_code_name(code: str) -> str | None:
    """The name of a code registers use beyond ISO 3166 (Kosovo XK), or None."""
    return EXTRA_CODES.get(code)
