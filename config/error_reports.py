"""Felrapporter till IT utan persondata: e-post till ADMINS och (valfritt) Sentry.

Djangos egen felrapport (AdminEmailHandler) skickar hela den tekniska rapporten: formulärets
fält (patientens nummer och SMS-texten), request.META, cookies och lokala variabler i varje ram.
En felspårares standardinställningar gör likadant. Rapporterna här är säkra genom konstruktionen:
de byggs av en vitlista, inte av en svartlista, och tar bara med

- tid, server (värdnamn och process), logger och nivå,
- felets TYP och anropskedjan som fil:rad i funktion med kodraden (kod, inga värden),
- begärans metod, sökväg (utan frågesträng, svarskoden bortrensad), vyns namn och användarens id,
- loggradens text bara från portalens egna loggar (som aldrig skriver nummer eller text).

Felets text tas aldrig med: tredjepartsbibliotek (leverantörernas SDK:er, databasdrivrutiner)
skriver gärna in det de fick, t.ex. numret eller SMS-texten, i sina felmeddelanden. Samma fel
skickas högst en gång per ERROR_REPORT_REPEAT_MINUTES och process (en leverantör som är nere ska
inte fylla IT:s brevlåda); nästa brev säger hur många som hoppades över.

Modulen importerar inget av portalens egna moduler utom lövet config.log_redaction.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import getaddresses
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.log_redaction import redact

if TYPE_CHECKING:
    # Sentrys typer finns bara för typkontrollen; sentry_sdk läses in först när Sentry startas.
    from sentry_sdk.types import Breadcrumb, BreadcrumbHint, DataCollectionUserOptions, Event, Hint

#: Djangos loggar för vägrade begäranden (SuspiciousOperation och CSRF): klientens fel, status 400/403.
SECURITY_LOGGER_PREFIX = "django.security."
#: Sentrys EU-region (data i Frankfurt): DSN:ens värd slutar så, t.ex. o123.ingest.de.sentry.io.
SENTRY_EU_HOST_SUFFIX = ".de.sentry.io"
#: Fälten i en Sentry-händelse som får skickas som de är (allt annat byggs om eller tas bort).
SENTRY_EVENT_KEYS = (
    "event_id",
    "timestamp",
    "level",
    "platform",
    "logger",
    "environment",
    "release",
    "server_name",
    "sdk",
    "transaction",
)
_SENTRY_FRAME_KEYS = (
    "filename",
    "abs_path",
    "module",
    "function",
    "lineno",
    "colno",
    "in_app",
    "context_line",
    "pre_context",
    "post_context",
)
_SENTRY_BREADCRUMB_KEYS = ("timestamp", "type", "category", "level")
_SENTRY_CONTEXT_KEYS = ("runtime", "os", "trace")
#: Vad Sentrys integrationer själva får samla in: ingenting om personer eller begäran. Varje fält
#: anges (ett utelämnat fält samlas in). Ersätter send_default_pii, som sentry-sdk 2.x avråder från.
SENTRY_DATA_COLLECTION: DataCollectionUserOptions = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {"request": {"mode": "off"}},
    "http_bodies": [],
    "url_query_params": {"mode": "off"},
    "graphql": {"document": False, "variables": False},
    "gen_ai": {"inputs": False, "outputs": False},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": False,
}
#: Högst så många undantag i en kedja (raise … from …) tas med i ett brev.
_MAX_CHAIN = 5


def parse_admins(value: str) -> list[tuple[str, str]]:
    """ADMINS ur miljön: kommaseparerade adresser, med eller utan namn
    (`it@klinik.se, Jour IT <jour@klinik.se>`), som Djangos lista av (namn, adress)."""
    admins = []
    for name, address in getaddresses([value]):
        if not address:
            continue
        if "@" not in address:
            raise ImproperlyConfigured(
                f"ADMINS: {address!r} är ingen e-postadress. Skriv t.ex. ADMINS=it@klinik.se,Jour IT <jour@klinik.se>"
            )
        admins.append((name or address, address))
    return admins


def email_settings(url: str) -> dict[str, Any]:
    """Djangos e-postinställningar ur EMAIL_URL (smtp://, smtp+tls://, smtp+ssl://, consolemail://)."""
    import environ

    parsed = environ.Env.email_url_config(url)
    wanted = (
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "EMAIL_USE_SSL",
        "EMAIL_FILE_PATH",
    )
    return {key: parsed[key] for key in wanted if parsed.get(key) not in (None, "")}


# --- E-post ---------------------------------------------------------------------------------


class ErrorMailHandler(logging.Handler):
    """Skickar ERROR och värre till ADMINS som en kort textrapport utan persondata.

    Gör ingenting när ADMINS är tom. Samma fel (logger, plats för loggraden, feltyp och innersta
    ram) skickas högst en gång per ERROR_REPORT_REPEAT_MINUTES i den här processen."""

    def __init__(self, level: int = logging.ERROR) -> None:
        """En hanterare med tomt minne av skickade fel."""
        super().__init__(level)
        self._lock = threading.Lock()
        self._sent: dict[tuple[str, ...], float] = {}
        self._skipped: dict[tuple[str, ...], int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        """Bygger rapporten och skickar den (tyst om e-posten inte går fram: felet står i loggen)."""
        if not settings.ADMINS or client_error(record):
            return
        try:
            skipped = self._due(fingerprint(record))
            if skipped is None:
                return
            subject, body = report(record, skipped)
            send_report(subject, body)
        except Exception:  # noqa: BLE001 – en felrapport får aldrig fälla den som loggade
            self.handleError(record)

    def _due(self, key: tuple[str, ...]) -> int | None:
        """Antalet överhoppade likadana fel om ett brev ska skickas nu, annars None (och räkna)."""
        window = settings.ERROR_REPORT_REPEAT_MINUTES * 60
        now = time.monotonic()
        with self._lock:
            last = self._sent.get(key)
            if last is not None and now - last < window:
                self._skipped[key] = self._skipped.get(key, 0) + 1
                return None
            self._sent[key] = now
            return self._skipped.pop(key, 0)

    def forget(self) -> None:
        """Glömmer vilka fel som skickats (för testerna)."""
        with self._lock:
            self._sent.clear()
            self._skipped.clear()


def send_report(subject: str, body: str) -> None:
    """Skickar rapporten till ADMINS som ren text (ingen HTML-del), med kort tidsgräns."""
    from django.core.mail import get_connection, mail_admins

    mail_admins(subject, body, fail_silently=True, connection=get_connection(fail_silently=True))


def fingerprint(record: logging.LogRecord) -> tuple[str, ...]:
    """Vad som gör två fel "samma": logger, loggradens plats, feltyp, innersta ram och innersta egna ram.

    Den innersta egna ramen (portalens kod, inte ett bibliotek) skiljer fel som slutar på samma
    ställe i ett bibliotek: varje databasfel slutar i Djangos databaslager och loggas av
    django.request, men ett fel i patientsvaret och ett i envägssändningen är två fel för IT.
    """
    error = _exception(record)
    innermost = own = ""
    if error is not None and error.__traceback__ is not None:
        frames = traceback.extract_tb(error.__traceback__)
        innermost = f"{frames[-1].filename}:{frames[-1].lineno}"
        own = next((f"{frame.filename}:{frame.lineno}" for frame in reversed(frames) if _is_own(frame.filename)), "")
    return (record.name, record.pathname, str(record.lineno), _type_name(error), innermost, own)


def client_error(record: logging.LogRecord) -> bool:
    """Sant för en loggrad om en begäran som var klientens fel (4xx): svaret är en svensk felsida, inget fel att rätta.

    Django loggar sina säkerhetsvägringar (django.security.*: för stor kropp, för många fält, okänd
    värd, manipulerade admin-adresser) som ERROR med status 400 i posten (`status_code`). Vem som helst på internet kan
    skicka sådana begäranden: som brev skulle de fylla IT:s brevlåda. Raden står kvar i loggen.
    """
    status = getattr(record, "status_code", None)
    return isinstance(status, int) and 400 <= status < 500


def report(record: logging.LogRecord, skipped: int = 0) -> tuple[str, str]:
    """Ämnesrad och brevtext: bara vitlistade uppgifter, och allt genom redact() till sist."""
    error = _exception(record)
    request = getattr(record, "request", None)
    where = _request_line(request) if request is not None else record.name
    what = _type_name(error).rsplit(".", 1)[-1] if error is not None else "loggat fel"
    # Sökvägen sist: redact() tar allt efter /s/ fram till nästa blanksteg.
    subject = f"{record.levelname}: {what} vid {where}"
    lines = [
        "Ett fel inträffade i SMS-portalen.",
        "",
        f"Tid:        {datetime.fromtimestamp(record.created).astimezone().isoformat(timespec='seconds')}",
        f"Server:     {socket.gethostname()} (process {os.getpid()})",
        f"Logger:     {record.name}",
        f"Nivå:       {record.levelname}",
        f"Loggrad:    {_message(record)}",
    ]
    if request is not None:
        lines += [f"Begäran:    {where}", f"Vy:         {_view_name(request)}", f"Användare:  {_user_id(request)}"]
    if skipped:
        lines.append(f"Samma fel har dessutom inträffat {skipped} gång(er) sedan förra brevet.")
    if error is not None:
        lines += ["", *_chain_lines(error)]
    lines += [
        "",
        "Felets text, formulärets fält, cookies och variablernas värden tas aldrig med i brevet:",
        "de kan innehålla patienters nummer eller SMS-text. Serverns logg har samma fel vid tiden ovan.",
        f"Samma fel skickas högst en gång per {settings.ERROR_REPORT_REPEAT_MINUTES} minuter och process.",
    ]
    flat = subject.replace("\r", " ").replace("\n", " ")
    return redact(flat), redact("\n".join(lines) + "\n")


def _exception(record: logging.LogRecord) -> BaseException | None:
    """Undantaget i loggposten, om den har ett."""
    if record.exc_info and isinstance(record.exc_info[1], BaseException):
        return record.exc_info[1]
    return None


def _type_name(error: BaseException | None) -> str:
    """Undantagets klass med modul (utan modul för inbyggda), aldrig dess text."""
    if error is None:
        return ""
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _message(record: logging.LogRecord) -> str:
    """Loggradens text från portalens egna loggar; andra biblioteks text kan bära persondata."""
    if not is_portal_logger(record.name):
        return "(visas inte: loggraden kommer från ett annat bibliotek)"
    try:
        return record.getMessage().replace("\n", " ")
    except Exception:  # noqa: BLE001 – ett trasigt loggmeddelande ska inte stoppa rapporten
        return "(loggraden kunde inte formateras)"


def is_portal_logger(name: str) -> bool:
    """Sant för loggrar i portalens egna appar (de loggar aldrig nummer eller text); falskt innan
    apparna har laddats (då går det inte att avgöra)."""
    from django.apps import apps

    if not apps.ready:
        return False
    base = Path(settings.BASE_DIR).resolve()
    own = {"config"} | {
        config.name for config in apps.get_app_configs() if Path(config.path).resolve().is_relative_to(base)
    }
    return name.split(".", 1)[0] in own


def _request_line(request: Any) -> str:
    """Metod och sökväg, utan frågesträng och med svarskoden bortrensad."""
    return redact(f"{getattr(request, 'method', '?')} {getattr(request, 'path', '?')}")


def _view_name(request: Any) -> str:
    """Vyns namn (t.ex. replies:answer), aldrig argumenten (där patientens kod står)."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else "(ingen vy)"


def _user_id(request: Any) -> str:
    """Inloggad användares id, aldrig namnet. Läser bara en redan hämtad användare
    (`_cached_user`, som Djangos AuthenticationMiddleware sparar): felvägen frågar aldrig
    databasen, som kan vara själva felet."""
    user = getattr(request, "_cached_user", None)
    if user is None:
        return "(okänd)"
    return f"id {user.pk}" if getattr(user, "is_authenticated", False) else "ej inloggad"


def _chain_lines(error: BaseException) -> list[str]:
    """Undantagskedjan äldst först, som Python skriver den: typ och ramar, aldrig texten."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < _MAX_CHAIN:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines: list[str] = []
    for number, item in enumerate(reversed(chain)):
        if number:
            lines += ["", "… som ledde till:"]
        lines.append(f"Fel: {_type_name(item)} (texten visas inte)")
        lines.append("Anropskedja (senaste anropet sist):")
        lines += _frame_lines(item)
    return lines


def _frame_lines(error: BaseException) -> list[str]:
    """Varje ram som fil:rad i funktion, med kodraden; inga lokala variabler."""
    lines = []
    for frame in traceback.extract_tb(error.__traceback__):
        lines.append(f"  {_short_path(frame.filename)}:{frame.lineno} i {frame.name}")
        if frame.line:
            lines.append(f"      {frame.line.strip()}")
    return lines


_INSTALLED = "site-packages/"


def _project_prefix() -> str:
    """Projektmappen som början på en sökväg (med avslutande snedstreck)."""
    return str(Path(settings.BASE_DIR).resolve()) + os.sep


def _is_own(filename: str) -> bool:
    """Sant för en fil i portalens egen kod (under projektet, inte i en installerad modul)."""
    return filename.startswith(_project_prefix()) and _INSTALLED not in filename


def _short_path(filename: str) -> str:
    """Sökvägen relativt projektet eller site-packages (kortare att läsa, samma information)."""
    if _INSTALLED in filename:
        return filename.split(_INSTALLED, 1)[1]
    base = _project_prefix()
    return filename[len(base) :] if filename.startswith(base) else filename


# --- Sentry ---------------------------------------------------------------------------------


def check_sentry_dsn(dsn: str, allow_non_eu: bool) -> None:
    """Stoppar starten om SENTRY_DSN inte pekar på Sentrys EU-region (och undantaget inte är satt)."""
    host = urlsplit(dsn).hostname or ""
    if not host.endswith(SENTRY_EU_HOST_SUFFIX) and not allow_non_eu:
        raise ImproperlyConfigured(
            f"SENTRY_DSN pekar på {host or 'ingen värd'}, inte på Sentrys EU-region (*{SENTRY_EU_HOST_SUFFIX}). "
            "Använd en organisation i EU-regionen, eller sätt SENTRY_ALLOW_NON_EU=true för en egen "
            "Sentry-server inom EU (se README, Felrapporter)."
        )


def init_sentry(dsn: str, *, environment: str, allow_non_eu: bool = False, transport: Any = None) -> None:
    """Startar Sentry med inställningar som håller persondata borta (samma i drift och i testerna).

    Ingen insamling av användare, kakor, huvuden, innehåll, frågesträngar eller variabler
    (SENTRY_DATA_COLLECTION; send_default_pii lämnas osatt, dvs. av), aldrig begärans innehåll,
    inga klientrapporter eller sessioner, ingen prestandamätning och inga spårhuvuden till
    leverantörerna; varje händelse och brödsmula byggs om av `scrub_event` och `scrub_breadcrumb`
    innan den skickas."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    check_sentry_dsn(dsn, allow_non_eu)
    route_sentry_log()
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        transport=transport,
        integrations=[DjangoIntegration(transaction_style="url", middleware_spans=False, signals_spans=False)],
        data_collection=SENTRY_DATA_COLLECTION,
        include_local_variables=False,
        max_request_body_size="never",
        send_client_reports=False,
        auto_session_tracking=False,
        traces_sample_rate=0,
        trace_propagation_targets=[],
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
    )


def route_sentry_log() -> None:
    """Sentrys egen logg (sentry_sdk.errors) går genom portalens hanterare och filter.

    `import sentry_sdk` ger loggern en egen hanterare till stderr, utan portalens filter. Den byts
    mot en NullHandler (då lägger Sentry ingen ny till vid init), och raderna går vidare till roten."""
    sentry_log = logging.getLogger("sentry_sdk.errors")
    for handler in list(sentry_log.handlers):
        if not isinstance(handler, logging.NullHandler):
            sentry_log.removeHandler(handler)
    if not sentry_log.handlers:
        sentry_log.addHandler(logging.NullHandler())


def scrub_event(event: Event, hint: Hint) -> Event | None:
    """Händelsen ombyggd ur en vitlista: feltyp och ramar utan text och variabler, begärans metod och
    sökväg, loggens mall bara från portalens egna loggar; varje sträng till sist genom redact().

    Djangos säkerhetsvägringar (klientens fel, se `client_error`) skickas inte alls."""
    # Vitlistan läser händelsen som en vanlig ordbok: nycklarna kommer ur listor, inte ur Event-typen.
    data: Mapping[str, Any] = event
    if str(data.get("logger", "")).startswith(SECURITY_LOGGER_PREFIX):
        return None
    safe = {key: data[key] for key in SENTRY_EVENT_KEYS if key in data}
    safe["contexts"] = {key: value for key, value in data.get("contexts", {}).items() if key in _SENTRY_CONTEXT_KEYS}
    if "exception" in data:
        safe["exception"] = {"values": [_sentry_exception(value) for value in data["exception"].get("values", [])]}
    if "request" in data:
        safe["request"] = _sentry_request(data["request"])
    template = (data.get("logentry") or {}).get("message")
    if template and is_portal_logger(data.get("logger", "")):
        safe["logentry"] = {"message": template}
    crumbs = (data.get("breadcrumbs") or {}).get("values", [])
    safe["breadcrumbs"] = {"values": [_only(crumb, _SENTRY_BREADCRUMB_KEYS) for crumb in crumbs]}
    return _redacted(safe)


def scrub_breadcrumb(crumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb:
    """En brödsmula utan meddelande och data: loggens brödsmulor fångas innan loggfiltren körs."""
    return _only(crumb, _SENTRY_BREADCRUMB_KEYS)


def _sentry_exception(value: dict[str, Any]) -> dict[str, Any]:
    """Ett undantag utan text (value) och ramar utan variabler."""
    frames = (value.get("stacktrace") or {}).get("frames", [])
    safe = _only(value, ("type", "module"))
    safe["mechanism"] = _only(value.get("mechanism") or {}, ("type", "handled"))
    safe["stacktrace"] = {"frames": [_only(frame, _SENTRY_FRAME_KEYS) for frame in frames]}
    return safe


def _sentry_request(request: dict[str, Any]) -> dict[str, Any]:
    """Bara metod och adress utan frågesträng: inga data, cookies, huvuden eller miljö."""
    parts = urlsplit(request.get("url", ""))
    return {"method": request.get("method", ""), "url": urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))}


def _only(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """De uppräknade nycklarna ur en ordbok."""
    return {key: data[key] for key in keys if key in data}


def _redacted(value: Any, clean: Callable[[str], str] = redact) -> Any:
    """Varje sträng i en nästlad struktur genom redact() (svarskoder och webhook-token)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {key: _redacted(item, clean) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, clean) for item in value]
    return value
