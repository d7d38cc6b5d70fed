"""Hälsokontrollen `/healthz` för klinikens övervakning (pollas t.ex. var tionde sekund).

Svaret är JSON: databasen, cachen/Redis, django-q2-klustrets senaste livstecken och om
SMS-leverantörerna är inställda. 200 när allt fungerar, annars 503 med de trasiga delarna
uppräknade i `failing`. Nycklarna är engelska (maskiner läser dem); det en människa läser
(status, läge, orsak) är svenska.

Val och skäl:

- Billig: två databasfrågor (`SELECT 1` och klustrets senaste körning), en Redis-PING per
  Redis-adress (i drift en enda) och inga anrop till SMS-leverantörerna (deras inställningar
  prövas av backendernas konstruktorer, samma kontroll som vid varje sändning).
- Ingen persondata och inga hemligheter: inga värdnamn, adresser eller lösenord ur
  DATABASE_URL/REDIS_URL, bara feltypen (t.ex. `OperationalError`).
- Vyn fångar själv databasfel och svarar JSON 503: `DatabaseOutageMiddleware` får aldrig se
  felet (den skulle annars svara med en HTML-sida).
- Ingen inloggning, ingen session och ingen CSRF-kaka: vyn rör varken `request.user` eller
  `request.session`. Portalens middleware för inaktivitet och andra faktor gör bara något med
  inloggade sessioner, och ingen av dem omdirigerar (en övervakare har ingen sessionskaka).
  `Cache-Control: no-store` (never_cache). Ingen gräns per IP (django-ratelimit sitter bara på
  patientsidorna), så polling var tionde sekund stoppas aldrig.
- HTTPS-omdirigeringen undantar `healthz` (SECURE_REDIRECT_EXEMPT i inställningarna), så att en
  övervakare på det interna nätet kan fråga daphne direkt över vanlig HTTP. ALLOWED_HOSTS gäller
  fortfarande: fråga genom nginx, eller med portalens publika namn i Host-huvudet.

Klustrets livstecken: det senaste avslutade jobbet (lyckat eller misslyckat) från schemat som
köar om fastnade SMS varje minut (`campaigns.tasks.requeue_stuck_work`, registrerat i
campaigns/apps.py), läst ur django-q2:s egen tabell `django_q_task`. Varför just det:
- Raden skrivs först när en arbetsprocess har kört jobbet (`stopped`) och klustrets monitor har
  sparat resultatet: den visar att schemaläggaren tickar, att kön levererar och att arbetarna
  arbetar. `Schedule.next_run` visar bara att schemaläggaren tickar.
- Den fungerar med båda köerna: även med Redis-kön sparar django-q2 resultaten i databasen.
  django-q2:s egen status (Stat) ligger i cachen, som i inbäddat läge är processens eget minne
  och alltså osynlig för webbprocessen.
- Ingen egen modell eller migrering behövs. Det senaste jobbet finns alltid kvar: `save_limit`
  (250) raderar de äldsta lyckade jobben först, och städningen av gamla jobb tar bara rader
  äldre än flera dagar.
Gräns: äldre än HEARTBEAT_MAX_AGE (5 minuter; schemat körs varje minut och schemaläggaren
tittar ungefär var 30:e sekund) ger 503. Har jobbet aldrig körts (nyinstallerat, klustret aldrig
startat) blir det 503 med orsaken "aldrig".
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import Error as DatabaseError
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.models import Task
from redis.exceptions import RedisError

from campaigns.tasks import requeue_stuck_work
from config.settings import redis_timeouts
from smsportal.sending import get_backend

logger = logging.getLogger(__name__)

#: django-q2:s namn på minutschemats funktion (så som det står i `django_q_task.func`).
HEARTBEAT_FUNC = f"{requeue_stuck_work.__module__}.{requeue_stuck_work.__qualname__}"
#: Äldre livstecken än så här betyder att klustret inte arbetar.
HEARTBEAT_MAX_AGE = timedelta(minutes=5)
#: Lästidsgräns för Redis-PING (anslutning: 2 s, ett nytt försök; se `redis_timeouts`).
REDIS_SOCKET_TIMEOUT = 1.0
#: Kanal-lagret som pratar med Redis (samma REDIS_URL som cachen i drift).
REDIS_CHANNEL_LAYER = "channels_redis.core.RedisChannelLayer"
#: Cachebackenderna som ligger i Redis (portalens egen och Djangos).
REDIS_CACHE_BACKENDS = ("config.cache.FailOpenRedisCache", "django.core.cache.backends.redis.RedisCache")

Part = dict[str, Any]


def elapsed_ms(started: float) -> float:
    """Millisekunder sedan `started` (time.perf_counter()), en decimal."""
    return round((time.perf_counter() - started) * 1000, 1)


def check_database() -> Part:
    """En trivial fråga (`SELECT 1`) mot databasen; fel ger bara feltypen, aldrig adress eller SQL."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return {"ok": False, "reason": f"databasen svarar inte ({type(error).__name__})"}
    return {"ok": True, "ms": elapsed_ms(started)}


def redis_urls() -> list[str]:
    """Redis-adresserna som cachen och kanal-lagret använder, utan dubbletter (i drift en enda).

    Tom lista i inbäddat läge (cache och kanal-lager i processens minne).
    """
    urls: list[str] = []
    cache = settings.CACHES["default"]
    if cache["BACKEND"] in REDIS_CACHE_BACKENDS:
        location = cache["LOCATION"]
        # Samma uppdelning som Djangos RedisCache (flera servrar: skrivservern först).
        urls += re.split("[;,]", location) if isinstance(location, str) else list(location)
    layer = settings.CHANNEL_LAYERS["default"]
    if layer["BACKEND"] == REDIS_CHANNEL_LAYER:
        for host in layer.get("CONFIG", {}).get("hosts", []):
            address = host["address"] if isinstance(host, dict) else host
            urls.append(address if isinstance(address, str) else "redis://{}:{}".format(*address))
    return list(dict.fromkeys(url.strip() for url in urls if url.strip()))


def ping_redis(url: str) -> None:
    """PING med portalens korta tidsgränser, direkt med redis-py.

    Inte genom cachen: FailOpenRedisCache sväljer medvetet Redis-fel (se config/cache.py).
    """
    client = redis.Redis.from_url(url, **redis_timeouts(socket_timeout=REDIS_SOCKET_TIMEOUT))
    try:
        client.ping()
    finally:
        client.close()


def check_cache() -> Part:
    """Redis (cache, kanal-lager) svarar på PING; utan REDIS_URL är cachen inbäddad och alltid ok."""
    urls = redis_urls()
    if not urls:
        return {"ok": True, "mode": "inbäddat"}
    started = time.perf_counter()
    try:
        for url in urls:
            ping_redis(url)
    except RedisError as error:
        return {"ok": False, "mode": "redis", "reason": f"Redis svarar inte ({type(error).__name__})"}
    return {"ok": True, "mode": "redis", "ms": elapsed_ms(started)}


def last_heartbeat() -> tuple[datetime, bool] | None:
    """När minutschemats senaste jobb blev klart och om det lyckades; None om det aldrig körts."""
    return Task.objects.filter(func=HEARTBEAT_FUNC).order_by("-stopped").values_list("stopped", "success").first()


def check_cluster(now: datetime) -> Part:
    """django-q2-klustrets livstecken: minutschemats senaste körning, högst HEARTBEAT_MAX_AGE gammal."""
    max_age = int(HEARTBEAT_MAX_AGE.total_seconds())
    try:
        heartbeat = last_heartbeat()
    except DatabaseError as error:
        return {"ok": False, "reason": f"klustrets jobb kan inte läsas ({type(error).__name__})"}
    if heartbeat is None:
        return {
            "ok": False,
            "max_age_seconds": max_age,
            "reason": "aldrig: inget bakgrundsjobb har körts ännu (är manage.py qcluster startat?)",
        }
    stopped, succeeded = heartbeat
    age = max(0, int((now - stopped).total_seconds()))
    part: Part = {
        "ok": age <= max_age,
        "last_heartbeat_seconds": age,
        "max_age_seconds": max_age,
        "last_run_succeeded": succeeded,
    }
    if not part["ok"]:
        part["reason"] = (
            f"senaste bakgrundsjobbet blev klart för {age // 60} minuter sedan "
            "(körs manage.py qcluster, och har det kontakt med kön?)"
        )
    return part


def check_sms() -> Part:
    """SMS_PROVIDERS är satt och varje leverantörs inställningar finns; leverantören anropas aldrig.

    Samma kontroll som före varje sändning: backendens konstruktor (`require_settings` m.fl.)
    kastar ImproperlyConfigured när något saknas. Meddelandet visas inte här (svaret är öppet
    för alla); `manage.py sms_check` visar det.
    """
    providers = [str(name) for name in settings.SMS_PROVIDERS]
    if not providers:
        return {"ok": False, "providers": [], "reason": "SMS_PROVIDERS är tom"}
    misconfigured = []
    for name in providers:
        try:
            get_backend(name)
        except (ImproperlyConfigured, ImportError):
            misconfigured.append(name)
    if misconfigured:
        return {
            "ok": False,
            "providers": providers,
            "misconfigured": misconfigured,
            "reason": "inställningar saknas eller är felaktiga (se manage.py sms_check)",
        }
    return {"ok": True, "providers": providers}


def run_checks() -> dict[str, Part]:
    """Alla delar. Svarar inte databasen hoppas klustret över (`ok` None: okänt, inte ett eget fel)."""
    database = check_database()
    if database["ok"]:
        cluster = check_cluster(timezone.now())
    else:
        cluster = {"ok": None, "reason": "okänt: databasen svarar inte"}
    return {"database": database, "cache": check_cache(), "cluster": cluster, "sms": check_sms()}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """GET/HEAD /healthz: 200 när allt fungerar, annars 503 med de trasiga delarna i `failing`."""
    parts = run_checks()
    failing = [name for name, part in parts.items() if part["ok"] is False]
    body = {"status": "fel" if failing else "ok", "failing": failing, **parts}
    response = JsonResponse(body, status=503 if failing else 200, json_dumps_params={"ensure_ascii": False})
    if failing:
        # En rad per misslyckad kontroll räcker; Djangos begäranlogg (ERROR "Service Unavailable")
        # skulle annars larma var tionde sekund under ett avbrott som övervakningen redan ser.
        # _has_been_logged är Djangos interna flagga (django.utils.log.log_response), utan typ i django-stubs.
        response._has_been_logged = True  # type: ignore[attr-defined]
        logger.warning("Hälsokontrollen svarade 503: %s", ", ".join(failing))
    return response
