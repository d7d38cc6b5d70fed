"""Utan andra steget når sessionen ingenting: ingen personalsida i URL-konfigurationen, ingen
statusadress, ingen admin och ingen websocket. Med båda stegen når samma session allt (kontroll).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from accounts.mfa import reset_devices
from tests.accounts.mfa_helpers import VERIFY_URL, add_app, password_step, verified_client
from tests.accounts.test_login import LOGIN_URL
from tests.campaigns.factories import make_campaign
from tests.campaigns.test_live import communicator, next_snapshot
from tests.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.usefixtures("mfa_required")

#: Inloggningens egna sidor: de är till för den som ännu inte är inloggad.
LOGIN_FLOW = {
    "konto/logga-in/",
    "konto/logga-ut/",
    "konto/tvastegsverifiering/",
    "konto/tvastegsverifiering/aktivera/",
    "admin/login/",
}
CONVERTER = re.compile(r"<(?:(\w+):)?\w+>")


def routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    """Varje route i portalens URL-konfiguration utom Django admin (den provas för sig)."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route != "admin/":
                yield from routes(pattern.url_patterns, route)
        else:
            yield route


def concrete(route: str, campaign_id: int) -> str:
    """En riktig adress för routen: kampanjens id för heltal, annars en kort text."""
    return "/" + CONVERTER.sub(lambda m: str(campaign_id) if m.group(1) == "int" else "x", route)


def admin_urls() -> list[str]:
    """Admins startsida och listan för varje registrerad modell."""
    lists = [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry]
    return [reverse("admin:index"), *lists]


def refused(response: Any) -> bool:
    """Sant om svaret är inloggningen (direkt eller via admins inloggning) eller 401/403."""
    location = response.get("Location", "")
    return response.status_code in (401, 403) or location.startswith((LOGIN_URL, "/admin/login/"))


def staff_requests(campaign_id: int) -> list[tuple[str, str]]:
    """(metod, adress) för varje adress som en anonym besökare inte når: GET, annars POST."""
    needed = []
    for route in routes(get_resolver().url_patterns):
        if route in LOGIN_FLOW:
            continue
        url = concrete(route, campaign_id)
        for method in ("get", "post"):
            if refused(getattr(Client(), method)(url)):
                needed.append((method, url))
                break
    return needed + [("get", url) for url in admin_urls()]


@pytest.fixture
def superuser(db: Any) -> Any:
    """En superanvändare: når varje personalsida och varje lista i admin när båda stegen är gjorda."""
    return get_user_model().objects.create_superuser(username="boss", password=STAFF_PASSWORD)


@pytest.fixture
def campaign_id(superuser: Any) -> int:
    """En öppen kampanj att pröva kampanjsidorna mot."""
    return make_campaign(superuser).pk


def test_the_list_covers_the_staff_pages(db: Any, campaign_id: int) -> None:
    """Listan över personalens adresser kommer ur URL-konfigurationen och innehåller de kända sidorna."""
    urls = {url for _, url in staff_requests(campaign_id)}
    campaign = f"/personal/akut-sms/{campaign_id}/"
    expected = {"/", "/logg/", "/personal/akut-sms/", campaign, f"{campaign}status/", f"{campaign}tillsatt/"}
    expected |= {"/konto/session/forlang/", "/admin/", "/admin/auth/user/"}
    assert expected <= urls, expected - urls


def test_password_alone_reaches_nothing(client: Client, superuser: Any, campaign_id: int) -> None:
    """Efter rätt lösenord men före koden: varje personaladress och admin leder till inloggningen."""
    add_app(superuser)
    assert password_step(client, "boss")["Location"] == VERIFY_URL
    for method, url in staff_requests(campaign_id):
        response = getattr(client, method)(url)
        assert refused(response), (method, url, response.status_code)
    assert client.get(VERIFY_URL).status_code == 200  # steget väntar fortfarande på koden


def test_session_without_verified_device_reaches_nothing(superuser: Any, campaign_id: int) -> None:
    """En inloggad session utan bekräftad app (t.ex. nollställd) loggas ut före varje personalsida."""
    for method, url in staff_requests(campaign_id):
        unverified = Client()
        unverified.force_login(superuser)
        response = getattr(unverified, method)(url)
        assert refused(response), (method, url, response.status_code)
        assert not unverified.get("/konto/session/").json()["inloggad"]


def test_status_json_answers_401_json_without_second_step(superuser: Any, campaign_id: int) -> None:
    """Statusadressen (bakgrundsanrop) svarar 401 med ett svenskt JSON-besked, inte en sida."""
    unverified = Client()
    unverified.force_login(superuser)
    response = unverified.get(f"/personal/akut-sms/{campaign_id}/status/")
    assert response.status_code == 401
    assert "tvåstegsverifiering" in response.json()["fel"]


def test_with_both_steps_the_same_pages_open(superuser: Any, campaign_id: int) -> None:
    """Kontroll: med båda stegen når superanvändaren varje adress i listan."""
    for method, url in staff_requests(campaign_id):
        response = getattr(verified_client(superuser), method)(url)
        assert not refused(response), (method, url, response.status_code)


def socket_key(client: Client) -> str:
    """Sessionsnyckeln (kakans värde) för klientens session."""
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.mark.django_db(transaction=True)
def test_websocket_needs_the_second_step(staff_user: Any, settings: Any) -> None:
    """Kampanjens websocket vägras (4401) utan bekräftad app, släpps in med, och stängs när appen nollställs."""
    settings.LIVE_SESSION_CHECK_SECONDS = 0.2
    campaign = make_campaign(staff_user)
    unverified = Client()
    unverified.force_login(staff_user)
    verified = verified_client(staff_user)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        refused_socket = communicator(campaign.pk, socket_key(unverified))
        assert await refused_socket.connect() == (False, 4401)
        socket = communicator(campaign.pk, socket_key(verified))
        assert (await socket.connect())[0]
        await next_snapshot(socket)
        await database_sync_to_async(reset_devices)(staff_user)
        assert (await socket.receive_json_from(timeout=3)) == {"type": "session_expired"}
        await socket.disconnect()

    async_to_sync(scenario)()
