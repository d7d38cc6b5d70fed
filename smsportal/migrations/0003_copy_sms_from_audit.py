"""Flyttar envägs-SMS, aviseringar och test-SMS ur audit-loggen till SMS-registret.

Körs före audit 0004, som tar bort leveransrapporterna och SMS-fälten ur audit-loggen: kvoten,
"Dina senaste SMS", dubbelklicksskyddet och leveransstatusen finns kvar efter uppgraderingen.
Audit-händelserna själva ligger kvar orörda. Försök som aldrig nådde leverantören (kvoten
slut, ogiltigt formulär) blir inga rader i registret.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SMS_STATUS = {"sms_sent": "sent", "sms_failed": "failed", "sms_uncertain": "uncertain"}
NOT_SENT_REASONS = ("kvoten överskriden", "ogiltigt formulär")
BATCH = 500


def _purpose(event: Any) -> str:
    """Syftet ur mallens kategori och rubrik (aviseringar och test-SMS har fasta värden)."""
    if (event.category, event.template_title) == ("Akut-SMS", "Avisering till personal"):
        return "staff_alert"
    if (event.category, event.template_title) == ("Drift", "Test-SMS"):
        return "test"
    return "one_way"


def _attempt(model: Any, event: Any, reports: dict[tuple[str, str], Any]) -> Any:
    """Registrets rad för en SMS-händelse, med leveransrapporten om en finns."""
    status = "pending" if event.status == "skickas" else SMS_STATUS[event.action]
    report = reports.get((event.provider, event.provider_message_id))
    campaign = (event.data or {}).get("kampanj") if isinstance(event.data, dict) else None
    return model(
        created_at=event.created_at,
        finished_at=None if status == "pending" else event.created_at,
        purpose=_purpose(event),
        actor_id=event.actor_id,
        actor_username=event.actor_username,
        category=event.category,
        template_title=event.template_title,
        edited=event.edited,
        campaign_id=campaign if isinstance(campaign, int) else None,
        status=status,
        reason=event.reason,
        provider=event.provider,
        provider_message_id=event.provider_message_id,
        segments=event.segments,
        delivery_status=report.status if report and status == "sent" else "",
        delivered_at=report.received_at if report and status == "sent" else None,
        idempotency_key=event.request_id,
    )


def copy_sms(apps: Any, schema_editor: Any) -> None:
    """Kopierar varje SMS-försök i audit-loggen till registret (tidpunkten behålls)."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    DeliveryReport = apps.get_model("audit", "DeliveryReport")
    SendAttempt = apps.get_model("smsportal", "SendAttempt")
    SendAttempt._meta.get_field("created_at").auto_now_add = False
    reports = {(r.provider, r.message_id): r for r in DeliveryReport.objects.all()}
    events = AuditEvent.objects.filter(action__in=SMS_STATUS).order_by("id")
    for reason in NOT_SENT_REASONS:
        events = events.exclude(action="sms_failed", reason__startswith=reason)
    batch = []
    for event in events.iterator():
        batch.append(_attempt(SendAttempt, event, reports))
        if len(batch) == BATCH:
            SendAttempt.objects.bulk_create(batch)
            batch = []
    SendAttempt.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ("smsportal", "0002_send_attempt"),
        ("audit", "0003_mfa_actions"),
    ]
    run_before = [("audit", "0004_sms_ledger_moved_to_smsportal")]

    operations = [migrations.RunPython(copy_sms, migrations.RunPython.noop)]
