"""46elks-backenden: requests mot en låtsas-46elks på 127.0.0.1."""

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

from smsportal.backends.base import AMBIGUOUS_MESSAGE, SEND_FAILED_MESSAGE, SmsError
from smsportal.backends.elks46 import Elks46Backend
from smsportal.delivery import DeliveryStatus
from smsportal.models import SendAttempt
from smsportal.phone import ERROR_MESSAGE as INVALID_NUMBER_MESSAGE
from smsportal.sending import send_sms
from tests.fakes.elks46_server import ACCOUNT_MOBILE, API_PASSWORD, API_USERNAME, DISPLAY_NAME, FakeElks46
from tests.privacy import leaks, phone_forms
from tests.smsportal.backend_helpers import expect_send_error
from tests.smsportal.ledger_helpers import sent_attempt

PHONE = "+46709876543"
TEXT = "Hej! Din tid på Södermalms Ortopedi är bekräftad. Kod QX7ZP /Södermalms Ortopedi"
TOKEN = "webhook-token-som-bara-testerna-kanner-0123456789"
WEBHOOK_PATH = "/webhooks/sms/46elks/"
MESSAGE_ID = "s70df59406a1b4643b96f3f91e0bfb7b0"


@pytest.fixture
def elks_settings(settings: Any) -> Any:
    """46elks-inställningar (utan server: webhook-testerna behöver ingen)."""
    settings.SMS_PROVIDERS = ["elks46"]
    settings.ELKS46_API_USERNAME = API_USERNAME
    settings.ELKS46_API_PASSWORD = API_PASSWORD
    settings.ELKS46_BASE_URL = "http://127.0.0.1:9/a1"  # aldrig den riktiga 46elks, ens av misstag
    settings.SMS_WEBHOOK_TOKEN = TOKEN
    settings.SMS_TIMEOUT_SECONDS = 5.0
    return settings


@pytest.fixture
def fake(elks_settings: Any) -> Iterator[FakeElks46]:
    """En låtsas-46elks under testet; ELKS46_BASE_URL pekar dit."""
    server = FakeElks46().start()
    elks_settings.ELKS46_BASE_URL = server.base_url
    yield server
    server.stop()


@pytest.fixture
def backend(fake: FakeElks46) -> Elks46Backend:
    """En 46elks-backend som pratar med låtsasservern."""
    return Elks46Backend()


@pytest.fixture
def receiver(elks_settings: Any) -> Elks46Backend:
    """En 46elks-backend för leveransrapporterna (inget nätverk behövs)."""
    return Elks46Backend()


def send_error(backend: Elks46Backend, to: str = PHONE) -> SmsError:
    """Skickar och returnerar felet som måste uppstå (utan nummer eller text i orsaken)."""
    return expect_send_error(backend, to, TEXT, provider="elks46", phone=PHONE)


# --- Sändning ---------------------------------------------------------------------------------


def test_send_posts_exact_request(backend: Elks46Backend, fake: FakeElks46, caplog: pytest.LogCaptureFixture) -> None:
    """Ett SMS: rätt sökväg, Basic-inloggning, fält, återanrop med token och dontlog; inget i loggarna."""
    caplog.set_level(logging.DEBUG)
    result = backend.send(PHONE, TEXT)

    [request] = fake.requests
    assert (request.method, request.path) == ("POST", "/a1/sms")
    credentials = base64.b64encode(f"{API_USERNAME}:{API_PASSWORD}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {credentials}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form() == {
        "from": ["SodermOrto"],
        "to": [PHONE],
        "message": [TEXT],
        "whendelivered": [f"http://testserver/webhooks/sms/46elks/?token={TOKEN}"],
        "dontlog": ["message"],  # 46elks sparar inte texten
    }
    assert result.provider == "elks46" and result.segments == 1
    assert result.message_id.startswith("s") and len(result.message_id) == 33
    assert "POST /a1/sms" in caplog.text  # urllib3:s DEBUG-logg fångades
    assert leaks([*phone_forms(PHONE), TEXT, "QX7ZP", TOKEN, API_PASSWORD], loggar=caplog.text) == []


def test_construction_does_no_network_io(fake: FakeElks46) -> None:
    """Att skapa backenden (t.ex. i webhook-vyn) anropar inte 46elks."""
    Elks46Backend()
    assert fake.requests == []


@pytest.mark.parametrize(
    ("status", "text", "permanent", "message", "reason"),
    [
        (500, "Internal Server Error", False, SEND_FAILED_MESSAGE, "HTTP 500: Internal Server Error"),
        (502, "<html><body>502 Bad Gateway</body></html>", False, SEND_FAILED_MESSAGE, "HTTP 502"),
        (503, "Service Unavailable", False, SEND_FAILED_MESSAGE, "HTTP 503: Service Unavailable"),
        (429, "Too Many Requests", False, SEND_FAILED_MESSAGE, "HTTP 429: Too Many Requests"),
        (403, "Invalid to number", True, INVALID_NUMBER_MESSAGE, "HTTP 403: Invalid to number"),
        (400, "Invalid to number", True, INVALID_NUMBER_MESSAGE, "HTTP 400: Invalid to number"),
        # Ekar felet numret följer bara statusen med i orsaken.
        (403, f"Invalid to number {PHONE}", True, INVALID_NUMBER_MESSAGE, "HTTP 403"),
        (403, "Not enough credits", True, SEND_FAILED_MESSAGE, "HTTP 403: Not enough credits"),
        (403, "Missing key to", True, SEND_FAILED_MESSAGE, "HTTP 403: Missing key to"),
        (401, "Unauthorized", True, SEND_FAILED_MESSAGE, "HTTP 401: Unauthorized"),
        (404, "Not Found", True, SEND_FAILED_MESSAGE, "HTTP 404: Not Found"),
    ],
)
def test_error_responses_are_classified(
    backend: Elks46Backend, fake: FakeElks46, status: int, text: str, permanent: bool, message: str, reason: str
) -> None:
    """5xx och 429 tillfälliga; fel nummer permanent med nummerbeskedet; övriga 4xx permanenta."""
    fake.fail_with_text(status, text)
    error = send_error(backend)
    assert (error.permanent, error.ambiguous, error.message, error.reason) == (permanent, False, message, reason)


def test_json_error_body_is_understood(backend: Elks46Backend, fake: FakeElks46) -> None:
    """Vissa felsvar kommer som JSON {"error": ...}: samma klassning som textsvaren."""
    fake.fail_with(403, {"error": "Not enough credits"})
    error = send_error(backend)
    assert (error.permanent, error.message, error.reason) == (True, SEND_FAILED_MESSAGE, "HTTP 403: Not enough credits")


def test_invalid_number_rejected_by_46elks(backend: Elks46Backend) -> None:
    """46elks avvisar ett nummer som inte är E.164 med 403 "Invalid to number"."""
    error = send_error(backend, to="0701234567")
    assert (error.permanent, error.message) == (True, INVALID_NUMBER_MESSAGE)
    assert error.reason == "HTTP 403: Invalid to number"


def test_wrong_password_is_permanent(elks_settings: Any, fake: FakeElks46) -> None:
    """Fel lösenord: 46elks svarar 401 och ingen annan leverantör provas."""
    elks_settings.ELKS46_API_PASSWORD = "fel-losenord"
    error = send_error(Elks46Backend())
    assert (error.permanent, error.message, error.reason) == (True, SEND_FAILED_MESSAGE, "HTTP 401: Unauthorized")


def test_connection_refused_is_transient(backend: Elks46Backend, fake: FakeElks46) -> None:
    """Går inte att ansluta: tillfälligt fel, nästa leverantör provas."""
    fake.stop()
    error = send_error(backend)
    assert (error.permanent, error.ambiguous) == (False, False)
    assert error.reason.startswith("kunde inte ansluta")


def test_read_timeout_after_sending_is_ambiguous(elks_settings: Any, fake: FakeElks46) -> None:
    """Begäran skickad men inget svar inom SMS_TIMEOUT_SECONDS: osäkert, aldrig failover."""
    elks_settings.SMS_TIMEOUT_SECONDS = 0.5
    fake.delay = 2.0
    started = time.monotonic()
    error = send_error(Elks46Backend())
    assert time.monotonic() - started < 1.8  # tidsgränsen gällde, inga omförsök
    assert (error.permanent, error.ambiguous, error.message) == (False, True, AMBIGUOUS_MESSAGE)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("body", [{"status": "created", "parts": 1}, b"<html>OK</html>", [1, 2]])
def test_success_without_message_id_is_ambiguous(backend: Elks46Backend, fake: FakeElks46, body: Any) -> None:
    """200 utan läsbart id: 46elks tog emot begäran, så SMS:et kan ha skickats."""
    fake.fail_with(200, body)
    error = send_error(backend)
    assert (error.permanent, error.ambiguous, error.message) == (False, True, AMBIGUOUS_MESSAGE)


def test_failover_skips_46elks_on_5xx_but_not_on_timeout(
    elks_settings: Any, fake: FakeElks46, sms_outbox: list[Any]
) -> None:
    """Genom send_sms: 503 från 46elks ger nästa leverantör; osäker tidsgräns stoppar kedjan."""
    elks_settings.SMS_PROVIDERS = ["elks46", "locmem"]
    fake.fail_with_text(503, "Service Unavailable")
    assert send_sms(PHONE, TEXT).provider == "locmem"
    assert len(sms_outbox) == 1

    elks_settings.SMS_TIMEOUT_SECONDS = 0.5
    fake.delay = 2.0
    with pytest.raises(SmsError) as excinfo:
        send_sms(PHONE, TEXT)
    assert excinfo.value.ambiguous and len(sms_outbox) == 1


# --- Kontroll av inloggningen ---------------------------------------------------------------


def test_check_reads_account_without_sending(backend: Elks46Backend, fake: FakeElks46) -> None:
    """check() läser /me med GET: namn och saldo, aldrig lösenord eller kontots mobilnummer."""
    line = backend.check()
    assert line == f"inloggningen fungerar (konto {DISPLAY_NAME!r}, saldo 123,45 SEK)"
    assert API_PASSWORD not in line and ACCOUNT_MOBILE not in line
    [request] = fake.requests
    assert (request.method, request.path, request.body) == ("GET", "/a1/me", b"")


def test_check_with_wrong_password_is_permanent(elks_settings: Any, fake: FakeElks46) -> None:
    """check() med fel lösenord: permanent fel med API-inställningsbeskedet."""
    elks_settings.ELKS46_API_PASSWORD = "fel-losenord"
    with pytest.raises(SmsError) as excinfo:
        Elks46Backend().check()
    assert (excinfo.value.permanent, excinfo.value.message) == (True, SEND_FAILED_MESSAGE)


def test_check_timeout_is_not_ambiguous(elks_settings: Any, fake: FakeElks46) -> None:
    """En läs-tidsgräns i check() skickade inget SMS: tillfälligt fel, inte "osäkert"."""
    elks_settings.SMS_TIMEOUT_SECONDS = 0.5
    fake.delay = 2.0
    with pytest.raises(SmsError) as excinfo:
        Elks46Backend().check()
    assert (excinfo.value.permanent, excinfo.value.ambiguous) == (False, False)


@pytest.mark.parametrize("missing", ["ELKS46_API_USERNAME", "ELKS46_API_PASSWORD", "SMS_WEBHOOK_TOKEN"])
def test_missing_settings_fail_at_construction(elks_settings: Any, missing: str) -> None:
    """Saknad inloggningsuppgift eller webhook-token: ImproperlyConfigured som namnger variabeln."""
    setattr(elks_settings, missing, "")
    with pytest.raises(ImproperlyConfigured, match=f"{missing} saknas: sätt den i miljön eller .env"):
        Elks46Backend()


# --- Leveransrapporter -------------------------------------------------------------------


def report(status: str = "delivered", message_id: str = MESSAGE_ID) -> dict[str, str]:
    """Formulärdatan i 46elks leveransrapport (`delivered` bara vid leverans)."""
    data = {"id": message_id, "status": status}
    if status == "delivered":
        data["delivered"] = "2026-05-04T13:38:15.123000"
    return data


def report_request(params: dict[str, str], token: str | None = TOKEN) -> HttpRequest:
    """En formulärkodad POST till återanropsadressen, med eller utan token."""
    path = WEBHOOK_PATH + (f"?{urlencode({'token': token})}" if token is not None else "")
    return RequestFactory().post(path, data=urlencode(params), content_type="application/x-www-form-urlencoded")


def test_webhook_accepts_the_configured_token(receiver: Elks46Backend) -> None:
    """Rätt token i adressen: rapporten godtas."""
    assert receiver.verify_webhook(report_request(report()))


@pytest.mark.parametrize("token", [None, "", "fel-token", TOKEN[:-1], TOKEN + "x", TOKEN.upper()])
def test_webhook_rejects_missing_or_wrong_token(receiver: Elks46Backend, token: str | None) -> None:
    """Saknad eller fel token: avvisas."""
    assert not receiver.verify_webhook(report_request(report(), token))


def test_webhook_token_in_body_is_not_enough(receiver: Elks46Backend) -> None:
    """Token räknas bara i adressen (där portalen lade den), inte i kroppen."""
    assert not receiver.verify_webhook(report_request({**report(), "token": TOKEN}, token=None))


def test_empty_configured_token_never_matches(receiver: Elks46Backend) -> None:
    """Även om token i inställningarna vore tom godtas ingen rapport (inte heller ?token=)."""
    receiver.webhook_token = ""
    assert not receiver.verify_webhook(report_request(report(), token=""))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("delivered", [(MESSAGE_ID, DeliveryStatus.DELIVERED)]),
        ("failed", [(MESSAGE_ID, DeliveryStatus.FAILED)]),
        ("sent", []),
        ("created", []),
        ("påhittad", []),
        ("", []),
    ],
)
def test_parse_final_statuses_only(receiver: Elks46Backend, status: str, expected: list[tuple[str, str]]) -> None:
    """Bara slutstatus ger en rapport; mellanlägen och okända statusar hoppas över."""
    assert receiver.parse_delivery_report(report_request(report(status))) == expected


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b"status=delivered", "application/x-www-form-urlencoded"),
        (urlencode(report(message_id="<script>alert(1)</script>")).encode(), "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00garbage=%ZZ&&==", "application/x-www-form-urlencoded"),
        (b"--x\r\ngarbage", "multipart/form-data"),  # ingen boundary: Django kastar
        (b'{"id": "s1", "status": "delivered"}', "application/json"),
    ],
)
def test_garbage_is_ignored_without_raising(receiver: Elks46Backend, body: bytes, content_type: str) -> None:
    """Skräp ger ingen rapport och inget undantag (vyn får aldrig svara 500)."""
    request = RequestFactory().generic("POST", WEBHOOK_PATH, data=body, content_type=content_type)
    assert receiver.parse_delivery_report(request) == []


@pytest.mark.django_db
def test_webhook_view_records_report_with_token(elks_settings: Any, client: Client) -> None:
    """Hela vägen genom /webhooks/sms/46elks/: rapport med token sparas, utan token ger 403."""
    sent_attempt("elks46", MESSAGE_ID)
    form = {"data": urlencode(report("failed")), "content_type": "application/x-www-form-urlencoded"}
    assert client.post(WEBHOOK_PATH, **form).status_code == 403
    assert client.post(f"{WEBHOOK_PATH}?token={TOKEN}", **form).status_code == 200
    assert (
        SendAttempt.objects.get(provider="elks46", provider_message_id=MESSAGE_ID).delivery_status
        == DeliveryStatus.FAILED
    )
