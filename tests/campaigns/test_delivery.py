"""Leveransrapporter för kampanj-SMS syns på personalens kampanjsida."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import DeliveryReport, DeliveryStatus
from smsportal.delivery import receive_report
from tests.campaigns.factories import drain_queue, make_campaign, send_all

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
    assert DeliveryReport.objects.count() == 2


def test_status_endpoint_gives_the_same_order_as_the_page(staff_client: Client, client: Client, staff_user: Any) -> None:
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
    assert [(r["name"], r["role"]) for r in data["rows"][:2]] == [("Karl Karlsson", "Ring först"), ("Anna Andersson", "Reserv 1")]
    assert all("+46" not in str(row) for row in data["rows"])
    assert Client().get(f"/personal/akut-sms/{campaign.pk}/status/").status_code == 302
