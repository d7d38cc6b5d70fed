"""Sändningen av kampanjens SMS: ett django-q2-jobb per mottagare (`campaigns.tasks`), bara id:n.

Varje mottagare tas en gång (villkorlig uppdatering queued → sending), skickas genom
`smsportal.sending.send_and_record` (en rad i SMS-registret med kampanjens id, aldrig numret)
och får sitt krypterade nummer raderat direkt efteråt (med CAMPAIGN_KEEP_YES_NUMBERS först
när svaret kommer eller kampanjen tar slut, se `campaigns.yes_numbers`). En arbetsprocess som dör mitt i lämnar
mottagaren i `sending`, som visas som osäkert och aldrig skickas igen.

Är alla leverantörer tillfälligt nere (går inte att nå, 5xx, 429) går mottagaren tillbaka
i kö med en tid för nästa försök (`retry_at`, se `next_retry_at`) och numret ligger kvar
krypterat; efter CAMPAIGN_SEND_RETRY_MINUTES från första felet blir den "misslyckades".
Ett permanent fel eller ett osäkert utfall provas aldrig igen. Tagningen vägrar en mottagare
före `retry_at`, så ett försök till görs bara av ett jobb som körs efter den tiden.

Ett jobb kan försvinna utan att mottagaren tagits: kön låg nere när kampanjen skapades,
eller en dödad arbetsprocess hade jobbet hämtat men inte påbörjat (Redis-kön lämnar aldrig
tillbaka det; ORM-kön först efter `retry`). `requeue_stuck_recipients` köar därför om
mottagare som fortfarande står i kö i öppna kampanjer, och de vars nästa försök är inne:
när en arbetsprocess startar och varje minut (django-q2-schema). Samma minutschema avbryter
köade mottagare i kampanjer som inte längre är öppna och raderar deras nummer
(`cancel_unsendable`). Dubbla jobb är ofarliga: bara ett kan ta mottagaren.

Leverantörens gräns (`CAMPAIGN_SMS_PER_SECOND` per kluster, i genomsnitt) hålls genom att
varje arbetsprocess håller sin andel: högst ett SMS per `Q_WORKERS / CAMPAIGN_SMS_PER_SECOND`
sekunder (`wait_for_send_slot`). Bara jobb vars mottagare fortfarande står i kö väntar.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from time import monotonic, sleep

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from campaigns.alerts import requeue_missed_alerts
from campaigns.events import campaign_changed
from campaigns.messages import message_for
from campaigns.models import Campaign, Recipient
from campaigns.phones import PhoneDecryptionError, decrypt_phone
from campaigns.yes_numbers import keep_after_send, wipe_ended_numbers
from smsportal.sending import AttemptStatus, Purpose, send_and_record

logger = logging.getLogger(__name__)


#: Mottagarens sändstatus för varje utfall i SMS-registret.
RECIPIENT_STATUS = {
    AttemptStatus.SENT: Recipient.SendStatus.SENT,
    AttemptStatus.FAILED: Recipient.SendStatus.FAILED,
    AttemptStatus.UNCERTAIN: Recipient.SendStatus.UNCERTAIN,
}
#: Mottagare vars SMS inte har påbörjats: köade och de som väntar på sin grupp.
UNSENT = (Recipient.SendStatus.QUEUED, Recipient.SendStatus.WAITING)
#: En mottagare som stått i kö så här länge efter att kampanjen skapades har tappat sitt jobb.
REQUEUE_AFTER = timedelta(minutes=1)
#: Väntan före nytt försök efter första, andra, tredje … tillfälliga felet (sedan den sista).
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4))

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
    return enqueue_recipients(campaign_id, ids)


def enqueue_recipients(campaign_id: int, recipient_ids: Iterable[int]) -> bool:
    """Ett sändjobb per angiven mottagare i kampanjen (bara id:n); falskt om kön inte svarar."""
    return _enqueue((recipient_id, campaign_id) for recipient_id in recipient_ids)


def requeue_stuck_recipients(older_than: timedelta = REQUEUE_AFTER) -> int:
    """Köar om mottagare som står i kö i öppna kampanjer: de vars nästa försök är inne (oavsett
    kampanjens ålder) och de utan nytt försök i kampanjer skapade för minst `older_than` sedan.

    Körs varje minut av django-q2 och när en arbetsprocess startar. Returnerar antalet köade.
    """
    now = timezone.now()
    lost_job = Q(retry_at__isnull=True, campaign__created_at__lte=now - older_than)
    stuck = list(
        Recipient.objects.filter(
            lost_job | Q(retry_at__lte=now), _open_campaign(now), send_status=Recipient.SendStatus.QUEUED
        ).values_list("pk", "campaign_id")
    )
    if stuck and _enqueue(stuck):
        logger.info("%s mottagare i kö köades om", len(stuck))
    return len(stuck)


def cancel_unsendable(now: datetime | None = None, recipient_id: int | None = None) -> int:
    """Avbryter köade och väntande mottagare (nytt försök eller inte, eller en grupp som inte gått
    iväg) i kampanjer som inte längre är öppna (tillsatta, avslutade, svarstiden eller tiden
    passerad) och raderar deras nummer; sidorna meddelas.

    `recipient_id` begränsar till en mottagare (sändjobbet). Minutschemat och timjobbets
    radering (`services.wipe_unsendable_numbers`) tar alla. Returnerar antalet avbrutna.
    """
    unsendable = Recipient.objects.filter(send_status__in=UNSENT).exclude(_open_campaign(now or timezone.now()))
    if recipient_id is not None:
        unsendable = unsendable.filter(pk=recipient_id)
    campaign_ids = set(unsendable.values_list("campaign_id", flat=True))
    if not campaign_ids:
        return 0
    cancelled = unsendable.update(send_status=Recipient.SendStatus.CANCELLED, phone_encrypted="")
    for campaign_id in campaign_ids:
        campaign_changed(campaign_id)
    return cancelled


def requeue_stuck_work() -> int:
    """Minutschemat: avbryter köade mottagare i stängda kampanjer, raderar JA-nummer i kampanjer som
    tagit slut (`yes_numbers.wipe_ended_numbers`), köar om mottagare som fastnat
    i kön eller vars nästa försök är inne, och personalaviseringar som inte kunde köas.

    Returnerar antalet avbrutna och köade tillsammans.
    """
    return cancel_unsendable() + wipe_ended_numbers() + requeue_stuck_recipients() + requeue_missed_alerts()


def _enqueue(recipients: Iterable[tuple[int, int]]) -> bool:
    """Ett sändjobb per (mottagare, kampanj); falskt (och en varning i loggen) om kön inte svarar."""
    campaign_id = None
    try:
        for recipient_id, campaign_id in recipients:
            async_task(
                "campaigns.tasks.send_to_recipient",
                recipient_id,
                task_name=f"kampanj-{campaign_id}-{recipient_id}",
                save=False,  # utfallet står på mottagaren och i SMS-registret; fel sparas ändå
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
    väntan lämnar den i kö (köas om), inte osäker. Ett dubblettjobb (mottagaren redan tagen,
    eller dess nästa försök är inte inne än) väntar inte alls och gör ingenting.
    """
    due = Recipient.objects.filter(_due(timezone.now()), pk=recipient_id, send_status=Recipient.SendStatus.QUEUED)
    if not due.exists():
        return
    wait_for_send_slot()
    if not _claim(recipient_id):
        # Kampanjen stängd eller tiden passerad innan jobbet hann köras: skicka aldrig. (Tog ett
        # annat jobb mottagaren under väntan står den kvar i kö bara i en öppen kampanj: orörd.)
        cancel_unsendable(recipient_id=recipient_id)
        return
    recipient = Recipient.objects.select_related("campaign").get(pk=recipient_id)
    campaign_changed(recipient.campaign_id)
    try:
        _send(recipient)
    except Exception as error:  # noqa: BLE001 – numret får aldrig ligga kvar efter ett oväntat fel
        _finish(recipient_id, Recipient.SendStatus.UNCERTAIN, campaign_id=recipient.campaign_id)
        # Med anropskedjan (IT:s brev och loggen visar typ och ramar, aldrig felets text).
        logger.exception("Kampanjmottagare %s: oväntat fel (%s), status osäkert", recipient_id, type(error).__name__)


def open_campaigns(now: datetime) -> Q:
    """Villkoret "kampanjen är öppen" (aktiv, varken svarstiden eller tiden passerad), som `Campaign.is_open`."""
    return Q(status=Campaign.Status.ACTIVE, slot_at__gt=now) & (
        Q(answer_deadline__isnull=True) | Q(answer_deadline__gt=now)
    )


def _open_campaign(now: datetime) -> Exists:
    """Villkoret "mottagarens kampanj är öppen" (se `open_campaigns`) som EXISTS."""
    return Exists(Campaign.objects.filter(open_campaigns(now), pk=OuterRef("campaign_id")))


def _due(now: datetime) -> Q:
    """Villkoret "får tas nu": inget nytt försök planerat, eller dess tid är inne."""
    return Q(retry_at__isnull=True) | Q(retry_at__lte=now)


def _claim(recipient_id: int) -> bool:
    """Tar mottagaren (queued → sending) i en villkorlig uppdatering; sant för den enda som lyckas.

    Före `retry_at` vägras mottagaren. Villkoret på kampanjen är en EXISTS och ingen join: då
    blir det en enda UPDATE av mottagarens rad, som PostgreSQL prövar om mot radens senaste
    version när två jobb krockar.
    """
    now = timezone.now()
    return bool(
        Recipient.objects.filter(
            _due(now), _open_campaign(now), pk=recipient_id, send_status=Recipient.SendStatus.QUEUED
        ).update(send_status=Recipient.SendStatus.SENDING, send_started_at=now)
    )


def next_retry_at(first_failure_at: datetime, failures: int, now: datetime) -> datetime | None:
    """Tiden för nästa försök efter ett tillfälligt fel hos alla leverantörer, eller None (ge upp).

    `failures` är antalet tillfälliga fel före detta. Väntan är 1, 2, 4, 4, 4 … minuter
    (`RETRY_DELAYS`): en kort första väntan klarar ett kort avbrott, fördubblingen skonar en
    leverantör som startar om, och taket på 4 minuter gör att en mottagare når fram högst
    fyra minuter (plus minutschemats minut) efter att leverantören är tillbaka. Det sista
    försöket görs när fönstret CAMPAIGN_SEND_RETRY_MINUTES (räknat från första felet) tar
    slut; ett fel då eller senare ger None. Med 15 minuter: försök vid 0, 1, 3, 7, 11 och 15.
    """
    deadline = first_failure_at + timedelta(minutes=settings.CAMPAIGN_SEND_RETRY_MINUTES)
    if now >= deadline:
        return None
    return min(now + RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)], deadline)


def _send(recipient: Recipient) -> None:
    """Dekrypterar numret, skickar och sätter slutstatus (numret raderas i samma uppdatering)."""
    try:
        to = decrypt_phone(recipient.phone_encrypted)
    except PhoneDecryptionError:
        _finish(recipient.pk, Recipient.SendStatus.FAILED, campaign_id=recipient.campaign_id)
        logger.warning("Kampanjmottagare %s: numret kunde inte dekrypteras", recipient.pk)
        return
    campaign = recipient.campaign
    text = message_for(
        campaign.slot_at,
        recipient.code,
        name=recipient.name,
        consent=recipient.consent,
        operation_type=campaign.operation_type,
        answer_deadline=campaign.answer_deadline,
    )
    outcome = send_and_record(to, text, purpose=Purpose.CAMPAIGN, actor_username="system", campaign_id=campaign.pk)
    attempt = outcome.attempt
    if outcome.sent:
        sent = {"provider_message_id": attempt.provider_message_id, "sent_at": timezone.now()}
        _finish(recipient.pk, Recipient.SendStatus.SENT, campaign_id=campaign.pk, provider=attempt.provider, **sent)
        return
    if outcome.retryable and _retry_later(recipient, attempt.reason):
        return  # tillbaka i kö till nästa försök (eller avbruten: kampanjen stängdes under försöket)
    status = RECIPIENT_STATUS[outcome.status]
    _finish(recipient.pk, status, campaign_id=campaign.pk, provider=attempt.provider)
    logger.warning("Kampanjmottagare %s: %s (%s)", recipient.pk, status.label, attempt.reason)


def _retry_later(recipient: Recipient, reason: str) -> bool:
    """Alla leverantörer tillfälligt nere: tillbaka i kö (sending → queued) med tid för nästa
    försök, numret kvar. Falskt när fönstret är slut (anroparen sätter "misslyckades").

    Stängdes kampanjen under försöket avbryts mottagaren direkt och numret raderas.
    """
    now = timezone.now()
    first_failure_at = recipient.first_failure_at or now
    retry_at = next_retry_at(first_failure_at, recipient.temporary_failures, now)
    if retry_at is None:
        return False
    requeued = Recipient.objects.filter(
        _open_campaign(now), pk=recipient.pk, send_status=Recipient.SendStatus.SENDING
    ).update(
        send_status=Recipient.SendStatus.QUEUED,
        retry_at=retry_at,
        first_failure_at=first_failure_at,
        temporary_failures=F("temporary_failures") + 1,
    )
    if not requeued:
        _finish(recipient.pk, Recipient.SendStatus.CANCELLED)
        return True
    _notify(recipient.pk)
    logger.warning(
        "Kampanjmottagare %s: alla leverantörer tillfälligt nere (%s); nytt försök kl %s",
        recipient.pk,
        reason,
        f"{timezone.localtime(retry_at):%H:%M}",
    )
    return True


def _finish(recipient_id: int, status: str, campaign_id: int | None = None, **fields: object) -> None:
    """Sätter slutstatus och raderar det krypterade numret i samma uppdatering; sidorna meddelas.

    Med CAMPAIGN_KEEP_YES_NUMBERS ligger ett skickat nummer kvar tills svaret kommer (NEJ raderar
    det) eller kampanjen tar slut (`campaigns.yes_numbers`). `campaign_id` (om anroparen redan
    vet den) sparar en fråga per SMS.
    """
    keep = keep_after_send(status)
    if not keep:
        fields["phone_encrypted"] = ""
    Recipient.objects.filter(pk=recipient_id).update(send_status=status, retry_at=None, **fields)
    if campaign_id is None:
        campaign_id = _notify(recipient_id)
    else:
        campaign_changed(campaign_id)
    if keep and campaign_id is not None:
        # Tillsattes eller stängdes kampanjen under sändningen: numret raderas nu, inte först om en minut.
        wipe_ended_numbers(campaign_id=campaign_id)


def _notify(recipient_id: int) -> int | None:
    """Meddelar kampanjens öppna sidor att mottagarens sändstatus ändrats (fel fångas i events).

    Returnerar kampanjens id (None om mottagaren inte finns längre).
    """
    campaign_id = Recipient.objects.filter(pk=recipient_id).values_list("campaign_id", flat=True).first()
    if campaign_id is not None:
        campaign_changed(campaign_id)
    return campaign_id
