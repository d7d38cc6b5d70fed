"""Redis nere när portalen är inställd med REDIS_URL (cache, kanal-lager och django-q2-kö).

Inställningarna pekas mot en stängd port på 127.0.0.1 (`redis_backends()` ur
config/settings.py, som i drift med REDIS_URL, och django-q2:s Redis-kö), så att proven
går i båda körningarna av sviten. Envägs-SMS skickas, loggas och räknas mot kvoten;
patienternas svar sparas (gränsen per IP släpps i stället för att ge en felsida);
en kampanj som skapas förlorar inga mottagare och skickas när kön är tillbaka; personalens
statusadress (sidans polling när websocketen är nere) svarar; ingen loggas ut.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from django.conf import settings
from django.contrib.sessions.backends import db as db_sessions
from django.test import Client, override_settings
from django.utils import timezone
from django_q.conf import Conf
from redis.exceptions import ConnectionError as RedisConnectionError

from audit.models import Action, AuditEvent
from campaigns import consumers
from campaigns.dispatch import enqueue_dispatch, requeue_stuck_recipients
from campaigns.models import Campaign, Recipient
from campaigns.views import QUEUE_DOWN_MESSAGE
from config.settings import queue_redis, redis_backends
from tests.campaigns.factories import make_campaign, send_all
from tests.campaigns.test_live import communicator, session_cookie
from tests.e2e.test_campaign_live_browser import free_port
from tests.smsportal.test_send_page import send

pytestmark = pytest.mark.django_db


@contextmanager
def redis_down() -> Iterator[str]:
    """Cache, kanal-lager och django-q2-kö i ett Redis som inte svarar (stängd port) under blocket."""
    url = f"redis://127.0.0.1:{free_port()}/0"  # porten släpptes direkt: ingen lyssnar där
    saved = Conf.ORM, Conf.REDIS
    Conf.ORM, Conf.REDIS = None, url
    try:
        with override_settings(**redis_backends(url)):
            yield url
    finally:
        Conf.ORM, Conf.REDIS = saved


def test_one_way_sms_is_sent_audited_and_counted_with_redis_down(staff_client: Client, sms_outbox: list[Any]) -> None:
    """Sändsidan: SMS:et går iväg, audit skrivs och kvoten räknas, utan Redis."""
    with redis_down():
        send(staff_client)
        page = staff_client.get("/").content.decode()
    assert [m.to for m in sms_outbox] == ["+46701234567"]
    assert AuditEvent.objects.filter(action=Action.SMS_SENT).count() == 1
    assert "Kvar denna timme: 29 av 30" in page


@pytest.mark.django_db(transaction=True)
def test_patient_answer_is_recorded_with_redis_down(staff_user: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Patientens JA sparas och blir "Ring först"; gränsen per IP släpps med en varning, ingen felsida."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    anna = campaign.recipients.get(name="Anna Andersson")
    phone = Client(enforce_csrf_checks=True, raise_request_exception=False)
    with redis_down():
        page = phone.get(f"/s/{anna.code}")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
        answered = phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token})
        thanks = phone.get(f"/s/{anna.code}")
    assert (page.status_code, answered.status_code, thanks.status_code) == (200, 302, 200)
    anna.refresh_from_db()
    assert (anna.answer, anna.yes_rank) == (Recipient.Answer.YES, 1)
    assert "Redis svarar inte (ConnectionError vid add)" in caplog.text
    assert "händelsen kunde inte skickas" in caplog.text  # kanal-lagret nere: sidorna pollar i stället
    assert anna.code not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_campaign_created_with_redis_down_keeps_recipients_and_sends_when_the_queue_is_back(
    staff_client: Client, sms_outbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kön nere vid Skicka: kampanjen skapas, personalen får ett svenskt besked, och SMS:en går när kön är tillbaka."""
    data = {
        "slot_date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "slot_time": "08:00",
        "recipients": "Anna Andersson, 070-123 45 67, ja\nKarl Karlsson, 070-123 45 68",
        "request_id": str(uuid.uuid4()),
        "skicka": "1",
    }
    with redis_down():
        response = staff_client.post("/personal/akut-sms/", data, follow=True)
    assert response.status_code == 200
    assert QUEUE_DOWN_MESSAGE in response.content.decode()
    campaign = Campaign.objects.get()
    queued = list(campaign.recipients.values_list("send_status", flat=True))
    assert queued == ["queued", "queued"] and "" not in campaign.recipients.values_list("phone_encrypted", flat=True)
    assert sms_outbox == []

    monkeypatch.setattr(Conf, "SYNC", True)  # kön är tillbaka: jobben körs direkt, som av en arbetsprocess
    assert requeue_stuck_recipients() == 0  # kampanjen är ny: jobben kan fortfarande vara på väg
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert requeue_stuck_recipients() == 2  # minutschemat i django-q2
        assert requeue_stuck_recipients() == 0
    assert sorted(m.to for m in sms_outbox) == ["+46701234567", "+46701234568"]
    assert set(campaign.recipients.values_list("send_status", "phone_encrypted")) == {("sent", "")}


def test_status_endpoint_and_session_work_with_redis_down(staff_client: Client, staff_user: Any) -> None:
    """Kampanjsidans polling (statusadressen) svarar och personalen förblir inloggad utan Redis."""
    # Sessionerna ligger i databasen (accounts.session_store bygger på Djangos databasmotor), aldrig i Redis.
    assert issubclass(import_module(settings.SESSION_ENGINE).SessionStore, db_sessions.SessionStore)
    campaign = make_campaign(staff_user)
    send_all(campaign)
    with redis_down():
        status = staff_client.get(f"/personal/akut-sms/{campaign.pk}/status/")
        page = staff_client.get(f"/personal/akut-sms/{campaign.pk}/")
    assert status.status_code == 200 and status.json()["counts"]["sent"] == 3
    assert page.status_code == 200 and "Skickade 3/3" in page.content.decode()


def test_queue_that_never_answers_does_not_hang_the_campaign(staff_user: Any) -> None:
    """Ett Redis som tar emot anslutningen men aldrig svarar: köandet ger upp inom sekunder, inte en minut.

    (redis-py försöker annars om i nästan en minut; här två försök à 5 s.)
    """
    campaign = make_campaign(staff_user)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # lyssnar, men svarar aldrig
        saved = Conf.ORM, Conf.REDIS
        Conf.ORM, Conf.REDIS = None, queue_redis(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        try:
            queued = enqueue_dispatch(campaign.pk)
        finally:
            Conf.ORM, Conf.REDIS = saved
    assert queued is False and time.monotonic() - started < 30
    assert set(campaign.recipients.values_list("send_status", flat=True)) == {"queued"}  # till minutschemat


@pytest.mark.django_db(transaction=True)  # konsumenten läser databasen i en annan tråd
def test_dashboard_socket_fails_fast_with_redis_down(staff_user: Any) -> None:
    """Kanal-lagret nere: websocketen ger upp direkt (daphne stänger den och sidan pollar), hänger aldrig.

    Sidan går dessutom över till polling om socketen inte gett något läge inom 5 s (webbläsartestet).
    """
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """Personalens sida försöker öppna websocketen medan Redis är nere."""
        socket = communicator(campaign.pk, key)
        started = time.monotonic()
        await socket.send_input({"type": "websocket.connect"})
        while not socket.future.done() and time.monotonic() - started < 15:
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        assert socket.future.done(), "websocketen hängde kvar med Redis nere"
        assert isinstance(socket.future.exception(), RedisConnectionError) and elapsed < 5

    with redis_down():
        async_to_sync(scenario)()


@contextmanager
def own_redis() -> Iterator[subprocess.Popen[bytes]]:
    """En egen redis-server på en ledig port (så att testet kan stoppa den), som kanal-lager under blocket."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            assert time.monotonic() < deadline, "redis-server startade inte"
            time.sleep(0.05)
        with override_settings(CHANNEL_LAYERS=redis_backends(f"redis://127.0.0.1:{port}/0")["CHANNEL_LAYERS"]):
            channel_layers.backends.clear()
            yield server
    finally:
        channel_layers.backends.clear()
        server.kill()
        server.wait()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="kräver redis-server")
@pytest.mark.django_db(transaction=True)
def test_dashboard_that_dies_with_redis_stops_all_its_work(
    staff_user: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis dör medan sidan är öppen: socketen stängs, och dess bevakning (sessionskontroller) slutar
    också – Channels anropar inte `disconnect` när kanal-lagret fallerar, så ingen död socket frågar vidare."""
    settings.LIVE_SESSION_CHECK_SECONDS = 0.1
    settings.LIVE_POLL_SECONDS = 0.0
    checks: list[float] = []
    real_check = consumers.session_still_valid

    def counted(*args: Any) -> bool:
        """Som sessionskontrollen, men räknad."""
        checks.append(time.monotonic())
        return real_check(*args)

    monkeypatch.setattr(consumers, "session_still_valid", counted)
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    async def scenario(server: subprocess.Popen[bytes]) -> None:
        """Sidan öppen, Redis dör."""
        dashboard = communicator(campaign.pk, key)
        assert (await dashboard.connect())[0]
        assert (await dashboard.receive_json_from(timeout=5))["type"] == "snapshot"
        await asyncio.sleep(0.5)
        assert len(checks) >= 3  # bevakningen går
        server.kill()
        started = time.monotonic()
        while not dashboard.future.done() and time.monotonic() - started < 10:
            await asyncio.sleep(0.05)
        assert dashboard.future.done(), "socketen levde kvar utan Redis"
        await asyncio.sleep(0.3)
        before = len(checks)
        await asyncio.sleep(1.0)
        assert len(checks) == before, "bevakningen fortsatte efter att socketen dött"

    with own_redis() as server:
        async_to_sync(scenario)(server)
