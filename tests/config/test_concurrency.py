"""Gränsen för samtidiga HTTP-begäranden (config.concurrency): övriga väntar på sin tur, ingen tappas.

Provas med en ASGI-app som räknar hur många anrop som pågår samtidigt och hålls kvar tills provet
släpper dem, och mot portalens riktiga ASGI-applikation: HTTP går genom gränsen, websockets inte.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings

from config.asgi import application
from config.concurrency import ConcurrencyLimit

HTTP: dict[str, Any] = {"type": "http"}


async def nothing_to_receive() -> dict[str, Any]:
    """Provappen läser aldrig begäran."""
    return {"type": "http.request", "body": b""}


async def nothing_sent(message: Any) -> None:
    """Provappen skickar inget svar."""


class HeldApp:
    """En ASGI-app som räknar pågående anrop och väntar tills provet släpper den."""

    def __init__(self) -> None:
        """Inget anrop pågår än."""
        self.running = 0
        self.most_at_once = 0
        self.finished = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Räknar anropet som pågående tills `release` sätts."""
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await self.release.wait()
        finally:
            self.running -= 1
            self.finished += 1


async def run_held(limit: int, calls: int) -> HeldApp:
    """Startar `calls` anrop genom en gräns på `limit`, släpper dem när alla kommit fram och väntar in dem."""
    app = HeldApp()
    limited = ConcurrencyLimit(app, limit)
    tasks = [asyncio.create_task(limited(HTTP, nothing_to_receive, nothing_sent)) for _ in range(calls)]
    await asyncio.sleep(0.05)
    running_before_release = app.running
    app.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert running_before_release == min(limit, calls)
    return app


def test_at_most_limit_requests_run_at_once_and_the_rest_wait_their_turn() -> None:
    """25 begäranden mot en gräns på 20: 20 pågår, 5 väntar och körs när platser blir lediga."""
    app = asyncio.run(run_held(limit=20, calls=25))
    assert app.most_at_once == 20
    assert app.finished == 25


def test_a_request_that_fails_gives_its_place_back() -> None:
    """Ett fel i en begäran lämnar tillbaka platsen: nästa begäran körs ändå."""

    async def failing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Fallerar direkt."""
        raise RuntimeError("fel i vyn")

    async def scenario() -> None:
        """Två fel i rad genom en gräns på 1, sedan en begäran som måste få platsen."""
        limited = ConcurrencyLimit(failing, 1)
        for _ in range(2):
            with pytest.raises(RuntimeError):
                await limited(HTTP, nothing_to_receive, nothing_sent)
        await asyncio.wait_for(run_held(limit=1, calls=1), timeout=5)
        assert limited._semaphore().locked() is False

    asyncio.run(scenario())


def test_a_request_whose_client_left_while_waiting_takes_no_place() -> None:
    """En väntande begäran som avbryts (patienten stängde sidan, daphne avbryter) tar ingen plats."""

    async def scenario() -> HeldApp:
        """Gräns 1: ett anrop pågår, ett väntar och avbryts, ett tredje ska ändå köras."""
        app = HeldApp()
        limited = ConcurrencyLimit(app, 1)
        first = asyncio.create_task(limited(HTTP, nothing_to_receive, nothing_sent))
        left = asyncio.create_task(limited(HTTP, nothing_to_receive, nothing_sent))
        await asyncio.sleep(0.02)
        left.cancel()
        await asyncio.sleep(0.02)
        app.release.set()
        await asyncio.wait_for(first, timeout=5)
        await asyncio.wait_for(limited(HTTP, nothing_to_receive, nothing_sent), timeout=5)
        return app

    app = asyncio.run(scenario())
    assert app.finished == 2
    assert app.most_at_once == 1


def test_the_limit_works_in_each_event_loop_of_its_own() -> None:
    """Samma omslag i två loopar efter varandra (som i testerna; daphne har en): ingen låser den andra."""
    limited_app = HeldApp()
    limited = ConcurrencyLimit(limited_app, 1)

    async def two_waiting() -> None:
        """Två anrop genom gränsen på 1: det andra får vänta på det första."""
        limited_app.release = asyncio.Event()
        tasks = [asyncio.create_task(limited(HTTP, nothing_to_receive, nothing_sent)) for _ in range(2)]
        await asyncio.sleep(0.02)
        assert limited_app.running == 1
        limited_app.release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)

    asyncio.run(two_waiting())
    asyncio.run(two_waiting())
    assert limited_app.finished == 4


def test_a_limit_below_one_is_refused() -> None:
    """Noll platser skulle låsa portalen för alltid: det vägras redan vid start."""
    with pytest.raises(ValueError):
        ConcurrencyLimit(HeldApp(), 0)


def test_the_portal_limits_http_to_the_database_pool_and_leaves_websockets_alone() -> None:
    """Portalens ASGI-applikation: HTTP genom gränsen (poolens storlek), websockets utan."""
    http = application.application_mapping["http"]
    assert isinstance(http, ConcurrencyLimit)
    assert http.limit == settings.DATABASE_POOL_SIZE
    assert not isinstance(application.application_mapping["websocket"], ConcurrencyLimit)


@pytest.mark.django_db(transaction=True)
def test_a_patient_page_answers_through_the_limit() -> None:
    """En riktig begäran genom portalens ASGI-applikation får sitt svar (okänd kod: den svenska sidan)."""

    async def get_unknown_code() -> dict[str, Any]:
        """GET /s/<okänd kod> genom hela applikationen."""
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/s/AAAAAAAAAAAAAAAAAAAAAA",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(timeout=10)
        body = await communicator.receive_output(timeout=10)
        return {"status": start["status"], "body": body["body"]}

    response = asyncio.run(get_unknown_code())
    assert response["status"] == 404
    assert "Länken gäller inte längre".encode() in response["body"]
