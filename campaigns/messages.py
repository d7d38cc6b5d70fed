"""Kampanjens två SMS-varianter (klinikens specifikation, avsnitt 3) och dagsformuleringen.

Utan samtycke: inget namn, ingen operationstyp, inget om hälsa – och ett enda GSM-7-SMS.
Med samtycke: förnamn, operationstyp (om angiven), dag och tid.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from common.smstext import analyse

WEEKDAYS = ["mån", "tis", "ons", "tors", "fre", "lör", "sön"]


def relative_day(slot_at: datetime, today: date | None = None) -> str:
    """ "idag", "imorgon" eller t.ex. "tis 28/1" för tidens dag i klinikens tidszon."""
    day = timezone.localtime(slot_at).date()
    today = today or timezone.localdate()
    if day == today:
        return "idag"
    if (day - today).days == 1:
        return "imorgon"
    return short_date(day)


def short_date(day: date) -> str:
    """Veckodag och datum, t.ex. "tis 28/1"."""
    return f"{WEEKDAYS[day.weekday()]} {day.day}/{day.month}"


def reply_link(code: str) -> str:
    """Patientens länk utan "https://" (telefoner gör den klickbar; kortare SMS)."""
    base = urlsplit(settings.PUBLIC_BASE_URL)
    return f"{base.netloc}{base.path.rstrip('/')}{reverse('replies:answer', args=[code])}"


def deadline_texts(answer_deadline: datetime) -> list[str]:
    """Svarstiden i SMS:et, längsta formen först: "Svara senast imorgon kl 06:00." och, när
    svarstiden är idag (då är klockslaget entydigt), den kortare "Svara senast kl 06:00."."""
    clock = f"kl {timezone.localtime(answer_deadline):%H:%M}"
    texts = [f"Svara senast {relative_day(answer_deadline)} {clock}."]
    if timezone.localtime(answer_deadline).date() == timezone.localdate():
        texts.append(f"Svara senast {clock}.")
    return texts


def message_without_consent(slot_at: datetime, code: str, answer_deadline: datetime | None = None) -> str:
    """Vag variant: bara att en tid blivit ledig, dag, länk och signatur.

    Svarstiden står med bara när SMS:et ändå ryms i ett GSM-7-SMS (se `_with_deadline`).
    """
    return _with_deadline(
        f"Hej! En tid har blivit ledig {relative_day(slot_at)}. Kan du komma med kort varsel?",
        f" Först till kvarn: {reply_link(code)}\n{settings.SMS_SIGNATURE}",
        answer_deadline,
    )


def _with_deadline(head: str, tail: str, answer_deadline: datetime | None) -> str:
    """`head` + " Svara senast …" + `tail` med den längsta form av svarstiden som inte ger fler
    SMS-delar; ryms ingen, texten utan svarstid.

    Svarstiden får aldrig göra SMS:et dyrare (utan samtycke: aldrig mer än ett GSM-7-SMS);
    patientsidan visar den alltid.
    """
    without = head + tail
    if answer_deadline is None:
        return without
    before = analyse(without)
    for text in deadline_texts(answer_deadline):
        candidate = f"{head} {text}{tail}"
        after = analyse(candidate)
        if (after.encoding, after.segments) == (before.encoding, before.segments):
            return candidate
    return without


def thanks_text(slot_at: datetime) -> str:
    """Tack-SMS:et till övriga JA när tiden är tillsatt: vilken tid det gäller och signaturen.

    Det kan komma långt efter förfrågan, så det säger själv vilken tid och från vem. Bara
    GSM-7-tecken: ett SMS.
    """
    local = timezone.localtime(slot_at)
    return (
        f"Den lediga tiden {short_date(local.date())} kl {local:%H:%M} är nu tillsatt. Din ordinarie tid "
        f"kvarstår. Tack för att du svarade!\n{settings.SMS_SIGNATURE}"
    )


def first_name(name: str) -> str:
    """Förnamnet: första ordet i namnet (tomt om namnet är tomt)."""
    words = name.split()
    return words[0] if words else ""


def message_with_consent(
    slot_at: datetime, code: str, name: str, operation_type: str, answer_deadline: datetime | None = None
) -> str:
    """Tydlig variant: förnamn, operationstyp, dag och klockslag, länk och signatur.

    Bara GSM-7-tecken i den fasta texten (ett tankstreck skulle göra hela SMS:et till UCS-2).
    Svarstiden står med när den inte ger fler SMS-delar (se `_with_deadline`).
    """
    local = timezone.localtime(slot_at)
    greeting = f"Hej {first_name(name)}!" if first_name(name) else "Hej!"
    what = f"En operationstid för din {operation_type}" if operation_type else "En operationstid"
    day = relative_day(slot_at)
    date_text = short_date(local.date())
    # "imorgon tis 28/1 kl 08:00" – men bara "tis 28/1 kl 08:00" när dagen redan är datumet.
    when = f"{date_text} kl {local:%H:%M}" if day == date_text else f"{day} {date_text} kl {local:%H:%M}"
    return _with_deadline(
        f"{greeting} {what} har blivit ledig {when}. Kan du komma med kort varsel?",
        f" Svara här: {reply_link(code)}\nFörst till kvarn - flera har fått frågan!\n{settings.SMS_SIGNATURE}",
        answer_deadline,
    )


def message_for(
    slot_at: datetime,
    code: str,
    *,
    name: str,
    consent: bool,
    operation_type: str,
    answer_deadline: datetime | None = None,
) -> str:
    """Rätt variant för en mottagare: med samtycke namn och operationstyp, annars den vaga."""
    if consent:
        return message_with_consent(slot_at, code, name, operation_type, answer_deadline)
    return message_without_consent(slot_at, code, answer_deadline)


def sms_cost(segments: int) -> float:
    """Kostnaden i kronor för så många SMS-delar (SMS_PRICE_PER_SEGMENT_SEK per del).

    Den enda formeln för SMS-kostnad: kampanjens förhandsvisning, tack-SMS:en och statistiken
    (också envägs-SMS:ens kostnad där) räknar med den.
    """
    return segments * settings.SMS_PRICE_PER_SEGMENT_SEK


def format_cost(segments: int) -> str:
    """Uppskattad kostnad i kronor med decimalkomma, t.ex. "3,50"."""
    return f"{sms_cost(segments):.2f}".replace(".", ",")
