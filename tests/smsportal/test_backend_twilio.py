"""Twilio-backenden: det riktiga twilio-SDK:t mot en låtsas-Twilio på 127.0.0.1."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.test import Client, RequestFactory
from twilio.request_validator import RequestValidator

from smsportal.backends.base import AMBIGUOUS_MESSAGE, SEND_FAILED_MESSAGE, SmsError
from smsportal.backends.twilio import TwilioBackend
from smsportal.delivery import DeliveryStatus
from smsportal.models import SendAttempt
from smsportal.phone import ERROR_MESSAGE as INVALID_NUMBER_MESSAGE
from smsportal.sending import send_sms
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FRIENDLY_NAME, FakeTwilio, twilio_error
from tests.privacy import leaks, phone_forms
from tests.smsportal.backend_helpers import expect_send_error
from tests.smsportal.ledger_helpers import sent_attempt

PHONE = "+46709876543"
TEXT = "Hej! Din tid på Södermalms Ortopedi är bekräftad. Kod QX7ZP /Södermalms Ortopedi"
WEBHOOK_PATH = "/webhooks/sms/twilio/"
MESSAGE_SID = "SM" + "abcdef0123456789" * 2


@pytest.fixture
def twilio_settings(settings: Any) -> Any:
    """Twilio-inställningar (utan server: webhook-testerna behöver ingen)."""
    settings.SMS_PROVIDERS = ["twilio"]
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_BASE_URL = "http://127.0.0.1:9"  # aldrig den riktiga Twilio, ens av misstag
    settings.SMS_TIMEOUT_SECONDS = 5.0
    return settings


@pytest.fixture
def fake(twilio_settings: Any) -> Iterator[FakeTwilio]:
    """En låtsas-Twilio under testet; TWILIO_BASE_URL pekar dit."""
    server = FakeTwilio().start()
    twilio_settings.TWILIO_BASE_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def backend(fake: FakeTwilio) -> TwilioBackend:
    """En Twilio-backend som pratar med låtsasservern."""
    return TwilioBackend()


@pytest.fixture
def receiver(twilio_settings: Any) -> TwilioBackend:
    """En Twilio-backend för leveransrapporterna (inget nätverk behövs)."""
    return TwilioBackend()


def send_error(backend: TwilioBackend, to: str = PHONE) -> SmsError:
    """Skickar och returnerar felet som måste uppstå (utan nummer eller text i orsaken)."""
    return expect_send_error(backend, to, TEXT, provider="twilio", phone=PHONE)


# --- Sändning ---------------------------------------------------------------------------------


def test_send_posts_exact_request(backend: TwilioBackend, fake: FakeTwilio, caplog: pytest.LogCaptureFixture) -> None:
    """Ett SMS: rätt sökväg, Basic-inloggning, avsändare, mottagare, text och återanrop; inget i loggarna."""
    caplog.set_level(logging.DEBUG)
    result = backend.send(PHONE, TEXT)

    [request] = fake.requests
    assert (request.method, request.path) == ("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {credentials}"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.form() == {
        "To": [PHONE],
        "From": ["SodermOrto"],
        "Body": [TEXT],
        "StatusCallback": ["http://testserver/webhooks/sms/twilio/"],  # signerad: ingen token
    }
    assert result.provider == "twilio" and result.segments == 1
    assert result.message_id.startswith("SM") and len(result.message_id) == 34
    assert "Twilio API Request" in caplog.text  # SDK:ts egen loggning fångades
    assert leaks([*phone_forms(PHONE), TEXT, "QX7ZP"], loggar=caplog.text) == []


def test_region_and_edge_in_environment_do_not_bypass_base_url(
    twilio_settings: Any, fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TWILIO_REGION/TWILIO_EDGE i miljön skriver om SDK:ts värd, men TWILIO_BASE_URL vinner."""
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    assert TwilioBackend().send(PHONE, TEXT).message_id.startswith("SM")
    assert len(fake.requests) == 1


def test_construction_does_no_network_io(twilio_settings: Any, fake: FakeTwilio) -> None:
    """Att skapa backenden (t.ex. i webhook-vyn) anropar inte Twilio."""
    TwilioBackend()
    assert fake.requests == []


@pytest.mark.parametrize(
    ("status", "body", "permanent", "message"),
    [
        (500, twilio_error(500, 20500, "Internal Server Error"), False, SEND_FAILED_MESSAGE),
        (502, b"<html><body>502 Bad Gateway</body></html>", False, SEND_FAILED_MESSAGE),
        # RFC 9457-kropp ger TwilioServiceException, som inte är en TwilioRestException.
        (
            503,
            {
                "type": "https://www.twilio.com/docs/errors/20503",
                "title": "Service Unavailable",
                "status": 503,
                "code": 20503,
            },
            False,
            SEND_FAILED_MESSAGE,
        ),
        (429, twilio_error(429, 20429, "Too Many Requests"), False, SEND_FAILED_MESSAGE),
        (
            400,
            twilio_error(400, 21211, f"The 'To' number {PHONE} is not a valid phone number."),
            True,
            INVALID_NUMBER_MESSAGE,
        ),
        (
            400,
            twilio_error(400, 21614, f"'To' number {PHONE} is not a valid mobile number"),
            True,
            INVALID_NUMBER_MESSAGE,
        ),
        (
            400,
            twilio_error(
                400,
                21606,
                "The 'From' phone number provided is not a valid message-capable "
                "Twilio phone number for this destination.",
            ),
            True,
            SEND_FAILED_MESSAGE,
        ),
        (401, twilio_error(401, 20003, "Authenticate"), True, SEND_FAILED_MESSAGE),
        (403, twilio_error(403, 20403, "Forbidden"), True, SEND_FAILED_MESSAGE),
    ],
)
def test_error_responses_are_classified(
    backend: TwilioBackend, fake: FakeTwilio, status: int, body: Any, permanent: bool, message: str
) -> None:
    """5xx och 429 tillfälliga; fel nummer permanent med nummerbeskedet; övriga 4xx permanenta."""
    fake.fail_with(status, body)
    error = send_error(backend)
    assert (error.permanent, error.ambiguous, error.message) == (permanent, False, message)
    assert str(status) in error.reason


@pytest.mark.parametrize("body", [b"<html>OK</html>", {"status": "queued"}])
def test_success_without_readable_sid_is_ambiguous(backend: TwilioBackend, fake: FakeTwilio, body: Any) -> None:
    """201 utan läsbart SID: Twilio tog emot begäran, så SMS:et kan ha skickats."""
    fake.fail_with(201, body)
    error = send_error(backend)
    assert (error.permanent, error.ambiguous, error.message) == (False, True, AMBIGUOUS_MESSAGE)


def test_invalid_number_echoed_by_twilio_is_not_passed_on(backend: TwilioBackend) -> None:
    """Twilio ekar det ogiltiga numret i felet: orsaken bär bara status och felkod."""
    error = send_error(backend, to="0701234567")
    assert (error.permanent, error.message) == (True, INVALID_NUMBER_MESSAGE)
    assert error.reason == "HTTP 400: Twilio-felkod 21211"
    assert "0701234567" not in error.reason


def test_wrong_auth_token_is_permanent(twilio_settings: Any, fake: FakeTwilio) -> None:
    """Fel token: Twilio svarar 401 (20003) och ingen annan leverantör provas."""
    twilio_settings.TWILIO_AUTH_TOKEN = "fel-token"
    error = send_error(TwilioBackend())
    assert (error.permanent, error.message) == (True, SEND_FAILED_MESSAGE)
    assert error.reason == "HTTP 401: Twilio-felkod 20003"


def test_connection_refused_is_transient(backend: TwilioBackend, fake: FakeTwilio) -> None:
    """Går inte att ansluta: tillfälligt fel, nästa leverantör provas."""
    fake.stop()
    error = send_error(backend)
    assert (error.permanent, error.ambiguous) == (False, False)
    assert error.reason.startswith("kunde inte ansluta")


def test_read_timeout_after_sending_is_ambiguous(twilio_settings: Any, fake: FakeTwilio) -> None:
    """Begäran skickad men inget svar inom SMS_TIMEOUT_SECONDS: osäkert, aldrig failover."""
    twilio_settings.SMS_TIMEOUT_SECONDS = 0.5
    fake.delay = 2.0
    started = time.monotonic()
    error = send_error(TwilioBackend())
    assert time.monotonic() - started < 1.8  # tidsgränsen gällde, inga omförsök
    assert (error.permanent, error.ambiguous, error.message) == (False, True, AMBIGUOUS_MESSAGE)
    assert len(fake.requests) == 1


def test_failover_skips_twilio_on_5xx_but_not_on_timeout(
    twilio_settings: Any, fake: FakeTwilio, sms_outbox: list[Any]
) -> None:
    """Genom send_sms: 500 från Twilio ger nästa leverantör; osäker tidsgräns stoppar kedjan."""
    twilio_settings.SMS_PROVIDERS = ["twilio", "locmem"]
    fake.fail_with(500, twilio_error(500, 20500, "Internal Server Error"))
    assert send_sms(PHONE, TEXT).provider == "locmem"
    assert len(sms_outbox) == 1

    twilio_settings.SMS_TIMEOUT_SECONDS = 0.5
    fake.delay = 2.0
    with pytest.raises(SmsError) as excinfo:
        send_sms(PHONE, TEXT)
    assert excinfo.value.ambiguous and len(sms_outbox) == 1


# --- Kontroll av inloggningen ---------------------------------------------------------------


def test_check_fetches_account_without_sending(backend: TwilioBackend, fake: FakeTwilio) -> None:
    """check() läser kontot med GET och visar namnet, aldrig token."""
    line = backend.check()
    assert line == f"inloggningen fungerar (konto {FRIENDLY_NAME!r}, status active)"
    assert AUTH_TOKEN not in line
    [request] = fake.requests
    assert (request.method, request.path, request.body) == ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json", b"")


def test_check_with_wrong_token_is_permanent(twilio_settings: Any, fake: FakeTwilio) -> None:
    """check() med fel token: permanent fel med API-inställningsbeskedet."""
    twilio_settings.TWILIO_AUTH_TOKEN = "fel-token"
    with pytest.raises(SmsError) as excinfo:
        TwilioBackend().check()
    assert (excinfo.value.permanent, excinfo.value.message) == (True, SEND_FAILED_MESSAGE)


def test_check_on_suspended_account_fails(backend: TwilioBackend, fake: FakeTwilio) -> None:
    """Ett avstängt konto kan inte skicka: check() säger det."""
    fake.account_status = "suspended"
    with pytest.raises(SmsError) as excinfo:
        backend.check()
    assert excinfo.value.permanent and "suspended" in excinfo.value.reason


def test_check_timeout_is_not_ambiguous(twilio_settings: Any, fake: FakeTwilio) -> None:
    """En läs-tidsgräns i check() skickade inget SMS: tillfälligt fel, inte "osäkert"."""
    twilio_settings.SMS_TIMEOUT_SECONDS = 0.5
    fake.delay = 2.0
    with pytest.raises(SmsError) as excinfo:
        TwilioBackend().check()
    assert (excinfo.value.permanent, excinfo.value.ambiguous) == (False, False)


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"])
def test_missing_credentials_fail_at_construction(twilio_settings: Any, missing: str) -> None:
    """Saknad inloggningsuppgift: ImproperlyConfigured som namnger variabeln."""
    setattr(twilio_settings, missing, "")
    with pytest.raises(ImproperlyConfigured, match=f"{missing} saknas: sätt den i miljön eller .env"):
        TwilioBackend()


# --- Leveransrapporter -------------------------------------------------------------------


def report(status: str = "delivered", message_sid: str = MESSAGE_SID) -> dict[str, str]:
    """Formulärdatan i Twilios statusåteranrop."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": "SodermOrto",
        "MessageSid": message_sid,
        "MessageStatus": status,
        "SmsSid": message_sid,
        "SmsStatus": status,
        "To": PHONE,
    }


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature som Twilio räknar ut den."""
    return RequestValidator(token).compute_signature(url, params)


def report_request(params: dict[str, str], signature: str | None = None, path: str = WEBHOOK_PATH) -> HttpRequest:
    """En formulärkodad POST som Twilio skickar den (värden är testserver, som bakom en proxy)."""
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return RequestFactory().post(
        path, data=urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers
    )


def test_webhook_signature_uses_public_url(receiver: TwilioBackend, twilio_settings: Any) -> None:
    """Signaturen gäller den publika adressen (PUBLIC_BASE_URL), inte värden begäran ser."""
    twilio_settings.PUBLIC_BASE_URL = "https://sms.example.se"
    params = report()
    assert receiver.verify_webhook(report_request(params, sign("https://sms.example.se" + WEBHOOK_PATH, params)))
    assert not receiver.verify_webhook(report_request(params, sign("http://testserver" + WEBHOOK_PATH, params)))


def test_webhook_signature_covers_query_string(receiver: TwilioBackend) -> None:
    """Frågesträngen ingår i den signerade adressen."""
    params = report()
    path = WEBHOOK_PATH + "?extra=1"
    assert receiver.verify_webhook(report_request(params, sign("http://testserver" + path, params), path=path))
    unsigned_query = sign("http://testserver" + WEBHOOK_PATH, params)
    assert not receiver.verify_webhook(report_request(params, unsigned_query, path=path))


@pytest.mark.parametrize(
    "signature",
    [
        None,  # saknas
        "",
        "inte-en-signatur",
        sign("http://testserver" + WEBHOOK_PATH, report(), token="annan-token"),
        sign("http://testserver" + WEBHOOK_PATH, report(status="failed")),  # annan kropp
    ],
)
def test_webhook_rejects_missing_or_bad_signature(receiver: TwilioBackend, signature: str | None) -> None:
    """Saknad, fel eller för en annan kropp: avvisas."""
    assert not receiver.verify_webhook(report_request(report(), signature))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("delivered", [(MESSAGE_SID, DeliveryStatus.DELIVERED)]),
        ("undelivered", [(MESSAGE_SID, DeliveryStatus.FAILED)]),
        ("failed", [(MESSAGE_SID, DeliveryStatus.FAILED)]),
        ("canceled", [(MESSAGE_SID, DeliveryStatus.FAILED)]),
        ("accepted", []),
        ("queued", []),
        ("sending", []),
        ("sent", []),
        ("påhittad", []),
        ("", []),
    ],
)
def test_parse_final_statuses_only(receiver: TwilioBackend, status: str, expected: list[tuple[str, str]]) -> None:
    """Bara slutstatus ger en rapport; mellanlägen och okända statusar hoppas över."""
    assert receiver.parse_delivery_report(report_request(report(status))) == expected


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b"MessageStatus=delivered", "application/x-www-form-urlencoded"),
        (urlencode(report(message_sid="<script>alert(1)</script>")).encode(), "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00garbage=%ZZ&&==", "application/x-www-form-urlencoded"),
        (b"--x\r\ngarbage", "multipart/form-data"),  # ingen boundary: Django kastar
        (b'{"MessageSid": "SM1", "MessageStatus": "delivered"}', "application/json"),
    ],
)
def test_garbage_is_ignored_without_raising(receiver: TwilioBackend, body: bytes, content_type: str) -> None:
    """Skräp ger ingen rapport och inget undantag (vyn får aldrig svara 500)."""
    request = RequestFactory().generic(
        "POST", WEBHOOK_PATH, data=body, content_type=content_type, headers={"X-Twilio-Signature": "x"}
    )
    assert receiver.parse_delivery_report(request) == []
    assert receiver.verify_webhook(request) is False


@pytest.mark.django_db
def test_webhook_view_records_signed_report(twilio_settings: Any, client: Client) -> None:
    """Hela vägen genom /webhooks/sms/twilio/: signerad rapport sparas, osignerad ger 403."""
    sent_attempt("twilio", MESSAGE_SID)
    params = report("delivered")
    url = "http://testserver" + WEBHOOK_PATH
    form = {"data": urlencode(params), "content_type": "application/x-www-form-urlencoded"}
    assert client.post(WEBHOOK_PATH, **form).status_code == 403
    assert client.post(WEBHOOK_PATH, **form, headers={"X-Twilio-Signature": sign(url, params)}).status_code == 200
    assert (
        SendAttempt.objects.get(provider="twilio", provider_message_id=MESSAGE_SID).delivery_status
        == DeliveryStatus.DELIVERED
    )
