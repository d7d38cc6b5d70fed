"""Kampanjsidans websockets: personalens sida och JA-signalen efter utloggning.

Liveläget, förklarat på ett ställe
----------------------------------

Varje ändring som personalen ska se (svar, sändstatus, leveransrapport, tillsatt, avslutad,
raderad) skickar en händelse till gruppen `campaign-<id>` efter commit
(`campaigns.events.campaign_changed`). Händelsen bär bara kampanjens id; en websocket som får
den bygger en färsk bild ur databasen och skickar den om den skiljer sig från den förra.
Händelser som kommer medan en bild byggs slås ihop till en enda ny bild efteråt (en skur av
svar ger ett par bilder per sida, inte en per svar).

* **Med Redis** (`REDIS_URL`, drift) når händelserna alla processer, även django-q2:s
  arbetsprocesser och andra daphne-processer. Websocketen frågar då aldrig databasen medan
  inget händer (`LIVE_POLL_SECONDS` = 0): bara händelser, sessionskontrollen och de tider då
  läget ändras av sig självt (tiden passerar, en påbörjad sändning blir osäker efter en
  minut; `campaigns.dashboard.next_change_at`). Kanal-lagrets Redis-anslutning har en
  lästidsgräns långt över lagrets egen väntan (se `config.settings`), så en tyst websocket
  lever hela dagen; ett Redis som går ner stänger den snabbt och sidan pollar.
* **Inbäddat läge** (kanal-lagret i minnet) når bara den egna processen, så ändringar från
  django-q2:s arbetsprocess (sändstatus) kommer aldrig fram som händelser. Den enda reserven:
  websocketen kontrollerar själv kampanjen var `LIVE_POLL_SECONDS` (0,5) sekund och skickar
  en ny bild när den ändrats. Samma fingeravtryck hindrar dubbla bilder när båda vägarna ser
  samma ändring.

Personalens sida: `/ws/campaigns/<id>/`
---------------------------------------

Protokoll (JSON, server → sida):

* `{"type": "snapshot", "data": snapshot(kampanj)}` direkt efter anslutningen och efter
  varje ändring (samma format som statusadressen, se `campaigns.dashboard.snapshot`).
* `{"type": "session_expired"}` när sessionen har gått ut eller användaren loggat ut;
  därefter stängs socketen med koden 4401.
* `{"type": "deleted"}` när kampanjen har raderats medan sidan var öppen; därefter stängs
  socketen med koden 4404.

Anslutningen vägras (stängs före accept) för anonyma, inaktiva och utgångna sessioner
(4401) och för okända kampanjer (4404). Främmande ursprung vägras redan i `config.asgi`.
Utloggning stänger socketen direkt (gruppen `staff-session-…`), en ändring av kontot
(avstängt, nytt lösenord) får den att kontrollera sessionen på nytt (gruppen
`staff-user-<id>`), och var `LIVE_SESSION_CHECK_SECONDS` (15) kontrolleras sessionen för
en session som gått ut utan att någon begäran kom. Sessionen läses ur sessionslagret och
sparas aldrig, så websocketen förlänger aldrig sessionen.

JA-signalen efter utloggning: `/ws/campaigns/<id>/ja/`
-----------------------------------------------------

När sessionen tagit slut ska en öppen kampanjsida ändå larma om nya JA (ljud, titel,
banderoll), utan persondata. Sidan ansluter hit och skickar först `{"token": …}`, nyckeln
som den fick när den visades (`campaigns.watch`). Servern skickar sedan bara
`{"type": "yes_count", "yes": N}` vid varje ändring, och `{"type": "ended"}` (stängs 4410)
när kampanjen tillsatts, avslutats eller tiden passerat, `{"type": "deleted"}` (4404) när
den raderats. Fel eller ingen nyckel inom 5 sekunder: stängs med 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
from datetime import datetime
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.mfa import session_is_verified
from accounts.sessions import is_expired
from audit.services import AccessKind, record_access
from campaigns.dashboard import live_snapshot, yes_signal
from campaigns.events import EVENT_TYPE, group_name, session_group, user_group
from campaigns.watch import token_is_valid

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_ENDED = 4410
#: Meddelanden som avslutar socketen, med stängningskoden.
FINAL_MESSAGES = {"deleted": CLOSE_NOT_FOUND, "ended": CLOSE_ENDED}
#: Så länge JA-signalen väntar på nyckeln innan den stänger.
TOKEN_WAIT_SECONDS = 5.0
#: Ett läge som inte gick att bygga (t.ex. databasen borta en stund) byggs igen efter så här länge.
BUILD_RETRY_SECONDS = 5.0

LiveUpdate = tuple[dict[str, Any], datetime | None]


def fingerprint(message: dict[str, Any]) -> str:
    """Kort hash av ett meddelande: lika hash = inget nytt att visa."""
    return hashlib.sha256(json.dumps(message, sort_keys=True, default=str).encode()).hexdigest()


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
    valid = bool(stored_hash) and constant_time_compare(stored_hash, user.get_session_auth_hash())
    return valid and session_is_verified(store)  # andra faktorn, när den krävs (accounts.mfa)


class LiveCampaignConsumer(AsyncJsonWebsocketConsumer):
    """Motorn som båda websockets delar: händelser, reserven i inbäddat läge och tidsstyrda ändringar.

    En underklass anger vad som byggs (`build`) och kan lägga till en återkommande kontroll.
    """

    campaign_id: int
    _groups: tuple[str, ...] = ()
    _closed: bool = False
    _watcher: asyncio.Task[None] | None = None
    _last_fingerprint: str = ""
    _refresh_at: float = math.inf
    # En händelse har kommit som inget byggt läge ännu har sett (bevakningen bygger ett).
    _changed: bool = False

    def build(self) -> LiveUpdate:
        """Meddelandet som sidan ska ha nu och när läget ändras av sig självt (körs i en tråd).

        Standard: personalens ögonblicksbild; JA-signalen bygger bara antalet JA.
        """
        return live_snapshot(self.campaign_id)

    def _prepare(self) -> None:
        """Kampanjens id ur adressen, låset för ombyggnader och väckningen för bevakningen."""
        self.campaign_id = int(self.scope["url_route"]["kwargs"]["campaign_id"])
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Bara text med giltig JSON lämnas vidare; binärt och trasig JSON ignoreras (inget fel, ingen logg)."""
        if not text_data:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Sidan skickar inget som behöver svar; meddelanden ignoreras."""

    def check_interval(self) -> float:
        """Sekunder mellan återkommande kontroller (`periodic_check`); 0 = ingen."""
        return 0.0

    async def periodic_check(self) -> None:
        """Återkommande kontroll (personalens session); ingen som standard."""

    async def _join(self, *groups: str) -> None:
        """Går med i kanalgrupperna (kampanjens, och för personal sessionens och kontots)."""
        self._groups = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def _leave_groups(self) -> None:
        """Lämnar grupperna (en gång)."""
        groups, self._groups = self._groups, ()
        for group in groups:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def _refuse(self, code: int) -> None:
        """Vägrar anslutningen (före accept) och lämnar grupperna."""
        self._closed = True
        await self._leave_groups()
        await self.close(code=code)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Kör konsumenten; städar även när den dör av ett fel (t.ex. Redis nere), då Channels
        aldrig anropar `disconnect` och bevakningen annars skulle fortsätta utan socket."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._stop()

    async def disconnect(self, code: int) -> None:
        """Stoppar bevakningen och lämnar grupperna."""
        await self._stop()

    async def _stop(self) -> None:
        """Stoppar bevakningen och lämnar grupperna (en gång, fel ignoreras)."""
        self._closed = True
        if self._watcher is not None:
            watcher, self._watcher = self._watcher, None
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
        await self._leave_groups()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Kampanjhändelsen går direkt till `campaign_changed`, som bara sätter en flagga.

        Channels stänger annars gamla databasanslutningar före varje meddelande, i synktråden som
        också bygger lägena: under en skur fick varje händelse vänta ut ett helt bygge, och de
        slogs aldrig ihop. Bygget själv stänger gamla anslutningar (`database_sync_to_async`).
        """
        if message.get("type") == EVENT_TYPE:
            await self.campaign_changed(message)
            return
        await super().dispatch(message)

    async def campaign_changed(self, event: dict[str, Any]) -> None:
        """Händelse från kampanjens grupp: bevakningen bygger och skickar ett färskt läge direkt.

        Händelser som kommer medan ett läge byggs slås ihop till ett enda nytt läge efteråt: det
        läses efter deras commit och ser dem alla. När många patienter svarar inom några sekunder
        bygger varje öppen sida då ett par lägen i stället för ett per svar, och daphne-processen
        som tar emot svaren avlastas (bench/reply_burst.py --staff-pages).
        """
        self._changed = True
        self._wake.set()

    async def _start(self, first: LiveUpdate) -> None:
        """Skickar första meddelandet och startar bevakningen (socketen är redan accepterad)."""
        await self._deliver(*first)
        if not self._closed:
            self._watcher = asyncio.create_task(self._watch())

    async def _push(self) -> None:
        """Bygger läget på nytt och skickar det om det ändrats."""
        async with self._lock:
            if self._closed:
                return
            update = await database_sync_to_async(self.build)()
            await self._deliver(*update)

    async def _deliver(self, message: dict[str, Any], refresh_at: datetime | None) -> None:
        """Skickar meddelandet om det är nytt; ett slutmeddelande stänger socketen."""
        if self._closed:
            return  # utloggad eller stängd medan läget byggdes: inget mer till sidan
        self._schedule_refresh(refresh_at)
        if message["type"] in FINAL_MESSAGES:
            await self._end(message["type"], FINAL_MESSAGES[message["type"]])
            return
        current = fingerprint(message)
        if current != self._last_fingerprint:
            self._last_fingerprint = current
            await self.send_json(message)

    def _schedule_refresh(self, refresh_at: datetime | None) -> None:
        """Nästa tidsstyrda ombyggnad (strax efter `refresh_at`); väcker bevakningen."""
        loop = asyncio.get_running_loop()
        if refresh_at is None:
            self._refresh_at = math.inf
        else:
            self._refresh_at = loop.time() + max(0.0, (refresh_at - timezone.now()).total_seconds()) + 0.05
        self._wake.set()

    async def _end(self, reason: str, code: int) -> None:
        """Säger till sidan varför och stänger socketen en gång."""
        if not self._closed:
            self._closed = True
            await self.send_json({"type": reason})
            await self.close(code=code)

    async def _watch(self) -> None:
        """Väntar på nästa tidpunkt: reservkontroll (bara inbäddat läge), kontroll eller tidsstyrd ändring."""
        loop = asyncio.get_running_loop()
        poll = float(settings.LIVE_POLL_SECONDS)
        check = self.check_interval()
        next_poll = loop.time() + poll if poll > 0 else math.inf
        next_check = loop.time() + check if check > 0 else math.inf
        while not self._closed:
            wake_at = min(next_poll, next_check, self._refresh_at)
            if not self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=min(3600.0, max(0.05, wake_at - loop.time())))
            self._wake.clear()
            now = loop.time()
            try:
                if now >= next_check:
                    next_check = now + check
                    await self.periodic_check()
                if self._changed or now >= min(next_poll, self._refresh_at):
                    next_poll = now + poll if poll > 0 else math.inf
                    self._refresh_at = math.inf
                    # Före bygget: en händelse under bygget ger ett nytt varv direkt.
                    self._changed = False
                    await self._push()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 – bevakningen ska överleva t.ex. ett databasfel
                logger.warning("Kampanj %s: bevakningen misslyckades (%s)", self.campaign_id, type(error).__name__)
                # Ändringen som läget skulle visa får inte gå förlorad: nytt försök om en stund.
                self._refresh_at = min(self._refresh_at, loop.time() + BUILD_RETRY_SECONDS)


class CampaignConsumer(LiveCampaignConsumer):
    """En personals öppna kampanjsida: ögonblicksbilder vid anslutning och efter varje ändring."""

    user_id: Any
    session_key: str | None

    async def connect(self) -> None:
        """Kontrollerar inloggning, session och kampanj; skickar första bilden och startar bevakningen."""
        user = self.scope.get("user")
        session = self.scope.get("session")
        if user is None or not user.is_authenticated or not user.is_active or session is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user_id = user.pk
        self.session_key = session.session_key
        self._prepare()
        # Grupperna före kontrollerna: en utloggning mitt i anslutningen når socketen ändå.
        await self._join(group_name(self.campaign_id), session_group(str(self.session_key)), user_group(self.user_id))
        if not await database_sync_to_async(session_still_valid)(self.session_key, self.user_id):
            await self._refuse(CLOSE_UNAUTHORIZED)
            return
        first = await database_sync_to_async(self.build)()
        if first[0]["type"] == "deleted":
            await self._refuse(CLOSE_NOT_FOUND)
            return
        await self.accept()
        await database_sync_to_async(record_access)(AccessKind.CAMPAIGN_SOCKET, user=user, campaign_id=self.campaign_id)
        await self._start(first)

    def check_interval(self) -> float:
        """Sessionen kontrolleras var LIVE_SESSION_CHECK_SECONDS."""
        return float(settings.LIVE_SESSION_CHECK_SECONDS)

    async def periodic_check(self) -> None:
        """En session som gått ut utan att någon begäran kom stänger socketen."""
        await self.session_check({})

    async def session_ended(self, event: dict[str, Any]) -> None:
        """Sessionen har loggats ut: sidan får beskedet och socketen stängs direkt."""
        await self._end("session_expired", CLOSE_UNAUTHORIZED)

    async def session_check(self, event: dict[str, Any]) -> None:
        """Kontot har ändrats (avstängt, nytt lösenord) eller tiden är inne: stäng om sessionen inte gäller."""
        if not await database_sync_to_async(session_still_valid)(self.session_key, self.user_id):
            await self._end("session_expired", CLOSE_UNAUTHORIZED)


class YesSignalConsumer(LiveCampaignConsumer):
    """En kampanjsida vars session tagit slut: bara antalet JA, med nyckeln från sidan."""

    _deadline: asyncio.Task[None] | None = None
    _authorised: bool = False
    _token: str = ""

    async def connect(self) -> None:
        """Tar emot anslutningen och väntar högst TOKEN_WAIT_SECONDS på nyckeln."""
        self._prepare()
        await self.accept()
        self._deadline = asyncio.create_task(self._close_without_token())

    async def _close_without_token(self) -> None:
        """Ingen giltig nyckel i tid: stäng."""
        await asyncio.sleep(TOKEN_WAIT_SECONDS)
        if not self._authorised:
            await self._refuse(CLOSE_UNAUTHORIZED)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Första meddelandet ska vara nyckeln; allt annat ignoreras."""
        if self._authorised or self._closed:
            return
        token = content.get("token") if isinstance(content, dict) else None
        if not isinstance(token, str) or not await database_sync_to_async(token_is_valid)(token, self.campaign_id):
            await self._refuse(CLOSE_UNAUTHORIZED)
            return
        self._authorised = True
        self._token = token
        if self._deadline is not None:
            self._deadline.cancel()
        await self._join(group_name(self.campaign_id))
        await self._start(await database_sync_to_async(self.build)())

    async def _stop(self) -> None:
        """Stoppar väntan på nyckeln och bevakningen."""
        if self._deadline is not None:
            self._deadline.cancel()
        await super()._stop()

    def build(self) -> LiveUpdate:
        """Antalet JA, eller att erbjudandet är slut eller kampanjen raderad."""
        return yes_signal(self.campaign_id)

    def check_interval(self) -> float:
        """Nyckeln prövas igen lika ofta som personalens session (LIVE_SESSION_CHECK_SECONDS)."""
        return float(settings.LIVE_SESSION_CHECK_SECONDS)

    async def periodic_check(self) -> None:
        """Nyckeln för gammal eller kontot avstängt sedan anslutningen: stäng (4401), sidan slutar lyssna."""
        if not await database_sync_to_async(token_is_valid)(self._token, self.campaign_id):
            self._closed = True
            await self.close(code=CLOSE_UNAUTHORIZED)
