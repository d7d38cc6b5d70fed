"""Webbläsartest i telefonstorlek (390 px): kampanjsidans svar- och samtalskolumner syns utan att
rulla i sidled, och patientsidan laddar bara det den använder (ingen Bootstrap)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from campaigns.models import Campaign, Recipient
from campaigns.services import record_answer
from tests.campaigns.factories import make_campaign, recipient, send_all
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.browser

PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """En telefonstor flik (egen kontext: egna kakor)."""
    context = browser.new_context(locale="sv-SE", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En skickad kampanj där Lisa svarat JA (Ring först) och Karl NEJ."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    record_answer(recipient(campaign, "Lisa Larsson"), Recipient.Answer.YES)
    record_answer(recipient(campaign, "Karl Karlsson"), Recipient.Answer.NO)
    return campaign


def test_campaign_page_shows_answer_and_call_columns_on_a_phone(
    phone: Any, live_server: Any, staff_user: Any, campaign: Campaign
) -> None:
    """Namn, Svar, Tid och Ring ligger inom skärmens 390 px; sidan rullar inte i sidled."""
    session = Client()
    session.force_login(staff_user)
    cookie = session.cookies["sessionid"]
    phone.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    phone.goto(f"{live_server.url}/personal/akut-sms/{campaign.pk}/")
    table = phone.get_by_test_id("mottagare")
    for heading in ("Namn", "Svar", "Tid", "Ring"):
        box = table.get_by_role("columnheader", name=heading, exact=True).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_VIEWPORT["width"], heading
    first = phone.get_by_test_id("ring-forst").bounding_box()
    assert first is not None and first["x"] + first["width"] <= PHONE_VIEWPORT["width"]
    assert table.locator("tbody tr").first.get_by_text("JA", exact=True).is_visible()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    screenshot(phone, "akut-sms-kampanj-telefon")


def test_patient_page_loads_no_bootstrap(phone: Any, live_server: Any, campaign: Campaign, settings: Any) -> None:
    """Frågesidan hämtar bara sin egen CSS, sitt skript och ikonen; ingen Bootstrap, inga skriptfel."""
    settings.CLINIC_PHONE = "08-123 45 67"
    requested: list[str] = []
    errors: list[str] = []
    phone.on("request", lambda request: requested.append(request.url))
    phone.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    phone.goto(f"{live_server.url}/s/{recipient(campaign, 'Anna Andersson').code}")
    phone.wait_for_load_state("networkidle")
    assert not [url for url in requested if "bootstrap" in url]
    assert any(url.endswith("patient.css") for url in requested) and errors == []
    assert phone.get_by_test_id("vid-fragor").inner_text() == "Vid frågor: 08-123 45 67"
    button = phone.get_by_role("button", name="JA, jag kan komma!").bounding_box()
    assert button is not None and button["width"] > 300  # knapparna fyller bredden som förut
    screenshot(phone, "akut-sms-patient-fraga-telefon")
