"""Personalens kampanjvy: rader i ordningen Ring först, reserver, NEJ, ej svarat – och samma läge som JSON.

`snapshot()` är formatet som både statusadressen och websocketen skickar till sidan;
`yes_signal()` är det enda som en sida får efter att personalens session tagit slut.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.utils import timezone

from campaigns.models import SENDING_UNCERTAIN_AFTER, Campaign, Recipient
from campaigns.outcomes import can_reopen, reopen_deadline
from campaigns.summary import attach_delivery, funnel
from campaigns.waves import next_wave_text, sent_waves
from campaigns.yes_numbers import THANKS_WINDOW, can_reveal, thanks_offer


def dashboard_rows(campaign: Campaign) -> dict[str, Any]:
    """Rader och räknare för personalens vy: JA i svarsordning (först "Ring först"), NEJ, ej svarat."""
    recipients = list(campaign.recipients.all())
    attach_delivery(recipients)
    for recipient in recipients:
        recipient.can_reveal = can_reveal(recipient)
    yes = sorted((r for r in recipients if r.answer == Recipient.Answer.YES), key=lambda r: r.yes_rank or 0)
    no = sorted(
        (r for r in recipients if r.answer == Recipient.Answer.NO), key=lambda r: r.answered_at or campaign.created_at
    )
    waiting = [r for r in recipients if not r.answer]
    _assign_roles(campaign, yes)
    sent = sum(r.send_status == Recipient.SendStatus.SENT for r in recipients)
    # "Väntar" är de som fått SMS:et men inte svarat: inte de som väntar på sin grupp, inte
    # misslyckade eller avbrutna (de kan inte svara).
    awaiting = sum(r.send_status == Recipient.SendStatus.SENT for r in waiting)
    rows = yes + no + waiting
    return {
        "rows": rows,
        "booked": booked_recipient(campaign, rows),
        "can_reopen": can_reopen(campaign),
        "thanks": thanks_offer(campaign),
        "counts": {"sent": sent, "total": len(recipients), "yes": len(yes), "no": len(no), "waiting": awaiting},
        "waves": wave_state(campaign, recipients),
        "funnel": funnel(campaign, recipients),
    }


def wave_state(campaign: Campaign, recipients: list[Recipient]) -> dict[str, Any] | None:
    """Grupperna för kampanjsidan (None = alla på en gång): skickade grupper med tid och antal,
    nästa grupp i ord, hur många som väntar, och om "Skicka nästa grupp nu" går att trycka.

    `waves_sent` följer med formuläret, så att ett dubbelklick aldrig släpper två grupper.
    """
    if not campaign.wave_size:
        return None
    waiting = sum(r.send_status == Recipient.SendStatus.WAITING for r in recipients)
    return {
        "sent": [
            {"number": wave.number, "time": f"{timezone.localtime(wave.sent_at):%H:%M}", "count": wave.count}
            for wave in sent_waves(campaign)
        ],
        "next": next_wave_text(campaign, waiting),
        "waiting": waiting,
        "waves_sent": campaign.waves_sent,
        "can_send_next": bool(waiting) and campaign.is_open,
    }


def _assign_roles(campaign: Campaign, yes: list[Recipient]) -> None:
    """Ring-kolumnen för JA i svarsordning: samtalets utfall om det finns, annars "Ring först" för
    första JA utan utfall (bara i en öppen kampanj) och "Reserv 1", "Reserv 2" … för resten.

    En tillsatt, avslutad eller passerad kampanj har ingen "Ring först".
    """
    call_first = campaign.is_open
    reserve = 0
    for recipient in yes:
        if recipient.call_outcome:
            recipient.role = recipient.get_call_outcome_display()
        elif call_first:
            recipient.role = "Ring först"
            call_first = False
        else:
            reserve += 1
            recipient.role = f"Reserv {reserve}"


def booked_recipient(campaign: Campaign, rows: Iterable[Recipient]) -> Recipient | None:
    """Patienten som fick tiden ("Bokad"), ur de redan hämtade raderna; None om ingen."""
    return next((r for r in rows if r.pk == campaign.booked_recipient_id), None)


def next_change_at(campaign: Campaign, recipients: Iterable[Recipient]) -> datetime | None:
    """När läget ändras av sig självt, utan någon händelse: svarstiden eller tiden passerar, nästa
    grupp blir aktuell, en sändning blir osäker.

    Websocketen bygger en ny bild just då (se `campaigns.consumers`); None = ingen sådan tid.
    """
    now = timezone.now()
    moments = [campaign.slot_at, campaign.answer_deadline, campaign.next_wave_at] if campaign.is_open else []
    if campaign.status == Campaign.Status.FILLED:
        moments.append(reopen_deadline(campaign))  # "Öppna igen" försvinner då
        if campaign.status_changed_at:
            moments.append(campaign.status_changed_at + THANKS_WINDOW)  # och tack-SMS:et
    moments += [
        r.send_started_at + SENDING_UNCERTAIN_AFTER
        for r in recipients
        if r.send_status == Recipient.SendStatus.SENDING and r.send_started_at
    ]
    return min((moment for moment in moments if moment is not None and moment > now), default=None)


def yes_signal(campaign_id: int) -> tuple[dict[str, Any], datetime | None]:
    """Det en sida får veta efter att sessionen tagit slut: antalet JA, eller att erbjudandet är slut.

    Inga namn, nummer eller svarsdetaljer. Returnerar (meddelande, tid för nästa självändring).
    """
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return {"type": "deleted"}, None
    if not campaign.is_open:
        return {"type": "ended"}, None
    yes = campaign.recipients.filter(answer=Recipient.Answer.YES).count()
    return {"type": "yes_count", "yes": yes}, campaign.answer_deadline or campaign.slot_at


def live_snapshot(campaign_id: int) -> tuple[dict[str, Any], datetime | None]:
    """Personalens websocket: ögonblicksbilden (eller `deleted`) och tid för nästa självändring."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return {"type": "deleted"}, None
    data = dashboard_rows(campaign)
    return {"type": "snapshot", "data": snapshot(campaign, data)}, next_change_at(campaign, data["rows"])


def snapshot(campaign: Campaign, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Kampanjens hela läge som JSON-bar ordbok (högst CAMPAIGN_MAX_RECIPIENTS rader).

    `data` är `dashboard_rows(campaign)` om den redan är byggd.
    """
    data = data or dashboard_rows(campaign)
    booked = booked_recipient(campaign, data["rows"])
    return {
        "campaign": {
            "id": campaign.pk,
            "status": campaign.status,
            # Samma text som sidans statusmärke: "svarstiden har gått ut" eller "tiden har passerat"
            # för en aktiv kampanj som inte längre tar emot svar.
            "status_label": campaign.shown_status,
            "is_open": campaign.is_open,
            "booked_name": booked.name if booked else "",
            "can_reopen": can_reopen(campaign),
            "thanks": asdict(data["thanks"]) if data["thanks"] else None,
        },
        "counts": data["counts"],
        "funnel": [asdict(step) for step in data["funnel"]],
        "waves": data["waves"],
        "rows": [
            {
                "id": r.pk,
                "name": r.name,
                "phone_masked": r.phone_masked,
                "consent": r.consent,
                "send_status": r.shown_send_status,
                "delivery": r.delivery,
                "answer": r.answer,
                "answered_at": timezone.localtime(r.answered_at).strftime("%H:%M") if r.answered_at else "",
                "role": getattr(r, "role", ""),
                "call_outcome": r.call_outcome,
                "can_reveal": r.can_reveal,
            }
            for r in data["rows"]
        ],
    }
