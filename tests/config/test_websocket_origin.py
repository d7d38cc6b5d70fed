"""Websocketens ursprungskontroll: schema, värd och port ska stämma med PUBLIC_BASE_URL (i DEBUG
också begärans egen värd). Provas mot portalens riktiga ASGI-applikation med inloggad personal, så
att en vägran beror på ursprunget och inte på sessionen (en anonym socket stängs med 4401)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from config.asgi import application
from config.websocket_origin import origin_allowed
from tests.campaigns.factories import make_campaign
from tests.campaigns.test_live import run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

HTTPS_PORTAL = "https://sms.example.se"
#: Så stänger portalen en anslutning från fel ursprung: före accept, med kod 1000.
REFUSED = (False, 1000)


@pytest.fixture
def dashboard(staff_user: Any) -> tuple[int, str]:
    """En kampanj och en inloggad personalsession: (kampanjens id, sessionsnyckel)."""
    return make_campaign(staff_user).pk, session_cookie(staff_user)


@pytest.fixture
def https_portal(settings: Any) -> Any:
    """Portalen på https://sms.example.se, som i drift (värden i ALLOWED_HOSTS, som inställningarna ger)."""
    settings.PUBLIC_BASE_URL = HTTPS_PORTAL
    settings.ALLOWED_HOSTS = ["sms.example.se", "127.0.0.1"]
    return settings


def connect(dashboard: tuple[int, str], origin: str | None, host: str = "testserver") -> tuple[bool, Any]:
    """Öppnar kampanjsidans websocket med Origin (None = ingen rubrik) och Host; returnerar
    (ansluten, kod) och stänger en öppnad socket igen."""
    campaign_id, session_key = dashboard
    headers = [(b"host", host.encode()), (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={session_key}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return open_and_close(f"/ws/campaigns/{campaign_id}/", headers)


def open_and_close(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[bool, Any]:
    """Öppnar en websocket mot portalens ASGI-app; (ansluten, kod), och stänger en öppnad socket igen."""
    result: list[tuple[bool, Any]] = []

    async def scenario() -> None:
        """Anslut och koppla ner."""
        socket = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await socket.connect()
        result.append((connected, code))
        if connected:
            await socket.disconnect()

    run(scenario)
    return result[0]


def accepted(outcome: tuple[bool, Any]) -> bool:
    """Sant om websocketen öppnades."""
    return outcome[0] is True


def test_own_origin_is_accepted(dashboard: tuple[int, str]) -> None:
    """Portalens eget ursprung (PUBLIC_BASE_URL, i testerna http://testserver) släpps in, också med
    standardporten utskriven."""
    assert accepted(connect(dashboard, "http://testserver"))
    assert accepted(connect(dashboard, "http://testserver:80"))


def test_https_portal_accepts_its_own_origin(dashboard: tuple[int, str], https_portal: Any) -> None:
    """En portal på https släpper in sidor från https://samma värd, med eller utan :443."""
    assert accepted(connect(dashboard, HTTPS_PORTAL, host="sms.example.se"))
    assert accepted(connect(dashboard, HTTPS_PORTAL + ":443", host="sms.example.se"))


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("http://sms.example.se", id="http-i-stallet-for-https"),
        pytest.param("https://sms.example.se:8443", id="annan-port"),
        pytest.param("http://sms.example.se:443", id="http-pa-port-443"),
        pytest.param("https://evil.example", id="annan-vard"),
        pytest.param("https://sms.example.se.evil.example", id="vard-som-borjar-likadant"),
        pytest.param("null", id="null"),
        pytest.param(None, id="ingen-origin"),
    ],
)
def test_other_origins_are_refused(dashboard: tuple[int, str], https_portal: Any, origin: str | None) -> None:
    """http:// när portalen är https, en annan port, en annan värd och saknat ursprung vägras före accept,
    trots giltig session och trots att Host är portalens egen."""
    assert connect(dashboard, origin, host="sms.example.se") == REFUSED


def test_debug_accepts_the_requests_own_host(dashboard: tuple[int, str], https_portal: Any) -> None:
    """I DEBUG godtas begärans egen värd och port (t.ex. `make run` på en annan port än
    PUBLIC_BASE_URL); inte en annan port på samma värd, inte https för en ws-anslutning och
    inte en värd utanför ALLOWED_HOSTS. Utan DEBUG godtas bara PUBLIC_BASE_URL."""
    settings = https_portal
    settings.DEBUG = True
    assert accepted(connect(dashboard, "http://127.0.0.1:8123", host="127.0.0.1:8123"))
    assert connect(dashboard, "http://127.0.0.1:8124", host="127.0.0.1:8123") == REFUSED
    assert connect(dashboard, "https://127.0.0.1:8123", host="127.0.0.1:8123") == REFUSED
    assert connect(dashboard, "http://evil.example:8123", host="evil.example:8123") == REFUSED
    assert accepted(connect(dashboard, HTTPS_PORTAL, host="127.0.0.1:8123"))
    settings.DEBUG = False
    assert connect(dashboard, "http://127.0.0.1:8123", host="127.0.0.1:8123") == REFUSED


@pytest.mark.parametrize(
    ("scheme", "origin", "allowed"),
    [
        ("wss", "https://127.0.0.1:8123", True),
        ("wss", "http://127.0.0.1:8123", False),
        ("ws", "http://127.0.0.1:8123", True),
    ],
)
def test_debug_uses_the_scheme_the_socket_came_in_on(
    https_portal: Any, scheme: str, origin: str, allowed: bool
) -> None:
    """I DEBUG hör en wss-anslutning till en https-sida och en ws-anslutning till en http-sida."""
    https_portal.DEBUG = True
    headers = [(b"host", b"127.0.0.1:8123"), (b"origin", origin.encode())]
    scope = {"type": "websocket", "scheme": scheme, "headers": headers}
    assert origin_allowed(scope) is allowed


def test_several_origin_headers_are_refused(settings: Any) -> None:
    """Två Origin-rubriker (ingen webbläsare skickar så) vägras, även om en av dem är portalens."""
    scope = {"type": "websocket", "headers": [(b"origin", b"https://evil.example"), (b"origin", b"http://testserver")]}
    assert origin_allowed(scope) is False
    assert origin_allowed({**scope, "headers": scope["headers"][1:]}) is True
