"""Sändningen av kampanjens SMS med django-q2: ett jobb per mottagare, bara id:n som argument.

Varje mottagare tas en gång (villkorlig uppdatering queued → sending), skickas genom
`smsportal.sending.send_sms` och får sitt krypterade nummer raderat direkt efteråt. En
arbetsprocess som dör mitt i lämnar mottagaren i `sending`, som visas som osäkert och
aldrig skickas igen.
"""

from __future__ import annotations

import logging

from django.utils import timezone
from django_q.tasks import async_task

from campaigns.messages import message_with_consent, message_without_consent
from campaigns.models import Campaign, Recipient
from campaigns.phones import PhoneDecryptionError, decrypt_phone
from smsportal.backends.base import SmsError
from smsportal.sending import send_sms

logger = logging.getLogger(__name__)


def enqueue_dispatch(campaign_id: int) -> None:
    """Lägger ett sändjobb per mottagare i kön (argumentet är mottagarens id, aldrig numret)."""
    ids = Recipient.objects.filter(campaign_id=campaign_id, send_status=Recipient.SendStatus.QUEUED).values_list(
        "pk", flat=True
    )
    for recipient_id in ids:
        async_task("campaigns.tasks.send_to_recipient", recipient_id, task_name=f"kampanj-{campaign_id}-{recipient_id}")


def send_to_recipient(recipient_id: int) -> None:
    """Skickar en mottagares SMS högst en gång."""
    claimed = Recipient.objects.filter(
        pk=recipient_id, send_status=Recipient.SendStatus.QUEUED, campaign__status=Campaign.Status.ACTIVE
    ).update(send_status=Recipient.SendStatus.SENDING, send_started_at=timezone.now())
    if not claimed:
        return
    recipient = Recipient.objects.select_related("campaign").get(pk=recipient_id)
    try:
        to = decrypt_phone(recipient.phone_encrypted)
    except PhoneDecryptionError:
        _finish(recipient_id, Recipient.SendStatus.FAILED)
        logger.warning("Kampanjmottagare %s: numret kunde inte dekrypteras", recipient_id)
        return
    try:
        result = send_sms(to, message_for(recipient))
    except SmsError as error:
        status = Recipient.SendStatus.UNCERTAIN if error.ambiguous else Recipient.SendStatus.FAILED
        _finish(recipient_id, status, provider=error.provider)
        logger.warning("Kampanjmottagare %s: %s (%s)", recipient_id, status.label, error.reason)
        return
    _finish(
        recipient_id,
        Recipient.SendStatus.SENT,
        provider=result.provider,
        provider_message_id=result.message_id,
        sent_at=timezone.now(),
    )


def message_for(recipient: Recipient) -> str:
    """Rätt variant: med samtycke namn och operationstyp, annars den vaga."""
    campaign = recipient.campaign
    if recipient.consent:
        return message_with_consent(campaign.slot_at, recipient.code, recipient.name, campaign.operation_type)
    return message_without_consent(campaign.slot_at, recipient.code)


def _finish(recipient_id: int, status: str, **fields: object) -> None:
    """Sätter slutstatus och raderar det krypterade numret i samma uppdatering."""
    Recipient.objects.filter(pk=recipient_id).update(send_status=status, phone_encrypted="", **fields)
