"""Tester för tolkning, formatering och maskning av svenska mobilnummer (smsportal.phone)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsportal.phone import InvalidPhoneNumber, mask_phone, national_format, parse_swedish_mobile

E164_SWEDISH_MOBILE = re.compile(r"\+467\d{8}")


@pytest.mark.parametrize(
    "raw",
    [
        " 070-123 45 67 ",
        "0701234567",
        "070 123 45 67",
        "+46 70 123 45 67",
        "+46701234567",
        "+46 (0)70-123 45 67",
        "+46 070-123 45 67",
        "0046 70 123 45 67",
        "46701234567",
        "46 70 123 45 67",
        "701234567",
        "(070) 123 45 67",
        "070/123 45 67",
        "070.123.45.67",
        "070\u00a0123\u00a045\u00a067",
        "070\t123\t45\t67",
        "\t+46701234567\n",
        "070\u2013123 45 67",
        "+46\u202f70\u202f123\u202f45\u202f67",
    ],
)
def test_accepts_common_pasted_forms(raw: str) -> None:
    """Vanliga inklistrade former (Excel, webbsidor, e-post) ger samma E.164-nummer."""
    assert parse_swedish_mobile(raw) == "+46701234567"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("072-234 56 78", "+46722345678"),
        ("073-987 65 43", "+46739876543"),
        ("076-000 00 00", "+46760000000"),
        ("078-123 45 67", "+46781234567"),
        ("079-123 45 67", "+46791234567"),
    ],
)
def test_accepts_other_mobile_prefixes(raw: str, expected: str) -> None:
    """Alla svenska mobilprefix som phonenumbers klassar som mobil godtas."""
    assert parse_swedish_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("08-123 45 67", id="fast nummer Stockholm"),
        pytest.param("031-123 45 67", id="fast nummer Göteborg"),
        pytest.param("+46 8 123 45 67", id="fast nummer med landsnummer"),
        pytest.param("020-123 456", id="frisamtal"),
        pytest.param("071-123 45 67", id="071 är inte mobil"),
        pytest.param("074-234 56 78", id="personsökare"),
        pytest.param("075-123 45 67", id="personligt nummer"),
        pytest.param("077-123 45 67", id="delad kostnad"),
    ],
)
def test_rejects_swedish_non_mobile_numbers(raw: str) -> None:
    """Svenska nummer som inte är mobilnummer avvisas."""
    with pytest.raises(InvalidPhoneNumber):
        parse_swedish_mobile(raw)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("+47 412 34 567", id="norsk mobil"),
        pytest.param("0047 41234567", id="norsk mobil med 00"),
        pytest.param("+358 40 1234567", id="finsk mobil"),
        pytest.param("+45 20 12 34 56", id="dansk nummer"),
        pytest.param("+1 202 555 0143", id="amerikanskt nummer"),
    ],
)
def test_rejects_foreign_numbers(raw: str) -> None:
    """Utländska nummer avvisas även när de är giltiga mobilnummer i sitt land."""
    with pytest.raises(InvalidPhoneNumber):
        parse_swedish_mobile(raw)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="tom"),
        pytest.param("   ", id="bara mellanslag"),
        pytest.param("+", id="bara plus"),
        pytest.param("070-123 45 6", id="för kort"),
        pytest.param("070-123 45 678", id="för långt"),
        pytest.param("+46 70 123 45 67 89", id="för långt med landsnummer"),
        pytest.param("070ABCDEFG", id="bokstäver som phonenumbers annars översätter"),
        pytest.param("070-CALL-ME", id="bokstäver"),
        pytest.param("0701234567 ext 5", id="anknytning"),
        pytest.param("0701234567;ext=5", id="anknytning i RFC 3966-form"),
        pytest.param("tel:+46701234567", id="tel-länk"),
        pytest.param("++46701234567", id="dubbla plus"),
        pytest.param("+46+701234567", id="plus mitt i"),
        pytest.param("\u0660\u0667\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667", id="arabiska siffror"),
        pytest.param("0701234567\u200b", id="nollbreddsmellanslag"),
        pytest.param("0701234567" + " " * 31, id="över 40 tecken"),
        pytest.param("0" * 10_000, id="absurt lång"),
    ],
)
def test_rejects_garbage(raw: str) -> None:
    """Tomt, för kort, för långt, bokstäver och andra skräptecken avvisas."""
    with pytest.raises(InvalidPhoneNumber):
        parse_swedish_mobile(raw)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("4670123456", id="10 siffror"),
        pytest.param("467012345678", id="12 siffror"),
        pytest.param("46 (0)70 123 45 67", id="med nolla i parentes"),
        pytest.param("4681234567", id="fast nummer"),
    ],
)
def test_bare_country_code_is_accepted_only_as_eleven_digits_starting_467(raw: str) -> None:
    """Ett nummer som börjar med 46 utan plus godtas bara med 11 siffror som börjar med 467."""
    with pytest.raises(InvalidPhoneNumber):
        parse_swedish_mobile(raw)


def test_error_message_is_swedish_and_exact() -> None:
    """Felet är ett ValueError med exakt det svenska felmeddelandet till användaren."""
    with pytest.raises(InvalidPhoneNumber) as excinfo:
        parse_swedish_mobile("08-123 45 67")
    assert isinstance(excinfo.value, ValueError)
    assert str(excinfo.value) == "Ogiltigt telefonnummer - ange format +46XXXXXXXXX"


def test_input_of_exactly_40_characters_is_accepted() -> None:
    """Gränsen på 40 tecken gäller först över 40; ett nummer med utfyllnad upp till 40 godtas."""
    raw = "0701234567".ljust(40)
    assert parse_swedish_mobile(raw) == "+46701234567"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [("+46701234567", "070-123 ****"), ("+46739876543", "073-987 ****"), ("+46760000000", "076-000 ****")],
)
def test_mask_phone(e164: str, masked: str) -> None:
    """Maskningen visar de sex första siffrorna i nationellt format."""
    assert mask_phone(e164) == masked


def test_mask_phone_rejects_invalid_number() -> None:
    """Ett ogiltigt nummer maskeras inte utan ger InvalidPhoneNumber."""
    with pytest.raises(InvalidPhoneNumber):
        mask_phone("+4681234567")


def test_national_format() -> None:
    """Nationellt format är det vanliga svenska skrivsättet."""
    assert national_format("+46701234567") == "070-123 45 67"


def check_result(raw: str) -> None:
    """Tolkningen ger antingen ett svenskt mobilnummer i E.164 eller InvalidPhoneNumber, aldrig annat."""
    try:
        result = parse_swedish_mobile(raw)
    except InvalidPhoneNumber:
        return
    assert E164_SWEDISH_MOBILE.fullmatch(result), result
    assert parse_swedish_mobile(result) == result


@given(st.text())
def test_arbitrary_text_gives_mobile_or_invalid(raw: str) -> None:
    """Godtycklig text ger ett giltigt +467-nummer eller InvalidPhoneNumber."""
    check_result(raw)


@given(st.text(alphabet="0123456789+ -().\t\u00a0", max_size=30))
def test_number_like_text_gives_mobile_or_invalid(raw: str) -> None:
    """Sifferliknande text (som oftare är giltig) ger ett giltigt +467-nummer eller InvalidPhoneNumber."""
    check_result(raw)
