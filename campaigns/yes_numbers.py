"""Klinikens val `CAMPAIGN_KEEP_YES_NUMBERS`: numren till patienter som svarat JA.

Av (standard, förstudiens regel): inget nummer finns kvar efter sändningen. På: numret till
den som svarat JA ligger krypterat kvar tills kampanjen tar slut, för "Visa nummer" (varje
visning i åtkomstloggen) och ett valfritt tack-SMS till övriga JA när tiden är tillsatt.

Regeln, på ett ställe (`_kept`): efter en avslutad sändning finns numret kvar bara om
inställningen är på, SMS:et gick iväg, patienten inte svarat NEJ och kampanjen är aktiv och
varken tiden eller svarstiden har passerat. Obesvarade behålls alltså tills svaret kommer eller
kampanjen tar slut. Enda undantaget: när tiden tillsatts ("Bokad" eller "Tiden är tillsatt")
behålls övriga JA-nummer (inte den bokades) för tack-SMS:et tills personalen skickat det eller
valt bort det, högst THANKS_WINDOW efter tillsättningen och aldrig efter svarstiden.

Numren raderas: vid svaret NEJ (`services.record_answer`), när kampanjen tillsätts eller
avslutas (`services.change_status`), i minutschemat och timjobbet (`wipe_ended_numbers`,
fångar svarstid och passerad tid) och när kampanjen raderas (raderna försvinner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from audit.models import AccessKind, Action
from audit.services import record, record_access
from campaigns.events import campaign_changed
from campaigns.messages import format_cost, thanks_text
from campaigns.models import Campaign, Recipient
from campaigns.phones import PhoneDecryptionError, decrypt_phone
from common.smstext import analyse
from smsportal.phone import national_format
from smsportal.sending import Purpose, send_and_record

#: Så länge efter tillsättningen som övriga JA-nummer finns kvar för tack-SMS:et (högst).
THANKS_WINDOW = timedelta(minutes=15)
#: Sändningar som är klara: numret har gjort sitt för själva förfrågan.
FINISHED = (
    Recipient.SendStatus.SENT,
    Recipient.SendStatus.FAILED,
    Recipient.SendStatus.UNCERTAIN,
    Recipient.SendStatus.CANCELLED,
)


def keep_yes_numbers() -> bool:
    """Sant när kliniken valt att spara JA-patienternas nummer tills kampanjen tar slut."""
    return bool(settings.CAMPAIGN_KEEP_YES_NUMBERS)


def keep_after_send(status: str) -> bool:
    """Får numret ligga kvar efter sändningen? Bara med inställningen på och när SMS:et gick iväg."""
    return keep_yes_numbers() and status == Recipient.SendStatus.SENT


def _kept(now: datetime) -> Q:
    """Villkoret för mottagare (med avslutad sändning) vars nummer får ligga kvar just nu."""
    active = Q(
        campaign__status=Campaign.Status.ACTIVE,
        campaign__slot_at__gt=now,
    ) & (Q(campaign__answer_deadline__isnull=True) | Q(campaign__answer_deadline__gt=now))
    waiting_for_thanks = Q(
        campaign__status=Campaign.Status.FILLED,
        campaign__status_changed_at__gt=now - THANKS_WINDOW,
        campaign__slot_at__gt=now,
        answer=Recipient.Answer.YES,
    ) & (Q(campaign__answer_deadline__isnull=True) | Q(campaign__answer_deadline__gt=now))
    waiting_for_thanks &= ~Q(call_outcome=Recipient.CallOutcome.DECLINED)
    booked = Q(campaign__booked_recipient=F("pk"))
    return (
        Q(send_status=Recipient.SendStatus.SENT)
        & ~Q(answer=Recipient.Answer.NO)
        & (active | (waiting_for_thanks & ~booked))
    )


def wipe_ended_numbers(now: datetime | None = None, campaign_id: int | None = None) -> int:
    """Raderar krypterade nummer som inte längre får finnas (se modulens regel); returnerar antalet.

    Rör bara mottagare vars sändning är klar: köade och väntande nummer sköts av sändningen.
    Med inställningen av raderas alla sådana nummer. `campaign_id` begränsar till en kampanj.
    """
    now = now or timezone.now()
    numbers = Recipient.objects.filter(send_status__in=FINISHED).exclude(phone_encrypted="")
    if campaign_id is not None:
        numbers = numbers.filter(campaign_id=campaign_id)
    if keep_yes_numbers():
        numbers = numbers.exclude(_kept(now))
    campaign_ids = set(numbers.values_list("campaign_id", flat=True))
    wiped = numbers.update(phone_encrypted="")
    for changed in campaign_ids:
        campaign_changed(changed)  # "Visa nummer" och tack-SMS:et försvinner från öppna sidor
    return wiped


def can_reveal(recipient: Recipient) -> bool:
    """Sant när "Visa nummer" visas på raden: inställningen på, JA, och numret finns kvar."""
    return keep_yes_numbers() and recipient.answer == Recipient.Answer.YES and bool(recipient.phone_encrypted)


def reveal_number(campaign: Campaign, recipient_id: int, user: Any) -> tuple[Recipient, str] | None:
    """ "Visa nummer": JA-patientens nummer i nationell form, och en rad i åtkomstloggen (varje gång).

    None om numret inte får visas (inställningen av, inget JA, numret raderat, fel kampanj).
    """
    wipe_ended_numbers(campaign_id=campaign.pk)
    recipient = campaign.recipients.filter(pk=recipient_id).first()
    if recipient is None or not can_reveal(recipient):
        return None
    try:
        number = national_format(decrypt_phone(recipient.phone_encrypted))
    except PhoneDecryptionError:
        return None
    record_access(AccessKind.PHONE_REVEAL, user=user, campaign_id=campaign.pk, recipient_id=recipient.pk)
    return recipient, number


def thanks_recipients(campaign: Campaign) -> list[Recipient]:
    """Övriga JA-patienter som kan få tack-SMS:et nu (tillsatt kampanj, numret kvar, inte den bokade
    och inte den som redan tackat nej i telefon; se `_kept`)."""
    if not keep_yes_numbers() or campaign.status != Campaign.Status.FILLED:
        return []
    return list(campaign.recipients.filter(_kept(timezone.now())).exclude(phone_encrypted=""))


@dataclass(frozen=True)
class ThanksOffer:
    """Det personalen ser före bekräftelsen: antal SMS, SMS-delar och uppskattad kostnad."""

    count: int
    segments: int
    cost: str


def thanks_offer(campaign: Campaign) -> ThanksOffer | None:
    """Erbjudandet om tack-SMS för en tillsatt kampanj, eller None om ingen kan få det."""
    count = len(thanks_recipients(campaign))
    if not count:
        return None
    segments = analyse(thanks_text(campaign.slot_at)).segments * count
    return ThanksOffer(count=count, segments=segments, cost=format_cost(segments))


@dataclass(frozen=True)
class ThanksResult:
    """Hur tack-SMS:en gick: skickade och inte skickade."""

    sent: int
    failed: int


def send_thanks(campaign: Campaign, user: Any) -> ThanksResult:
    """Skickar tack-SMS:et till övriga JA, ett i taget genom `send_and_record` (kampanjens syfte).

    Varje nummer tas med en villkorlig uppdatering som raderar det: två tryck samtidigt skickar
    aldrig två SMS till samma patient, och numret finns inte kvar efteråt. Skickas direkt i
    begäran (ett fåtal SMS): inget nummer hamnar någonsin i kön. Audit får bara antal och id.
    """
    sent = failed = 0
    text = thanks_text(campaign.slot_at)
    for recipient in thanks_recipients(campaign):
        token = recipient.phone_encrypted
        if not Recipient.objects.filter(pk=recipient.pk, phone_encrypted=token).update(phone_encrypted=""):
            continue  # ett annat tryck tog numret
        try:
            to = decrypt_phone(token)
        except PhoneDecryptionError:
            failed += 1
            continue
        outcome = send_and_record(to, text, purpose=Purpose.CAMPAIGN, actor=user, campaign_id=campaign.pk)
        if outcome.sent:
            sent += 1
        else:
            failed += 1
    if sent or failed:
        record(
            Action.CAMPAIGN_THANKS,
            actor=user,
            status="skickat" if not failed else "delvis skickat",
            data={"kampanj": campaign.pk, "skickade": sent, "misslyckade": failed},
        )
        campaign_changed(campaign.pk)
    return ThanksResult(sent=sent, failed=failed)


def skip_thanks(campaign: Campaign) -> int:
    """ "Skicka inget tack-SMS": övriga JA-nummer raderas direkt; returnerar antalet."""
    ids = [r.pk for r in thanks_recipients(campaign)]
    wiped = Recipient.objects.filter(pk__in=ids).exclude(phone_encrypted="").update(phone_encrypted="")
    if wiped:
        campaign_changed(campaign.pk)
    return wiped
