"""Parsers for one input field each; each raises FieldError with a plain reason."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from urllib.parse import urlsplit

import pycountry

from portal.services.countries import extra_code_name

# Direction overrides and isolates can make a name display as something else.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FieldError(ValueError):
    """One field's value is unacceptable; the message says why."""


def text(value: str | None, *, required: bool = False, max_length: int = 300) -> str | None:
    """Trimmed text without control or direction-override characters."""
    value = (value or "").strip()
    if not value:
        if required:
            raise FieldError("is required")
        return None
    if _BIDI_CONTROLS.search(value):
        raise FieldError("contains a right-to-left override or similar control character")
    if _CONTROL.search(value):
        raise FieldError("contains control characters")
    if len(value) > max_length:
        raise FieldError(f"is longer than {max_length} characters")
    return value


def choice(
    value: str | None, enum_cls: type[StrEnum], *, default: StrEnum | None = None
) -> StrEnum:
    """One of an enum's values, case-insensitive."""
    value = (value or "").strip().lower()
    if not value and default is not None:
        return default
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise FieldError(f"must be one of {allowed} (got {value!r})") from None


def optional_choice(value: str | None, enum_cls: type[StrEnum]) -> StrEnum | None:
    """One of an enum's values, case-insensitive, or None when empty."""
    if not (value or "").strip():
        return None
    return choice(value, enum_cls)


def fold_key(value: str) -> str:
    """Text as a comparison key: case and runs of spaces do not matter."""
    return " ".join(value.casefold().split())


def iso_date(
    value: str | None, *, required: bool = False, today: date | None = None
) -> date | None:
    """A YYYY-MM-DD date, not after `today` when given."""
    value = (value or "").strip()
    if not value:
        if required:
            raise FieldError("is required")
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"must be a date as YYYY-MM-DD (got {value!r})") from None
    if today is not None and parsed > today:
        raise FieldError("is in the future")
    return parsed


def money(value: str | None) -> Decimal | None:
    """A non-negative amount with at most two decimals."""
    value = (value or "").strip().replace(",", "")
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise FieldError(f"must be a number (got {value!r})") from None
    if not amount.is_finite() or amount < 0:
        raise FieldError("must be zero or more")
    if amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e14"):
        raise FieldError("must have at most two decimals and fewer than 15 digits")
    return amount.quantize(Decimal("0.01"))


def currency(value: str | None) -> str | None:
    """An ISO 4217 currency code."""
    value = (value or "").strip().upper()
    if not value:
        return None
    if len(value) != 3 or pycountry.currencies.get(alpha_3=value) is None:
        raise FieldError(f"must be an ISO 4217 currency code such as EUR (got {value!r})")
    return value


def url(value: str | None) -> str | None:
    """An http or https address."""
    value = text(value, max_length=1000)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise FieldError("must be an http:// or https:// address")
    return value


def jurisdiction_code(value: str | None) -> str:
    """An ISO 3166-1 alpha-2 country or ISO 3166-2 subdivision code (or XK, Kosovo)."""
    value = (value or "").strip().upper()
    if not value:
        raise FieldError("is required")
    if jurisdiction_name(value) is None:
        raise FieldError(f"must be an ISO 3166 code such as GB or US-NY (got {value!r})")
    return value


def jurisdiction_name(code: str) -> str | None:
    """The ISO name of a country or subdivision code, or None when unknown."""
    if "-" in code:
        subdivision = pycountry.subdivisions.get(code=code)
        # pycountry appends other official names in brackets: "Wales [Cymru GB-CYM]".
        return re.sub(r"\s*\[.*\]$", "", subdivision.name) if subdivision else None
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else extra_code_name(code)
