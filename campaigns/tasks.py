"""Sändningen av kampanjens SMS med django-q2: ett jobb per mottagare, bara id:n som argument.

Varje mottagare tas en gång (villkorlig uppdatering queued → sending), skickas genom
`smsportal.sending.send_sms` och får sitt krypterade nummer raderat direkt efteråt. En
arbetsprocess som dör mitt i lämnar mottagaren i `sending`, som visas som osäkert och
aldrig skickas igen.
"""

from __future__ import annotations

import logging

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_q.tasks import async_task

from campaigns.events import campaign_changed
from campaigns.messages import message_for
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
    """Skickar en mottagares SMS högst en gång, och bara medan kampanjen är öppen.

    Jobbets resultat och eventuella fel sparas av django-q2 i databasen: därför fångas
    allt här och bara id och status loggas, aldrig ett undantags text (den kan eka numret).
    """
    if not _claim(recipient_id):
        # Kampanjen stängd eller tiden passerad innan jobbet hann köras: skicka aldrig.
        if Recipient.objects.filter(pk=recipient_id, send_status=Recipient.SendStatus.QUEUED).update(
            send_status=Recipient.SendStatus.CANCELLED, phone_encrypted=""
        ):
            _notify(recipient_id)
        return
    _notify(recipient_id)
    try:
        _send(Recipient.objects.select_related("campaign").get(pk=recipient_id))
    except Exception as error:  # noqa: BLE001 – numret får aldrig ligga kvar efter ett oväntat fel
        _finish(recipient_id, Recipient.SendStatus.UNCERTAIN)
        logger.error("Kampanjmottagare %s: oväntat fel (%s), status osäkert", recipient_id, type(error).__name__)


def _claim(recipient_id: int) -> bool:
    """Tar mottagaren (queued → sending) i en villkorlig uppdatering; sant för den enda som lyckas.

    Villkoret på kampanjen är en EXISTS och ingen join: då blir det en enda UPDATE av
    mottagarens rad, som PostgreSQL prövar om mot radens senaste version när två jobb krockar.
    """
    open_campaign = Campaign.objects.filter(
        pk=OuterRef("campaign_id"), status=Campaign.Status.ACTIVE, slot_at__gt=timezone.now()
    )
    return bool(
        Recipient.objects.filter(pk=recipient_id, send_status=Recipient.SendStatus.QUEUED)
        .filter(Exists(open_campaign))
        .update(send_status=Recipient.SendStatus.SENDING, send_started_at=timezone.now())
    )


def _send(recipient: Recipient) -> None:
    """Dekrypterar numret, skickar och sätter slutstatus (numret raderas i samma uppdatering)."""
    try:
        to = decrypt_phone(recipient.phone_encrypted)
    except PhoneDecryptionError:
        _finish(recipient.pk, Recipient.SendStatus.FAILED)
        logger.warning("Kampanjmottagare %s: numret kunde inte dekrypteras", recipient.pk)
        return
    try:
        campaign = recipient.campaign
        text = message_for(
            campaign.slot_at,
            recipient.code,
            name=recipient.name,
            consent=recipient.consent,
            operation_type=campaign.operation_type,
        )
        result = send_sms(to, text)
    except SmsError as error:
        status = Recipient.SendStatus.UNCERTAIN if error.ambiguous else Recipient.SendStatus.FAILED
        _finish(recipient.pk, status, provider=error.provider)
        logger.warning("Kampanjmottagare %s: %s (%s)", recipient.pk, status.label, error.reason)
        return
    _finish(
        recipient.pk,
        Recipient.SendStatus.SENT,
        provider=result.provider,
        provider_message_id=result.message_id,
        sent_at=timezone.now(),
    )


def _finish(recipient_id: int, status: str, **fields: object) -> None:
    """Sätter slutstatus och raderar det krypterade numret i samma uppdatering; sidorna meddelas."""
    Recipient.objects.filter(pk=recipient_id).update(send_status=status, phone_encrypted="", **fields)
    _notify(recipient_id)


def _notify(recipient_id: int) -> None:
    """Meddelar kampanjens öppna sidor att mottagarens sändstatus ändrats (fel fångas i events)."""
    campaign_id = Recipient.objects.filter(pk=recipient_id).values_list("campaign_id", flat=True).first()
    if campaign_id is not None:
        campaign_changed(campaign_id)
