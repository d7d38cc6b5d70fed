"""Uppgraderingen flyttar SMS-historiken ur audit-loggen till SMS-registret (smsportal 0003, campaigns 0003)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("audit", "0003_mfa_actions"), ("smsportal", "0002_send_attempt"), ("campaigns", "0002_recipient_send_retry")]
AFTER = [
    ("audit", "0004_sms_ledger_moved_to_smsportal"),
    ("smsportal", "0003_copy_sms_from_audit"),
    ("campaigns", "0003_sms_ledger_for_recipients"),
]


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrerar databasen till `targets` och returnerar modellerna i det läget."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def old_sms_history(apps: Any) -> Any:
    """SMS-historik som den såg ut före uppgraderingen: audit-händelser och leveransrapporter."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    User = apps.get_model("auth", "User")
    anna = User.objects.create(username="anna-migrering")
    sent_at = timezone.now() - timedelta(minutes=20)
    common = {
        "actor_id": anna.pk,
        "actor_username": "anna-migrering",
        "category": "Recept",
        "template_title": "Receptpolicy",
    }
    for fields in (
        {
            "action": "sms_sent",
            "status": "skickat",
            "provider": "locmem",
            "provider_message_id": "m1",
            "segments": 1,
            "request_id": "formular-1",
        },
        {"action": "sms_uncertain", "status": "skickas", "request_id": "formular-2"},
        {"action": "sms_failed", "status": "misslyckat", "reason": "kvoten överskriden"},
        {"action": "sms_failed", "status": "misslyckat", "reason": "ogiltigt formulär (phone:invalid_phone)"},
    ):
        event = AuditEvent.objects.create(**common, **fields)
        AuditEvent.objects.filter(pk=event.pk).update(created_at=sent_at)
    apps.get_model("audit", "DeliveryReport").objects.create(provider="locmem", message_id="m1", status="levererat")
    return anna


@pytest.mark.django_db(transaction=True)
def test_upgrade_keeps_quota_history_and_delivery() -> None:
    """Skickade och pågående SMS blir rader i registret med tid, formulär-id och leveransstatus;
    kvotvägran och ogiltiga formulär blir inga sändförsök; audit-händelserna ligger kvar."""
    try:
        anna = old_sms_history(migrate(BEFORE))
        apps = migrate(AFTER)
        rows = apps.get_model("smsportal", "SendAttempt").objects.order_by("pk")
        assert [(r.status, r.idempotency_key, r.delivery_status, r.actor_id) for r in rows] == [
            ("sent", "formular-1", "levererat", anna.pk),
            ("pending", "formular-2", "", anna.pk),
        ]
        assert all(timezone.now() - r.created_at > timedelta(minutes=19) for r in rows)
        assert apps.get_model("audit", "AuditEvent").objects.filter(action__startswith="sms_").count() == 4
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
