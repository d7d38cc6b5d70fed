"""Fixturer för egenskapstesterna."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.elks46_server import API_PASSWORD, API_USERNAME
from tests.fakes.sinch_server import API_TOKEN, SERVICE_PLAN_ID
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN
from tests.fuzz.webhook_requests import KNOWN, SLUGS, UNREACHABLE, WEBHOOK_TOKEN
from tests.smsportal.ledger_helpers import sent_attempt


@pytest.fixture
def providers(settings: Any, db: Any) -> Iterator[None]:
    """Alla tre leverantörerna påslagna (mot en adress där ingen svarar) och ett känt SMS hos var och en."""
    settings.SMS_PROVIDERS = ["sinch", "twilio", "elks46"]
    settings.SMS_WEBHOOK_TOKEN = WEBHOOK_TOKEN
    settings.SINCH_SERVICE_PLAN_ID = SERVICE_PLAN_ID
    settings.SINCH_API_TOKEN = API_TOKEN
    settings.SINCH_REGION = "eu"
    settings.SINCH_BASE_URL = UNREACHABLE
    settings.SINCH_WEBHOOK_SECRET = ""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_BASE_URL = UNREACHABLE
    settings.ELKS46_API_USERNAME = API_USERNAME
    settings.ELKS46_API_PASSWORD = API_PASSWORD
    settings.ELKS46_BASE_URL = UNREACHABLE + "/a1"
    for provider in SLUGS:
        sent_attempt(provider, KNOWN)
    yield
