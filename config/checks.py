"""Djangos systemkontroll för portalens nycklar (körs av `manage.py check --deploy`).

Samma prövning som config/settings.py gör vid start med DEBUG av (regeln i config/keys.py);
här syns den också för en miljö där inställningarna satts på annat sätt, och varje problem
får ett eget id. Dessutom en varning när klinikens telefonnummer (CLINIC_PHONE) saknas i drift.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from config.keys import key_problems


@register(Tags.security, deploy=True)
def check_keys(app_configs: Any, **kwargs: Any) -> list[Error]:
    """PHONE_HASH_KEY, SMS_WEBHOOK_TOKEN och PHONE_ENCRYPTION_KEYS: starka och inte delade med någon annan nyckel."""
    problems = key_problems(
        secret_key=settings.SECRET_KEY,
        phone_hash_key=settings.PHONE_HASH_KEY,
        webhook_token=settings.SMS_WEBHOOK_TOKEN,
        encryption_keys=settings.PHONE_ENCRYPTION_KEYS,
        examples=settings.EXAMPLE_VALUES,
    )
    return [Error(problem, hint="Se README, Nycklar och rotation.", id="config.E001") for problem in problems]


@register(Tags.security, deploy=True)
def check_clinic_phone(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """I drift ska patientsidorna kunna säga vart man ringer för att återkalla sitt samtycke (CLINIC_PHONE)."""
    if settings.DEBUG or settings.CLINIC_PHONE:
        return []
    return [
        Warning(
            "CLINIC_PHONE saknas: patientsidorna kan inte visa klinikens telefonnummer "
            "(Vid frågor, och hur patienten återkallar sitt samtycke).",
            hint='Ange t.ex. CLINIC_PHONE="08-123 45 67".',
            id="config.W001",
        )
    ]
