"""Country names as real lists write them, to codes; ambiguous or unknown ones refused."""

from __future__ import annotations

import pytest

from portal.services.countries import UnknownCountry, country_code
from portal.services.fields import FieldError, jurisdiction_code, jurisdiction_name


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Peoples Republic of China", "CN"),
        ("People's Republic of China", "CN"),
        ("Turkiye", "TR"),
        ("Türkiye", "TR"),
        ("Republic of Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("Democratic People's Republic of Korea", "KP"),
        ("Lao PDR", "LA"),
        ("Kyrgz Republic", "KG"),
        ("Kosovo", "XK"),
        ("Côte d'Ivoire", "CI"),
        ("Congo, Democratic Republic of", "CD"),
        ("The Netherlands", "NL"),
        ("GERMANY", "DE"),
        ("Viet Nam", "VN"),
        ("St. Lucia", "LC"),
        ("DE", "DE"),
        ("deu", "DE"),
    ],
)
def test_the_spellings_of_real_lists_give_their_country(written, code):
    assert country_code(written) == code


@pytest.mark.parametrize("written", ["Korea", "Congo", "Atlantis", "", "Europe"])
def test_an_ambiguous_or_unknown_name_is_refused_with_the_reason(written):
    with pytest.raises(UnknownCountry) as refused:
        country_code(written)
    message = str(refused.value)
    if written == "Korea":
        assert "KR or KP" in message
    elif written:
        assert repr(written) in message


def test_kosovo_is_a_jurisdiction_though_iso_has_no_code_for_it():
    assert jurisdiction_code("xk") == "XK" and jurisdiction_name("XK") == "Kosovo"
    with pytest.raises(FieldError):
        jurisdiction_code("XX")
