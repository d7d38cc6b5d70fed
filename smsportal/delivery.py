"""Leveransrapporter: webhook-adresser och mottagandet av en rapport.

Statusen sparas i audit-appen (`audit.services.record_delivery`): bara den första slutliga
statusen gäller, så en sen "levererat" skriver aldrig över "ej levererat" eller tvärtom,
och samma rapport två gånger (leverantörer försöker i timmar) ändrar ingenting.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.dispatch import Signal
from django.urls import reverse

from audit.models import AuditEvent, DeliveryStatus
from audit.services import record_delivery

__all__ = ["DeliveryStatus", "URL_SLUGS", "callback_url", "delivery_status_changed", "message_lookups", "receive_report"]


#: Leverantörens namn i webhook-adressen, där det skiljer sig från namnet i SMS_PROVIDERS.
URL_SLUGS = {"elks46": "46elks"}

#: Skickas efter varje ändrad status: provider, message_id, status (t.ex. för kampanjer).
delivery_status_changed = Signal()


def callback_url(provider: str, *, with_token: bool) -> str:
    """Publik adress för leverantörens leveransrapporter (med hemlig token när signatur saknas)."""
    slug = URL_SLUGS.get(provider, provider)
    url = settings.PUBLIC_BASE_URL + reverse("smsportal:webhook", args=[slug])
    if with_token:
        url += "?" + urlencode({"token": settings.SMS_WEBHOOK_TOKEN})
    return url


def _sent_one_way(provider: str, message_id: str) -> bool:
    """Sant om ett envägs-SMS (audit-loggen) har detta meddelande-id."""
    return AuditEvent.objects.filter(provider=provider, provider_message_id=message_id).exists()


#: Frågor "känner någon del av portalen till detta SMS?"; kampanjer lägger till sin egen.
message_lookups: list[Callable[[str, str], bool]] = [_sent_one_way]


def receive_report(provider: str, message_id: str, status: str) -> bool:
    """Sparar en leveransrapport för ett känt SMS och meddelar andra delar om den var ny.

    Rapporter om okända meddelande-id sparas inte (ingen kan ha nytta av dem).
    """
    if not any(lookup(provider, message_id) for lookup in message_lookups):
        return False
    changed = record_delivery(provider, message_id, status)
    if changed:
        delivery_status_changed.send(
            sender=receive_report, provider=provider, message_id=message_id, status=status
        )
    return changed
