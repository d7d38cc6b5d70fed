"""För stora begäranden: en kropp över DATA_UPLOAD_MAX_MEMORY_SIZE (256 KiB) vägras tydligt.

Varje formulär och varje webhook svarar 400 eller 413, HTML-sidorna med portalens svenska
felsida, aldrig ett 500-fel; ingenting sparas. Både med och utan Content-Length
(chunkad överföring genom ASGI läses med en gräns i Django).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client

from audit.models import AuditEvent
from campaigns.models import Campaign
from tests.campaigns.factories import make_campaign
from tests.fuzz.checks import assert_clean
from tests.fuzz.webhook_requests import KNOWN, SLUGS, post_report, report_request
from tests.smsportal.ledger_helpers import reported

TOO_BIG = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
#: En CSRF-kaka av rätt form: med den läser CSRF-kontrollen formuläret (annars nekas det direkt).
CSRF_SECRET = "a" * 32


def big_form(field: str) -> bytes:
    """Ett formulär (urlencoded) vars fält ensamt är större än gränsen."""
    return urlencode({field: "x" * TOO_BIG, "csrfmiddlewaretoken": "x"}).encode()


def post_raw(client: Client, path: str, body: bytes, content_type: str, **extra: Any) -> Any:
    """POST med en färdig kropp och innehållstyp (testklienten kodar inget om)."""
    return client.generic("POST", path, data=body, content_type=content_type, **extra)


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj (för statusknapparna och patientsidan)."""
    return make_campaign(staff_user)


def html_routes(campaign: Campaign) -> list[tuple[str, str]]:
    """Varje formulär i portalen: (adress, fältet som blir för stort)."""
    code = campaign.recipients.first().code
    return [
        ("/", "body"),
        ("/personal/akut-sms/", "recipients"),
        (f"/personal/akut-sms/{campaign.pk}/avsluta/", "x"),
        ("/konto/logga-in/", "password"),
        ("/konto/logga-ut/", "x"),
        ("/konto/session/forlang/", "x"),
        (f"/s/{code}", "svar"),
        (f"/s/{code}/oppnad", "x"),
        ("/admin/templates_app/messagetemplate/add/", "text"),
    ]


@pytest.fixture
def admin_browser(admin_user: Any) -> Client:
    """En inloggad administratör (alla formulär nås) med CSRF-kontroll som i drift."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    browser.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET  # som efter ett tidigare sidbesök
    return browser


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=fuzz"])
def test_every_form_refuses_oversized_bodies(admin_browser: Client, campaign: Campaign, content_type: str) -> None:
    """Varje formulär: 413 med svensk sida, och inget sparas (CSRF-kontrollen läser kroppen först)."""
    events = AuditEvent.objects.count()
    for path, field in html_routes(campaign):
        if content_type.startswith("multipart"):
            body = (
                f'--fuzz\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n'.encode()
                + b"x" * TOO_BIG
                + b"\r\n--fuzz--\r\n"
            )
        else:
            body = big_form(field)
        response = post_raw(admin_browser, path, body, content_type)
        page = assert_clean(response, {413})
        assert "för stor" in page, path
    assert AuditEvent.objects.count() == events
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE


def asgi_post_chunked(path: str, query: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    """POST genom portalens ASGI-app (som i daphne) utan Content-Length, kroppen i bitar om 64 KiB.

    Returnerar (status, kropp). Så skickar en klient med `Transfer-Encoding: chunked`.
    """
    from config.asgi import application

    chunks = [body[start : start + 65536] for start in range(0, len(body), 65536)]
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    outgoing: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", content_type.encode()),
            (b"cookie", f"{settings.CSRF_COOKIE_NAME}={CSRF_SECRET}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def receive() -> dict[str, Any]:
        """Nästa bit av kroppen; sedan väntar klienten på svaret (kopplar aldrig ner)."""
        if not incoming:
            await asyncio.Event().wait()
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        """Sparar svaret."""
        outgoing.append(message)

    async_to_sync(application)(scope, receive, send)
    status = next(message["status"] for message in outgoing if message["type"] == "http.response.start")
    return status, b"".join(message.get("body", b"") for message in outgoing if message["type"] == "http.response.body")


@pytest.mark.django_db(transaction=True)
def test_chunked_bodies_are_bounded_under_asgi(providers: None, staff_user: Any) -> None:
    """Utan Content-Length (chunkad överföring) genom ASGI: patientsidan och webhooken svarar 413."""
    campaign = make_campaign(staff_user)
    code = campaign.recipients.first().code
    status, page = asgi_post_chunked(f"/s/{code}", "", big_form("svar"), "application/x-www-form-urlencoded")
    assert status == 413 and "för stor" in page.decode()
    target = report_request("elks46", b"", "application/x-www-form-urlencoded", authentic=True, signed=False)
    path, query = target["path"].split("?")
    status, _ = asgi_post_chunked(path, query, big_form("status"), "application/x-www-form-urlencoded")
    assert status == 413
    assert not campaign.recipients.exclude(answer="").exists()


@pytest.mark.parametrize("provider", list(SLUGS))
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_webhooks_refuse_oversized_bodies(client: Client, providers: None, provider: str, content_type: str) -> None:
    """Rätt token eller signatur men en kropp över gränsen: 413, och ingen status sparas."""
    if content_type == "application/json":
        body = json.dumps(
            {"type": "recipient_delivery_report_sms", "batch_id": KNOWN, "status": "Delivered", "pad": "x" * TOO_BIG}
        ).encode()
    else:
        body = urlencode(
            {
                "MessageSid": KNOWN,
                "id": KNOWN,
                "MessageStatus": "delivered",
                "status": "delivered",
                "pad": "x" * TOO_BIG,
            }
        ).encode()
    assert_clean(post_report(client, provider, body, content_type), {413})
    assert not reported().exists()


def test_too_many_fields_gives_the_swedish_400(admin_browser: Client) -> None:
    """Fler än DATA_UPLOAD_MAX_NUMBER_FIELDS fält (men liten kropp): svenska felsidan 400, ingen sändning."""
    fields = [(f"f{n}", "x") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)]
    body = urlencode([("csrfmiddlewaretoken", CSRF_SECRET), *fields]).encode()
    events = AuditEvent.objects.count()
    page = assert_clean(post_raw(admin_browser, "/", body, "application/x-www-form-urlencoded"), {400})
    assert "Felaktig begäran" in page
    assert AuditEvent.objects.count() == events
