"""Failover i kedjan sinch,twilio med de riktiga SDK:erna mot två låtsasservrar."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smsportal.backends.base import SmsError
from smsportal.sending import send_sms
from tests.fakes.sinch_server import API_TOKEN, SERVICE_PLAN_ID, FakeSinch
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

TO = "+46701234567"
TEXT = "Hej! Testmeddelande.\n/Södermalms Ortopedi"


@pytest.fixture
def chain(settings: Any) -> Iterator[tuple[FakeSinch, FakeTwilio]]:
    """Sinch först, Twilio som reserv, båda mot låtsasservrar."""
    sinch, twilio = FakeSinch().start(), FakeTwilio().start()
    settings.SMS_PROVIDERS = ["sinch", "twilio"]
    settings.SINCH_SERVICE_PLAN_ID, settings.SINCH_API_TOKEN = SERVICE_PLAN_ID, API_TOKEN
    settings.SINCH_BASE_URL, settings.SINCH_WEBHOOK_SECRET = sinch.url, ""
    settings.SMS_WEBHOOK_TOKEN = "token-for-leveransrapporter-0123456789"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_BASE_URL = twilio.url
    settings.SMS_TIMEOUT_SECONDS = 2.0
    yield sinch, twilio
    sinch.stop()
    twilio.stop()


def twilio_sends(twilio: FakeTwilio) -> int:
    """Antal SMS som Twilio-låtsasservern tagit emot."""
    return sum(1 for r in twilio.requests if r.method == "POST")


@pytest.mark.parametrize("trouble", ["nere", "500", "503", "429"])
def test_sinch_trouble_fails_over_to_twilio(chain: tuple[FakeSinch, FakeTwilio], trouble: str) -> None:
    """Sinch nere, 5xx eller 429: Twilio skickar, exakt en gång."""
    sinch, twilio = chain
    if trouble == "nere":
        sinch.stop()
    elif trouble == "429":
        sinch.rate_limit()
    else:
        sinch.fail_with(int(trouble), {"code": "internal_error", "text": "Fel"})
    assert send_sms(TO, TEXT).provider == "twilio"
    assert twilio_sends(twilio) == 1


def test_permanent_sinch_error_is_not_failed_over(chain: tuple[FakeSinch, FakeTwilio]) -> None:
    """Fel inloggning hos Sinch (401) provas inte hos Twilio."""
    sinch, twilio = chain
    sinch.fail_with(401, {"code": "unauthorized", "text": "Unauthorized"})
    with pytest.raises(SmsError) as error:
        send_sms(TO, TEXT)
    assert error.value.permanent and error.value.provider == "sinch"
    assert twilio_sends(twilio) == 0


def test_timeout_after_sending_is_not_failed_over(chain: tuple[FakeSinch, FakeTwilio], settings: Any) -> None:
    """Sinch tar emot men svarar inte i tid: osäkert, och Twilio skickar inte en gång till."""
    sinch, twilio = chain
    settings.SMS_TIMEOUT_SECONDS = 0.5
    sinch.delay = 2.0
    with pytest.raises(SmsError) as error:
        send_sms(TO, TEXT)
    assert error.value.ambiguous
    assert twilio_sends(twilio) == 0
