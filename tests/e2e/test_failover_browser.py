"""Webbläsartest: Sinch nere, Twilio tar över; audit-sidan visar Twilio och sedan leveransen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import log_in, screenshot
from tests.fakes import sinch_server, twilio_server

pytestmark = pytest.mark.browser


@pytest.fixture
def providers(settings: Any) -> Iterator[twilio_server.FakeTwilio]:
    """Sinch konfigurerad men nere (stängd port), Twilio uppe; kedjan sinch,twilio."""
    sinch = sinch_server.FakeSinch().start()
    sinch.stop()  # porten tar inte längre emot anslutningar
    twilio = twilio_server.FakeTwilio().start()
    settings.SMS_PROVIDERS = ["sinch", "twilio"]
    settings.SINCH_SERVICE_PLAN_ID = sinch_server.SERVICE_PLAN_ID
    settings.SINCH_API_TOKEN = sinch_server.API_TOKEN
    settings.SINCH_BASE_URL = sinch.url
    settings.SMS_WEBHOOK_TOKEN = "webhook-token-for-tester-0123456789"
    settings.TWILIO_ACCOUNT_SID = twilio_server.ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = twilio_server.AUTH_TOKEN
    settings.TWILIO_BASE_URL = twilio.url
    settings.SMS_TIMEOUT_SECONDS = 3.0
    yield twilio
    twilio.stop()


def test_sinch_down_twilio_sends_and_audit_shows_it(
    page: Any, live_server: Any, admin_user: Any, providers: twilio_server.FakeTwilio, console_errors: list[str]
) -> None:
    """Mall-SMS med Sinch nere: Twilio får det, audit visar Twilio, leveransrapporten syns i SMS-registret."""
    log_in(page, live_server.url, "chef", STAFF_PASSWORD)
    page.get_by_role("button", name="Receptpolicy").click()
    page.keyboard.insert_text("070-123 45 67")
    page.get_by_role("button", name="Skicka SMS").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").first.inner_text() == "SMS skickat: Receptpolicy (1 SMS-del)."

    sent = [r for r in providers.requests if r.method == "POST"]
    assert len(sent) == 1
    form = {key: values[0] for key, values in sent[0].form().items()}
    assert (form["To"], form["From"]) == ("+46701234567", "SodermOrto")
    assert form["StatusCallback"] == "http://testserver/webhooks/sms/twilio/"

    page.goto(live_server.url + "/logg/?action=sms_sent")
    row = page.get_by_test_id("audit-tabell").locator("tbody tr").first
    assert "twilio" in row.inner_text()
    page.goto(live_server.url + "/admin/smsportal/sendattempt/")
    row = page.locator("#result_list tbody tr").first
    assert "twilio" in row.inner_text() and "väntar" in row.inner_text()

    # Twilio rapporterar leveransen, signerat mot den publika adressen (PUBLIC_BASE_URL).
    sid = providers_sid(providers)
    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": twilio_server.ACCOUNT_SID}
    signature = RequestValidator(twilio_server.AUTH_TOKEN).compute_signature(form["StatusCallback"], params)
    webhook = live_server.url + "/webhooks/sms/twilio/"
    assert requests.post(webhook, data=params, headers={"X-Twilio-Signature": "fel"}, timeout=10).status_code == 403
    assert requests.post(webhook, data=params, headers={"X-Twilio-Signature": signature}, timeout=10).status_code == 200
    page.reload()
    assert "levererat" in row.inner_text()
    screenshot(page, "audit-twilio-levererat")
    assert console_errors == []


def providers_sid(fake: twilio_server.FakeTwilio) -> str:
    """Twilio-SID:et för det skickade SMS:et, som portalen sparade i SMS-registret."""
    from smsportal.models import AttemptStatus, SendAttempt

    return SendAttempt.objects.get(status=AttemptStatus.SENT).provider_message_id
