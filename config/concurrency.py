"""Högst så många HTTP-begäranden åt gången i Django per process; övriga väntar på sin tur.

Django kör varje begäran i en egen tråd under daphne, och en begäran som rör databasen håller en
anslutning ur poolen (högst `DATABASE_POOL_SIZE`). När hundratals patienter svarar på en gång
blev det hundratals trådar, varav alla utom poolens storlek stod och väntade på en anslutning och
tävlade om GIL:en: mer CPU per svar för alla. Här väntar de i stället i händelseloopen (nästan
gratis) tills en plats blir ledig, i den ordning de kom. Websockets räknas inte: de är långlivade
och går inte hit (config.asgi släpper bara HTTP genom gränsen).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

# Samma typer som Djangos ASGIHandler.
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ConcurrencyLimit:
    """ASGI-omslag: högst `limit` anrop av `app` pågår samtidigt i varje händelseloop."""

    def __init__(self, app: AsgiApp, limit: int) -> None:
        """`limit` är antalet platser (minst 1)."""
        if limit < 1:
            raise ValueError("Gränsen för samtidiga begäranden måste vara minst 1.")
        self.app = app
        self.limit = limit
        # En semafor per loop: en asyncio-semafor hör till loopen den först väntade i (testerna
        # kör varje prov i en egen loop; daphne har en enda).
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        """Den här loopens semafor (skapas första gången)."""
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return semaphore

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Väntar på en ledig plats och kör begäran; platsen lämnas tillbaka även vid fel."""
        async with self._semaphore():
            await self.app(scope, receive, send)
