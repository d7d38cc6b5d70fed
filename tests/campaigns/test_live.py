"""Kampanjsidans websocket: vem som släpps in, ögonblicksbilder och deras ordning, utloggning
och utgången session, samt reserven för ändringar som inga händelser når fram från.

Körs med kanal-lagret i minnet och (andra körningen i .ci/run, `REDIS_URL`) med Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker

import config.settings as default_settings
from accounts.sessions import LAST_ACTIVITY_KEY, timeout_seconds
from campaigns import events
from campaigns.models import Campaign, Recipient
from campaigns.recipients import ParsedRecipient
from campaigns.services import add_recipients, change_status, purge_expired, record_answer
from campaigns.waves import close_expired_campaigns, release_due_waves
from config.asgi import application
from tests.campaigns.factories import make_campaign, recipient

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = b"http://testserver"
# Så länge ett test väntar på ett meddelande som ska komma.
WAIT = 3.0

Scenario = Callable[[], Awaitable[None]]


@pytest.fixture(autouse=True)
def empty_queue() -> Iterator[None]:
    """Kampanjerna här köar riktiga sändjobb efter commit: kön (Redis delas) töms efteråt."""
    yield
    get_broker().delete_queue()


@pytest.fixture(autouse=True)
def live_settings(settings: Any) -> Any:
    """Ingen reservkontroll under händelsetesterna (händelserna ska räcka); täta sessionskontroller."""
    settings.LIVE_POLL_SECONDS = 60
    settings.LIVE_SESSION_CHECK_SECONDS = 0.2
    return settings


def session_cookie(user: Any) -> str:
    """En inloggad session för användaren; returnerar sessionsnyckeln (kakans värde)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def communicator(campaign_id: int, session_key: str | None = None, origin: bytes = ORIGIN) -> WebsocketCommunicator:
    """En websocket mot portalens riktiga ASGI-applikation (ursprungskontroll, session, rutter)."""
    headers = [(b"origin", origin), (b"host", b"testserver")]
    if session_key:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
    return tracked_socket(WebsocketCommunicator(application, f"/ws/campaigns/{campaign_id}/", headers=headers))


# Websockets som skapas medan `run` kör ett scenario; `run` stänger dem ordnat innan loopen
# stängs. Utanför `run` noteras ingenting: en lista som levde kvar mellan testerna höll deras
# konsumenter vid liv till processens slut, och en konsument som slutat med ett fel loggade det
# då först när Python stängdes ("Exception ignored … sys.meta_path is None").
_sockets: list[WebsocketCommunicator] | None = None


def tracked_socket(socket: WebsocketCommunicator) -> WebsocketCommunicator:
    """Noterar en websocket som scenariot i `run` skapar, så att `run` kan stänga den efteråt."""
    if _sockets is not None:
        _sockets.append(socket)
    return socket


async def close_sockets() -> None:
    """Skickar "stängd av webbläsaren" till varje websocket vars konsument fortfarande kör, och väntar in den.

    Konsumenten avslutar då som i drift (lämnar sina grupper, avbryter sin egen mottagning) medan
    loopen går, i stället för att alla dess uppgifter avbryts på en gång när loopen stängs.
    """
    while _sockets:
        socket = _sockets.pop()
        if socket._future is None or socket._future.done():
            continue
        with contextlib.suppress(Exception):  # scenariots egna kontroller har redan körts
            await socket.disconnect(timeout=WAIT)


async def open_dashboard(campaign_id: int, session_key: str) -> WebsocketCommunicator:
    """En ansluten kampanjsida som redan fått sin första ögonblicksbild."""
    socket = communicator(campaign_id, session_key)
    assert (await socket.connect())[0]
    await next_snapshot(socket)
    return socket


async def next_snapshot(socket: WebsocketCommunicator, timeout: float = WAIT) -> dict[str, Any]:
    """Nästa meddelande, som måste vara en ögonblicksbild; returnerar dess data."""
    message = await socket.receive_json_from(timeout=timeout)
    assert message["type"] == "snapshot"
    return message["data"]


async def snapshot_where(
    socket: WebsocketCommunicator, condition: Callable[[dict[str, Any]], bool], timeout: float = WAIT
) -> dict[str, Any]:
    """Väntar på den första ögonblicksbilden som uppfyller villkoret (inom tidsgränsen)."""
    deadline = time.monotonic() + timeout
    while True:
        data = await next_snapshot(socket, timeout=max(0.01, deadline - time.monotonic()))
        if condition(data):
            return data


def run(scenario: Scenario) -> None:
    """Kör ett asynkront scenario från ett vanligt (synkront) pytest-django-test.

    Varje körning får en egen händelseloop (async_to_sync) och därför ett eget kanal-lager:
    channels_redis bär sitt mottagarlås och sin mottagarräkning mellan anrop, och en mottagning
    som avbröts när en tidigare loop stängdes lämnade dem bundna till den döda loopen. Nästa
    tests mottagning väntade då på loopen som aldrig mer kör, och testet hängde när dess egen
    loop skulle stängas (sett i PostgreSQL + Redis-körningen). I drift har en process en loop.

    Websockets som scenariot lämnar öppna (även de som servern redan stängt men vars konsument
    väntar på webbläsarens svar) stängs ordnat innan loopen stängs (`close_sockets`): en gång hängde
    ett test i PostgreSQL + Redis-körningen när loopens nedstängning avbröt en sådan konsument.
    """

    async def scenario_then_close() -> None:
        """Scenariot, och sedan dess kvarvarande websockets."""
        try:
            await scenario()
        finally:
            await close_sockets()

    global _sockets
    channel_layers.backends.clear()
    _sockets = []
    try:
        async_to_sync(scenario_then_close)()
    finally:
        _sockets = None
        channel_layers.backends.clear()


def row(data: dict[str, Any], name: str) -> dict[str, Any]:
    """Raden för patienten med namnet i en ögonblicksbild."""
    return next(r for r in data["rows"] if r["name"] == name)


def test_anonymous_socket_is_refused(staff_user: Any) -> None:
    """Utan inloggad session vägras anslutningen med 4401."""
    campaign = make_campaign(staff_user)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = communicator(campaign.pk)
        connected, code = await socket.connect()
        assert (connected, code) == (False, 4401)

    run(scenario)


def test_foreign_origin_is_refused(staff_user: Any) -> None:
    """En sida på en annan webbplats får inte öppna websocketen med personalens kaka."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = communicator(campaign.pk, key, origin=b"https://evil.example")
        assert await socket.connect() == (False, 1000)
        # Utan Origin-rubrik (inte en webbläsare från portalen) vägras den också.
        bare = tracked_socket(
            WebsocketCommunicator(
                application,
                f"/ws/campaigns/{campaign.pk}/",
                headers=[(b"host", b"testserver"), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())],
            )
        )
        assert await bare.connect() == (False, 1000)
        # Kontroll: samma kaka från portalens eget ursprung släpps in.
        own = communicator(campaign.pk, key)
        assert (await own.connect())[0]
        await own.disconnect()

    run(scenario)


def test_unknown_campaign_is_refused(staff_user: Any) -> None:
    """En kampanj som inte finns (eller raderats) ger 4404."""
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = communicator(999_999, key)
        assert await socket.connect() == (False, 4404)

    run(scenario)


def test_inactive_user_is_refused(staff_user: Any) -> None:
    """Ett avstängt konto släpps inte in, även med en gammal session."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    type(staff_user).objects.filter(pk=staff_user.pk).update(is_active=False)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = communicator(campaign.pk, key)
        assert await socket.connect() == (False, 4401)

    run(scenario)


def test_snapshot_on_connect(staff_user: Any) -> None:
    """Direkt efter anslutningen kommer kampanjens hela läge, i samma format som statusadressen."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    expected = client.get(f"/personal/akut-sms/{campaign.pk}/status/").json()

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = communicator(campaign.pk, key)
        connected, _ = await socket.connect()
        assert connected
        assert await next_snapshot(socket) == expected
        await socket.disconnect()

    run(scenario)


def test_answers_arrive_in_order(staff_user: Any) -> None:
    """JA, JA och NEJ kommer som ögonblicksbilder; först svarande JA är "Ring först"."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    karl, anna, lisa = (recipient(campaign, n) for n in ("Karl Karlsson", "Anna Andersson", "Lisa Larsson"))
    answer = sync_to_async(record_answer)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = communicator(campaign.pk, key)
        assert (await socket.connect())[0]
        first = await next_snapshot(socket)
        assert first["counts"]["yes"] == 0

        await answer(karl, Recipient.Answer.YES)
        data = await next_snapshot(socket)
        assert data["counts"]["yes"] == 1
        assert data["rows"][0]["name"] == "Karl Karlsson"
        assert data["rows"][0]["role"] == "Ring först"

        await answer(anna, Recipient.Answer.YES)
        data = await next_snapshot(socket)
        assert [(r["name"], r["role"]) for r in data["rows"][:2]] == [
            ("Karl Karlsson", "Ring först"),
            ("Anna Andersson", "Reserv 1"),
        ]

        await answer(lisa, Recipient.Answer.NO)
        data = await next_snapshot(socket)
        assert data["counts"] == {**data["counts"], "yes": 2, "no": 1, "waiting": 0}
        assert row(data, "Lisa Larsson")["answer"] == "no"

        # Samma svar igen ändrar ingenting och skickar ingenting.
        await answer(lisa, Recipient.Answer.NO)
        assert await socket.receive_nothing(timeout=0.3)

        # Ring först ändrar sig: reserven blir först.
        await answer(karl, Recipient.Answer.NO)
        data = await next_snapshot(socket)
        assert data["rows"][0]["name"] == "Anna Andersson"
        assert data["rows"][0]["role"] == "Ring först"
        await socket.disconnect()

    run(scenario)


def test_fill_arrives_on_every_open_dashboard(staff_user: Any) -> None:
    """ "Tiden är tillsatt" når alla öppna sidor; en andra tryckning ändrar och skickar ingenting."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    fill = sync_to_async(change_status)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        sockets = [communicator(campaign.pk, key), communicator(campaign.pk, key)]
        for socket in sockets:
            assert (await socket.connect())[0]
            await next_snapshot(socket)
        assert await fill(campaign, staff_user, Campaign.Status.FILLED)
        for socket in sockets:
            data = await next_snapshot(socket)
            assert data["campaign"]["status"] == "filled"
            assert data["campaign"]["is_open"] is False
        assert not await fill(campaign, staff_user, Campaign.Status.FILLED)
        for socket in sockets:
            assert await socket.receive_nothing(timeout=0.3)
            await socket.disconnect()

    run(scenario)


def test_send_status_from_the_dispatch_task_arrives(staff_user: Any) -> None:
    """Sändjobbet (i samma process) meddelar sidan: mottagaren står som skickad."""
    from campaigns.tasks import send_to_recipient

    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    anna = recipient(campaign, "Anna Andersson")

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        await sync_to_async(send_to_recipient)(anna.pk)
        data = await snapshot_where(socket, lambda d: row(d, "Anna Andersson")["send_status"] == "skickat")
        assert data["counts"]["sent"] == 1
        await socket.disconnect()

    run(scenario)


async def assert_closed_as_logged_out(socket: WebsocketCommunicator, within: float = 1.0) -> None:
    """Socketen får beskedet session_expired och stängs med 4401 inom `within` sekunder."""
    started = time.monotonic()
    assert await socket.receive_json_from(timeout=WAIT) == {"type": "session_expired"}
    assert await socket.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4401}
    assert time.monotonic() - started <= within


def test_logout_closes_the_socket_at_once(staff_user: Any, live_settings: Any) -> None:
    """Knappen "Logga ut" stänger sessionens öppna sidor direkt, inte först vid nästa sessionskontroll.

    Personalens andra session (en annan dator) är orörd.
    """
    live_settings.LIVE_SESSION_CHECK_SECONDS = default_settings.LIVE_SESSION_CHECK_SECONDS
    campaign = make_campaign(staff_user)
    key, other_key = session_cookie(staff_user), session_cookie(staff_user)
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = key

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket, other = communicator(campaign.pk, key), communicator(campaign.pk, other_key)
        for each in (socket, other):
            assert (await each.connect())[0]
            await next_snapshot(each)
        response = await sync_to_async(browser.post)(reverse("accounts:logout"))
        assert response.status_code == 302
        await assert_closed_as_logged_out(socket)
        assert await other.receive_nothing(timeout=0.5)
        await other.disconnect()

    run(scenario)


def test_deleted_session_closes_the_socket(staff_user: Any) -> None:
    """En session som försvinner utan utloggning (t.ex. rensad i databasen) upptäcks av sessionskontrollen."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        await sync_to_async(Session.objects.filter(session_key=key).delete)()
        await assert_closed_as_logged_out(socket)

    run(scenario)


def deactivate(user: Any) -> None:
    """Som i Django admin: kryssrutan Aktiv tas bort."""
    user.is_active = False


def new_password(user: Any) -> None:
    """En administratör sätter ett nytt lösenord (gamla sessioner blir ogiltiga)."""
    user.set_password("Ett-Helt-Nytt-Lösenord-2026!")


def rename(user: Any) -> None:
    """Administratören rättar efternamnet (sessionen gäller fortfarande)."""
    user.last_name = "Receptionist-Berg"


@pytest.mark.parametrize(
    ("change", "closes"),
    [(deactivate, True), (new_password, True), (rename, False)],
    ids=["avstangt-konto", "nytt-losenord", "namnbyte"],
)
def test_account_change_closes_the_socket_at_once(
    staff_user: Any, live_settings: Any, change: Callable[[Any], None], closes: bool
) -> None:
    """Kontot ändras och sparas: blev sessionen ogiltig stängs kontots öppna sidor direkt, annars inte."""
    live_settings.LIVE_SESSION_CHECK_SECONDS = default_settings.LIVE_SESSION_CHECK_SECONDS
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    def change_and_save() -> None:
        """Ändringen sparas som i Django admin."""
        change(staff_user)
        staff_user.save()

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        await sync_to_async(change_and_save)()
        if closes:
            await assert_closed_as_logged_out(socket)
        else:
            assert await socket.receive_nothing(timeout=0.7)
            await socket.disconnect()

    run(scenario)


def test_logging_in_sends_no_session_event(staff_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inloggningen sparar bara last_login: ingen händelse till kontots sidor (och ingen väntan på kanal-lagret)."""
    from tests.conftest import STAFF_PASSWORD

    sent: list[str] = []
    monkeypatch.setattr(events, "send_to_group", lambda group, message: sent.append(group))
    response = Client().post(reverse("accounts:login"), {"username": "anna", "password": STAFF_PASSWORD})
    assert response.status_code == 302
    assert sent == []
    staff_user.is_active = False
    staff_user.save()
    assert sent == [events.user_group(staff_user.pk)]  # kontroll: en verklig ändring skickar


def test_expired_session_closes_the_socket(staff_user: Any) -> None:
    """En session som gått ut av inaktivitet stänger socketen, och anslutning vägras därefter."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    def expire() -> None:
        """Senaste aktivitet längre bak än gränsen."""
        store = import_module(settings.SESSION_ENGINE).SessionStore(key)
        store[LAST_ACTIVITY_KEY] = time.time() - timeout_seconds() - 5
        store.save()

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        await sync_to_async(expire)()
        assert await socket.receive_json_from(timeout=WAIT) == {"type": "session_expired"}
        assert await socket.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4401}
        again = communicator(campaign.pk, key)
        assert await again.connect() == (False, 4401)

    run(scenario)


def test_socket_never_extends_the_session(staff_user: Any) -> None:
    """Sessionskontrollerna läser bara: senaste aktivitet och utgångstid står still."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    before = Session.objects.get(session_key=key)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        await asyncio.sleep(0.7)  # flera sessionskontroller
        await socket.disconnect()

    run(scenario)
    after = Session.objects.get(session_key=key)
    assert after.expire_date == before.expire_date
    assert after.get_decoded()[LAST_ACTIVITY_KEY] == before.get_decoded()[LAST_ACTIVITY_KEY]


def mark_sent_in_database_only(campaign: Campaign) -> None:
    """Som en django-q2-arbetsprocess: Anna står som skickad, bara i databasen (ingen händelse härifrån)."""
    Recipient.objects.filter(campaign=campaign, name="Anna Andersson").update(
        send_status=Recipient.SendStatus.SENT, sent_at=campaign.created_at
    )


def test_change_without_event_arrives_by_polling(staff_user: Any, live_settings: Any) -> None:
    """Inbäddat läge: en ändring i en annan process (ingen händelse når fram) kommer ändå inom en sekund.

    Reservens värde i inbäddat läge (0,5 s); med Redis finns ingen reserv (se test_live_engine).
    """
    live_settings.LIVE_POLL_SECONDS = 0.5
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        await sync_to_async(mark_sent_in_database_only)(campaign)
        started = time.monotonic()
        data = await next_snapshot(socket, timeout=WAIT)
        assert time.monotonic() - started <= 1.0
        assert data["counts"]["sent"] == 1
        # Inget nytt: reserven skickar ingenting.
        assert await socket.receive_nothing(timeout=1.2)
        await socket.disconnect()

    run(scenario)


# En annan process (som en django-q2-arbetsprocess) som bara skickar kampanjhändelsen.
BROADCAST_FROM_ANOTHER_PROCESS = """
import sys, django
django.setup()
from campaigns.events import broadcast
sys.exit(0 if broadcast(int(sys.argv[1])) else 1)
"""


def test_event_from_another_process_arrives_through_redis(staff_user: Any) -> None:
    """Med Redis når en händelse från en annan process (django-q2:s arbetsprocess) sidan direkt.

    Reservkontrollen är avstängd (60 s): bara händelsen över Redis kan bära ändringen.
    """
    if not settings.REDIS_URL:
        pytest.skip("kräver REDIS_URL (andra körningen i .ci/run)")
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        await sync_to_async(mark_sent_in_database_only)(campaign)
        assert await socket.receive_nothing(timeout=0.5)  # kontroll: utan händelse kommer inget
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", BROADCAST_FROM_ANOTHER_PROCESS, str(campaign.pk), env=dict(os.environ)
        )
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        data = await next_snapshot(socket, timeout=WAIT)
        assert data["counts"]["sent"] == 1
        await socket.disconnect()

    run(scenario)


def test_events_are_sent_after_commit(staff_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inne i en transaktion skickas ingenting; efter commit en gång; efter rollback aldrig."""
    sent: list[int] = []
    monkeypatch.setattr(events, "broadcast", sent.append)
    with transaction.atomic():
        events.campaign_changed(7)
        assert sent == []
    assert sent == [7]
    with pytest.raises(RuntimeError), transaction.atomic():
        events.campaign_changed(8)
        raise RuntimeError("rollback")
    assert sent == [7]


def test_broadcast_failure_never_breaks_the_answer(
    staff_user: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Kanal-lagret nere (t.ex. Redis): svaret sparas ändå och loggen får ingen persondata."""
    campaign = make_campaign(staff_user)
    anna = recipient(campaign, "Anna Andersson")

    def broken() -> Any:
        """Ett kanal-lager som inte går att nå."""
        raise ConnectionError("redis://127.0.0.1:6379 +46701234567")

    monkeypatch.setattr(events, "get_channel_layer", broken)
    with caplog.at_level(logging.WARNING):
        outcome = record_answer(anna, Recipient.Answer.YES)
    assert outcome.accepted and outcome.position == 1
    assert "kunde inte skickas (ConnectionError)" in caplog.text
    assert "4670" not in caplog.text and "Anna" not in caplog.text


def test_delivery_report_reaches_the_dashboard(staff_user: Any) -> None:
    """En leveransrapport för ett kampanj-SMS uppdaterar sidan (levererat)."""
    from campaigns.tasks import send_to_recipient
    from smsportal.delivery import receive_report

    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    anna = recipient(campaign, "Anna Andersson")
    send_to_recipient(anna.pk)
    anna.refresh_from_db()

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        assert await sync_to_async(receive_report)(anna.provider, anna.provider_message_id, "levererat")
        data = await next_snapshot(socket)
        assert row(data, "Anna Andersson")["delivery"] == "levererat"
        await socket.disconnect()

    run(scenario)


def test_status_polling_never_extends_the_session(staff_user: Any) -> None:
    """Sidans polling (websocketen nere) håller inte personalen inloggad: efter 30 min utan egen aktivitet är det slut."""
    client = Client()
    with time_machine.travel("2026-11-20 08:00 +0100", tick=False) as traveller:
        campaign = make_campaign(staff_user)
        client.force_login(staff_user)
        status_url = reverse("campaigns:snapshot", args=[campaign.pk])
        for _ in range(5):
            traveller.shift(5 * 60)
            assert client.get(status_url).json()["campaign"]["id"] == campaign.pk
        traveller.shift(6 * 60)
        assert client.get(status_url).status_code == 401
        assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 302


def test_purged_campaign_tells_the_open_page_and_closes(staff_user: Any) -> None:
    """Kampanjen raderas medan sidan är öppen: beskedet deleted och stängning med 4404, aldrig ett tyst "Live"."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        retention = timedelta(days=settings.CAMPAIGN_RETENTION_DAYS, minutes=1)
        assert await sync_to_async(purge_expired)(timezone.now() + retention) == 1
        started = time.monotonic()
        assert await socket.receive_json_from(timeout=WAIT) == {"type": "deleted"}
        assert time.monotonic() - started <= 1.0  # händelsen, inte reservkontrollen (60 s här)
        assert await socket.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4404}
        assert await socket.receive_nothing(timeout=0.5)

    run(scenario)


def test_waves_added_recipients_and_the_deadline_arrive_live(staff_user: Any, settings: Any) -> None:
    """Nästa grupp från minutschemat, tillagda mottagare och stängningen vid svarstiden når en
    öppen sida utan omladdning (grupplistan, nästa grupp, raderna och statusen)."""
    settings.CAMPAIGN_QUIET_HOURS = ""  # testet går på riktig klocka: utan tyst tid även på kvällen
    patients = [(f"Patient {i}", f"+4670123450{i}", False) for i in range(1, 6)]
    campaign = make_campaign(
        staff_user,
        patients,
        wave_size=2,
        wave_minutes=1,
        pause_on_yes=False,
        answer_deadline=timezone.now() + timedelta(hours=1),
    )
    Campaign.objects.filter(pk=campaign.pk).update(next_wave_at=timezone.now() - timedelta(seconds=1))
    key = session_cookie(staff_user)
    added = [ParsedRecipient(line=1, name="Ny Patient", phone="+46701234599", consent=False)]

    async def scenario() -> None:
        """Testets förlopp i websocketen."""
        socket = await open_dashboard(campaign.pk, key)
        assert await sync_to_async(release_due_waves)() == 2
        data = await snapshot_where(socket, lambda d: d["waves"]["waves_sent"] == 2)
        assert [w["number"] for w in data["waves"]["sent"]] == [1, 2] and data["waves"]["waiting"] == 1
        await sync_to_async(add_recipients)(campaign, staff_user, added)
        data = await snapshot_where(socket, lambda d: d["counts"]["total"] == 6)
        assert row(data, "Ny Patient")["send_status"] == "väntar på sin grupp"
        await sync_to_async(Campaign.objects.filter(pk=campaign.pk).update)(answer_deadline=timezone.now())
        assert await sync_to_async(close_expired_campaigns)() == 1
        data = await snapshot_where(socket, lambda d: d["campaign"]["status"] == "closed")
        assert data["campaign"]["is_open"] is False
        assert data["waves"]["next"] == "inga fler grupper: kampanjen är stängd"
        assert row(data, "Ny Patient")["send_status"] == "ej skickat (kampanjen stängd)"
        await socket.disconnect()

    run(scenario)
