"""Inställningar för SMS-portalen.

En enda inställningsfil: det en klinik själv väljer (adresser, nycklar, leverantörer,
lagringstider) läses från miljön (eller från `.env`) med django-environ; portalens egna regler
är namngivna konstanter här, med skälet bredvid. Inbäddat standardläge (SQLite, kanal-lager i
minnet, django-q2 med ORM-mäklare, konsol-SMS) kräver ingenting annat installerat. Med
`REDIS_URL` används Redis för kanal-lager, cache och django-q2. Inga hemligheter har
produktionsvärden.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.connection import parse_url
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent

# Exempellösenordet i .env.example (från klinikens specifikation); får aldrig användas i drift.
EXAMPLE_ADMIN_PASSWORD = "byt-detta-lösenord"

env = environ.Env()
# ENV_FILE pekar ut en annan fil; tom sträng betyder "läs ingen fil" (används av testerna).
_env_file = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if _env_file and Path(_env_file).is_file():
    # Befintliga miljövariabler vinner över filen.
    env.read_env(_env_file, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# --- Hemligheter -------------------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY saknas. Sätt en lång slumpmässig nyckel i miljön eller i .env "
            "(DEBUG är avstängt, så ingen utvecklingsnyckel används)."
        )
    SECRET_KEY = "django-insecure-endast-for-utveckling"

ADMIN_USERNAME = env.str("ADMIN_USERNAME", default="admin")
ADMIN_PASSWORD = env.str("ADMIN_PASSWORD", default="")

# --- Adresser ------------------------------------------------------------------------
# I utvecklingsläge följer standardadressen PORT (som `make run` lyssnar på).
PUBLIC_BASE_URL = env.str(
    "PUBLIC_BASE_URL", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}" if DEBUG else ""
).rstrip("/")
if not PUBLIC_BASE_URL and not DEBUG:
    raise ImproperlyConfigured(
        "PUBLIC_BASE_URL saknas: portalens publika adress (t.ex. https://sms.example.se) "
        "behövs för patientlänkar och leveransrapporter."
    )
_public_host = urlsplit(PUBLIC_BASE_URL).hostname or ""
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else ([_public_host] if _public_host else []),
)
# Portalen nås över HTTPS när den publika adressen är https: då gäller HTTPS-reglerna under
# Säkerhet (omdirigering, Secure-kakor, HSTS, proxyns X-Forwarded-Proto).
SERVED_OVER_HTTPS = PUBLIC_BASE_URL.startswith("https://")
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL] if SERVED_OVER_HTTPS else []

# --- Applikationer -------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    # Django admin, med en adminsajt där listornas åtgärder prövar urvalet (config/admin_site.py).
    "config.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "django_q",
    "django_ratelimit",
    "csp",
    # Tvåstegsverifiering: django-otp och dess TOTP-enheter (reservkoderna finns i accounts).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "config.apps.PortalConfig",
    "audit",
    "accounts",
    "templates_app",
    "smsportal",
    "campaigns",
    "replies",
    "stats",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # NUL-tecken (%00) i adressen, frågesträngen eller ett huvud: 404 eller 400 innan något når
    # databasen (PostgreSQL vägrar NUL).
    "config.middleware.RejectNulMiddleware",
    # Djangos tomma 405 (en adress som bara tar POST, öppnad direkt) blir en svensk felsida.
    "config.middleware.MethodNotAllowedPageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.InactivityTimeoutMiddleware",
    # En inloggad session utan bekräftad andra faktor (när den krävs) loggas ut innan vyn körs.
    "accounts.middleware.SecondFactorMiddleware",
    "config.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Databasen låst eller nere: svensk sida "försök igen" (503) i stället för felsida 500.
    "config.database_errors.DatabaseOutageMiddleware",
    # django-axes ska ligga sist enligt dess dokumentation.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "smsportal.context_processors.dev_outbox",
            ],
        },
    },
]

# --- Databas, cache, kanal-lager, kö -------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Vänta på lås i stället för att genast ge "database is locked", och ta skrivlåset
    # redan när transaktionen börjar (samtidiga sändningar köas i stället för att krocka).
    # WAL: läsare väntar aldrig på en skrivare och tvärtom, så bara skrivningar köar. Med WAL
    # räcker synchronous=NORMAL: en commit kan gå förlorad vid strömavbrott, aldrig databasen.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
    # Anslutningen hålls öppen mellan begäranden och jobb (att öppna den och köra PRAGMA-raderna
    # kostar mer än ett kampanj-SMS:s egna frågor); hälsokontrollen tar en trasig ur bruk.
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Också antalet HTTP-begäranden en daphne-process kör åt gången (config.asgi, config.concurrency):
# fler än poolen har anslutningar ger bara trådar som väntar.
DATABASE_POOL_SIZE = env.int("DATABASE_POOL_SIZE", default=20)
# Längsta väntan på en anslutning ur poolen. I vanlig drift väntar en begäran aldrig (högst en
# begäran per anslutning, se ovan); den här gränsen gäller när databasen inte svarar: då får
# patienten "Tekniskt fel" och /healthz 503 efter så här många sekunder, inom övervakningens
# tidsgräns (omkring 10 s, se README), i stället för efter poolens standard 30 s.
DATABASE_POOL_TIMEOUT_SECONDS = 5
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # daphne kör varje pågående begäran i en egen tråd med egen anslutning: utan pool ger
    # många samtidiga patienter fler anslutningar än PostgreSQL:s max_connections (100) och
    # svaren går förlorade. Poolstorlek × antal daphne-processer ska ligga under den gränsen.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": DATABASE_POOL_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT_SECONDS,
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")


def redis_timeouts(socket_timeout: float) -> dict[str, Any]:
    """Tidsgränser för en Redis-anslutning: ett Redis som inte svarar får inte hänga en begäran.

    redis-py försöker annars om med väntetider i upp till en minut; här ett enda nytt försök.
    """
    return {"socket_connect_timeout": 2, "socket_timeout": socket_timeout, "retry": Retry(NoBackoff(), 1)}


# Kanal-lagrets lästidsgräns mot Redis: tre gånger lagrets egen väntan (5 s) på meddelanden.
CHANNEL_LAYER_READ_TIMEOUT_SECONDS = 15.0


def redis_backends(url: str) -> dict[str, dict[str, Any]]:
    """CACHES och CHANNEL_LAYERS i Redis på `url` (felproven använder samma mot ett Redis som är nere).

    Cachen ger efter när Redis inte svarar (config.cache): patientsidorna fungerar ändå.
    """
    return {
        "CACHES": {
            "default": {
                "BACKEND": "config.cache.FailOpenRedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "smsportal",
                "OPTIONS": redis_timeouts(socket_timeout=1),
            }
        },
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                # Lagret väntar själv upp till 5 s per läsning (BZPOPMIN) på meddelanden till en
                # websocket. redis-py 8 ger annars varje anslutning 5 s lästidsgräns, och en tyst
                # websocket dog då efter 10–30 s (1011). Därför en lästidsgräns långt över 5 s, som
                # ändå upptäcker ett Redis som hängt sig; ett Redis som är nere ger anslutningsfel
                # inom 2 s, och websocketen stängs snabbt (sidan pollar och kopplar upp igen).
                "CONFIG": {
                    "hosts": [
                        {
                            "address": url,
                            **redis_timeouts(socket_timeout=CHANNEL_LAYER_READ_TIMEOUT_SECONDS),
                            "retry": AsyncRetry(NoBackoff(), 1),
                        }
                    ],
                    "prefix": "smsportal",
                },
            }
        },
    }


if REDIS_URL:
    CACHES = redis_backends(REDIS_URL)["CACHES"]
    CHANNEL_LAYERS = redis_backends(REDIS_URL)["CHANNEL_LAYERS"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# django-ratelimit skyddar patientsidorna per IP-adress. Utan Redis räknar cachen i minnet,
# vilket bara är exakt i en process (inbäddat läge); dess kontroll E003 tystas då medvetet.
# W001 ("inte officiellt stödd") kommer även med RedisCache (känt, öppet ärende uppströms).
RATELIMIT_IP_META_KEY = "common.client_ip.client_ip"
# Redis nere: gränsen släpps hellre än att patienten inte kan svara (cachen ger då "saknas").
RATELIMIT_FAIL_OPEN = True
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + ([] if REDIS_URL else ["django_ratelimit.E003"])

Q_CLUSTER = {
    "name": "smsportal",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 250,
    "label": "Bakgrundsjobb",
}


def queue_redis(url: str) -> dict[str, Any]:
    """django-q2:s Redis-anslutning med tidsgränser (arbetarnas väntan på nya jobb, BLPOP, tar 1 s)."""
    return {**parse_url(url), **redis_timeouts(socket_timeout=5)}


if REDIS_URL:
    Q_CLUSTER["redis"] = queue_redis(REDIS_URL)
else:
    Q_CLUSTER["orm"] = "default"

# --- Inloggning, sessioner, roller ---------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Klinikens identitetsleverantör (OpenID Connect); gör ingenting utan OIDC_RP_CLIENT_ID.
    "accounts.oidc.PortalOIDCBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Inloggning via klinikens identitetsleverantör (OpenID Connect, mozilla-django-oidc) ----
# Av när OIDC_RP_CLIENT_ID saknas. På: inloggningssidan visar "Logga in med klinikens
# inloggning", leverantören står för den andra faktorn (se README), och kontot matchas på
# OIDC_STABLE_CLAIM. Grupperna i OIDC_GROUPS_CLAIM ger rollen: OIDC_STAFF_GROUPS personal,
# OIDC_ADMIN_GROUPS administratör; den som saknar båda nekas.
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid profile email"
OIDC_STABLE_CLAIM = env("OIDC_STABLE_CLAIM", default="sub")
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
OIDC_STAFF_GROUPS = env.list("OIDC_STAFF_GROUPS", default=[])
OIDC_ADMIN_GROUPS = env.list("OIDC_ADMIN_GROUPS", default=[])
OIDC_USE_PKCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_callback"
OIDC_TIMEOUT = 10
if OIDC_RP_CLIENT_ID:
    _oidc_missing = [
        name
        for name in (
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name]
    ]
    if _oidc_missing or not (OIDC_STAFF_GROUPS or OIDC_ADMIN_GROUPS):
        raise ImproperlyConfigured(
            "OIDC_RP_CLIENT_ID är satt men följande saknas: "
            + ", ".join(_oidc_missing or ["OIDC_STAFF_GROUPS eller OIDC_ADMIN_GROUPS"])
        )

# --- Tvåstegsverifiering för personalen (HSLF-FS 2016:40 3 kap. 15 §) -------------------
# true: varje personalkonto loggar in med lösenord och en engångskod (TOTP) eller reservkod;
# ett konto utan app skickas till aktiveringen direkt efter lösenordet. Standard: på i drift
# (DEBUG av), av i utveckling. Ett konto som har en app får frågan om kod även när det är av.
STAFF_MFA_REQUIRED = env.bool("STAFF_MFA_REQUIRED", default=not DEBUG)
# Utfärdaren som autentiseringsappen visar vid kontot.
OTP_TOTP_ISSUER = "Södermalms Ortopedi"
# django-axes sparar formulärdata från misslyckade försök: koden maskeras liksom lösenordet.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]

SESSION_TIMEOUT_MINUTES = env.int("SESSION_TIMEOUT_MINUTES", default=30)
# Inaktivitetsgränsen upprätthålls av accounts.middleware: bara användarens egna
# sidvisningar räknas, aldrig bakgrundsanrop som polling eller websockets. Själva sessionen
# lever högst en arbetsdag, så att utloggningen kan förklaras på inloggningssidan.
SESSION_COOKIE_AGE = 12 * 60 * 60
# Databassessioner där en kaka med fel tecken (t.ex. NUL) aldrig slås upp: annars 500 i PostgreSQL.
SESSION_ENGINE = "accounts.session_store"
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-axes: fem fel lösenord ger 15 minuters spärr för kombinationen användarnamn + IP.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_DISABLE_ACCESS_LOG = True  # egna inloggningar loggas i audit-appen
# Spärr per konto från alla adresser (portalens regel ovanpå django-axes, accounts/lockout.py):
# så här många fel för ett användarnamn inom en timme spärrar kontot från alla adresser i
# AXES_COOLOFF_TIME, eller tills en administratör låser upp det. En och samma adress räknas
# högst AXES_FAILURE_LIMIT gånger, så ingen enskild adress kan spärra kontot (gränsen ska därför
# vara större än AXES_FAILURE_LIMIT). 0 = av.
AXES_USERNAME_FAILURE_LIMIT = 20
AXES_HANDLER = "accounts.lockout.PortalAxesHandler"
# Varje fel sparas (användarnamn, adress, tid) för räkningen per konto; raderas efter en timme
# plus spärrtiden (vid nästa fel, annars av timschemat i config/schedules.py).
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Antal betrodda proxyer framför portalen (för klientens IP-adress).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "common.client_ip.client_ip"

# --- SMS ------------------------------------------------------------------------------
# Leverantörer i failover-ordning. console (skriver ut) och locmem (tester) skickar inget.
SMS_PROVIDERS = env.list("SMS_PROVIDERS", default=["console"] if DEBUG else [])
if not SMS_PROVIDERS:
    raise ImproperlyConfigured("SMS_PROVIDERS saknas: ange SMS-leverantörer i failover-ordning, t.ex. sinch,twilio.")
# console sparar SMS:ens text i utvecklingsutkorgen (smsportal.devoutbox): aldrig i drift.
if "console" in SMS_PROVIDERS and not DEBUG:
    raise ImproperlyConfigured(
        "SMS_PROVIDERS innehåller console, som bara får användas i utvecklingsläge (DEBUG=true): "
        "den skickar inga SMS och sparar texterna i utvecklingsutkorgen. Ange riktiga "
        "leverantörer, t.ex. SMS_PROVIDERS=sinch,twilio."
    )
# Avsändare: ett alfanumeriskt namn gör SMS:et envägs (patienten kan inte svara).
SMS_SENDER_ID = env.str("SMS_SENDER_ID", default="SodermOrto")
if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,10}", SMS_SENDER_ID):
    raise ImproperlyConfigured(
        "SMS_SENDER_ID måste vara 3–11 bokstäver (a–z) eller siffror och börja med en bokstav, t.ex. SodermOrto."
    )
# Tidsgräns (sekunder) för varje anrop till en leverantör.
SMS_TIMEOUT_SECONDS = 10.0
# Hemlig token i återanropsadressen för leveransrapporter (46elks, och Sinch utan signering).
SMS_WEBHOOK_TOKEN = env.str("SMS_WEBHOOK_TOKEN", default="")
# Funktioner som får varje ny leveransstatus (smsportal.delivery.DeliveryReport); ingen miljövariabel.
SMS_DELIVERY_LISTENERS = ["campaigns.delivery.on_delivery_report"]
# Sinch: service plan id, API-token, region (eu/us) och valfri signeringshemlighet för webhooks.
SINCH_SERVICE_PLAN_ID = env.str("SINCH_SERVICE_PLAN_ID", default="")
SINCH_API_TOKEN = env.str("SINCH_API_TOKEN", default="")
SINCH_REGION = env.str("SINCH_REGION", default="eu")
SINCH_WEBHOOK_SECRET = env.str("SINCH_WEBHOOK_SECRET", default="")
# Twilio: konto och token (token kontrollerar också webhook-signaturer).
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# 46elks: API-användarnamn och lösenord.
ELKS46_API_USERNAME = env.str("ELKS46_API_USERNAME", default="")
ELKS46_API_PASSWORD = env.str("ELKS46_API_PASSWORD", default="")
# Annan adress till leverantörens API (tester mot lokala låtsasservrar, proxy).
SINCH_BASE_URL = env.str("SINCH_BASE_URL", default="")
TWILIO_BASE_URL = env.str("TWILIO_BASE_URL", default="")
ELKS46_BASE_URL = env.str("ELKS46_BASE_URL", default="https://api.46elks.com/a1")
# Max antal envägs-SMS per användare och rullande timme (räknas ur SMS-registret, smsportal.quota).
SMS_RATE_LIMIT_PER_HOUR = env.int("SMS_RATE_LIMIT_PER_HOUR", default=30)
if SMS_RATE_LIMIT_PER_HOUR < 1:
    raise ImproperlyConfigured("SMS_RATE_LIMIT_PER_HOUR måste vara minst 1.")
# Signaturen som avslutar varje mall-SMS.
SMS_SIGNATURE = env.str("SMS_SIGNATURE", default="/Södermalms Ortopedi")
# Längsta meddelandetext som går att skicka från sändsidan (tecken): fyra SMS-delar à 153 tecken.
# Signaturen läggs till efter (och kan ge en femte del); en aktiv mall får inte bli längre.
SMS_MAX_LENGTH = 612

# --- Akut-SMS-kampanjer ---------------------------------------------------------------
# Nyckel för HMAC-SHA256 av mottagarnas nummer (dubblettkontroll). Ligger aldrig i databasen.
PHONE_HASH_KEY = env.str("PHONE_HASH_KEY", default="")
if not PHONE_HASH_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "PHONE_HASH_KEY saknas: en lång slumpmässig nyckel för kampanjmottagarnas "
            "nummerhash (inte samma som SECRET_KEY)."
        )
    PHONE_HASH_KEY = "endast-for-utveckling-" + SECRET_KEY
# Fernet-nycklar (kommaseparerade) för mottagarnas nummer fram till sändning: den första
# krypterar, alla dekrypterar (byte av nyckel: lägg den nya först, se README). Egna nycklar,
# inte SECRET_KEY: den som har SECRET_KEY kan inte läsa numren, och byte av SECRET_KEY gör
# aldrig ett köat nummer oläsbart. I utvecklingsläge härleds en nyckel ur SECRET_KEY som förut.
from config import keys as _keys  # noqa: E402  (portalens nyckelregler, bara stdlib och cryptography)

PHONE_ENCRYPTION_KEYS = [key.strip() for key in env.list("PHONE_ENCRYPTION_KEYS", default=[]) if key.strip()]
if not PHONE_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "PHONE_ENCRYPTION_KEYS saknas: minst en Fernet-nyckel för kampanjmottagarnas nummer "
            f"(inte härledd ur SECRET_KEY). Skapa en med: {_keys.GENERATE_FERNET}"
        )
    PHONE_ENCRYPTION_KEYS = [_keys.development_encryption_key(SECRET_KEY)]
# Varje nyckel ska vara en riktig Fernet-nyckel, även i utvecklingsläge (annars misslyckas varje sändning).
_bad_fernet = [
    error
    for name, key in _keys.encryption_key_names(PHONE_ENCRYPTION_KEYS).items()
    if (error := _keys.fernet_key_error(name, key))
]
if _bad_fernet:
    raise ImproperlyConfigured(" ".join(_bad_fernet))
# Högst så här många mottagare per kampanj.
CAMPAIGN_MAX_RECIPIENTS = env.int("CAMPAIGN_MAX_RECIPIENTS", default=50)
# Ungefärligt pris per SMS-del i kronor, för kostnadsuppskattningen före sändning.
SMS_PRICE_PER_SEGMENT_SEK = env.float("SMS_PRICE_PER_SEGMENT_SEK", default=0.35)
# Vad en tillsatt tid är värd i kronor (en inställd operation kostar kliniken omkring 10 000 kr):
# statistikens "återvunnet värde" är tillsatta tider gånger detta.
SLOT_VALUE_SEK = env.int("SLOT_VALUE_SEK", default=10_000)
if SLOT_VALUE_SEK < 0:
    raise ImproperlyConfigured("SLOT_VALUE_SEK ska vara 0 eller mer (kronor).")
# Kampanjer (namn, svar) raderas så här många dagar efter att de skapades.
CAMPAIGN_RETENTION_DAYS = env.int("CAMPAIGN_RETENTION_DAYS", default=7)
# Leverantörens gräns: högst så många kampanj-SMS per sekund från ett django-q2-kluster
# (fördelas på dess Q_WORKERS arbetsprocesser; 0 = ingen gräns). Kör kluster på flera
# maskiner: dela leverantörens gräns mellan dem.
CAMPAIGN_SMS_PER_SECOND = env.float("CAMPAIGN_SMS_PER_SECOND", default=10.0)
if CAMPAIGN_SMS_PER_SECOND < 0 or 0 < CAMPAIGN_SMS_PER_SECOND < Q_CLUSTER["workers"] / 60:
    # Väntan per arbetsprocess (Q_WORKERS / gränsen) får inte närma sig jobbens tidsgräns (120 s).
    raise ImproperlyConfigured(
        "CAMPAIGN_SMS_PER_SECOND ska vara 0 (ingen gräns) eller minst Q_WORKERS / 60 SMS per sekund."
    )
# Alla leverantörer tillfälligt nere (går inte att nå, 5xx, 429): ett kampanj-SMS provas igen
# med ökande väntan (1, 2, 4, 4 … minuter) i så här många minuter från första felet innan det
# blir "misslyckades" (0 = inget nytt försök). Numret ligger krypterat kvar tills dess.
CAMPAIGN_SEND_RETRY_MINUTES = 15
# Nummer till patienter som svarat JA: false (standard, förstudiens regel) = inget nummer sparas
# efter sändningen, personalen slår upp patienten i journalen; true = numret till den som svarat
# JA sparas krypterat tills kampanjen tar slut ("Visa nummer", tack-SMS), sedan raderas det.
# NEJ och obesvarade raderas alltid (se README, Dataskydd).
CAMPAIGN_KEEP_YES_NUMBERS = env.bool("CAMPAIGN_KEEP_YES_NUMBERS", default=False)
# Tyst tid för sändning i grupper, "20-07" = från kl 20 till kl 07 (klinikens tid, Europe/Stockholm);
# en grupp som blir aktuell då väntar till tyst tids slut, utom när personalen trycker
# "Skicka nästa grupp nu". Tomt = ingen tyst tid.
CAMPAIGN_QUIET_HOURS = env.str("CAMPAIGN_QUIET_HOURS", default="20-07").strip()
if CAMPAIGN_QUIET_HOURS and not re.fullmatch(r"([01]?\d|2[0-3])-([01]?\d|2[0-3])", CAMPAIGN_QUIET_HOURS):
    raise ImproperlyConfigured("CAMPAIGN_QUIET_HOURS ska vara två timmar, t.ex. 20-07, eller tomt (ingen tyst tid).")
# Personalens SMS-avisering: false = bara vid kampanjens första JA, true = vid varje JA.
CAMPAIGN_ALERT_EVERY_YES = env.bool("CAMPAIGN_ALERT_EVERY_YES", default=False)
# Patientsidorna /s/<kod>: true = en patient som samtyckt ser sitt förnamn och operationstypen;
# false = varje patientsida visar bara tiden och kliniken, för alla (länken är ingen stark
# autentisering, HSLF-FS 2016:40 3 kap. 15 §; se README, Dataskydd).
PATIENT_PAGE_DETAILS = env.bool("PATIENT_PAGE_DETAILS", default=True)
# "Jag vill inte få fler sådana SMS": numrets nyckelhash och datumet sparas så här många dagar
# (campaigns.optout; raderingen körs varje natt). Under tiden får numret inga nya förfrågningar.
OPT_OUT_RETENTION_DAYS = env.int("OPT_OUT_RETENTION_DAYS", default=365)
if OPT_OUT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("OPT_OUT_RETENTION_DAYS ska vara minst 1 (dagar).")
# Klinikens telefonnummer på patientsidorna ("Vid frågor: …", och hur man återkallar sitt samtycke),
# t.ex. "08-123 45 67". Tomt: sidorna hänvisar till klinikens webbplats; `check --deploy` varnar.
CLINIC_PHONE = env.str("CLINIC_PHONE", default="").strip()
# Åtkomstloggen (vem i personalen som såg vilken kampanj eller logg, bara id:n) sparas så här
# många dagar, som audit-loggen minst fem år (HSLF-FS 2016:40 4 kap. 9 §); raderingen körs med
# kampanjernas varje timme.
ACCESS_LOG_RETENTION_DAYS = env.int("ACCESS_LOG_RETENTION_DAYS", default=5 * 365 + 2)
if ACCESS_LOG_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("ACCESS_LOG_RETENTION_DAYS ska vara minst 1 (dagar).")
# Audit-loggen (vem i personalen gjorde vad, och kampanjernas statistik) sparas så här många
# dagar; raderingen körs varje natt. Standard fem år (två skottdagar inräknade): loggarna över
# åtgärder med patientuppgifter ska sparas minst fem år (HSLF-FS 2016:40 4 kap. 9 §).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=5 * 365 + 2)
if AUDIT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS ska vara minst 1 (dagar).")
# Kampanjsidans liveläge (förklaras i campaigns/consumers.py). Med Redis når händelserna alla
# processer och websocketen frågar aldrig databasen medan inget händer (0 = ingen reserv). Kanal-
# lagret i minnet når bara den egna processen: då kontrollerar websocketen själv kampanjen var
# 0,5 s, så att ändringar från django-q2:s arbetsprocesser (sändstatus) syns inom en sekund.
# (Mätskripten i bench/ sätter ett högt värde för att mäta bara händelserna.)
LIVE_POLL_SECONDS = 0.0 if REDIS_URL else 0.5
# Hur ofta websocketen kontrollerar att sessionen fortfarande gäller (utloggning, inaktivitet).
LIVE_SESSION_CHECK_SECONDS = 15.0

# --- Exempelvärden ----------------------------------------------------------------------
# Ett värde kopierat rakt ur .env.example är inte hemligt: med DEBUG av stoppar det starten.
EXAMPLE_VALUES = {
    "SECRET_KEY": "generera-en-säker-nyckel-här",
    "ADMIN_PASSWORD": EXAMPLE_ADMIN_PASSWORD,
    "PHONE_HASH_KEY": "generera-en-annan-lång-slumpmässig-nyckel",
    "SMS_WEBHOOK_TOKEN": "generera-en-lång-slumpmässig-token",
}
# Leverantörernas uppgifter prövas bara för leverantörer i SMS_PROVIDERS: en oanvänd leverantörs
# rader får stå kvar som i .env.example.
PROVIDER_EXAMPLE_VALUES = {
    "sinch": {"SINCH_SERVICE_PLAN_ID": "xxx", "SINCH_API_TOKEN": "xxx"},
    "twilio": {"TWILIO_ACCOUNT_SID": "xxx", "TWILIO_AUTH_TOKEN": "xxx"},
    "elks46": {"ELKS46_API_USERNAME": "xxx", "ELKS46_API_PASSWORD": "xxx"},
}
for _provider in SMS_PROVIDERS:
    EXAMPLE_VALUES.update(PROVIDER_EXAMPLE_VALUES.get(_provider, {}))
_copied = [name for name, example in EXAMPLE_VALUES.items() if globals()[name] == example]
if _copied and not DEBUG:
    raise ImproperlyConfigured(
        f"{', '.join(_copied)} har exempelvärdet från .env.example (till exempel exempellösenordet). "
        "Välj egna värden innan portalen startas med DEBUG avstängt."
    )
# Nycklarna prövas (regeln i config/keys.py): PHONE_HASH_KEY och en satt SMS_WEBHOOK_TOKEN med
# minst 32 byte slump, utan upprepningar; ingen nyckel samma som SECRET_KEY eller en annan.
# `check --deploy` gör samma prövning (config/checks.py).
if not DEBUG:
    _key_problems = _keys.key_problems(
        secret_key=SECRET_KEY,
        phone_hash_key=PHONE_HASH_KEY,
        webhook_token=SMS_WEBHOOK_TOKEN,
        encryption_keys=PHONE_ENCRYPTION_KEYS,
        examples=EXAMPLE_VALUES,
    )
    if _key_problems:
        raise ImproperlyConfigured("Nycklarna duger inte:\n- " + "\n- ".join(_key_problems))

# --- Språk och tid -------------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska")]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

# --- Statiska filer ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Utan insamlade filer (utveckling, tester) faller vi tillbaka på ohashade namn.
WHITENOISE_MANIFEST_STRICT = False
WHITENOISE_USE_FINDERS = DEBUG

# --- Säkerhet ------------------------------------------------------------------------
# Med en https-adress (SERVED_OVER_HTTPS) och DEBUG av: HTTP skickas till HTTPS, kakorna går bara
# över HTTPS, HSTS i ett år (även underdomäner, klar för preload-listan) och proxyns
# X-Forwarded-Proto gäller (nginx framför daphne, deploy/nginx/smsportal.conf).
_https_only = SERVED_OVER_HTTPS and not DEBUG
SECURE_SSL_REDIRECT = _https_only
# Hälsokontrollen (config/health.py) svarar även över vanlig HTTP: en övervakare på det interna
# nätet kan fråga daphne direkt (ALLOWED_HOSTS gäller ändå: använd portalens namn i Host).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if _https_only:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = _https_only
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 31_536_000 if _https_only else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin": patientlänkar läcker aldrig till andra webbplatser, och formulär behåller
# sitt Origin-huvud (med "no-referrer" skickar webbläsare "Origin: null" och CSRF fallerar).
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

# Strikt Content-Security-Policy: inga inline-skript, inget från tredje part.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Felrapporter till IT ----------------------------------------------------------------
# Fel (ERROR och värre) skickas som korta brev utan persondata till ADMINS, och till Sentry om
# SENTRY_DSN är satt (config/error_reports.py; vad ett brev innehåller står i README, Felrapporter).
from config import error_reports as _error_reports  # noqa: E402  (löv: bara log_redaction)

# Kommaseparerade adresser, med eller utan namn: ADMINS=it@klinik.se,Jour IT <jour@klinik.se>.
# Tom = inga brev.
ADMINS = _error_reports.parse_admins(env.str("ADMINS", default=""))
SERVER_EMAIL = env.str("SERVER_EMAIL", default="sms-portalen@localhost")
DEFAULT_FROM_EMAIL = SERVER_EMAIL
EMAIL_SUBJECT_PREFIX = "[SMS-portalen] "
# E-postserver som adress: smtp+tls://användare:lösenord@smtp.example.se:587 (STARTTLS),
# smtp+ssl://…:465 eller smtp://localhost:25. I utvecklingsläge skrivs breven ut i terminalen.
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://" if DEBUG else "")
if ADMINS and not EMAIL_URL:
    raise ImproperlyConfigured(
        "ADMINS är satt men EMAIL_URL saknas: ange e-postservern, t.ex. "
        "EMAIL_URL=smtp+tls://användare:lösenord@smtp.example.se:587"
    )
if EMAIL_URL:
    globals().update(_error_reports.email_settings(EMAIL_URL))
# En e-postserver som inte svarar får inte hålla kvar felsidan länge.
EMAIL_TIMEOUT = 10
# Samma fel skickas högst en gång per så här många minuter och process.
ERROR_REPORT_REPEAT_MINUTES = 15
# Sentry (valfritt): bara EU-regionen (*.de.sentry.io) om inte SENTRY_ALLOW_NON_EU=true.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    _error_reports.init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="produktion"),
        allow_non_eu=env.bool("SENTRY_ALLOW_NON_EU", default=False),
    )

# --- Loggning ------------------------------------------------------------------------
# Regel: inga telefonnummer och ingen meddelandetext i loggarna, på någon nivå. Svarskoder
# (/s/<kod>) och webhook-token tas bort av filtret redact_secrets, som sitter på varje hanterare.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "config.log_redaction.RedactSecrets"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
        # Brev till ADMINS (ERROR och värre) utan persondata; gör ingenting när ADMINS är tom.
        "error_mail": {
            "()": "config.error_reports.ErrorMailHandler",
            "level": "ERROR",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console", "error_mail"], "level": LOG_LEVEL},
    "loggers": {
        # Djangos egna hanterare (DEFAULT_LOGGING: konsol i DEBUG, e-post till ADMINS) saknar
        # filtret: allt från django.* går i stället till rotens hanterare.
        "django": {"handlers": [], "propagate": True},
        # Djangos begäranlogg skriver ut hela sökvägar; patientlänkar hör inte hemma där.
        "django.request": {"level": "ERROR"},
        # Utan propagate (DEFAULT_LOGGING stänger av den) hamnade raderna ofiltrerade i stderr.
        "django.server": {"level": "WARNING", "propagate": True},
    },
}
