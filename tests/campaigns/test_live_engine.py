"""Liveläget som kliniken kör det: en tyst websocket på Redis lever, inga databasfrågor medan inget
händer, tidsstyrda ändringar, och JA-signalen som larmar efter att personalens session tagit slut.

Körs med kanal-lagret i minnet och (andra körningen i .ci/run, `REDIS_URL`) med Redis; testet
med en minuts tystnad körs bara med Redis.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

import campaigns.consumers as consumers
import config.settings as default_settings
from accounts.sessions import LAST_ACTIVITY_KEY, timeout_seconds
from campaigns.events import EVENT_TYPE, group_name
from campaigns.models import Campaign, Recipient
from campaigns.services import change_status, purge_expired, record_answer
from campaigns.watch import token_is_valid, watch_token
from config.asgi import application
from tests.campaigns.factories import make_campaign, recipient
from tests.campaigns.test_live import (  # noqa: F401 – fixturerna empty_queue och live_settings
    ORIGIN,
    WAIT,
    communicator,
    empty_queue,
    live_settings,
    next_snapshot,
    open_dashboard,
    run,
    session_cookie,
    snapshot_where,
    tracked_socket,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Så länge en websocket på Redis hålls tyst (redis-py 8:s lästidsgräns på 5 s dödade den efter 10–30 s).
IDLE_SECONDS = 60


def signal_socket(campaign_id: int, origin: bytes = ORIGIN) -> WebsocketCommunicator:
    """JA-signalens websocket, utan någon sessionskaka (sidan efter utloggning)."""
    headers = [(b"origin", origin), (b"host", b"testserver")]
    return tracked_socket(WebsocketCommunicator(application, f"/ws/campaigns/{campaign_id}/ja/", headers=headers))


async def open_signal(campaign_id: int, token: str) -> WebsocketCommunicator:
    """En ansluten JA-signal som skickat nyckeln."""
    socket = signal_socket(campaign_id)
    assert (await socket.connect())[0]
    await socket.send_json_to({"token": token})
    return socket


def expire_session(key: str) -> None:
    """Senaste aktivitet längre bak än inaktivitetsgränsen (som efter 30 minuter vid telefonen)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    store[LAST_ACTIVITY_KEY] = time.time() - timeout_seconds() - 5
    store.save()


async def assert_closed(socket: WebsocketCommunicator, code: int) -> None:
    """Socketen stängs med given kod."""
    assert await socket.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": code}


# --- Motorn ---------------------------------------------------------------------------------


def test_redis_mode_has_no_database_fallback_and_embedded_mode_has_one() -> None:
    """Ett liveläge per läge: med REDIS_URL bara händelser, i inbäddat läge reserven var 0,5 s."""
    assert default_settings.LIVE_POLL_SECONDS == (0.0 if settings.REDIS_URL else 0.5)
    if settings.REDIS_URL:
        host = default_settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
        # Lagret väntar själv upp till 5 s per läsning: lästidsgränsen måste ligga långt över.
        assert host["socket_timeout"] is None or host["socket_timeout"] >= 3 * 5


def test_idle_socket_on_redis_lives_and_gets_the_next_answer_at_once(staff_user: Any, live_settings: Any) -> None:
    """En minut utan händelser på Redis: samma socket är öppen och får nästa JA inom en sekund."""
    if not settings.REDIS_URL:
        pytest.skip("kräver REDIS_URL (andra körningen i .ci/run)")
    live_settings.LIVE_POLL_SECONDS = default_settings.LIVE_POLL_SECONDS
    live_settings.LIVE_SESSION_CHECK_SECONDS = default_settings.LIVE_SESSION_CHECK_SECONDS
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    anna = recipient(campaign, "Anna Andersson")

    async def scenario() -> None:
        """En tyst minut, sedan ett JA."""
        socket = await open_dashboard(campaign.pk, key)
        # Ingenting alls får komma under tystnaden: varken en bild eller en stängning.
        assert await socket.receive_nothing(timeout=IDLE_SECONDS, interval=0.5)
        started = time.monotonic()
        await sync_to_async(record_answer)(anna, Recipient.Answer.YES)
        data = await next_snapshot(socket, timeout=WAIT)
        assert time.monotonic() - started <= 1.0
        assert data["counts"]["yes"] == 1
        await socket.disconnect()

    run(scenario)


def before_each_build(monkeypatch: pytest.MonkeyPatch, step: Callable[[int], object]) -> None:
    """Kör `step(kampanjens id)` före varje läge som websocketen bygger (räkna, vänta, fela), sedan bygget."""
    real = consumers.live_snapshot

    def wrapped(campaign_id: int) -> Any:
        """Som `live_snapshot`, efter `step`."""
        step(campaign_id)
        return real(campaign_id)

    monkeypatch.setattr(consumers, "live_snapshot", wrapped)


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Räknar kampanjfrågorna som websocketen gör (varje ögonblicksbild som byggs)."""
    calls: list[int] = []
    before_each_build(monkeypatch, calls.append)
    return calls


def test_event_mode_asks_the_database_nothing_while_idle(
    staff_user: Any, live_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Utan reserv (Redis-läget): en fråga vid anslutningen, ingen under tystnad, en per händelse."""
    live_settings.LIVE_POLL_SECONDS = 0.0
    live_settings.LIVE_SESSION_CHECK_SECONDS = default_settings.LIVE_SESSION_CHECK_SECONDS
    calls = count_builds(monkeypatch)
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    anna = recipient(campaign, "Anna Andersson")

    async def scenario() -> None:
        """Tyst, sedan ett svar."""
        socket = await open_dashboard(campaign.pk, key)
        assert await socket.receive_nothing(timeout=2.0)
        assert len(calls) == 1
        await sync_to_async(record_answer)(anna, Recipient.Answer.YES)
        await next_snapshot(socket)
        assert len(calls) == 2
        await socket.disconnect()

    run(scenario)


def test_a_burst_of_events_builds_a_few_snapshots_not_one_per_event(
    staff_user: Any, live_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tjugo händelser medan ett läge byggs (en skur svar): sidan bygger ett par lägen, inte tjugo,
    och det sista visar svaret som kom först i skuren."""
    live_settings.LIVE_POLL_SECONDS = 0.0
    calls = count_builds(monkeypatch)
    # Ett läge som tar 0,2 s att bygga (som en stor kampanj på en upptagen server).
    before_each_build(monkeypatch, lambda campaign_id: time.sleep(0.2))
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    anna = recipient(campaign, "Anna Andersson")

    async def scenario() -> None:
        """Ett JA och nitton händelser till inom några millisekunder."""
        socket = await open_dashboard(campaign.pk, key)
        await sync_to_async(record_answer)(anna, Recipient.Answer.YES)
        layer = get_channel_layer()
        for _ in range(19):
            await layer.group_send(group_name(campaign.pk), {"type": EVENT_TYPE, "campaign": campaign.pk})
        data = await snapshot_where(socket, lambda data: data["counts"]["yes"] == 1)
        assert await socket.receive_nothing(timeout=1.0)
        assert data["counts"]["yes"] == 1
        assert 2 <= len(calls) <= 4  # anslutningen, och ett eller två lägen för hela skuren
        await socket.disconnect()

    run(scenario)


def test_an_answer_whose_snapshot_failed_to_build_arrives_on_the_retry(
    staff_user: Any, live_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Databasen borta när händelsen kom (bygget misslyckas en gång): svaret kommer ändå till sidan."""
    live_settings.LIVE_POLL_SECONDS = 0.0
    monkeypatch.setattr(consumers, "BUILD_RETRY_SECONDS", 0.3)
    failures = [OperationalError("databasen svarar inte")]

    def fail_once(campaign_id: int) -> None:
        """Första bygget misslyckas, sedan som vanligt."""
        if failures:
            raise failures.pop()

    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    anna = recipient(campaign, "Anna Andersson")

    async def scenario() -> None:
        """Ett JA medan bygget misslyckas."""
        socket = await open_dashboard(campaign.pk, key)
        before_each_build(monkeypatch, fail_once)
        await sync_to_async(record_answer)(anna, Recipient.Answer.YES)
        data = await snapshot_where(socket, lambda data: data["counts"]["yes"] == 1, timeout=3.0)
        assert not failures  # bygget misslyckades verkligen en gång
        assert data["counts"]["yes"] == 1
        await socket.disconnect()

    run(scenario)


def test_embedded_fallback_asks_the_database_twice_a_second(
    staff_user: Any, live_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inbäddat läge: reserven kontrollerar kampanjen var 0,5 s (men skickar inget när inget ändrats)."""
    live_settings.LIVE_POLL_SECONDS = 0.5
    calls = count_builds(monkeypatch)
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """Två sekunders tystnad."""
        socket = await open_dashboard(campaign.pk, key)
        assert await socket.receive_nothing(timeout=2.0)
        assert 3 <= len(calls) <= 6
        await socket.disconnect()

    run(scenario)


def test_slot_passing_reaches_the_page_without_any_event(staff_user: Any, live_settings: Any) -> None:
    """Tiden passerar medan sidan är tyst (ingen reserv, ingen händelse): sidan får det ändå."""
    live_settings.LIVE_POLL_SECONDS = 0.0
    campaign = make_campaign(staff_user, slot_at=timezone.now() + timedelta(seconds=1.5))
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """Sidan öppen när tiden passerar."""
        socket = await open_dashboard(campaign.pk, key)
        data = await snapshot_where(socket, lambda d: not d["campaign"]["is_open"], timeout=4.0)
        assert data["campaign"]["status"] == "active"  # passerad, inte stängd av någon
        await socket.disconnect()

    run(scenario)


def test_stuck_sending_turns_uncertain_on_the_open_page(staff_user: Any, live_settings: Any) -> None:
    """En sändning som hängt sig (arbetsprocessen dog) visas som osäker när minuten gått, utan händelse."""
    live_settings.LIVE_POLL_SECONDS = 0.0
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    Recipient.objects.filter(campaign=campaign, name="Anna Andersson").update(
        send_status=Recipient.SendStatus.SENDING, send_started_at=timezone.now() - timedelta(seconds=59)
    )

    async def scenario() -> None:
        """Sidan öppen medan minuten går ut."""
        socket = await open_dashboard(campaign.pk, key)
        data = await snapshot_where(
            socket, lambda d: any(r["send_status"] == "osäkert" for r in d["rows"]), timeout=3.0
        )
        assert [r["name"] for r in data["rows"] if r["send_status"] == "osäkert"] == ["Anna Andersson"]
        await socket.disconnect()

    run(scenario)


# --- JA-signalen efter utloggning ------------------------------------------------------------


def test_detail_page_carries_a_watch_key_only_while_open(staff_user: Any, staff_client: Client) -> None:
    """Kampanjsidan får nyckeln för JA-signalen medan kampanjen är öppen, inte när den är stängd."""
    campaign = make_campaign(staff_user)
    page = staff_client.get(f"/personal/akut-sms/{campaign.pk}/").content.decode()
    token = re.search(r'data-watch-token="([^"]+)"', page)
    assert token is not None
    assert token_is_valid(token.group(1), campaign.pk)
    assert not token_is_valid(token.group(1), campaign.pk + 1)
    change_status(campaign, staff_user, Campaign.Status.CLOSED)
    assert "data-watch-token" not in staff_client.get(f"/personal/akut-sms/{campaign.pk}/").content.decode()


def test_yes_signal_after_logout_counts_without_personal_data(staff_user: Any) -> None:
    """Efter utloggning: bara antalet JA, inom en sekund, utan namn; NEJ ändrar ingenting."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)
    token = watch_token(campaign.pk, staff_user.pk)
    karl, anna = recipient(campaign, "Karl Karlsson"), recipient(campaign, "Anna Andersson")

    async def scenario() -> None:
        """Personalens sida loggas ut; signalen tar över."""
        dashboard = await open_dashboard(campaign.pk, key)
        await sync_to_async(expire_session)(key)
        assert await dashboard.receive_json_from(timeout=WAIT) == {"type": "session_expired"}
        signal = await open_signal(campaign.pk, token)
        assert await signal.receive_json_from(timeout=WAIT) == {"type": "yes_count", "yes": 0}
        await sync_to_async(record_answer)(karl, Recipient.Answer.NO)
        assert await signal.receive_nothing(timeout=0.5)
        started = time.monotonic()
        await sync_to_async(record_answer)(anna, Recipient.Answer.YES)
        assert await signal.receive_json_from(timeout=WAIT) == {"type": "yes_count", "yes": 1}
        assert time.monotonic() - started <= 1.0
        await signal.disconnect()

    run(scenario)


def test_yes_signal_stops_when_the_slot_is_filled(staff_user: Any) -> None:
    """Tiden tillsatt: signalen säger `ended` och stängs (4410); en ny anslutning slutar likadant."""
    campaign = make_campaign(staff_user)
    token = watch_token(campaign.pk, staff_user.pk)

    async def scenario() -> None:
        """Signalen öppen när tiden tillsätts."""
        signal = await open_signal(campaign.pk, token)
        assert (await signal.receive_json_from(timeout=WAIT))["type"] == "yes_count"
        assert await sync_to_async(change_status)(campaign, staff_user, Campaign.Status.FILLED)
        assert await signal.receive_json_from(timeout=WAIT) == {"type": "ended"}
        await assert_closed(signal, consumers.CLOSE_ENDED)
        again = await open_signal(campaign.pk, token)
        assert await again.receive_json_from(timeout=WAIT) == {"type": "ended"}
        await assert_closed(again, consumers.CLOSE_ENDED)

    run(scenario)


def test_yes_signal_says_deleted_when_purged(staff_user: Any) -> None:
    """Kampanjen raderas: signalen säger `deleted` och stängs (4404)."""
    campaign = make_campaign(staff_user)
    token = watch_token(campaign.pk, staff_user.pk)

    async def scenario() -> None:
        """Signalen öppen när kampanjen raderas."""
        signal = await open_signal(campaign.pk, token)
        await signal.receive_json_from(timeout=WAIT)
        retention = timedelta(days=settings.CAMPAIGN_RETENTION_DAYS, minutes=1)
        assert await sync_to_async(purge_expired)(timezone.now() + retention) == 1
        assert await signal.receive_json_from(timeout=WAIT) == {"type": "deleted"}
        await assert_closed(signal, consumers.CLOSE_NOT_FOUND)

    run(scenario)


def other_campaign_token(campaign: Campaign, user: Any) -> str:
    """Nyckeln till en annan kampanj."""
    return watch_token(make_campaign(user).pk, user.pk)


def tampered_token(campaign: Campaign, user: Any) -> str:
    """Rätt kampanj, men ändrad nyckel."""
    return watch_token(campaign.pk, user.pk)[:-2] + "xx"


def old_token(campaign: Campaign, user: Any) -> str:
    """En nyckel från i går (äldre än en arbetsdag)."""
    with time_machine.travel(timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)):
        return watch_token(campaign.pk, user.pk)


def deactivated_user_token(campaign: Campaign, user: Any) -> str:
    """Rätt nyckel, men kontot har stängts av sedan dess."""
    token = watch_token(campaign.pk, user.pk)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    return token


@pytest.mark.parametrize("make_token", [other_campaign_token, tampered_token, old_token, deactivated_user_token])
def test_yes_signal_refuses_a_bad_key(staff_user: Any, make_token: Any) -> None:
    """Fel kampanj, ändrad, för gammal nyckel eller avstängt konto: stängs med 4401 utan något läge."""
    campaign = make_campaign(staff_user)
    token = make_token(campaign, staff_user)

    async def scenario() -> None:
        """Fel nyckel."""
        signal = await open_signal(campaign.pk, token)
        await assert_closed(signal, consumers.CLOSE_UNAUTHORIZED)

    run(scenario)


def test_yes_signal_stops_when_the_key_stops_being_valid(staff_user: Any, live_settings: Any) -> None:
    """Kontot stängs av medan signalen är öppen: nästa kontroll stänger den (4401), inga fler antal."""
    live_settings.LIVE_SESSION_CHECK_SECONDS = 0.2
    campaign = make_campaign(staff_user)
    token = watch_token(campaign.pk, staff_user.pk)

    async def scenario() -> None:
        """Signalen öppen när kontot stängs av."""
        signal = await open_signal(campaign.pk, token)
        assert (await signal.receive_json_from(timeout=WAIT))["type"] == "yes_count"
        await sync_to_async(type(staff_user).objects.filter(pk=staff_user.pk).update)(is_active=False)
        await assert_closed(signal, consumers.CLOSE_UNAUTHORIZED)

    run(scenario)


def test_yes_signal_closes_without_a_key(staff_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingen nyckel i tid (eller skräp i stället): stängs med 4401, utan fel i servern."""
    monkeypatch.setattr(consumers, "TOKEN_WAIT_SECONDS", 0.3)
    campaign = make_campaign(staff_user)

    async def scenario() -> None:
        """Tyst klient, sedan en som skickar skräp."""
        silent = signal_socket(campaign.pk)
        assert (await silent.connect())[0]
        await silent.send_to(text_data="inte json")
        await silent.send_to(bytes_data=b"\x00\x01")
        await assert_closed(silent, consumers.CLOSE_UNAUTHORIZED)
        junk = signal_socket(campaign.pk)
        assert (await junk.connect())[0]
        await junk.send_json_to({"token": 12345})
        await assert_closed(junk, consumers.CLOSE_UNAUTHORIZED)

    run(scenario)


def test_yes_signal_refuses_a_foreign_origin(staff_user: Any) -> None:
    """En annan webbplats får inte lyssna, inte ens med en äkta nyckel."""
    campaign = make_campaign(staff_user)

    async def scenario() -> None:
        """Fel ursprung."""
        socket = signal_socket(campaign.pk, origin=b"https://evil.example")
        connected, _ = await socket.connect()
        assert not connected

    run(scenario)


def test_yes_signal_sends_only_counts_when_many_answer(staff_user: Any) -> None:
    """Flera JA i följd: varje meddelande är bara typ och antal (aldrig namn, nummer eller rang)."""
    campaign = make_campaign(staff_user)
    token = watch_token(campaign.pk, staff_user.pk)
    patients = list(campaign.recipients.all())

    async def scenario() -> None:
        """Tre JA."""
        signal = await open_signal(campaign.pk, token)
        messages = [await signal.receive_json_from(timeout=WAIT)]
        for patient in patients:
            await sync_to_async(record_answer)(patient, Recipient.Answer.YES)
            messages.append(await signal.receive_json_from(timeout=WAIT))
        assert messages == [{"type": "yes_count", "yes": n} for n in range(len(patients) + 1)]
        await signal.disconnect()

    run(scenario)
