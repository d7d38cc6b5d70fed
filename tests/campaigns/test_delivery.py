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
