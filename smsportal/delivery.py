"""Leveransrapporter: webhook-adresser, mottagandet av en rapport och dess lyssnare.

Statusen sparas i SMS-registret (`smsportal.ledger.apply_delivery_report`): bara den första
slutliga statusen gäller, så en sen "levererat" skriver aldrig över "ej levererat" eller
tvärtom, och samma rapport två gånger (leverantörer försöker i timmar) ändrar ingenting.

Andra delar av portalen får veta om en ny status genom att stå i inställningen
SMS_DELIVERY_LISTENERS (sökvägar till funktioner som tar en `DeliveryReport`), som Djangos
e-postbackends och django-anymail: ett deklarerat ställe, ingen lista som fylls i vid start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string

from smsportal.ledger import apply_delivery_report
from smsportal.models import DeliveryStatus, SendAttempt

__all__ = ["DeliveryReport", "DeliveryStatus", "URL_SLUGS", "callback_url", "delivery_listeners", "receive_report"]


#: Leverantörens namn i webhook-adressen, där det skiljer sig från namnet i SMS_PROVIDERS.
URL_SLUGS = {"elks46": "46elks"}


@dataclass(frozen=True)
class DeliveryReport:
    """En ny slutlig leveransstatus, som lyssnarna får den: bara id:n och status."""

    provider: str
    message_id: str
    status: str
    purpose: str
    campaign_id: int | None

    @classmethod
    def of(cls, attempt: SendAttempt) -> DeliveryReport:
        """Rapporten för en rad i SMS-registret som just fått sin leveransstatus."""
        return cls(
            provider=attempt.provider,
            message_id=attempt.provider_message_id,
            status=attempt.delivery_status,
            purpose=attempt.purpose,
            campaign_id=attempt.campaign_id,
        )


def callback_url(provider: str, *, with_token: bool) -> str:
    """Publik adress för leverantörens leveransrapporter (med hemlig token när signatur saknas)."""
    slug = URL_SLUGS.get(provider, provider)
    url = settings.PUBLIC_BASE_URL + reverse("smsportal:webhook", args=[slug])
    if with_token:
        url += "?" + urlencode({"token": settings.SMS_WEBHOOK_TOKEN})
    return url


def delivery_listeners() -> list[Callable[[DeliveryReport], None]]:
    """Funktionerna i SMS_DELIVERY_LISTENERS, i ordning."""
    return [import_string(path) for path in settings.SMS_DELIVERY_LISTENERS]


def receive_report(provider: str, message_id: str, status: str) -> bool:
    """Sparar en leveransrapport för ett känt SMS och meddelar lyssnarna; sant om statusen var ny.

    Rapporter om okända meddelande-id sparas inte (ingen kan ha nytta av dem).
    """
    changed = apply_delivery_report(provider, message_id, status)
    for attempt in changed:
        report = DeliveryReport.of(attempt)
        for listener in delivery_listeners():
            listener(report)
    return bool(changed)
