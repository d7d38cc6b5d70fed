"""SMS-avisering till personalen när en patient svarar JA (klinikens specifikation: "SMS till personal").

Kampanjen kan ha ett aviseringsnummer (personalens mobil, `Campaign.notify_phone`). Vid
kampanjens första JA – eller vid varje JA med `CAMPAIGN_ALERT_EVERY_YES` – köas ett
django-q2-jobb med bara kampanjens id; jobbet skickar genom `smsportal.sending.send_and_record`
(SMS-registret och audit: kategori "Akut-SMS", mall "Avisering till personal"). Går kön inte att
nå, eller är alla leverantörer tillfälligt nere, köas aviseringen igen av minutschemat
(`requeue_missed_alerts`) så länge kampanjen är öppen och det senaste JA:t är högst
`ALERT_RETRY_WINDOW` gammalt (en senare avisering är inaktuell: personalen ser JA:t i
portalen). Ett permanent fel (ogiltigt nummer, fel inloggning) eller ett osäkert (SMS:et
kan ha gått iväg) provas aldrig igen.

Texten innehåller inga patientuppgifter (inget namn, inget nummer): bara att ett JA kommit
och till vilken tid. Personalen ser vem det är i portalen. Numret loggas aldrig och
raderas med kampanjen.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django_q.tasks import async_task

from campaigns.messages import short_date
from campaigns.models import Campaign, Recipient
from smsportal.sending import Purpose, send_and_record

logger = logging.getLogger(__name__)

AUDIT_CATEGORY = "Akut-SMS"
AUDIT_TITLE = "Avisering till personal"
#: Så länge efter det senaste JA:t provas en avisering som inte gick fram igen.
ALERT_RETRY_WINDOW = timedelta(minutes=30)


def alert_text(campaign: Campaign) -> str:
    """Aviseringens text, t.ex. "Akut-SMS: JA från en patient till tiden tis 28/1 kl 08:00. Se portalen."."""
    local = timezone.localtime(campaign.slot_at)
    return (
        f"Akut-SMS: JA från en patient till tiden {short_date(local.date())} kl {local:%H:%M}. "
        f"Se portalen.\n{settings.SMS_SIGNATURE}"
    )


def queue_staff_alert(campaign: Campaign) -> bool:
    """Köar en avisering efter commit om kampanjen har ett aviseringsnummer och regeln säger det.

    Anropas vid ett nytt JA, under låset på kampanjen. Utan `CAMPAIGN_ALERT_EVERY_YES` köas
    bara en avisering per kampanj (villkorlig uppdatering av `alert_sent_at`). Sant om köad.
    """
    if not campaign.notify_phone:
        return False
    pending = Campaign.objects.filter(pk=campaign.pk)
    if not settings.CAMPAIGN_ALERT_EVERY_YES:
        pending = pending.filter(alert_sent_at__isnull=True)
    if not pending.update(alert_sent_at=timezone.now()):
        return False
    campaign_id = campaign.pk
    # robust: en kö som inte svarar får aldrig fälla patientens svar.
    transaction.on_commit(lambda: enqueue_alert(campaign_id), robust=True)
    return True


def enqueue_alert(campaign_id: int) -> bool:
    """Lägger aviseringsjobbet i django-q2:s kö (argumentet är kampanjens id, aldrig numret).

    En kö som inte svarar (t.ex. Redis nere) loggas och ger falskt; markeringen `alert_sent_at`
    nollställs då, så att `requeue_missed_alerts` köar aviseringen när kön är tillbaka.
    """
    try:
        async_task("campaigns.tasks.send_staff_alert", campaign_id, task_name=f"avisering-{campaign_id}")
    except Exception as error:  # noqa: BLE001 – kön nere får aldrig fälla patientens svar
        logger.warning(
            "Kampanj %s: aviseringen kunde inte köas (%s); nytt försök inom en minut", campaign_id, type(error).__name__
        )
        Campaign.objects.filter(pk=campaign_id).update(alert_sent_at=None)
        return False
    return True


def requeue_missed_alerts() -> int:
    """Köar aviseringar som inte kunde köas eller skickas: öppna kampanjer med aviseringsnummer,
    ingen köad avisering och ett JA inom `ALERT_RETRY_WINDOW`.

    Körs varje minut av django-q2 (se `campaigns.tasks.requeue_stuck_work`). Returnerar antalet köade.
    """
    now = timezone.now()
    missed = (
        Campaign.objects.filter(status=Campaign.Status.ACTIVE, slot_at__gt=now, alert_sent_at__isnull=True)
        .exclude(notify_phone="")
        .annotate(last_yes=Max("recipients__answered_at", filter=Q(recipients__answer=Recipient.Answer.YES)))
        .filter(last_yes__gte=now - ALERT_RETRY_WINDOW)
        .values_list("pk", flat=True)
    )
    queued = 0
    for campaign_id in list(missed):
        # Villkorlig uppdatering: två samtidiga körningar köar ändå bara en avisering.
        if Campaign.objects.filter(pk=campaign_id, alert_sent_at__isnull=True).update(alert_sent_at=now):
            queued += enqueue_alert(campaign_id)
    return queued


def send_staff_alert(campaign_id: int) -> bool:
    """Skickar aviseringen till kampanjens aviseringsnummer och skriver audit; sant om skickad.

    Kampanjer som raderats, saknar nummer eller redan är stängda får ingen avisering.
    Fel fångas: bara id och orsak loggas, aldrig numret eller texten.
    """
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or not campaign.notify_phone or not campaign.is_open:
        return False
    try:
        return _send_and_audit(campaign)
    except Exception as error:  # noqa: BLE001 – django-q2 skulle annars spara felets text (kanske numret) i jobbtabellen
        logger.exception("Kampanj %s: aviseringen avbröts av ett oväntat fel (%s)", campaign_id, type(error).__name__)
        return False


def _send_and_audit(campaign: Campaign) -> bool:
    """Skickar aviseringen genom leverantörskedjan (registret och audit får utfallet); sant om skickad."""
    outcome = send_and_record(
        campaign.notify_phone,
        alert_text(campaign),
        purpose=Purpose.STAFF_ALERT,
        actor_username="system",
        category=AUDIT_CATEGORY,
        template_title=AUDIT_TITLE,
        campaign_id=campaign.pk,
    )
    if outcome.sent:
        return True
    if outcome.retryable:
        # Tillfälligt fel hos alla leverantörer: minutschemat provar igen (se requeue_missed_alerts).
        # Villkoret: har ett senare JA redan köat en ny avisering (varje JA) står dess markering kvar.
        Campaign.objects.filter(pk=campaign.pk, alert_sent_at=campaign.alert_sent_at).update(alert_sent_at=None)
    logger.warning(
        "Kampanj %s: aviseringen till personalen misslyckades (%s)%s",
        campaign.pk,
        outcome.attempt.reason,
        "; nytt försök inom en minut" if outcome.retryable else "",
    )
    return False
