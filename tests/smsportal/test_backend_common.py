"""Gemensamma hjälpfunktioner för leverantörerna (`smsportal.backends.common`).

Framför allt den sammanslagna regeln för när ett nätverksfel säkert betyder att inget
skickades: bara då får nästa leverantör försöka (annars risk för dubbla SMS).
"""

from __future__ import annotations

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from pytest_django.fixtures import Settings as SettingsWrapper
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError
from urllib3.exceptions import SSLError as Urllib3SSLError

from smsportal.backends.base import AMBIGUOUS_MESSAGE, SEND_FAILED_MESSAGE
from smsportal.backends.common import (
    network_error,
    never_sent,
    require_settings,
    status_error,
    token_matches,
)
from smsportal.phone import ERROR_MESSAGE as INVALID_NUMBER_MESSAGE


def _retry(reason: Exception) -> MaxRetryError:
    """urllib3:s MaxRetryError som requests slår in anslutningsfel i."""
    return MaxRetryError(None, "/sms", reason)  # type: ignore[arg-type]


REFUSED = NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (requests.ConnectTimeout("simulerad"), True),
        (requests.ConnectionError(_retry(REFUSED)), True),
        (requests.exceptions.SSLError(_retry(Urllib3SSLError("handskakning"))), True),
        (requests.exceptions.ProxyError(_retry(REFUSED)), True),
        # Läsfel efter sändning, även om en annan adapter slagit in dem i MaxRetryError.
        (requests.ConnectionError(_retry(ProtocolError("Connection aborted."))), False),
        (requests.ConnectionError(_retry(ReadTimeoutError(None, "/sms", "läs"))), False),  # type: ignore[arg-type]
        (requests.ConnectionError(ProtocolError("Connection aborted.")), False),
        # SSL-fel utan MaxRetryError: requests kastar det när svarskroppen läses.
        (requests.exceptions.SSLError(Urllib3SSLError("vid läsning")), False),
        (requests.ReadTimeout("simulerad"), False),
        (requests.exceptions.InvalidURL("http://[fel"), False),
    ],
)
def test_never_sent_only_when_no_connection_was_made(error: requests.RequestException, expected: bool) -> None:
    """Bara fel före anslutningen räknas som "aldrig skickat"; allt annat kan ha nått leverantören."""
    assert never_sent(error) is expected


def test_network_error_classes(settings: SettingsWrapper) -> None:
    """Ogiltig adress permanent, nekad anslutning tillfällig, läs-tidsgräns osäker vid sändning."""
    settings.SMS_TIMEOUT_SECONDS = 2.5
    bad_url = network_error("x", requests.exceptions.InvalidURL("http://[fel"), may_have_sent=True)
    assert (bad_url.permanent, bad_url.ambiguous, bad_url.reason) == (True, False, "ogiltig API-adress (InvalidURL)")
    refused = network_error("x", requests.ConnectionError(_retry(REFUSED)), may_have_sent=True)
    assert (refused.permanent, refused.ambiguous) == (False, False)
    assert refused.reason == "kunde inte ansluta (NewConnectionError)"
    late = network_error("x", requests.ReadTimeout("simulerad"), may_have_sent=True)
    assert (late.ambiguous, late.message) == (True, AMBIGUOUS_MESSAGE)
    assert late.reason == "inget svar inom 2.5 s efter sändning"
    check = network_error("x", requests.ReadTimeout("simulerad"), may_have_sent=False)
    assert (check.permanent, check.ambiguous, check.reason) == (False, False, "inget svar inom 2.5 s")


@pytest.mark.parametrize(
    ("status", "invalid_number", "permanent", "message"),
    [
        (408, False, False, SEND_FAILED_MESSAGE),
        (429, False, False, SEND_FAILED_MESSAGE),
        (503, True, False, SEND_FAILED_MESSAGE),
        (400, True, True, INVALID_NUMBER_MESSAGE),
        (401, False, True, SEND_FAILED_MESSAGE),
    ],
)
def test_status_error(status: int, invalid_number: bool, permanent: bool, message: str) -> None:
    """408, 429 och 5xx tillfälliga; ogiltigt nummer permanent med nummerbeskedet; övriga 4xx permanenta."""
    error = status_error("x", status, invalid_number=invalid_number)
    assert (error.permanent, error.message, error.reason) == (permanent, message, f"HTTP {status}")


def test_require_settings_names_missing_and_appends_hint(settings: SettingsWrapper) -> None:
    """Samma besked för alla leverantörer; en eventuell ledtråd läggs sist."""
    settings.SMS_TEST_A = ""
    settings.SMS_TEST_B = ""
    with pytest.raises(ImproperlyConfigured) as caught:
        require_settings("sinch", "SMS_TEST_A", "SMS_TEST_B", hint="Se kundportalen.")
    assert str(caught.value) == (
        "SMS_TEST_A och SMS_TEST_B saknas: sätt dem i miljön eller .env "
        "(krävs när sinch finns i SMS_PROVIDERS). Se kundportalen."
    )


@pytest.mark.parametrize(
    ("query", "expected", "result"),
    [("?token=hemlig", "hemlig", True), ("?token=fel", "hemlig", False), ("", "hemlig", False), ("?token=", "", False)],
)
def test_token_matches(query: str, expected: str, result: bool) -> None:
    """Rätt token godtas; fel, saknad eller tom (även mot en tom inställning) avvisas."""
    assert token_matches(RequestFactory().post("/webhooks/sms/x/" + query), expected) is result
