"""Personalens kampanjvy: rader i ordningen Ring först, reserver, NEJ, ej svarat – och samma läge som JSON.

`snapshot()` är formatet som både statusadressen och websocketen skickar till sidan.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from audit.models import DeliveryReport, DeliveryStatus
from campaigns.models import Campaign, Recipient


def dashboard_rows(campaign: Campaign) -> dict[str, Any]:
    """Rader och räknare för personalens vy: JA i svarsordning (först "Ring först"), NEJ, ej svarat."""
    recipients = list(campaign.recipients.all())
    _attach_delivery(recipients)
    yes = sorted((r for r in recipients if r.answer == Recipient.Answer.YES), key=lambda r: r.yes_rank or 0)
    no = sorted((r for r in recipients if r.answer == Recipient.Answer.NO), key=lambda r: r.answered_at)
    waiting = [r for r in recipients if not r.answer]
    for position, recipient in enumerate(yes, start=1):
        recipient.role = "Ring först" if position == 1 else f"Reserv {position - 1}"
    sent = sum(r.send_status == Recipient.SendStatus.SENT for r in recipients)
    return {
        "rows": yes + no + waiting,
        "counts": {"sent": sent, "total": len(recipients), "yes": len(yes), "no": len(no), "waiting": len(waiting)},
    }


def _attach_delivery(recipients: list[Recipient]) -> None:
    """Leveransstatus per skickat SMS (levererat / ej levererat / väntar) från leveransrapporterna."""
    ids = [r.provider_message_id for r in recipients if r.provider_message_id]
    reports = {
        (report.provider, report.message_id): report.status
        for report in DeliveryReport.objects.filter(message_id__in=ids)
    }
    for recipient in recipients:
        if recipient.send_status == Recipient.SendStatus.SENT:
            recipient.delivery = reports.get((recipient.provider, recipient.provider_message_id), DeliveryStatus.PENDING)
        else:
            recipient.delivery = ""


def snapshot(campaign: Campaign) -> dict[str, Any]:
    """Kampanjens hela läge som JSON-bar ordbok (högst CAMPAIGN_MAX_RECIPIENTS rader)."""
    data = dashboard_rows(campaign)
    return {
        "campaign": {
            "id": campaign.pk,
            "status": campaign.status,
            "status_label": campaign.get_status_display(),
            "is_open": campaign.is_open,
        },
        "counts": data["counts"],
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
            }
            for r in data["rows"]
        ],
    }
