"""Databasen låst eller nere en stund mitt i ett patientsvar (och på personalens sidor).

Låsen är riktiga: en annan anslutning håller skrivlåset (SQLite) eller låser kampanjens rad
(PostgreSQL), och portalens anslutning väntar bara en kort stund (busy_timeout/lock_timeout)
i stället för drift-värdena. Patienten får sidan "Tekniskt fel – försök igen om en stund"
med 503, inget blir halvskrivet (inget svar, ingen JA-plats, ingen händelse, ingen avisering),
och samma knapptryckning efteråt fungerar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import OperationalError, connection, connections
from django.test import Client, override_settings

from campaigns.events import group_name
from campaigns.models import Campaign, Recipient
from tests.campaigns.factories import make_campaign, recipient, send_all

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Tekniskt fel – försök igen om en stund"
SHORT_WAIT_MS = 200


@contextmanager
def short_lock_wait() -> Iterator[None]:
    """Portalens anslutning väntar bara SHORT_WAIT_MS på lås (drift: 20 s på SQLite) under blocket."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout = {SHORT_WAIT_MS}")
        else:
            cursor.execute(f"SET lock_timeout = '{SHORT_WAIT_MS}ms'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA busy_timeout = 20000")
            else:
                cursor.execute("RESET lock_timeout")


@contextmanager
def database_locked(campaign: Campaign) -> Iterator[None]:
    """En annan anslutning håller låset: hela databasens skrivlås (SQLite) eller kampanjens rad (PostgreSQL)."""
    other = connections.create_connection("default")
    try:
        other.ensure_connection()
        raw = other.connection
        if other.vendor == "sqlite":
            raw.execute("BEGIN IMMEDIATE")
        else:
            raw.autocommit = False
            raw.execute("SELECT id FROM campaigns_campaign WHERE id = %s FOR UPDATE", [campaign.pk])
        with short_lock_wait():
            yield
        raw.rollback()
    finally:
        other.close()


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj med skickade SMS och ett aviseringsnummer till personalen."""
    campaign = make_campaign(staff_user)
    Campaign.objects.filter(pk=campaign.pk).update(notify_phone="+46709990001")
    send_all(campaign)
    return campaign


def group_messages(campaign: Campaign) -> Callable[[], list[dict[str, Any]]]:
    """Lyssnar på kampanjens grupp i kanal-lagret som en öppen kampanjsida; ger en funktion som tömmer kanalen.

    Kanal-lagret i minnet även med Redis: Redis-lagrets köer binds till en händelseloop, och
    testet lyssnar från flera (det som prövas är att händelsen skickas, inte transporten).
    """
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group_name(campaign.pk), channel)
    received: list[dict[str, Any]] = []

    def drain() -> list[dict[str, Any]]:
        """Hämtar allt som väntar i kanalen (kort tidsgräns per meddelande)."""
        import asyncio

        async def take() -> None:
            """Tar emot tills kanalen är tom."""
            while True:
                try:
                    received.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
                except asyncio.TimeoutError:
                    return

        async_to_sync(take)()
        return received

    return drain


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_locked_database_during_answer_gives_retry_page_and_nothing_half_written(
    campaign: Campaign, caplog: pytest.LogCaptureFixture
) -> None:
    """Svaret under ett lås: 503 och svensk "försök igen"-sida; inget sparat; samma svar efteråt går."""
    phone = Client(enforce_csrf_checks=True)
    anna = recipient(campaign, "Anna Andersson")
    drain = group_messages(campaign)

    page = phone.get(f"/s/{anna.code}").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    with database_locked(campaign):
        response = phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token})
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert TITLE in body and "Ditt svar har <strong>inte</strong> sparats" in body
    assert "Traceback" not in body and "OperationalError" not in body and "locked" not in body
    assert "Södermalms Ortopedi" in body and response["Cache-Control"].startswith("max-age=0")

    anna.refresh_from_db()
    assert (anna.answer, anna.answered_at, anna.yes_rank) == ("", None, None)
    assert Campaign.objects.get(pk=campaign.pk).alert_sent_at is None  # ingen avisering köad
    assert drain() == []  # ingen händelse till personalens sidor
    assert anna.code not in caplog.text  # loggen har inte patientens länk
    assert "Databasen svarade inte (OperationalError)" in caplog.text

    retried = phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token})
    assert retried.status_code == 302
    anna.refresh_from_db()
    assert (anna.answer, anna.yes_rank) == (Recipient.Answer.YES, 1)
    thanks = phone.get(f"/s/{anna.code}").content.decode()
    assert "Vi ringer dig inom kort för att bekräfta." in thanks
    assert len(drain()) >= 1  # nu når svaret personalens sidor


def test_staff_page_during_outage_gets_the_same_retry_page(
    staff_client: Client, campaign: Campaign
) -> None:
    """"Tiden är tillsatt" under ett lås: samma 503-sida för personalen, kampanjen oförändrad, sedan går det."""
    url = f"/personal/akut-sms/{campaign.pk}/tillsatt/"
    with database_locked(campaign):
        response = staff_client.post(url)
    body = response.content.decode()
    assert response.status_code == 503 and TITLE in body and "Inget har sparats." in body
    assert "Traceback" not in body and "Felkod 503" in body
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE
    assert staff_client.post(url).status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.FILLED


def test_database_gone_before_the_view_is_not_a_500(staff_client: Client, campaign: Campaign) -> None:
    """Databasen borta redan när sessionen läses (före vyn): 503-sidan, aldrig felsidan 500."""
    staff = Client(raise_request_exception=False)
    staff.cookies = staff_client.cookies

    def refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Som en PostgreSQL som startas om: varje fråga nekas."""
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        response = staff.get(f"/personal/akut-sms/{campaign.pk}/")
    assert response.status_code == 503
    assert TITLE in response.content.decode() and "Något gick fel" not in response.content.decode()
    assert staff.get(f"/personal/akut-sms/{campaign.pk}/").status_code == 200
