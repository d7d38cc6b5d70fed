"""Websocketen för personalens kampanjsida: `/ws/campaigns/<id>/`.

Protokoll (JSON, server → sida):

* `{"type": "snapshot", "data": snapshot(kampanj)}` direkt efter anslutningen och efter
  varje ändring (samma format som statusadressen, se `campaigns.dashboard.snapshot`).
* `{"type": "session_expired"}` när sessionen har gått ut eller användaren loggat ut;
  därefter stängs socketen med koden 4401.
* `{"type": "deleted"}` när kampanjen har raderats medan sidan var öppen; därefter stängs
  socketen med koden 4404.

Anslutningen vägras (stängs före accept) för anonyma, inaktiva och utgångna sessioner
(4401) och för okända kampanjer (4404). Främmande ursprung vägras redan av
`AllowedHostsOriginValidator` i `config.asgi`.

Två vägar för ändringar:

1. Händelser: `campaigns.events.campaign_changed` skickar till gruppen `campaign-<id>`
   efter commit. Med Redis (`REDIS_URL`) når de alla processer, även ändringar gjorda i
   django-q2:s arbetsprocesser.
2. Reserv: kanal-lagret i minnet (inbäddat läge) når bara den egna processen, så ändringar
   från en arbetsprocess (sändstatus) kommer aldrig fram som händelser. Därför räknar
   konsumenten var `LIVE_POLL_SECONDS` (standard 0,5) ett fingeravtryck av kampanjens läge
   (hash av ögonblicksbilden) och skickar en ny bild när det ändrats. Samma avtryck
   hindrar att en ändring skickas två gånger när båda vägarna ser den.

Sessionen: utloggning stänger socketen direkt (gruppen `staff-session-…`, se
`campaigns.events.staff_logged_out`), och en ändring av kontot (avstängt, nytt lösenord)
får den att kontrollera sessionen på nytt (gruppen `staff-user-<id>`). Dessutom
kontrolleras sessionen var `LIVE_SESSION_CHECK_SECONDS` (standard 15), för en session som
gått ut utan att någon begäran kom. Sessionen läses direkt ur sessionslagret och sparas
aldrig, så websocketen förlänger aldrig sessionen.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.utils.crypto import constant_time_compare

from accounts.sessions import is_expired
from campaigns.dashboard import snapshot
from campaigns.events import group_name, session_group, user_group
from campaigns.models import Campaign

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


def fingerprint(data: dict[str, Any]) -> str:
    """Kort hash av en ögonblicksbild: lika hash = inget nytt att visa."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def session_still_valid(session_key: str | None, user_id: Any) -> bool:
    """Sant om sessionen finns, hör till användaren, inte gått ut, kontot är aktivt och lösenordet detsamma.

    Sessionen läses ur lagret utan att sparas: kontrollen förlänger den aldrig.
    """
    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if str(store.get(SESSION_KEY, "")) != str(user_id) or is_expired(store):
        return False
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    # Byte av lösenord ogiltigförklarar sessionen (samma kontroll som Django gör vid inloggning).
    stored_hash = store.get(HASH_SESSION_KEY) or ""
    return bool(stored_hash) and constant_time_compare(stored_hash, user.get_session_auth_hash())


def campaign_snapshot(campaign_id: int) -> dict[str, Any] | None:
    """Färsk ögonblicksbild av kampanjen, eller None om den inte finns (raderad)."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    return None if campaign is None else snapshot(campaign)


class CampaignConsumer(AsyncJsonWebsocketConsumer):
    """En personals öppna kampanjsida: ögonblicksbilder vid anslutning och efter varje ändring."""

    campaign_id: int
    user_id: Any
    session_key: str | None
    _last_fingerprint: str
    _watcher: asyncio.Task[None] | None = None
    _lock: asyncio.Lock
    _groups: tuple[str, ...] = ()
    _closed: bool = False

    async def connect(self) -> None:
        """Kontrollerar inloggning, session och kampanj; skickar första bilden och startar bevakningen."""
        user = self.scope.get("user")
        session = self.scope.get("session")
        if user is None or not user.is_authenticated or not user.is_active or session is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user_id = user.pk
        self.session_key = session.session_key
        self.campaign_id = int(self.scope["url_route"]["kwargs"]["campaign_id"])
        self._lock = asyncio.Lock()
        # Grupperna före kontrollerna: en utloggning mitt i anslutningen når socketen ändå.
        self._groups = (group_name(self.campaign_id), session_group(str(self.session_key)), user_group(self.user_id))
        for group in self._groups:
            await self.channel_layer.group_add(group, self.channel_name)
        if not await database_sync_to_async(session_still_valid)(self.session_key, self.user_id):
            await self._refuse(CLOSE_UNAUTHORIZED)
            return
        data = await database_sync_to_async(campaign_snapshot)(self.campaign_id)
        if data is None:
            await self._refuse(CLOSE_NOT_FOUND)
            return
        await self.accept()
        self._last_fingerprint = fingerprint(data)
        await self.send_json({"type": "snapshot", "data": data})
        self._watcher = asyncio.create_task(self._watch())

    async def _refuse(self, code: int) -> None:
        """Vägrar anslutningen (före accept) och lämnar grupperna."""
        self._closed = True
        await self._leave_groups()
        await self.close(code=code)

    async def _leave_groups(self) -> None:
        """Lämnar kampanjens, sessionens och kontots grupper (en gång)."""
        groups, self._groups = self._groups, ()
        for group in groups:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        """Stoppar bevakningen och lämnar grupperna."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watcher
            self._watcher = None
        await self._leave_groups()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Sidan skickar inget som behöver svar; meddelanden ignoreras."""

    async def campaign_changed(self, event: dict[str, Any]) -> None:
        """Händelse från gruppen: skicka en färsk ögonblicksbild."""
        await self._push()

    async def session_ended(self, event: dict[str, Any]) -> None:
        """Sessionen har loggats ut: sidan får beskedet och socketen stängs direkt."""
        await self._end("session_expired", CLOSE_UNAUTHORIZED)

    async def session_check(self, event: dict[str, Any]) -> None:
        """Kontot har ändrats (avstängt, nytt lösenord): stäng om sessionen inte längre gäller."""
        if not await database_sync_to_async(session_still_valid)(self.session_key, self.user_id):
            await self._end("session_expired", CLOSE_UNAUTHORIZED)

    async def _push(self) -> None:
        """Bygger en ny bild och skickar den om den skiljer sig från den senast skickade."""
        async with self._lock:
            if self._closed:
                return
            data = await database_sync_to_async(campaign_snapshot)(self.campaign_id)
            if self._closed:
                return  # utloggad medan bilden byggdes: inga patientnamn efter beskedet
            if data is None:
                # Kampanjen har raderats (efter CAMPAIGN_RETENTION_DAYS): sidan säger det.
                await self._end("deleted", CLOSE_NOT_FOUND)
                return
            current = fingerprint(data)
            if current == self._last_fingerprint:
                return
            self._last_fingerprint = current
            await self.send_json({"type": "snapshot", "data": data})

    async def _end(self, reason: str, code: int) -> None:
        """Säger till sidan varför (`session_expired` eller `deleted`) och stänger socketen en gång."""
        if not self._closed:
            self._closed = True
            await self.send_json({"type": reason})
            await self.close(code=code)

    async def _watch(self) -> None:
        """Reserv för ändringar som inga händelser når fram från, och återkommande sessionskontroll."""
        poll = float(settings.LIVE_POLL_SECONDS)
        check = float(settings.LIVE_SESSION_CHECK_SECONDS)
        loop = asyncio.get_running_loop()
        next_poll = loop.time() + poll
        next_check = loop.time() + check
        while True:
            await asyncio.sleep(max(0.05, min(next_poll, next_check) - loop.time()))
            now = loop.time()
            try:
                if now >= next_check:
                    next_check = now + check
                    if not await database_sync_to_async(session_still_valid)(self.session_key, self.user_id):
                        await self._end("session_expired", CLOSE_UNAUTHORIZED)
                if now >= next_poll:
                    next_poll = now + poll
                    await self._push()
                if self._closed:
                    return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 – bevakningen ska överleva t.ex. ett databasfel
                logger.warning("Kampanj %s: bevakningen misslyckades (%s)", self.campaign_id, type(error).__name__)
