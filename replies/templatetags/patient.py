"""Mallarnas hjälp för patientsidorna: klinikens telefonnummer (CLINIC_PHONE).

En tagg i stället för sidans kontext: även felsidorna (renderade utan begäran, config/views.py)
visar numret.
"""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def clinic_phone() -> str:
    """Klinikens telefonnummer som patienterna ringer, t.ex. "08-123 45 67" (tomt om det inte är satt)."""
    return str(getattr(settings, "CLINIC_PHONE", ""))


@register.filter
def tel_href(phone: str) -> str:
    """Numret som tel:-länk: bara siffror och ett inledande plus ("08-123 45 67" → "tel:081234567")."""
    digits = "".join(character for character in phone if character.isdigit())
    return f"tel:{'+' if phone.strip().startswith('+') else ''}{digits}"
