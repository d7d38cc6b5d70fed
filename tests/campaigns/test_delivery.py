"""Leveransrapporter för kampanj-SMS syns på personalens kampanjsida."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from smsportal.delivery import DeliveryStatus, receive_report
from smsportal.models import Purpose, SendAttempt
from tests.campaigns.factories import drain_queue, make_campaign, send_all
from tests.smsportal.ledger_helpers import reported

pytestmark = pytest.mark.django_db


def test_delivery_status_on_the_campaign_page(staff_client: Client, staff_user: Any) -> None:
    """Levererat, ej levererat och väntar per mottagare; okända id sparas inte."""
    campaign = make_campaign(staff_user)
    drain_queue()
    send_all(campaign)
    first, second, *_ = campaign.recipients.order_by("pk")
    assert receive_report("locmem", first.provider_message_id, DeliveryStatus.DELIVERED) is True
    assert receive_report("locmem", second.provider_message_id, DeliveryStatus.FAILED) is True
    assert receive_report("locmem", "okänt-id", DeliveryStatus.FAILED) is False
    page = staff_client.get(f"/personal/akut-sms/{campaign.pk}/").content.decode()
    assert ">levererat<" in page and ">ej levererat<" in page and "väntar" in page
    assert reported().count() == 2


def test_each_campaign_sms_is_one_ledger_row_without_personal_data(staff_user: Any) -> None:
    """Varje kampanj-SMS får en rad i SMS-registret (syfte kampanj, kampanjens id), utan nummer
    eller namn; audit-loggen får inga rader per SMS (kampanjen loggas som helhet)."""
    campaign = make_campaign(staff_user)
    drain_queue()
    send_all(campaign)
    rows = list(SendAttempt.objects.values("purpose", "campaign_id", "status", "provider_message_id"))
    ids = sorted(campaign.recipients.values_list("provider_message_id", flat=True))
    assert {(r["purpose"], r["campaign_id"], r["status"]) for r in rows} == {(Purpose.CAMPAIGN, campaign.pk, "sent")}
    assert sorted(r["provider_message_id"] for r in rows) == ids
    ledger_text = str(list(SendAttempt.objects.values()))
    assert not any(r.name in ledger_text for r in campaign.recipients.all()) and "+46" not in ledger_text
    assert not AuditEvent.objects.filter(action__startswith="sms_").exists()


def test_delivery_report_pushes_to_the_campaign_page(
    staff_user: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    """En ny leveransstatus når kampanjens öppna sidor (lyssnaren i SMS_DELIVERY_LISTENERS), en gång."""
    pushed: list[int] = []
    monkeypatch.setattr("campaigns.events.broadcast", pushed.append)
    campaign = make_campaign(staff_user)
    drain_queue()
    send_all(campaign)
    first = campaign.recipients.order_by("pk").first()
    pushed.clear()
    with django_capture_on_commit_callbacks(execute=True):
        receive_report("locmem", first.provider_message_id, DeliveryStatus.DELIVERED)
        receive_report("locmem", first.provider_message_id, DeliveryStatus.DELIVERED)
    assert pushed == [campaign.pk]


def test_status_endpoint_gives_the_same_order_as_the_page(
    staff_client: Client, client: Client, staff_user: Any
) -> None:
    """Statusadressen (för polling) ger räknare och rader i Ring först-ordning; kräver inloggning."""
    from campaigns.models import Recipient
    from campaigns.services import record_answer

    campaign = make_campaign(staff_user)
    drain_queue()
    send_all(campaign)
    karl, anna = campaign.recipients.get(name="Karl Karlsson"), campaign.recipients.get(name="Anna Andersson")
    record_answer(karl, Recipient.Answer.YES)
    record_answer(anna, Recipient.Answer.YES)
    data = staff_client.get(f"/personal/akut-sms/{campaign.pk}/status/").json()
    assert data["counts"]["yes"] == 2 and data["campaign"]["is_open"] is True
    assert [(r["name"], r["role"]) for r in data["rows"][:2]] == [
        ("Karl Karlsson", "Ring först"),
        ("Anna Andersson", "Reserv 1"),
    ]
    assert all("+46" not in str(row) for row in data["rows"])
    assert Client().get(f"/personal/akut-sms/{campaign.pk}/status/").status_code == 302
