"""Sändningen av kampanjens SMS med django-q2: ett jobb per mottagare, bara id:n som argument.

Varje mottagare tas en gång (villkorlig uppdatering queued → sending), skickas genom
`smsportal.sending.send_sms` och får sitt krypterade nummer raderat direkt efteråt. En
arbetsprocess som dör mitt i lämnar mottagaren i `sending`, som visas som osäkert och
aldrig skickas igen.

Ett jobb kan försvinna utan att mottagaren tagits: kön låg nere när kampanjen skapades,
eller en dödad arbetsprocess hade jobbet hämtat men inte påbörjat (Redis-kön lämnar aldrig
tillbaka det; ORM-kön först efter `retry`). `requeue_stuck_recipients` köar därför om
mottagare som fortfarande står i kö i öppna kampanjer: när en arbetsprocess startar och
varje minut (django-q2-schema). Dubbla jobb är ofarliga: bara ett kan ta mottagaren.

Leverantörens gräns (`CAMPAIGN_SMS_PER_SECOND` per kluster, i genomsnitt) hålls genom att
varje arbetsprocess håller sin andel: högst ett SMS per `Q_WORKERS / CAMPAIGN_SMS_PER_SECOND`
sekunder (`wait_for_send_slot`). Bara jobb vars mottagare fortfarande står i kö väntar.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from time import monotonic, sleep
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from campaigns.alerts import requeue_missed_alerts
from campaigns.events import campaign_changed
from campaigns.messages import message_for
from campaigns.models import Campaign, Recipient
from campaigns.phones import PhoneDecryptionError, decrypt_phone
from smsportal.backends.base import SmsError
from smsportal.sending import send_sms

logger = logging.getLogger(__name__)


#: En mottagare som stått i kö så här länge efter att kampanjen skapades har tappat sitt jobb.
REQUEUE_AFTER = timedelta(minutes=1)

# Den här arbetsprocessens nästa lediga sändtid (time.monotonic()), för leverantörens gräns.
_next_send_slot = 0.0


def send_interval() -> float:
    """Sekunder mellan två kampanj-SMS från en arbetsprocess (0 = ingen gräns)."""
    per_second = float(settings.CAMPAIGN_SMS_PER_SECOND)
    if per_second <= 0:
        return 0.0
    return max(1, int(Conf.WORKERS or 1)) / per_second


def wait_for_send_slot() -> None:
    """Väntar tills arbetsprocessen får skicka nästa SMS enligt leverantörens gräns, och bokar tiden."""
    global _next_send_slot
    interval = send_interval()
    if interval <= 0:
        return
    now = monotonic()
    slot = max(now, _next_send_slot)
    _next_send_slot = slot + interval
    if slot > now:
        sleep(slot - now)


def enqueue_dispatch(campaign_id: int) -> bool:
    """Lägger ett sändjobb per mottagare i kön (argumentet är mottagarens id, aldrig numret).

    Sant om alla jobb köades. En kö som inte svarar (t.ex. Redis nere) loggas och ger falskt:
    mottagarna står kvar i kö och skickas av `requeue_stuck_recipients` när kön är tillbaka.
    """
    ids = Recipient.objects.filter(campaign_id=campaign_id, send_status=Recipient.SendStatus.QUEUED).values_list(
        "pk", flat=True
    )
    return _enqueue((recipient_id, campaign_id) for recipient_id in ids)


def dispatch_after_commit(campaign: Campaign) -> None:
    """Köar kampanjens sändning (anropas efter commit); `campaign.queue_down` säger om kön svarade."""
    campaign.queue_down = not enqueue_dispatch(campaign.pk)


def requeue_stuck_recipients(older_than: timedelta = REQUEUE_AFTER) -> int:
    """Köar om mottagare som står i kö i öppna kampanjer skapade för minst `older_than` sedan.

    Körs varje minut av django-q2 och när en arbetsprocess startar. Returnerar antalet köade.
    """
    now = timezone.now()
    stuck = list(
        Recipient.objects.filter(
            send_status=Recipient.SendStatus.QUEUED,
            campaign__status=Campaign.Status.ACTIVE,
            campaign__slot_at__gt=now,
            campaign__created_at__lte=now - older_than,
        ).values_list("pk", "campaign_id")
    )
    if stuck and _enqueue(stuck):
        logger.info("%s mottagare i kö köades om", len(stuck))
    return len(stuck)


def requeue_stuck_work() -> int:
    """Minutschemat: mottagare som fastnat i kön och personalaviseringar som inte kunde köas."""
    return requeue_stuck_recipients() + requeue_missed_alerts()


def requeue_on_worker_start(sender: Any, proc_name: str = "", **kwargs: Any) -> None:
    """django-q2:s signal `post_spawn`: en ny arbetsprocess (start, eller efter att en dött) köar om.

    Fel fångas och loggas: en arbetsprocess får aldrig dö av återställningen. I SYNC-läge
    (jobben körs direkt i anroparen, t.ex. i tester) skickas signalen för varje jobb: inget görs då.
    """
    if Conf.SYNC:
        return
    try:
        requeue_stuck_recipients(older_than=timedelta(0))
    except Exception as error:  # noqa: BLE001 – t.ex. databasen nere just vid starten
        logger.warning("Återställningen av köade mottagare misslyckades (%s)", type(error).__name__)


def _enqueue(recipients: Iterable[tuple[int, int]]) -> bool:
    """Ett sändjobb per (mottagare, kampanj); falskt (och en varning i loggen) om kön inte svarar."""
    campaign_id = None
    try:
        for recipient_id, campaign_id in recipients:
            async_task(
                "campaigns.tasks.send_to_recipient", recipient_id, task_name=f"kampanj-{campaign_id}-{recipient_id}"
            )
    except Exception as error:  # noqa: BLE001 – kön nere får aldrig fälla begäran; mottagarna står kvar i kö
        logger.warning("Kampanj %s: kön svarar inte (%s); mottagarna står kvar i kö", campaign_id, type(error).__name__)
        return False
    return True


def send_to_recipient(recipient_id: int) -> None:
    """Skickar en mottagares SMS högst en gång, och bara medan kampanjen är öppen.

    Jobbets resultat och eventuella fel sparas av django-q2 i databasen: därför fångas
    allt här och bara id och status loggas, aldrig ett undantags text (den kan eka numret).
    Väntan för leverantörens gräns sker före mottagaren tas: en arbetsprocess som dör under
    väntan lämnar den i kö (köas om), inte osäker. Ett dubblettjobb (mottagaren redan tagen)
    väntar inte alls.
    """
    still_queued = Recipient.objects.filter(pk=recipient_id, send_status=Recipient.SendStatus.QUEUED)
    if not still_queued.exists():
        return
    wait_for_send_slot()
    if not _claim(recipient_id):
        # Kampanjen stängd eller tiden passerad innan jobbet hann köras: skicka aldrig.
        if still_queued.update(send_status=Recipient.SendStatus.CANCELLED, phone_encrypted=""):
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
