"""Tolkning av den inklistrade mottagarlistan: en mottagare per rad, fel namngivna per rad.

Format per rad: namn och mobilnummer, åtskilda av komma, semikolon eller tabb (från Excel),
i valfri ordning, och en valfri tredje kolumn för samtycke (ja/nej). Exempel:

    Anna Andersson, 070-123 45 67, ja
    Karl Karlsson<TAB>0701234568

En inklistrad rubrikrad från Excel ("Namn, Telefon, Samtycke") hoppas över: bara första raden,
och bara när den saknar siffror och en kolumn heter som en nummerkolumn (`is_header_line`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.privacy import looks_like_phone_number
from smsportal.phone import InvalidPhoneNumber, parse_swedish_mobile

CONSENT_YES = {"ja", "j", "x", "1", "samtycke", "sant", "yes", "y"}
CONSENT_NO = {"nej", "n", "0", "-", "", "inget samtycke", "falskt", "no"}
MAX_NAME_LENGTH = 100
_SEPARATORS = re.compile(r"\t|;|,")
# Rubriker som en nummerkolumn i Excel brukar ha; en riktig rad har ett nummer där i stället.
PHONE_HEADERS = {"telefon", "telefonnummer", "tel", "tel.", "mobil", "mobilnummer", "mobiltelefon", "nummer", "phone"}


@dataclass(frozen=True)
class ParsedRecipient:
    """En giltig rad: radnummer, namn, nummer i E.164 och samtycke."""

    line: int
    name: str
    phone: str
    consent: bool


@dataclass(frozen=True)
class ParseResult:
    """Giltiga mottagare och ett svenskt felmeddelande per felaktig rad."""

    recipients: list[ParsedRecipient]
    errors: list[str]


def parse_recipients(text: str, *, max_recipients: int, default_consent: bool = False) -> ParseResult:
    """Tolkar listan rad för rad; tomma rader hoppas över, dubbletter och för långa listor är fel."""
    recipients: list[ParsedRecipient] = []
    errors: list[str] = []
    first_line_for: dict[str, ParsedRecipient] = {}
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line]
    if lines and is_header_line(lines[0][1]):
        lines = lines[1:]
    if len(lines) > max_recipients:
        errors.append(f"Listan har {len(lines)} rader; högst {max_recipients} mottagare per kampanj.")
    for number, line in lines[:max_recipients]:
        parsed = _parse_line(number, line, default_consent)
        if isinstance(parsed, str):
            errors.append(parsed)
        elif parsed.phone in first_line_for:
            errors.append(_duplicate_error(parsed, first_line_for[parsed.phone]))
        else:
            first_line_for[parsed.phone] = parsed
            recipients.append(parsed)
    return ParseResult(recipients=recipients, errors=errors)


def _duplicate_error(again: ParsedRecipient, first: ParsedRecipient) -> str:
    """Felet för en rad med samma nummer som en tidigare rad, med båda namnen: personalen ser direkt
    vilka två patienter det gäller i en lång lista (rutan har inga radnummer)."""
    return f"Rad {again.line} ({again.name}): samma nummer som rad {first.line} ({first.name})."


def is_header_line(line: str) -> bool:
    """Sant för en rubrikrad som "Namn, Telefon, Samtycke": inga siffror, två eller tre kolumner,
    och en av dem heter som en nummerkolumn. (En sådan rad kan aldrig vara en mottagare.)"""
    fields = [field.strip().casefold() for field in _SEPARATORS.split(line)]
    if any(character.isdigit() for character in line) or not 2 <= len(fields) <= 3:
        return False
    return any(field in PHONE_HEADERS for field in fields)


def _parse_line(number: int, line: str, default_consent: bool) -> ParsedRecipient | str:
    """En rad till en mottagare, eller ett svenskt felmeddelande som namnger raden."""
    fields = [field.strip() for field in _SEPARATORS.split(line)]
    if len(fields) < 2:
        return f"Rad {number}: ange namn och mobilnummer åtskilda av komma eller tabb."
    if len(fields) > 3:
        return f"Rad {number}: för många kolumner; ange namn, mobilnummer och eventuellt samtycke (ja/nej)."
    phone_index = _phone_column(fields[:2])
    if phone_index is None:
        return f"Rad {number}: ogiltigt mobilnummer – ange ett svenskt mobilnummer, t.ex. 070-123 45 67."
    name = fields[1 - phone_index]
    if not name:
        return f"Rad {number}: namn saknas."
    if len(name) > MAX_NAME_LENGTH:
        return f"Rad {number}: namnet är längre än {MAX_NAME_LENGTH} tecken."
    if looks_like_phone_number(name):
        # Namnet sparas i klartext; ett nummer i det skulle finnas kvar efter sändningen.
        return f"Rad {number}: namnet innehåller ett telefonnummer; ange numret i en egen kolumn."
    consent = default_consent
    if len(fields) == 3:
        value = fields[2].casefold()
        if value in CONSENT_YES:
            consent = True
        elif value in CONSENT_NO:
            consent = False
        else:
            return f"Rad {number}: okänt värde för samtycke – skriv ja eller nej."
    return ParsedRecipient(line=number, name=name, phone=parse_swedish_mobile(fields[phone_index]), consent=consent)


def _phone_column(fields: list[str]) -> int | None:
    """Vilken av de två första kolumnerna som är ett giltigt svenskt mobilnummer (helst den andra)."""
    for index in (1, 0):
        try:
            parse_swedish_mobile(fields[index])
        except InvalidPhoneNumber:
            continue
        return index
    return None
