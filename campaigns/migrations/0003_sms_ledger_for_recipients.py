"""Ger varje kampanj-SMS som redan skickats en rad i SMS-registret (smsportal 0002).

Leveransrapporter som kommer efter uppgraderingen hittar då sitt SMS, och kampanjsidan visar
leveransstatusen som förut (rapporterna kopieras före audit 0004, som tar bort dem).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def add_ledger_rows(apps: Any, schema_editor: Any) -> None:
    """En rad i registret (syfte kampanj, bara id:n) per mottagare med leverantörens meddelande-id."""
    Recipient = apps.get_model("campaigns", "Recipient")
    DeliveryReport = apps.get_model("audit", "DeliveryReport")
    SendAttempt = apps.get_model("smsportal", "SendAttempt")
    SendAttempt._meta.get_field("created_at").auto_now_add = False
    reports = {(r.provider, r.message_id): r for r in DeliveryReport.objects.all()}
    rows = []
    for recipient in Recipient.objects.exclude(provider_message_id="").select_related("campaign"):
        report = reports.get((recipient.provider, recipient.provider_message_id))
        sent_at = recipient.sent_at or recipient.campaign.created_at
        rows.append(
            SendAttempt(
                created_at=sent_at,
                finished_at=sent_at,
                purpose="campaign",
                actor_username="system",
                campaign_id=recipient.campaign_id,
                status="sent",
                provider=recipient.provider,
                provider_message_id=recipient.provider_message_id,
                delivery_status=report.status if report else "",
                delivered_at=report.received_at if report else None,
            )
        )
    SendAttempt.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0002_recipient_send_retry"),
        ("smsportal", "0002_send_attempt"),
        ("audit", "0003_mfa_actions"),
    ]
    run_before = [("audit", "0004_sms_ledger_moved_to_smsportal")]

    operations = [migrations.RunPython(add_ledger_rows, migrations.RunPython.noop)]
