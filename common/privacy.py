"""Integritetshjälp som flera appar behöver: känna igen och tvätta bort telefonnummer.

Modulen importerar inget av portalens egna: audit-loggen, mallarna, kampanjerna och
SMS-leverantörerna använder den alla.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

# Sju eller fler siffror i följd (med vanliga skiljetecken): tvättas bort ur externa texter.
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s\-().]*\d){6,}")


def looks_like_phone_number(text: str) -> bool:
    """Sant om texten innehåller ett giltigt telefonnummer (svenskt eller internationellt).

    Bygger på phonenumbers, så datum och årtal ("Stängt 2026-12-24") räknas inte.
    """
    matcher = phonenumbers.PhoneNumberMatcher(text, "SE", leniency=phonenumbers.Leniency.VALID)
    return matcher.has_next()


def phone_like_field(value: Any, field: str) -> str | None:
    """Namnet på första fältet (även i nästlade ordböcker och listor) som liknar ett nummer, annars None."""
    if isinstance(value, str):
        return field if looks_like_phone_number(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = phone_like_field(str(key), field) or phone_like_field(item, f"{field}.{key}")
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for item in value:
            found = phone_like_field(item, field)
            if found:
                return found
    return None


def redact_phone_numbers(text: str) -> str:
    """Ersätter allt som liknar ett telefonnummer (t.ex. i en leverantörs felsvar) med [nummer]."""
    return _PHONE_LIKE.sub("[nummer]", text)
