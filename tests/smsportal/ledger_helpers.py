"""Hjälp för tester av leveransrapporter: ett skickat SMS i SMS-registret, och registrets rapporter."""

from __future__ import annotations

from django.db.models import QuerySet

from smsportal.models import AttemptStatus, Purpose, SendAttempt


def sent_attempt(provider: str, message_id: str, purpose: Purpose = Purpose.ONE_WAY) -> SendAttempt:
    """Ett SMS som leverantören `provider` tagit emot med id `message_id` (ännu ingen rapport)."""
    return SendAttempt.objects.create(
        purpose=purpose, status=AttemptStatus.SENT, provider=provider, provider_message_id=message_id, segments=1
    )


def reported() -> QuerySet[SendAttempt]:
    """Registrets rader som fått en leveransrapport."""
    return SendAttempt.objects.exclude(delivery_status="")
