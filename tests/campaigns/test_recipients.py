"""Mottagarlistan: format, fel per rad, dubbletter och gränsen; nummerskyddet."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from campaigns.phones import PhoneDecryptionError, decrypt_phone, encrypt_phone, phone_hash
from campaigns.recipients import ParsedRecipient, parse_recipients


def test_comma_tab_semicolon_and_either_order() -> None:
    """Komma, tabb (Excel) och semikolon; numret får stå först; samtycke i tredje kolumnen."""
    text = "Anna Andersson, 070-123 45 67, ja\nKarl Karlsson\t0701234568\n\n0046 70 123 45 69; Lisa Larsson; nej\n"
    result = parse_recipients(text, max_recipients=50)
    assert result.errors == []
    assert result.recipients == [
        ParsedRecipient(line=1, name="Anna Andersson", phone="+46701234567", consent=True),
        ParsedRecipient(line=2, name="Karl Karlsson", phone="+46701234568", consent=False),
        ParsedRecipient(line=4, name="Lisa Larsson", phone="+46701234569", consent=False),
    ]


def test_every_bad_line_is_named() -> None:
    """Varje felaktig rad namnges på svenska; giltiga rader behålls."""
    text = "\n".join(
        [
            "Anna Andersson, 070-123 45 67",
            "Erik Eriksson, 08-123 45 67",
            "bara ett namn",
            ", 070-123 45 70",
            "Olle Olsson, 070 123 45 67",
            "Per Persson, 0701234571, kanske",
        ]
    )
    result = parse_recipients(text, max_recipients=50)
    assert [r.name for r in result.recipients] == ["Anna Andersson"]
    assert result.errors == [
        "Rad 2: ogiltigt mobilnummer – ange ett svenskt mobilnummer, t.ex. 070-123 45 67.",
        "Rad 3: ange namn och mobilnummer åtskilda av komma eller tabb.",
        "Rad 4: namn saknas.",
        "Rad 5 (Olle Olsson): samma nummer som rad 1 (Anna Andersson).",
        "Rad 6: okänt värde för samtycke – skriv ja eller nej.",
    ]


def test_a_number_in_the_name_is_refused() -> None:
    """Ett nummer i namnkolumnen skulle sparas i klartext: raden vägras."""
    result = parse_recipients("Anna 070-123 45 67, 070-123 45 68, ja", max_recipients=50)
    assert result.errors == ["Rad 1: namnet innehåller ett telefonnummer; ange numret i en egen kolumn."]


def test_list_longer_than_the_bound_is_refused() -> None:
    """Fler rader än CAMPAIGN_MAX_RECIPIENTS ger ett fel som säger gränsen."""
    text = "\n".join(f"Person {i}, 07012345{i:02d}" for i in range(12))
    result = parse_recipients(text, max_recipients=10)
    assert result.errors[0] == "Listan har 12 rader; högst 10 mottagare per kampanj."


@given(st.text(max_size=2000))
def test_parser_never_crashes(text: str) -> None:
    """Godtycklig text ger mottagare och fel, aldrig ett undantag."""
    result = parse_recipients(text, max_recipients=50)
    assert len(result.recipients) <= 50


def test_phone_hash_is_keyed() -> None:
    """Hashen beror på PHONE_HASH_KEY (en vanlig SHA-256 går att knäcka på en minut)."""
    import hashlib

    first = phone_hash("+46701234567")
    assert first != hashlib.sha256(b"+46701234567").hexdigest()
    with override_settings(PHONE_HASH_KEY="en-annan-nyckel"):
        assert phone_hash("+46701234567") != first
    assert phone_hash("+46701234567") == first


def test_encryption_round_trip_and_key_change(settings: Any) -> None:
    """Krypterat nummer går att läsa med samma nyckel, inte när PHONE_ENCRYPTION_KEYS saknar den."""
    token = encrypt_phone("+46701234567")
    assert "701234567" not in token
    assert decrypt_phone(token) == "+46701234567"
    settings.PHONE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(PhoneDecryptionError):
        decrypt_phone(token)


@pytest.mark.parametrize(
    "header", ["Namn, Telefon, Samtycke", "namn;mobil;samtycke", "Patient\tMobilnummer", "NAMN, TELEFONNUMMER"]
)
def test_a_pasted_header_row_is_skipped(header: str) -> None:
    """Excels rubrikrad på första raden hoppas över; radnumren följer fortfarande det inklistrade."""
    result = parse_recipients(f"{header}\nAnna Andersson, 070-123 45 67, ja", max_recipients=1)
    assert result.errors == []
    assert result.recipients == [ParsedRecipient(line=2, name="Anna Andersson", phone="+46701234567", consent=True)]


@pytest.mark.parametrize(
    "text, error",
    [
        # Bara första raden kan vara en rubrik.
        ("Anna Andersson, 070-123 45 67\nNamn, Telefon", "Rad 2: ogiltigt mobilnummer"),
        # Utan en nummerrubrik är det en felskriven rad, inte en rubrik.
        ("Anna Andersson, Karlsson\nLisa, 070-123 45 69", "Rad 1: ogiltigt mobilnummer"),
        # Med siffror är det ett felskrivet nummer.
        ("Telefon, 070-123 45\nLisa, 070-123 45 69", "Rad 1: ogiltigt mobilnummer"),
    ],
)
def test_only_a_recognisable_first_line_header_is_skipped(text: str, error: str) -> None:
    """Allt som inte är en tydlig rubrikrad namnges som fel, som förut."""
    assert parse_recipients(text, max_recipients=50).errors[0].startswith(error)
