"""Leveransrapporter som leverantörerna skickar dem: adress, token och signaturer (för testerna)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.test import Client, RequestFactory, override_settings
from twilio.request_validator import RequestValidator

from smsportal.backends.common import form_data
from tests.fakes.sinch_server import FakeSinch
from tests.fakes.twilio_server import AUTH_TOKEN

WEBHOOK_TOKEN = "fuzz-webhook-token-0123456789abcdef"
SIGNING_SECRET = "fuzz-sinch-signing-secret-42"
#: Ett meddelande-id som portalen känner till (ett skickat envägs-SMS hos varje leverantör).
KNOWN = "KNOWNmessage01"
SLUGS = {"sinch": "sinch", "twilio": "twilio", "elks46": "46elks"}
UNREACHABLE = "http://127.0.0.1:9"  # aldrig en riktig leverantör, ens av misstag


def twilio_signature(path: str, body: bytes, content_type: str, token: str) -> str:
    """X-Twilio-Signature över det Twilio skulle ha skickat: adressen och formulärdatan som Django läser den."""
    request = RequestFactory().generic("POST", path, data=body, content_type=content_type)
    return RequestValidator(token).compute_signature("http://testserver" + path, form_data(request) or {})


def signature_checked(provider: str, signed: bool) -> bool:
    """Sant när en signatur över kroppen prövas (Twilio, signerad Sinch), inte en token i adressen.

    En kropp som inte går att tolka eller avkoda kan då inte prövas och ger 403, även
    med rätt nyckel; en leverantör skickar aldrig sådana kroppar.
    """
    return provider == "twilio" or (provider == "sinch" and signed)


def report_request(provider: str, body: bytes, content_type: str, authentic: bool, signed: bool) -> dict[str, Any]:
    """Adress och huvuden för en rapport, med rätt eller fel token/signatur."""
    token = WEBHOOK_TOKEN if authentic else "fel-token"
    path = f"/webhooks/sms/{SLUGS[provider]}/"
    headers: dict[str, str] = {}
    if provider == "twilio":
        headers["X-Twilio-Signature"] = twilio_signature(path, body, content_type, AUTH_TOKEN if authentic else "fel")
    elif provider == "sinch" and signed:
        headers = FakeSinch.signature_headers(body, SIGNING_SECRET if authentic else "fel-hemlighet")
    else:
        path += "?" + urlencode({"token": token})
    return {"path": path, "headers": headers}


def post_report(
    client: Client, provider: str, body: bytes, content_type: str, *, authentic: bool = True, signed: bool = False
) -> Any:
    """Postar rapporten till webhooken, med Sinchs signering påslagen när `signed`."""
    target = report_request(provider, body, content_type, authentic, signed)
    with override_settings(SINCH_WEBHOOK_SECRET=SIGNING_SECRET if signed else ""):
        return client.generic("POST", target["path"], data=body, content_type=content_type, headers=target["headers"])
