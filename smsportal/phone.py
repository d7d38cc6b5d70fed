"""Svenska mobilnummer: tolkning av inklistrade nummer, E.164 och maskning.

Numren tolkas med biblioteket phonenumbers (region "SE"). Endast giltiga svenska
mobilnummer godtas; fasta nummer, utländska nummer och allt annat avvisas med
InvalidPhoneNumber och ett felmeddelande som kan visas för personalen.
"""

from __future__ import annotations

import re
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType

REGION: Final = "SE"
MAX_INPUT_LENGTH: Final = 40
ERROR_MESSAGE: Final = "Ogiltigt telefonnummer - ange format +46XXXXXXXXX"

# Skiljetecken som får förekomma i inklistrade nummer (utöver blanktecken av alla slag,
# t.ex. tabb och hårt mellanslag från Excel eller webbsidor): bindestreck och tankstreck,
# punkt, snedstreck och parenteser som i "+46 (0)70-123 45 67".
_SEPARATORS: Final = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2212./()]")
_COMPACT_NUMBER: Final = re.compile(r"\+?[0-9]+")


class InvalidPhoneNumber(ValueError):
    """Numret är inte ett giltigt svenskt mobilnummer."""

    def __init__(self) -> None:
        """Skapar felet med det fasta felmeddelandet till användaren."""
        super().__init__(ERROR_MESSAGE)


def _compact(raw: str) -> str:
    """Tar bort blanktecken och skiljetecken; avvisar allt som inte är siffror och ett inledande plus.

    Bokstäver avvisas uttryckligen eftersom phonenumbers annars översätter dem till
    siffror (som på en telefonknappsats).
    """
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidPhoneNumber()
    compact = _SEPARATORS.sub("", raw)
    if not _COMPACT_NUMBER.fullmatch(compact):
        raise InvalidPhoneNumber()
    return compact


def _with_country_code(compact: str) -> str:
    """Tolkar ett nummer som börjar med 46 utan plus eller 00.

    Ett sådant nummer är tvetydigt. Det godtas bara om det har exakt 11 siffror och
    börjar med 467 (landsnummer 46 följt av ett niosiffrigt mobilnummer utan nolla),
    och tolkas då som +46. Andra nummer som börjar med 46 avvisas. Svenska nummer i
    nationellt format börjar annars alltid med 0, så inget giltigt mobilnummer går förlorat.
    """
    if not compact.startswith("46"):
        return compact
    if len(compact) == 11 and compact.startswith("467"):
        return "+" + compact
    raise InvalidPhoneNumber()


def _parse(raw: str) -> PhoneNumber:
    """Tolkar och kontrollerar numret; returnerar phonenumbers-objektet."""
    try:
        number = phonenumbers.parse(_with_country_code(_compact(raw)), REGION)
    except NumberParseException as error:
        raise InvalidPhoneNumber() from error
    if not (
        phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) == PhoneNumberType.MOBILE
        and phonenumbers.region_code_for_number(number) == REGION
    ):
        raise InvalidPhoneNumber()
    return number


def parse_swedish_mobile(raw: str) -> str:
    """Returnerar ett svenskt mobilnummer i E.164-format, t.ex. "+46701234567".

    Godtar vanliga inklistrade former: "070-123 45 67", "0701234567", "+46 70 123 45 67",
    "+46 (0)70-123 45 67", "0046 70 123 45 67", nummer med tabbar, punkter och hårda
    mellanslag samt "701234567" (där Excel har tagit bort den inledande nollan).
    Ett nummer som börjar med 46 utan plus godtas bara med 11 siffror som börjar med
    467, t.ex. "46701234567" (se _with_country_code).

    Avvisar fasta nummer, utländska nummer, för korta eller långa nummer, bokstäver,
    tom text och indata längre än 40 tecken med InvalidPhoneNumber.
    """
    number = _parse(raw)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def national_format(e164: str) -> str:
    """Visar ett mobilnummer i svenskt nationellt format, t.ex. "070-123 45 67"."""
    return phonenumbers.format_number(_parse(e164), PhoneNumberFormat.NATIONAL)


def mask_phone(e164: str) -> str:
    """Maskerar ett mobilnummer så att bara de sex första siffrorna syns, t.ex. "070-123 ****"."""
    digits = "0" + str(_parse(e164).national_number)
    return f"{digits[:3]}-{digits[3:6]} ****"
