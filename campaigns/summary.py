"""Kampanjens antal och tider: tratten på kampanjsidan och raden i statistiken (`CampaignSummary`).

Båda räknas på samma sätt, ur mottagarraderna och SMS-registret. Statistikraden skrivs när
kampanjen tar slut (tillsatt eller avslutad) och skrivs om precis innan den raderas, i samma
transaktion som raderingen: en månads siffror ändras inte när dess kampanjer raderas. Raden får
aldrig namn, nummer, svarskoder, operationstyp eller vem som skapade kampanjen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from campaigns.models import Campaign, CampaignSummary, Recipient
from smsportal.ledger import campaign_segments, delivery_reports
from smsportal.models import DeliveryStatus

#: Fälten som skrivs om när raden redan finns (allt utom kampanjens id).
SUMMARY_FIELDS = [
    "started_at",
    "status",
    "ended_at",
    "recipients",
    "sent",
    "failed",
    "delivered",
    "opened",
    "answered",
    "yes",
    "no",
    "booked",
    "in_waves",
    "waves",
    "segments",
    "seconds_to_first_yes",
    "seconds_to_filled",
    "updated_at",
]
#: Mottagarens fält som uträkningen läser (inte namn, nummer eller kod).
_RECIPIENT_FIELDS = (
    "campaign_id",
    "send_status",
    "provider",
    "provider_message_id",
    "sent_at",
    "opened_at",
    "answer",
    "answered_at",
)


@dataclass(frozen=True)
class FunnelStep:
    """Ett steg i kampanjens tratt: hur många som nått dit och hur länge efter start den första gjorde det."""

    key: str
    label: str
    count: int
    after: str


def duration_text(seconds: float | None) -> str:
    """En tid i ord för personalen: "under 1 min", "12 min", "1 h 5 min", "2 d 3 h"; tomt utan tid."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under 1 min"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def attach_delivery(recipients: list[Recipient]) -> None:
    """Sätter leveransstatus (`delivery`: levererat / ej levererat / väntar, tomt för osända) och
    rapportens tid (`delivered_at`, bara för levererade) på raderna, ur SMS-registret i en fråga."""
    sent = [r for r in recipients if r.send_status == Recipient.SendStatus.SENT]
    reports = delivery_reports((r.provider, r.provider_message_id) for r in sent)
    for recipient in recipients:
        recipient.delivery = ""
        recipient.delivered_at = None
    for recipient in sent:
        report = reports[(recipient.provider, recipient.provider_message_id)]
        recipient.delivery = report.status
        if report.status == DeliveryStatus.DELIVERED:
            recipient.delivered_at = report.reported_at


def funnel(campaign: Campaign, recipients: list[Recipient]) -> list[FunnelStep]:
    """Tratten skickade → levererade → öppnade → svarade → JA → bokad, med tiden från start till
    den första i varje steg. Raderna ska ha `attach_delivery`. Sista steget heter "Tillsatt" när
    tiden gavs till någon utanför listan."""
    steps: list[tuple[str, str, list[datetime | None]]] = [
        ("skickade", "Skickade", [r.sent_at for r in recipients if r.send_status == Recipient.SendStatus.SENT]),
        ("levererade", "Levererade", [r.delivered_at for r in recipients if r.delivery == DeliveryStatus.DELIVERED]),
        ("oppnade", "Öppnade", [r.opened_at for r in recipients if r.opened_at]),
        ("svarade", "Svarade", [r.answered_at for r in recipients if r.answer]),
        ("ja", "JA", [r.answered_at for r in recipients if r.answer == Recipient.Answer.YES]),
    ]
    filled = campaign.status == Campaign.Status.FILLED
    last_label = "Tillsatt" if filled and campaign.booked_recipient_id is None else "Bokad"
    steps.append(("bokad", last_label, [campaign.status_changed_at] if filled else []))
    return [
        FunnelStep(key, label, len(moments), duration_text(_seconds_after(campaign.created_at, moments)))
        for key, label, moments in steps
    ]


def _seconds_after(start: datetime, moments: Iterable[datetime | None]) -> int | None:
    """Hela sekunder från `start` till det tidigaste av `moments` (None om inget finns)."""
    first = min((moment for moment in moments if moment is not None), default=None)
    return None if first is None else max(0, int((first - start).total_seconds()))


def summary_of(campaign: Campaign, recipients: list[Recipient], segments: int) -> CampaignSummary:
    """Kampanjens statistikrad (osparad) ur dess mottagare med `attach_delivery` och dess SMS-delar."""
    sent = [r for r in recipients if r.send_status == Recipient.SendStatus.SENT]
    yes = [r for r in recipients if r.answer == Recipient.Answer.YES]
    filled = campaign.status == Campaign.Status.FILLED
    ended = campaign.status != Campaign.Status.ACTIVE
    return CampaignSummary(
        campaign_id=campaign.pk,
        started_at=campaign.created_at,
        status=campaign.status,
        ended_at=campaign.status_changed_at if ended else None,
        recipients=len(recipients),
        sent=len(sent),
        failed=sum(r.send_status == Recipient.SendStatus.FAILED for r in recipients),
        delivered=sum(r.delivery == DeliveryStatus.DELIVERED for r in recipients),
        opened=sum(r.opened_at is not None for r in recipients),
        answered=sum(bool(r.answer) for r in recipients),
        yes=len(yes),
        no=sum(r.answer == Recipient.Answer.NO for r in recipients),
        booked=campaign.booked_recipient_id is not None,
        in_waves=bool(campaign.wave_size),
        waves=campaign.waves_sent if campaign.wave_size else int(bool(sent)),
        segments=segments,
        seconds_to_first_yes=_seconds_after(campaign.created_at, (r.answered_at for r in yes)),
        seconds_to_filled=_seconds_after(campaign.created_at, [campaign.status_changed_at]) if filled else None,
    )


def summaries(campaigns: Iterable[Campaign]) -> list[CampaignSummary]:
    """Statistikrader (osparade) för kampanjerna som finns, i tre frågor oavsett antal."""
    campaigns = list(campaigns)
    by_campaign: dict[int, list[Recipient]] = defaultdict(list)
    recipients = list(Recipient.objects.filter(campaign__in=campaigns).only(*_RECIPIENT_FIELDS))
    attach_delivery(recipients)
    for recipient in recipients:
        by_campaign[recipient.campaign_id].append(recipient)
    segments = campaign_segments(campaign.pk for campaign in campaigns)
    return [summary_of(c, by_campaign[c.pk], segments.get(c.pk, 0)) for c in campaigns]


def save_summaries(campaign_ids: Iterable[int]) -> int:
    """Skriver (eller skriver om) statistikraderna för kampanjerna; returnerar antalet rader."""
    rows = summaries(Campaign.objects.filter(pk__in=list(campaign_ids)))
    CampaignSummary.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["campaign_id"], update_fields=SUMMARY_FIELDS
    )
    return len(rows)
