"""Kampanjernas tjänster: skapa, svara, tillsätta/avsluta och radera. Vyerna går alltid hit.

`replies` (patientsidorna) använder bara `find_by_code`, `mark_opened`, `record_answer_by_code`
och `yes_position`, och `campaigns.optout` för "Jag vill inte få fler sådana SMS".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, DateTimeField, IntegerField, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import Action
from audit.services import purge_access_log, record
from campaigns.alerts import queue_staff_alert
from campaigns.dispatch import UNSENT, cancel_unsendable, enqueue_dispatch, enqueue_recipients
from campaigns.events import campaign_changed
from campaigns.models import CODE_ALPHABET, Campaign, Recipient
from campaigns.optout import opted_out
from campaigns.phones import encrypt_phone, phone_hash
from campaigns.recipients import ParsedRecipient
from campaigns.summary import save_summaries
from campaigns.waves import release_wave
from campaigns.yes_numbers import wipe_ended_numbers
from common.compiled import CompiledQuery, CompiledUpdate, Param
from smsportal import devoutbox
from smsportal.phone import mask_phone

_CODE_CHARACTERS = frozenset(CODE_ALPHABET)

# En sändning som pågått så här länge har dött (django-q2:s tidsgräns är två minuter).
STALE_SENDING = timedelta(minutes=10)


@dataclass(frozen=True)
class CampaignCreation:
    """Resultatet av `create_campaign`: kampanjen, om den skapades nu och om kön tog emot jobben.

    `queued` är falskt bara när kön inte svarade: mottagarna står då kvar i kö och köas om av
    minutschemat (`campaigns.dispatch.requeue_stuck_recipients`) när kön är tillbaka.
    """

    campaign: Campaign
    created: bool
    queued: bool = True


def create_campaign(
    *,
    user: Any,
    slot_at: datetime,
    operation_type: str,
    recipients: list[ParsedRecipient],
    request_id: str,
    notify_phone: str = "",
    title: str = "",
    answer_deadline: datetime | None = None,
    wave_size: int | None = None,
    wave_minutes: int = 10,
    pause_on_yes: bool = True,
) -> CampaignCreation:
    """Skapar kampanjen och mottagarna (nummer krypterat) och köar sändningen efter commit.

    `notify_phone` (valfri, E.164) är personalens mobil för SMS-avisering vid JA. `title` är
    personalens rubrik. `answer_deadline` är "Svara senast" (formuläret sätter alltid en; None
    = bara tiden gäller, som för kampanjer från före fältet). `wave_size` satt = sändning i
    grupper: mottagarna väntar i klistrad ordning, första gruppen släpps direkt och nästa efter
    `wave_minutes` minuter (se `campaigns.waves`), med paus medan ett JA väntar om `pause_on_yes`.
    Samma formulär två gånger (dubbelklick, två samtidiga POST) ger den redan skapade
    kampanjen tillbaka (`created` falskt): formulär-id:t är unikt i databasen.
    """
    existing = Campaign.objects.filter(request_id=request_id).first() if request_id else None
    if existing is not None:
        return CampaignCreation(campaign=existing, created=False)
    campaign = Campaign(
        title=title.strip(),
        slot_at=slot_at,
        answer_deadline=answer_deadline,
        operation_type=operation_type.strip(),
        created_by=user,
        request_id=request_id or None,
        notify_phone=notify_phone,
        wave_size=wave_size,
        wave_minutes=wave_minutes,
        pause_on_yes=pause_on_yes,
    )
    try:
        return _create(campaign, recipients)
    except IntegrityError:
        existing = Campaign.objects.filter(request_id=request_id).first() if request_id else None
        if existing is None:
            raise
        return CampaignCreation(campaign=existing, created=False)


def _create(campaign: Campaign, recipients: list[ParsedRecipient]) -> CampaignCreation:
    """Kampanj, mottagare, första gruppen och audit i en transaktion; sändjobben köas efter commit."""
    # Köns svar efter commit (tomt om ingen commit skett än, t.ex. i en yttre transaktion).
    queue_answers: list[bool] = []
    user = campaign.created_by
    with transaction.atomic():
        campaign.save()
        _add(campaign, recipients)
        record(
            Action.CAMPAIGN_CREATED,
            actor=user,
            status="aktiv",
            data={
                "kampanj": campaign.pk,
                "mottagare": len(recipients),
                "med_samtycke": sum(r.consent for r in recipients),
            },
        )
        if campaign.wave_size:
            # Första gruppen går direkt (personalens eget klick, även under tyst tid); dess jobb
            # köas nedan med resten av kampanjens köade mottagare.
            release_wave(campaign.pk, expected=0, actor=user, enqueue=False)
        # En kö som inte svarar ger ingen felsida: mottagarna står kvar i kö och köas om.
        transaction.on_commit(lambda: queue_answers.append(enqueue_dispatch(campaign.pk)), robust=True)
    campaign.refresh_from_db()
    return CampaignCreation(campaign=campaign, created=True, queued=all(queue_answers))


def _add(campaign: Campaign, recipients: list[ParsedRecipient]) -> list[int]:
    """Skapar mottagarna sist i prioritetsordningen (nummer krypterat): väntande på sin grupp i en
    kampanj i grupper, annars köade. Returnerar deras id:n i ordning."""
    status = Recipient.SendStatus.WAITING if campaign.wave_size else Recipient.SendStatus.QUEUED
    created = Recipient.objects.bulk_create(
        Recipient(
            campaign=campaign,
            name=parsed.name,
            consent=parsed.consent,
            phone_hash=phone_hash(parsed.phone),
            phone_masked=mask_phone(parsed.phone),
            phone_encrypted=encrypt_phone(parsed.phone),
            send_status=status,
        )
        for parsed in recipients
    )
    if any(r.pk is None for r in created):  # databaser utan RETURNING vid bulk_create
        hashes = [r.phone_hash for r in created]
        return list(campaign.recipients.filter(phone_hash__in=hashes).order_by("pk").values_list("pk", flat=True))
    return [r.pk for r in created]


@dataclass(frozen=True)
class Addition:
    """Resultatet av "Lägg till mottagare": antal tillagda, överhoppade dubbletter och fel.

    `error` (svenska) betyder att ingen lades till: kampanjen är stängd eller listan för lång.
    """

    added: int
    duplicates: list[str]
    error: str = ""


def add_recipients(campaign: Campaign, user: Any, recipients: list[ParsedRecipient]) -> Addition:
    """Lägger till mottagare sist i prioritetsordningen i en öppen kampanj.

    Nummer som redan finns i kampanjen namnges och hoppas över. Högst CAMPAIGN_MAX_RECIPIENTS
    över hela kampanjen. I grupper väntar de nya på sin grupp; annars skickas de direkt.
    Kampanjens rad låses, så två samtidiga tillägg räknar mot samma gräns.
    """
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not locked.is_open:
            return Addition(added=0, duplicates=[], error="Kampanjen är stängd: inga mottagare kan läggas till.")
        existing = set(locked.recipients.values_list("phone_hash", flat=True))
        new = [r for r in recipients if phone_hash(r.phone) not in existing]
        duplicates = [
            f"Rad {r.line}: {r.name} ({mask_phone(r.phone)}) finns redan i kampanjen och hoppas över."
            for r in recipients
            if phone_hash(r.phone) in existing
        ]
        room = settings.CAMPAIGN_MAX_RECIPIENTS - len(existing)
        if len(new) > room:
            return Addition(
                added=0,
                duplicates=duplicates,
                error=f"Kampanjen har redan {len(existing)} mottagare; högst {settings.CAMPAIGN_MAX_RECIPIENTS} "
                f"per kampanj, så högst {max(room, 0)} till kan läggas till.",
            )
        if not new:
            return Addition(added=0, duplicates=duplicates)
        ids = _add(locked, new)
        if locked.wave_size and locked.next_wave_at is None:
            Campaign.objects.filter(pk=locked.pk).update(next_wave_at=timezone.now())
        record(
            Action.CAMPAIGN_RECIPIENTS_ADDED,
            actor=user,
            status=locked.get_status_display(),
            data={"kampanj": locked.pk, "mottagare": len(new), "med_samtycke": sum(r.consent for r in new)},
        )
        campaign_changed(locked.pk)
        if not locked.wave_size:
            transaction.on_commit(lambda: enqueue_recipients(locked.pk, ids), robust=True)
    return Addition(added=len(new), duplicates=duplicates)


# Fälten som patientsidorna läser (mallarna, `is_open`, `yes_position`, avböjandet). Ett fält som
# saknas här hämtas med en egen fråga när det läses (rätt, men långsamt): tests/replies räknar frågorna.
PATIENT_PAGE_FIELDS = (
    "code",
    "name",
    "consent",
    "phone_hash",
    "answer",
    "yes_rank",
    "call_outcome",
    "campaign__status",
    "campaign__slot_at",
    "campaign__answer_deadline",
    "campaign__operation_type",
)
# Det svaret läser under låset: kampanjens `is_open` och aviseringsnummer; mottagarens svar och plats
# (bara när inget sparas: stängd kampanj eller samma svar igen).
ANSWER_CAMPAIGN_FIELDS = ("status", "slot_at", "answer_deadline", "notify_phone")
ANSWER_RECIPIENT_FIELDS = ("campaign", "answer", "yes_rank", "call_outcome")
#: JA som personalen ännu inte ringt: de som har en plats i kön ("Ring först", reserverna).
UNCALLED_YES = Q(answer=Recipient.Answer.YES, call_outcome=Recipient.CallOutcome.NONE)


def _could_be_code(code: str) -> bool:
    """Sant om adressens kod kan vara en svarskod (längd och tecken), innan databasen tillfrågas.

    Adressen kommer från vem som helst: ett NUL-tecken skulle ge databasfel i PostgreSQL.
    """
    return bool(code) and len(code) <= 32 and set(code) <= _CODE_CHARACTERS


@dataclass(frozen=True)
class PatientLink:
    """Det patientsidorna vet om en svarskod: mottagaren (med kampanjen) och om numret avböjt fler förfrågningar."""

    recipient: Recipient
    opted_out: bool


# Svarskoden i de byggda frågorna nedan (common.compiled: SQL:en byggs en gång per process, eftersom
# Djangos frågebygge annars kostade flera gånger mer än frågorna på patientsidorna).
_CODE = Param("code", CharField())
# Patientsidornas uppslag, med avböjandet i samma fråga (en rundresa till databasen).
_PATIENT_LINK = CompiledQuery(
    Recipient.objects.select_related("campaign")
    .only(*PATIENT_PAGE_FIELDS)
    .annotate(opted_out=opted_out())
    .filter(code=_CODE)
)
# Svarets lås på kampanjen, direkt via mottagarens kod (se `_save_answer`).
_CAMPAIGN_TO_LOCK = CompiledQuery(
    Campaign.objects.filter(recipients__code=_CODE).select_for_update(of=("self",)).only(*ANSWER_CAMPAIGN_FIELDS)
)


def _answer_update(answer: str) -> CompiledUpdate:
    """Svarets villkorliga uppdatering (bara om svaret är ett annat, se `_save_answer`) för JA eller NEJ.

    Värdena vid varje svar: `code`, `now` (svarstiden) och, för JA, `yes_rank` (platsen i kön).
    """
    now = Param("now", DateTimeField())
    changes: dict[str, Any] = {
        "answer": answer,
        "answered_at": now,
        # Den som svarat har öppnat sidan, även utan JavaScript (som annars noterar öppningen):
        # tratten och statistiken visar då aldrig fler svarade än öppnade.
        "opened_at": Coalesce("opened_at", now),
    }
    if answer == Recipient.Answer.YES:
        changes["yes_rank"] = Param("yes_rank", IntegerField())
    else:
        # NEJ lämnar kön, och numret sparas aldrig (CAMPAIGN_KEEP_YES_NUMBERS).
        changes.update(yes_rank=None, phone_encrypted="")
    return CompiledUpdate(Recipient.objects.filter(code=_CODE).exclude(answer=answer), **changes)


_SAVE_ANSWER: dict[str, CompiledUpdate] = {
    answer: _answer_update(answer) for answer in (Recipient.Answer.YES, Recipient.Answer.NO)
}


def find_by_code(code: str) -> PatientLink | None:
    """Mottagaren med svarskoden och om numret avböjt, eller None (okänd, raderad, eller tecken som ingen kod har)."""
    if not _could_be_code(code):
        return None
    recipient = _PATIENT_LINK.fetch(code=code)
    if recipient is None:
        return None
    return PatientLink(recipient=recipient, opted_out=bool(getattr(recipient, "opted_out")))


def mark_opened(recipient: Recipient) -> None:
    """Noterar första öppningen (anropas av sidans skript, aldrig av en GET; ett svar noterar den också)."""
    Recipient.objects.filter(pk=recipient.pk, opened_at__isnull=True).update(opened_at=timezone.now())


@dataclass(frozen=True)
class AnswerOutcome:
    """Resultatet av ett svar: om kampanjen var öppen, svaret och platsen bland JA (1 = först)."""

    accepted: bool
    answer: str
    position: int | None


def record_answer(recipient: Recipient, answer: str) -> AnswerOutcome:
    """Sparar JA eller NEJ för mottagaren (se `_save_answer`); samma väg som patientsidans svar."""
    outcome = record_answer_by_code(recipient.code, answer)
    if outcome is None:
        raise Recipient.DoesNotExist("Mottagaren finns inte längre.")
    return outcome


def record_answer_by_code(code: str, answer: str) -> AnswerOutcome | None:
    """Sparar JA eller NEJ för mottagaren med svarskoden; None om koden är okänd eller raderad.

    Patientsidans POST: kampanjen låses direkt via koden, utan en första fråga efter mottagaren.
    """
    if not _could_be_code(code):
        return None
    try:
        return _save_answer(code, answer)
    except Recipient.DoesNotExist:
        return None


def _save_answer(code: str, answer: str) -> AnswerOutcome | None:
    """Sparar JA eller NEJ. Kampanjens rad låses, så exakt ett JA blir först även vid samtidiga svar.

    Mottagaren är den med svarskoden `code`; None om den (eller kampanjen) inte finns. Bara
    kampanjens rad låses (`of=("self",)`, fast frågan går via mottagarens kod); varje svar går genom samma
    lås, så mottagarens svar ändras inte av någon annan under tiden. Svaret sparas med en
    villkorlig uppdatering (bara om svaret är ett annat): ett dubbelklick ändrar då ingenting,
    och det vanliga svaret kostar ingen egen läsning av mottagaren. Ett nytt JA hamnar sist bland
    JA; den som ändrar till NEJ lämnar kön. Låset hålls så kort som möjligt (det köar kampanjens
    alla svar): ett nytt JA:s plats räknas i samma fråga som dess plats i kön, före uppdateringen.
    """
    if answer not in (Recipient.Answer.YES, Recipient.Answer.NO):
        raise ValueError("Svaret måste vara yes eller no.")
    with transaction.atomic():
        campaign = _CAMPAIGN_TO_LOCK.fetch(code=code)
        if campaign is None:
            return None
        if not campaign.is_open:
            current = Recipient.objects.only(*ANSWER_RECIPIENT_FIELDS).get(code=code)
            return AnswerOutcome(accepted=False, answer=current.answer, position=yes_position(current))
        values: dict[str, Any] = {"code": code, "now": timezone.now()}
        position = None
        if answer == Recipient.Answer.YES:
            values["yes_rank"], position = _next_yes_place(campaign)
        if not _SAVE_ANSWER[answer].execute(**values):
            # Samma svar som förut (dubbelklick): platsen och svarstiden står kvar.
            current = Recipient.objects.only(*ANSWER_RECIPIENT_FIELDS).get(code=code)
            return AnswerOutcome(accepted=True, answer=answer, position=yes_position(current))
        campaign_changed(campaign.pk)
        if answer == Recipient.Answer.YES:
            queue_staff_alert(campaign)
        return AnswerOutcome(accepted=True, answer=answer, position=position)


def _next_yes_place(campaign: Campaign) -> tuple[int, int]:
    """Ett nytt JA:s (plats i JA-kön, plats bland nuvarande JA) i en fråga; anropas under låset.

    Platsen i kön är högsta hittills + 1 (luckor efter ändrade svar fylls inte). Platsen bland
    nuvarande JA är antalet JA + 1: alla JA har en lägre plats i kön. Mottagaren själv räknas
    inte: är den redan JA sparas ingenting (samma svar), och annars har den ingen plats. JA som
    personalen redan ringt räknas inte bland dem före (som i `yes_position`).
    """
    places = campaign.recipients.aggregate(top=Max("yes_rank"), ahead=Count("pk", filter=UNCALLED_YES))
    return (places["top"] or 0) + 1, places["ahead"] + 1


def yes_position(recipient: Recipient) -> int | None:
    """Platsen bland JA som personalen ännu inte ringt (1 = ring först, 2 = reserv nr 1 …), eller None.

    Samma ordning som "Ring först" och reserverna på personalens sida (`campaigns.dashboard`): en JA
    med ett samtalsutfall ("Nådde inte", "Tackade nej i telefon") har ingen plats och räknas inte
    före någon annan. None för NEJ och för den som redan ringts.
    """
    if recipient.answer != Recipient.Answer.YES or recipient.yes_rank is None or recipient.call_outcome:
        return None
    ahead = Recipient.objects.filter(
        UNCALLED_YES, campaign_id=recipient.campaign_id, yes_rank__lt=recipient.yes_rank
    ).count()
    return ahead + 1


def change_status(campaign: Campaign, user: Any, status: str, booked: Recipient | None = None) -> bool:
    """Tillsätter eller avslutar en aktiv kampanj; sant bara för den som faktiskt ändrade.

    Två i personalen som trycker samtidigt är ofarligt: villkoret status=aktiv gör att
    bara den första ändrar och loggas. Osända mottagare (i kö eller väntande på sin grupp)
    får aldrig sitt SMS och deras krypterade nummer raderas direkt; inga fler grupper går iväg.
    `booked` är patienten som fick tiden ("Bokad" på raden, se `campaigns.outcomes`); utan den
    tillsattes tiden utanför listan. Audit får bara id:n, aldrig namnet.
    """
    with transaction.atomic():
        changed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.ACTIVE).update(
            status=status, status_changed_at=timezone.now(), booked_recipient=booked
        )
        if not changed:
            return False
        Recipient.objects.filter(campaign=campaign, send_status__in=UNSENT).update(
            send_status=Recipient.SendStatus.CANCELLED, phone_encrypted=""
        )
        wipe_ended_numbers(campaign_id=campaign.pk)  # JA-nummer: bara övriga JA, för tack-SMS:et
        save_summaries([campaign.pk])
        campaign_changed(campaign.pk)
        action = Action.CAMPAIGN_FILLED if status == Campaign.Status.FILLED else Action.CAMPAIGN_CLOSED
        data = {"kampanj": campaign.pk}
        if booked is not None:
            data["bokad_mottagare"] = booked.pk
        record(action, actor=user, status=Campaign.Status(status).label, data=data)
    return True


def purge_expired(now: datetime | None = None) -> int:
    """Radering varje timme (django-q2-schemat och `manage.py purge_campaigns`).

    Raderar kampanjer äldre än CAMPAIGN_RETENTION_DAYS med sina mottagare; audit behåller
    bara antal och minuter till första JA. Raderar också krypterade nummer som aldrig kommer
    att skickas (se `wipe_unsendable_numbers`) och utvecklingsutkorgens SMS som är lika gamla
    eller gick till de raderade kampanjerna (`smsportal.devoutbox.purge`), och åtkomstloggens
    rader äldre än ACCESS_LOG_RETENTION_DAYS (`audit.services.purge_access_log`). Returnerar
    antalet raderade kampanjer.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CAMPAIGN_RETENTION_DAYS)
    wipe_unsendable_numbers(now)
    purge_access_log(now)
    expired = Campaign.objects.filter(created_at__lt=cutoff)
    campaign_messages = Recipient.objects.filter(campaign__in=expired).values_list("provider_message_id", flat=True)
    devoutbox.purge(cutoff, campaign_messages)
    with transaction.atomic():
        stats = list(
            expired.annotate(
                first_yes=Min("recipients__answered_at", filter=Q(recipients__answer=Recipient.Answer.YES))
            ).values("pk", "created_at", "first_yes")
        )
        if not stats:
            return 0
        recipients = Recipient.objects.filter(campaign__in=[row["pk"] for row in stats]).count()
        minutes_to_first_yes = [
            round((row["first_yes"] - row["created_at"]).total_seconds() / 60, 1) for row in stats if row["first_yes"]
        ]
        # Statistiken skrivs om med de sista leveransrapporterna, i samma transaktion som raderingen.
        save_summaries(row["pk"] for row in stats)
        # Öppna sidor får veta att kampanjen är raderad (campaigns.events.campaign_deleted).
        Campaign.objects.filter(pk__in=[row["pk"] for row in stats]).delete()
        record(
            Action.CAMPAIGN_PURGED,
            status="raderat",
            actor_username="system",
            data={"kampanjer": len(stats), "mottagare": recipients, "minuter_till_forsta_ja": minutes_to_first_yes},
        )
    return len(stats)


def wipe_unsendable_numbers(now: datetime) -> int:
    """Raderar krypterade nummer som aldrig skickas: köade i stängda eller passerade kampanjer
    (t.ex. när kön låg nere; samma som minutschemat gör), JA-nummer i kampanjer som tagit slut
    (`yes_numbers.wipe_ended_numbers`) och sändningar som blev kvar efter en
    krasch. Returnerar antalet.
    """
    cancelled = cancel_unsendable(now) + wipe_ended_numbers(now)
    crashed = (
        Recipient.objects.filter(send_status=Recipient.SendStatus.SENDING, send_started_at__lt=now - STALE_SENDING)
        .exclude(phone_encrypted="")
        .update(phone_encrypted="")
    )
    return cancelled + crashed
