"""Sinch-backenden: det riktiga SDK:t mot en låtsas-Sinch på 127.0.0.1.

Sändning (kropp, autentisering, återanropsadress), felklassning för failover-kedjan
(permanent, tillfälligt, osäkert), inga omförsök vid 429, tidsgräns, `check()`,
leveransrapporter med hemlig token eller Sinchs signatur, och att varken nummer, text
eller token hamnar i loggarna.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from http.client import RemoteDisconnected
from io import StringIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings as SettingsWrapper
from sinch.domains.sms.models.v1.response import BatchDeliveryReport, RecipientDeliveryReport
from sinch.domains.sms.models.v1.shared.text_response import TextResponse
from sinch.domains.sms.sinch_events.v1.sms_sinch_event import SmsSinchEvent
from urllib3.exceptions import ProtocolError

from audit.models import Action, AuditEvent
from smsportal.backends.base import AMBIGUOUS_MESSAGE, SEND_FAILED_MESSAGE, SmsError
from smsportal.backends.sinch import SinchBackend
from smsportal.delivery import DeliveryStatus
from smsportal.models import AttemptStatus, SendAttempt
from smsportal.sending import send_sms
from templates_app.models import MessageTemplate
from tests.fakes.sinch_server import API_TOKEN, SERVICE_PLAN_ID, FakeSinch
from tests.privacy import cache_text, database_text, leaks, phone_forms
from tests.smsportal.ledger_helpers import reported, sent_attempt

TO = "+46701234567"
TEXT = "Hej! Din tid är bokad. /Södermalms Ortopedi"
WEBHOOK_TOKEN = "webhook-token-7f3a9c1e5b"
SIGNING_SECRET = "sinch-signing-secret-2b8e"


@pytest.fixture
def fake() -> Iterator[FakeSinch]:
    """En startad låtsas-Sinch (stoppas efter testet)."""
    server = FakeSinch().start()
    yield server
    server.stop()


@pytest.fixture
def sinch(fake: FakeSinch, settings: SettingsWrapper) -> FakeSinch:
    """Portalen inställd på Sinch mot låtsasservern, med hemlig token för rapporterna."""
    settings.SMS_PROVIDERS = ["sinch"]
    settings.SINCH_SERVICE_PLAN_ID = SERVICE_PLAN_ID
    settings.SINCH_API_TOKEN = API_TOKEN
    settings.SINCH_REGION = "eu"
    settings.SINCH_BASE_URL = fake.url
    settings.SINCH_WEBHOOK_SECRET = ""
    settings.SMS_WEBHOOK_TOKEN = WEBHOOK_TOKEN
    settings.SMS_TIMEOUT_SECONDS = 2.0
    return fake


def send_error() -> SmsError:
    """Skickar via backenden och returnerar felet (testet kräver att det blir fel)."""
    with pytest.raises(SmsError) as caught:
        SinchBackend().send(TO, TEXT)
    return caught.value


def webhook_path(url: str) -> str:
    """Sökväg och fråga ur en återanropsadress (för Djangos testklient)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def post_report(client: Client, path: str, report: Any, headers: dict[str, str] | None = None) -> Any:
    """Postar en leveransrapport som Sinch gör (JSON)."""
    body = report if isinstance(report, bytes) else json.dumps(report).encode()
    return client.post(path, data=body, content_type="application/json", headers=headers or {})


def report_request(report: Any, path: str = "/webhooks/sms/sinch/") -> Any:
    """En Django-begäran med rapporten som kropp (för parse_delivery_report direkt)."""
    body = report if isinstance(report, bytes) else json.dumps(report).encode()
    return RequestFactory().post(path, data=body, content_type="application/json")


# --- Sändning --------------------------------------------------------------------------


def test_send_posts_batch_with_sdk_and_returns_batch_id(sinch: FakeSinch) -> None:
    """Rätt sökväg, Bearer-token och kropp; batchens id blir meddelande-id."""
    result = SinchBackend().send(TO, TEXT)

    [request] = sinch.requests
    assert (request.method, request.path) == ("POST", f"/xms/v1/{SERVICE_PLAN_ID}/batches")
    assert request.headers["authorization"] == f"Bearer {API_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    payload = request.json()
    assert payload == {
        "to": [TO],
        "from": "SodermOrto",
        "body": TEXT,
        "type": "mt_text",
        "delivery_report": "per_recipient_final",
        "callback_url": f"http://testserver/webhooks/sms/sinch/?token={WEBHOOK_TOKEN}",
    }
    [batch] = sinch.batches
    assert (result.provider, result.message_id, result.segments) == ("sinch", batch["id"], 1)


def test_signing_secret_means_callback_without_token(sinch: FakeSinch, settings: SettingsWrapper) -> None:
    """Med SINCH_WEBHOOK_SECRET skickas ingen token i återanropsadressen."""
    settings.SINCH_WEBHOOK_SECRET = SIGNING_SECRET
    SinchBackend().send(TO, TEXT)
    assert sinch.requests[0].json()["callback_url"] == "http://testserver/webhooks/sms/sinch/"


def test_long_text_counts_segments(sinch: FakeSinch) -> None:
    """Antalet delar räknas ur texten (UCS-2 med emoji: 70 per del, 67 per del i flerdelade)."""
    result = SinchBackend().send(TO, "Välkommen 😀 " * 10)
    assert result.segments == 2
    assert sinch.batches[0]["body"] == "Välkommen 😀 " * 10


def test_fake_batch_response_is_what_the_sdk_expects(sinch: FakeSinch) -> None:
    """Låtsasserverns svar tolkas av SDK:t som en riktig textbatch (type mt_text)."""
    backend = SinchBackend()
    batch = backend.client.sms.batches.send_sms(to=[TO], from_="SodermOrto", body=TEXT)
    assert isinstance(batch, TextResponse)
    assert (batch.id, batch.to, batch.from_, batch.canceled, batch.type) == (
        sinch.batches[0]["id"],
        [TO],
        "SodermOrto",
        False,
        "mt_text",
    )
    assert batch.created_at is not None and batch.expire_at > batch.created_at


@pytest.mark.parametrize("base_url", ["{url}", "{url}/"])
def test_base_url_overrides_region_origin(sinch: FakeSinch, settings: SettingsWrapper, base_url: str) -> None:
    """SINCH_BASE_URL (bara ursprunget) vinner över regionens adress, med eller utan snedstreck."""
    settings.SINCH_REGION = "us"
    settings.SINCH_BASE_URL = base_url.format(url=sinch.url)
    backend = SinchBackend()
    assert backend.origin == sinch.url
    backend.send(TO, TEXT)
    assert sinch.requests[0].path == f"/xms/v1/{SERVICE_PLAN_ID}/batches"


def test_without_base_url_the_region_decides(settings: SettingsWrapper, sinch: FakeSinch) -> None:
    """Utan SINCH_BASE_URL skickar SDK:t till regionens adress (skiftläge spelar ingen roll)."""
    settings.SINCH_BASE_URL = ""
    settings.SINCH_REGION = "EU"
    assert SinchBackend().origin == "https://eu.sms.api.sinch.com"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SINCH_SERVICE_PLAN_ID": ""}, "SINCH_SERVICE_PLAN_ID"),
        ({"SINCH_API_TOKEN": ""}, "SINCH_API_TOKEN"),
        ({"SINCH_REGION": "se"}, "SINCH_REGION"),
        ({"SINCH_BASE_URL": "127.0.0.1:8000"}, "SINCH_BASE_URL"),
        ({"SINCH_WEBHOOK_SECRET": "", "SMS_WEBHOOK_TOKEN": ""}, "SINCH_WEBHOOK_SECRET"),
    ],
)
def test_missing_settings_stop_with_swedish_message(
    sinch: FakeSinch, settings: SettingsWrapper, changes: dict[str, str], message: str
) -> None:
    """Saknade eller felaktiga uppgifter ger ImproperlyConfigured som nämner inställningen."""
    for name, value in changes.items():
        setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        SinchBackend()


def test_only_signing_secret_is_enough(sinch: FakeSinch, settings: SettingsWrapper) -> None:
    """Signeringshemligheten räcker utan SMS_WEBHOOK_TOKEN."""
    settings.SMS_WEBHOOK_TOKEN = ""
    settings.SINCH_WEBHOOK_SECRET = SIGNING_SECRET
    SinchBackend().send(TO, TEXT)
    assert "token" not in sinch.requests[0].json()["callback_url"]


# --- Fel och failover ------------------------------------------------------------------


def test_invalid_number_is_permanent_and_reason_hides_number(sinch: FakeSinch) -> None:
    """400 med Sinchs felkod: permanent, orsaken har koden men aldrig numret (Sinch ekar det)."""
    sinch.fail_with(400, {"code": "syntax_invalid_parameter_format", "text": f"Invalid MSISDN: '{TO[1:]}'"})
    error = send_error()
    assert (error.permanent, error.ambiguous, error.provider) == (True, False, "sinch")
    assert error.message == SEND_FAILED_MESSAGE
    assert "HTTP 400 syntax_invalid_parameter_format" in error.reason
    assert leaks(phone_forms(TO), reason=error.reason) == []


def test_fake_validates_like_sinch(sinch: FakeSinch, settings: SettingsWrapper) -> None:
    """Låtsasservern själv vägrar ett ogiltigt avsändarnamn med Sinchs felkropp."""
    settings.SMS_SENDER_ID = "Ogiltig-avsandare"
    error = send_error()
    assert error.permanent and "syntax_invalid_parameter_format" in error.reason
    assert sinch.batches == []


def test_google_style_error_body_is_described(sinch: FakeSinch) -> None:
    """Den andra felformen i Sinchs dokumentation ({"error": {...}}) ger också en orsak."""
    sinch.fail_with(400, {"error": {"code": 400, "message": 'parsing field "type"', "status": "INVALID_ARGUMENT"}})
    error = send_error()
    assert error.permanent and "HTTP 400 400: parsing field" in error.reason


def test_bad_token_is_permanent(sinch: FakeSinch, settings: SettingsWrapper) -> None:
    """Fel token: låtsasservern svarar 401, felet är permanent och pekar på inställningarna."""
    settings.SINCH_API_TOKEN = "fel-token"
    error = send_error()
    assert error.permanent and not error.ambiguous
    assert error.reason == "HTTP 401 (fel SINCH_API_TOKEN eller SINCH_SERVICE_PLAN_ID)"
    assert error.message == SEND_FAILED_MESSAGE


def test_wrong_service_plan_is_permanent(sinch: FakeSinch, settings: SettingsWrapper) -> None:
    """Fel service plan id: 401 från servern."""
    settings.SINCH_SERVICE_PLAN_ID = "annan-plan"
    assert send_error().permanent


def test_rate_limit_is_not_retried_and_is_temporary(sinch: FakeSinch) -> None:
    """429 med Retry-After: ingen väntan och inget nytt försök (RetryPolicy.NONE); tillfälligt."""
    sinch.rate_limit(retry_after="5")
    started = time.monotonic()
    error = send_error()
    assert time.monotonic() - started < 2
    assert (error.permanent, error.ambiguous) == (False, False)
    assert error.reason.startswith("HTTP 429")
    assert len(sinch.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_temporary(sinch: FakeSinch, status: int) -> None:
    """5xx: tillfälligt fel, nästa leverantör får försöka."""
    sinch.fail_with(status, {"code": "internal_error", "text": "Internal error"})
    error = send_error()
    assert (error.permanent, error.ambiguous) == (False, False)
    assert error.reason.startswith(f"HTTP {status}")


def test_html_error_page_is_temporary(sinch: FakeSinch) -> None:
    """En proxys 502 med HTML (inte JSON) är fortfarande ett tillfälligt fel."""
    sinch.reply_raw(502, b"<html><body>Bad Gateway</body></html>")
    error = send_error()
    assert (error.permanent, error.ambiguous) == (False, False)
    assert error.reason.startswith("HTTP 502")


def test_unreachable_sinch_is_temporary(sinch: FakeSinch) -> None:
    """Nekad anslutning: inget skickades, så felet är tillfälligt och inte osäkert."""
    sinch.stop()
    error = send_error()
    assert (error.permanent, error.ambiguous) == (False, False)
    assert "kunde inte ansluta" in error.reason and "NewConnectionError" in error.reason


def test_connect_timeout_is_temporary(sinch: FakeSinch, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tidsgräns vid anslutning (ingen förbindelse): tillfälligt, inte osäkert."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        """requests ger upp innan förbindelsen finns."""
        raise requests.ConnectTimeout("simulerad")

    monkeypatch.setattr(requests.Session, "request", refuse)
    error = send_error()
    assert (error.permanent, error.ambiguous) == (False, False)


def test_read_timeout_after_sending_is_ambiguous(sinch: FakeSinch, settings: SettingsWrapper) -> None:
    """Sinch tog emot batchen men svarade inte i tid: osäkert, och SMS_TIMEOUT_SECONDS gäller."""
    settings.SMS_TIMEOUT_SECONDS = 0.3
    sinch.delay = 1.0
    started = time.monotonic()
    error = send_error()
    assert time.monotonic() - started < 0.9
    assert (error.permanent, error.ambiguous, error.message) == (False, True, AMBIGUOUS_MESSAGE)
    assert error.reason == "inget svar inom 0.3 s efter sändning"
    assert len(sinch.batches) == 1  # SMS:et gick faktiskt iväg


def test_connection_aborted_after_sending_is_ambiguous(sinch: FakeSinch, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anslutningen bröts efter att begäran skickats (requests: "Connection aborted."): osäkert."""

    def abort(*args: Any, **kwargs: Any) -> Any:
        """Som requests när servern stänger utan svar."""
        raise requests.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected("stängd")))

    monkeypatch.setattr(requests.Session, "request", abort)
    error = send_error()
    assert error.ambiguous and "ProtocolError" in error.reason


@pytest.mark.parametrize(
    "reply",
    [
        (200, b"OK", "text/plain"),
        (201, json.dumps({"type": "mt_text", "to": [TO]}).encode(), "application/json"),
        (201, json.dumps({"type": "mt_text", "id": 12345}).encode(), "application/json"),
        (201, b"", "application/json"),
    ],
    ids=["inte-json", "utan-id", "id-inte-text", "tom"],
)
def test_success_without_usable_batch_id_is_ambiguous(sinch: FakeSinch, reply: tuple[int, bytes, str]) -> None:
    """2xx som inte går att tolka eller saknar batch-id: Sinch tog emot begäran, så osäkert."""
    sinch.reply_raw(*reply)
    error = send_error()
    assert (error.permanent, error.ambiguous) == (False, True)


def test_failover_to_next_provider_on_temporary_error(
    sinch: FakeSinch, settings: SettingsWrapper, sms_outbox: list[Any]
) -> None:
    """Genom send_sms: 503 hos Sinch, SMS:et går via nästa leverantör."""
    settings.SMS_PROVIDERS = ["sinch", "locmem"]
    sinch.fail_with(503, {"code": "service_unavailable", "text": "Try later"})
    assert send_sms(TO, TEXT).provider == "locmem"
    assert [m.to for m in sms_outbox] == [TO]


def test_no_failover_on_permanent_error(sinch: FakeSinch, settings: SettingsWrapper, sms_outbox: list[Any]) -> None:
    """Genom send_sms: 401 hos Sinch provas inte hos någon annan."""
    settings.SMS_PROVIDERS = ["sinch", "locmem"]
    settings.SINCH_API_TOKEN = "fel-token"
    with pytest.raises(SmsError) as caught:
        send_sms(TO, TEXT)
    assert caught.value.permanent and sms_outbox == []


def test_no_failover_on_ambiguous_timeout(sinch: FakeSinch, settings: SettingsWrapper, sms_outbox: list[Any]) -> None:
    """Genom send_sms: tidsgräns efter sändning provas inte hos någon annan (inget dubbel-SMS)."""
    settings.SMS_PROVIDERS = ["sinch", "locmem"]
    settings.SMS_TIMEOUT_SECONDS = 0.3
    sinch.delay = 1.0
    with pytest.raises(SmsError) as caught:
        send_sms(TO, TEXT)
    assert caught.value.ambiguous and sms_outbox == []


# --- check() och sms_check ---------------------------------------------------------------


def test_check_lists_without_fetching_any_sms(sinch: FakeSinch) -> None:
    """check(): en autentiserad GET med page_size=1 och ett filter som aldrig träffar ett SMS."""
    SinchBackend().send(TO, TEXT)
    line = SinchBackend().check()
    assert line == f"inloggningen fungerar ({sinch.url})"
    request = sinch.requests[-1]
    assert (request.method, request.path, request.body) == ("GET", f"/xms/v1/{SERVICE_PLAN_ID}/batches", b"")
    assert request.headers["authorization"] == f"Bearer {API_TOKEN}"
    assert request.query["page_size"] == ["1"]
    assert request.query["client_reference"] and not any("client_reference" in b for b in sinch.batches)
    assert len(sinch.sends()) == 1  # kontrollen skickade inget


def test_check_reports_bad_token(sinch: FakeSinch, settings: SettingsWrapper) -> None:
    """Fel token: check() kastar SmsError med orsaken."""
    settings.SINCH_API_TOKEN = "fel-token"
    with pytest.raises(SmsError, match="kontrollera API-inställningar") as caught:
        SinchBackend().check()
    assert "HTTP 401" in caught.value.reason


def test_check_reports_unreachable(sinch: FakeSinch) -> None:
    """Sinch går inte att nå: tillfälligt fel."""
    sinch.stop()
    with pytest.raises(SmsError) as caught:
        SinchBackend().check()
    assert not caught.value.permanent and "kunde inte ansluta" in caught.value.reason


def test_sms_check_command(sinch: FakeSinch, settings: SettingsWrapper) -> None:
    """manage.py sms_check: ✓ med rätt uppgifter, ✗ och felkod med fel token."""
    out = StringIO()
    call_command("sms_check", stdout=out)
    assert "Leverantörer i failover-ordning: sinch" in out.getvalue()
    assert f"✓ sinch: inloggningen fungerar ({sinch.url})" in out.getvalue()

    settings.SINCH_API_TOKEN = "fel-token"
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("sms_check", stdout=out)
    assert "✗ sinch:" in out.getvalue() and "HTTP 401" in out.getvalue()
    assert API_TOKEN not in out.getvalue()


# --- Leveransrapporter -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Delivered", DeliveryStatus.DELIVERED),
        ("DELIVERED", DeliveryStatus.DELIVERED),
        ("Failed", DeliveryStatus.FAILED),
        ("Expired", DeliveryStatus.FAILED),
        ("Rejected", DeliveryStatus.FAILED),
        ("Aborted", DeliveryStatus.FAILED),
        ("Cancelled", DeliveryStatus.FAILED),
        ("Deleted", DeliveryStatus.FAILED),
        ("Queued", None),
        ("Dispatched", None),
        ("Unknown", None),
    ],
)
def test_recipient_report_statuses(sinch: FakeSinch, status: str, expected: str | None) -> None:
    """Slutliga statusar ger levererat/ej levererat; mellanlägen och Unknown ingenting."""
    report = FakeSinch.recipient_report("01TESTBATCH0000000000000000", status=status)
    parsed = SinchBackend().parse_delivery_report(report_request(report))
    assert parsed == ([("01TESTBATCH0000000000000000", expected)] if expected else [])


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([("Delivered", 1)], DeliveryStatus.DELIVERED),
        ([("Failed", 1)], DeliveryStatus.FAILED),
        ([("Dispatched", 1)], None),
        ([("Delivered", 1), ("Failed", 1)], None),
        ([("Delivered", 1), ("Queued", 0)], DeliveryStatus.DELIVERED),
    ],
)
def test_summary_report_statuses(sinch: FakeSinch, statuses: list[tuple[str, int]], expected: str | None) -> None:
    """Sammanfattningen räknas bara när alla mottagare har samma slutliga status."""
    report = FakeSinch.summary_report("01SUMMARY", statuses)
    parsed = SinchBackend().parse_delivery_report(report_request(report))
    assert parsed == ([("01SUMMARY", expected)] if expected else [])


@pytest.mark.parametrize(
    "body",
    [
        b"inte json",
        b"[]",
        b'{"type": "recipient_delivery_report_sms", "status": "Delivered"}',
        b'{"type": "mo_text", "batch_id": "01X", "body": "JA"}',
        "ÅÄÖ".encode("latin-1"),
    ],
)
def test_odd_bodies_give_nothing(sinch: FakeSinch, body: bytes) -> None:
    """Skräp, saknat batch-id, inkommande SMS och fel teckenkodning: inga statusar, inget fel."""
    assert SinchBackend().parse_delivery_report(report_request(body)) == []


def test_fake_reports_match_the_sdk_models(sinch: FakeSinch) -> None:
    """Låtsasserverns rapporter tolkas av SDK:ts egen parser som Sinchs rapportmodeller."""
    events = SmsSinchEvent()
    recipient = events.parse_event(json.dumps(FakeSinch.recipient_report("01B", status="Delivered")))
    summary = events.parse_event(json.dumps(FakeSinch.summary_report("01B", [("Failed", 1)])))
    assert isinstance(recipient, RecipientDeliveryReport) and recipient.batch_id == "01B"
    assert isinstance(summary, BatchDeliveryReport) and summary.statuses[0].count == 1


@pytest.mark.django_db
def test_webhook_with_token_records_delivery(sinch: FakeSinch, client: Client) -> None:
    """Hela vägen: SMS via Sinch, rapporten till återanropsadressen, status sparas en gång."""
    result = SinchBackend().send(TO, TEXT)
    sent_attempt("sinch", result.message_id)
    [batch] = sinch.batches
    path = webhook_path(batch["callback_url"])
    assert parse_qs(urlsplit(path).query) == {"token": [WEBHOOK_TOKEN]}

    assert post_report(client, path, FakeSinch.recipient_report(batch, status="Dispatched")).status_code == 200
    assert not reported().exists()
    assert post_report(client, path, FakeSinch.recipient_report(batch, status="Failed", code=402)).status_code == 200
    assert post_report(client, path, FakeSinch.recipient_report(batch, status="Delivered")).status_code == 200
    report = reported().get()
    assert (report.provider, report.provider_message_id, report.delivery_status) == (
        "sinch",
        result.message_id,
        DeliveryStatus.FAILED,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?token=", "?token=fel", f"?token={WEBHOOK_TOKEN}x", "?token=åäö"])
def test_webhook_with_wrong_token_is_refused(sinch: FakeSinch, client: Client, query: str) -> None:
    """Saknad eller fel token: 403 och ingen status."""
    response = post_report(client, "/webhooks/sms/sinch/" + query, FakeSinch.recipient_report("01B"))
    assert response.status_code == 403
    assert not reported().exists()


def test_empty_configured_token_never_matches(sinch: FakeSinch, settings: SettingsWrapper) -> None:
    """En tom SMS_WEBHOOK_TOKEN godtar aldrig en tom token i adressen."""
    backend = SinchBackend()
    settings.SMS_WEBHOOK_TOKEN = ""
    assert backend.verify_webhook(report_request(b"{}", "/webhooks/sms/sinch/?token=")) is False


@pytest.mark.django_db
def test_webhook_without_any_secret_is_not_served(sinch: FakeSinch, settings: SettingsWrapper, client: Client) -> None:
    """Varken hemlighet eller token: backenden går inte att skapa och webhooken svarar 404."""
    settings.SMS_WEBHOOK_TOKEN = ""
    assert post_report(client, "/webhooks/sms/sinch/?token=", FakeSinch.recipient_report("01B")).status_code == 404


@pytest.mark.django_db
def test_webhook_with_signature_records_delivery(sinch: FakeSinch, settings: SettingsWrapper, client: Client) -> None:
    """Med SINCH_WEBHOOK_SECRET: en korrekt signerad rapport godtas (SDK:ts kontroll)."""
    settings.SINCH_WEBHOOK_SECRET = SIGNING_SECRET
    result = SinchBackend().send(TO, TEXT)
    sent_attempt("sinch", result.message_id)
    [batch] = sinch.batches
    body = json.dumps(FakeSinch.recipient_report(batch, status="Delivered")).encode()
    headers = FakeSinch.signature_headers(body, SIGNING_SECRET)
    assert post_report(client, webhook_path(batch["callback_url"]), body, headers).status_code == 200
    assert reported().get().delivery_status == DeliveryStatus.DELIVERED


@pytest.mark.django_db
def test_webhook_with_bad_signature_is_refused(sinch: FakeSinch, settings: SettingsWrapper, client: Client) -> None:
    """Ändrad kropp, fel hemlighet, saknade huvuden eller bara token: 403 och ingen status."""
    settings.SINCH_WEBHOOK_SECRET = SIGNING_SECRET
    path = "/webhooks/sms/sinch/"
    body = json.dumps(FakeSinch.recipient_report("01B", status="Delivered")).encode()
    signed = FakeSinch.signature_headers(body, SIGNING_SECRET)
    tampered = body.replace(b"Delivered", b"Failed")
    attempts = [
        (tampered, signed),
        (body, FakeSinch.signature_headers(body, "fel-hemlighet")),
        (body, {k: v for k, v in signed.items() if not k.endswith("nonce")}),
        (body, {k: v for k, v in signed.items() if not k.endswith("timestamp")}),
        (body, {}),
    ]
    for attempt_body, headers in attempts:
        assert post_report(client, path, attempt_body, headers).status_code == 403
    # Med signering räcker inte den hemliga token i adressen.
    assert post_report(client, f"{path}?token={WEBHOOK_TOKEN}", body).status_code == 403
    assert not reported().exists()


@pytest.mark.django_db
def test_webhook_garbage_with_valid_token_changes_nothing(sinch: FakeSinch, client: Client) -> None:
    """En autentiserad men obegriplig kropp: 200 (Sinch ska inte försöka i ett dygn) och ingen status."""
    response = post_report(client, f"/webhooks/sms/sinch/?token={WEBHOOK_TOKEN}", b"{inte json")
    assert response.status_code == 200
    assert not reported().exists()


# --- Sändsidan och dataskydd -------------------------------------------------------------


def post_form(client: Client, phone: str = "070-123 45 67", body: str | None = None) -> Any:
    """Skickar sändformuläret med mallen Receptpolicy."""
    template = MessageTemplate.objects.get(title="Receptpolicy")
    return client.post(
        "/",
        {
            "template": template.pk,
            "phone": phone,
            "body": template.body() if body is None else body,
            "request_id": str(uuid.uuid4()),
        },
    )


@pytest.mark.django_db
def test_send_page_through_sinch_and_delivery_on_send_page(
    sinch: FakeSinch, staff_client: Client, client: Client
) -> None:
    """Sändsidan skickar via Sinch; SMS-registret får batch-id; rapporten syns som levererat."""
    assert post_form(staff_client).status_code == 302
    [batch] = sinch.batches
    attempt = SendAttempt.objects.get(status=AttemptStatus.SENT)
    assert (attempt.provider, attempt.provider_message_id, attempt.segments) == ("sinch", batch["id"], 1)
    assert AuditEvent.objects.get(action=Action.SMS_SENT).provider == "sinch"
    post_report(client, webhook_path(batch["callback_url"]), FakeSinch.recipient_report(batch))
    recent = staff_client.get("/").content.decode().split('data-testid="senaste"')[1]
    assert recent.count(">levererat<") == 1


@pytest.mark.django_db
def test_send_page_ambiguous_timeout_via_sinch(
    sinch: FakeSinch, settings: SettingsWrapper, staff_client: Client, sms_outbox: list[Any]
) -> None:
    """Tidsgräns efter sändning hos Sinch: personalen ser "osäkert", reserven används inte."""
    settings.SMS_PROVIDERS = ["sinch", "locmem"]
    settings.SMS_TIMEOUT_SECONDS = 0.3
    sinch.delay = 1.0
    page = post_form(staff_client).content.decode()
    assert AMBIGUOUS_MESSAGE in page and sms_outbox == []
    event = AuditEvent.objects.get(action=Action.SMS_UNCERTAIN)
    assert (event.status, event.provider) == ("osäkert", "sinch")


@pytest.mark.django_db
def test_number_text_and_token_are_never_logged(
    sinch: FakeSinch,
    settings: SettingsWrapper,
    staff_client: Client,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Med DEBUG-loggning: lyckat SMS, 400 som ekar numret och tidsgräns – inget nummer, ingen text, ingen token."""
    caplog.set_level(logging.DEBUG)
    phone, sentinel = "+46709876543", "Kanariefågel QX7ZP vet ingen om"
    assert post_form(staff_client, "070-987 65 43", sentinel).status_code == 302
    sinch.fail_with(400, {"code": "syntax_invalid_parameter_format", "text": f"Invalid MSISDN: '{phone[1:]}'"})
    assert post_form(staff_client, "070-987 65 43", sentinel).status_code == 200
    settings.SMS_TIMEOUT_SECONDS = 0.3
    sinch.delay = 1.0
    assert AMBIGUOUS_MESSAGE in post_form(staff_client, "070-987 65 43", sentinel).content.decode()

    assert len(sinch.batches) == 2  # det första och det osäkra gick iväg
    out, err = capfd.readouterr()
    needles = [*phone_forms(phone), sentinel, "QX7ZP", API_TOKEN, WEBHOOK_TOKEN]
    assert leaks(needles, databas=database_text(), cache=cache_text(), loggar=caplog.text, utskrift=out + err) == []
