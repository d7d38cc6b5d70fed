"""Djangos systemkontroller för SMS-inställningarna (körs av `manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

OFFLINE_BACKENDS = {"console", "locmem"}


@register(Tags.security, deploy=True)
def check_real_sms_provider(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """I drift ska minst en riktig leverantör vara vald; console och locmem skickar inga SMS."""
    offline = OFFLINE_BACKENDS.intersection(settings.SMS_PROVIDERS)
    if settings.DEBUG or not offline:
        return []
    return [
        Warning(
            f"SMS_PROVIDERS innehåller {', '.join(sorted(offline))}: inga riktiga SMS skickas.",
            hint="Ange t.ex. SMS_PROVIDERS=sinch,twilio med inloggningsuppgifter.",
            id="smsportal.W001",
        )
    ]
