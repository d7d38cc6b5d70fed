"""Leverantörsoberoende hjälpfunktioner för SMS-backends som pratar HTTP (Sinch, Twilio, 46elks).

Här finns det som alla leverantörer gör lika: kontroll av saknade inställningar, klassning
av nätverksfel från `requests` (tillfälligt, permanent eller osäkert), klassning av
HTTP-status, oläsbara "OK"-svar, tolkning av webhookens formulärdata och slutliga
statusar, samt kontroll av webhookens hemliga token. Det som är leverantörens eget (SDK,
felkroppar, statusnamn) ligger kvar i respektive backend.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import BadRequest, ImproperlyConfigured, SuspiciousOperation
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError
from urllib3.exceptions import MaxRetryError, NewConnectionError

from smsportal.backends.base import AMBIGUOUS_MESSAGE, SmsError
from smsportal.phone import ERROR_MESSAGE as INVALID_NUMBER_MESSAGE

#: Ett rimligt meddelande-id från en leverantör (bokstäver, siffror, - och _).
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: En felkropp som bara är en kort engelsk fras ("Not enough credits") får följa med i orsaken.
_SAFE_PHRASE = re.compile(r"[A-Za-z][A-Za-z ]{0,39}")
#: Fel från `requests` om en ogiltig adress: inställningen är fel (eller en omdirigering pekar fel).
_BAD_URL_ERRORS = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)
#: HTTP-status som betyder "försök senare": nästa leverantör får försöka (utöver 5xx).
_TRANSIENT_STATUSES = frozenset({408, 429})


# --- Inställningar ---------------------------------------------------------------------------


def require_settings(provider: str, *names: str, hint: str = "") -> None:
    """Kastar ImproperlyConfigured med ett svenskt besked om någon av inställningarna är tom.

    `hint` (valfri) läggs sist, t.ex. var i leverantörens kundportal uppgifterna finns.
    """
    missing = [name for name in names if not getattr(settings, name, "")]
    if missing:
        pronoun = "den" if len(missing) == 1 else "dem"
        message = (
            f"{' och '.join(missing)} saknas: sätt {pronoun} i miljön eller .env "
            f"(krävs när {provider} finns i SMS_PROVIDERS)."
        )
        raise ImproperlyConfigured(f"{message} {hint}" if hint else message)


# --- Nätverksfel ------------------------------------------------------------------------------


def cause_name(error: requests.RequestException) -> str:
    """Namnet på den egentliga orsaken (t.ex. NewConnectionError), utan adresser eller data."""
    cause: Any = error.args[0] if error.args else error
    if isinstance(cause, MaxRetryError) and cause.reason is not None:
        cause = cause.reason
    return type(cause).__name__ if isinstance(cause, BaseException) else type(error).__name__


def never_sent(error: requests.RequestException) -> bool:
    """Sant bara när begäran säkert aldrig skickades (ingen anslutning kom till stånd).

    Med `requests` standardinställning (inga omförsök, `Retry(0, read=False)`) slår urllib3
    in fel under anslutningen i `MaxRetryError`, medan fel efter att begäran skickats
    (läs-tidsgräns, "Connection aborted." = `ProtocolError`) kastas vidare utan den.

    Sant för: `ConnectTimeout`; en `ConnectionError` via `MaxRetryError` orsakad av
    `NewConnectionError` (nekad anslutning, namnuppslag); `SSLError` och `ProxyError` via
    `MaxRetryError` (TLS-handskakning, proxyn). Allt annat räknas som möjligen skickat.
    """
    # Två tidigare regler slogs ihop här, och den striktare delen av var och en behölls så
    # att en osäker sändning aldrig tas för en som inte skett (då provas nästa leverantör
    # och patienten kan få SMS:et två gånger):
    # - 46elks/Twilio räknade varje `MaxRetryError` som "aldrig skickat". Med omförsök för
    #   läsning (en annan HTTP-adapter) kan den dock bära ett läsfel efter sändning, så nu
    #   krävs att orsaken är `NewConnectionError` (eller att felet är SSL/proxy, se nedan).
    # - Sinch räknade `SSLError`/`ProxyError` som "aldrig skickat" även utan `MaxRetryError`.
    #   `requests` kastar dock `SSLError` också när svarskroppen läses, efter sändningen,
    #   så nu krävs `MaxRetryError` även för dem.
    # - Sinch räknade ogiltiga adresser som "aldrig skickat"; de kan också komma från en
    #   omdirigering efter en sändning. De klassas i stället som permanenta i
    #   `network_error` (felaktig inställning), vilket aldrig leder till en ny leverantör.
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError) or not error.args:
        return False
    wrapper = error.args[0]
    if not isinstance(wrapper, MaxRetryError):
        return False
    if isinstance(error, (requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        return True
    return isinstance(wrapper.reason, NewConnectionError)


def ambiguous_error(provider: str, reason: str) -> SmsError:
    """Begäran nådde leverantören men svaret uteblev eller var oläsbart: SMS:et kan ha skickats."""
    return SmsError(AMBIGUOUS_MESSAGE, permanent=False, ambiguous=True, provider=provider, reason=reason)


def network_error(provider: str, error: requests.RequestException, *, may_have_sent: bool) -> SmsError:
    """Översätter ett nätverksfel från `requests` till SmsError.

    Ogiltig adress: permanent (inställningen är fel). Gick det inte att ansluta provas nästa
    leverantör. Kom inget svar efter att begäran skickats är läget osäkert om anropet var en
    sändning (`may_have_sent`) – SMS:et kan ha gått iväg – annars tillfälligt.
    """
    if isinstance(error, _BAD_URL_ERRORS):
        return SmsError(permanent=True, provider=provider, reason=f"ogiltig API-adress ({type(error).__name__})")
    if never_sent(error):
        return SmsError(permanent=False, provider=provider, reason=f"kunde inte ansluta ({cause_name(error)})")
    if isinstance(error, requests.Timeout):
        reason = f"inget svar inom {settings.SMS_TIMEOUT_SECONDS:g} s"
    else:
        reason = f"anslutningen bröts ({cause_name(error)})"
    if may_have_sent:
        return ambiguous_error(provider, reason + " efter sändning")
    return SmsError(permanent=False, provider=provider, reason=reason)


# --- HTTP-svar --------------------------------------------------------------------------------


def unreadable_reply(provider: str, *, may_have_sent: bool, detail: str = "") -> SmsError:
    """Leverantören svarade "OK" men svaret gick inte att läsa: efter en sändning är läget osäkert."""
    reason = "oläsbart svar" + (f" ({detail})" if detail else "")
    if may_have_sent:
        return ambiguous_error(provider, reason + " efter sändning")
    return SmsError(permanent=False, provider=provider, reason=reason)


def http_reason(status: int, detail: str = "") -> str:
    """Orsakstext för ett felsvar: "HTTP 403" eller "HTTP 403: Not enough credits"."""
    return f"HTTP {status}" + (f": {detail}" if detail else "")


def status_error(provider: str, status: int, *, invalid_number: bool = False, reason: str = "") -> SmsError:
    """Översätter ett HTTP-felsvar: 408, 429 och 5xx tillfälliga, övriga permanenta.

    `invalid_number`: leverantören säger att mottagarens nummer är ogiltigt, så personalen
    får nummerbeskedet. `reason` är leverantörens egen orsakstext (annars "HTTP <status>").
    """
    reason = reason or http_reason(status)
    if status >= 500 or status in _TRANSIENT_STATUSES:
        return SmsError(permanent=False, provider=provider, reason=reason)
    if invalid_number:
        return SmsError(INVALID_NUMBER_MESSAGE, permanent=True, provider=provider, reason=reason)
    return SmsError(permanent=True, provider=provider, reason=reason)


def safe_phrase(text: str) -> str:
    """Felkroppen om den är en kort fras av bara bokstäver, annars tomt (ekar aldrig nummer eller text)."""
    text = text.strip()
    return text if _SAFE_PHRASE.fullmatch(text) else ""


# --- Leveransrapporter ------------------------------------------------------------------------


def token_matches(request: HttpRequest, expected: str) -> bool:
    """Sant om adressens `?token=` är den hemliga token (konstant tid; tom token godtas aldrig)."""
    given = request.GET.get("token", "")
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def form_data(request: HttpRequest) -> QueryDict | None:
    """Begärans formulärdata, eller None om kroppen inte går att tolka.

    BadRequest: formulärdata i en annan teckenkodning än UTF-8 (Django vägrar tolka den).
    """
    try:
        return request.POST
    except (BadRequest, SuspiciousOperation, MultiPartParserError, OSError, ValueError):
        return None


def final_status(value: Any, statuses: Mapping[str, str]) -> str | None:
    """Leverantörens status (skiftläge och blanksteg spelar ingen roll) -> DeliveryStatus, eller None.

    `statuses` har bara de slutliga statusarna; mellanlägen och okända värden ger None.
    """
    return statuses.get(value.strip().lower()) if isinstance(value, str) else None


def report_rows(message_id: Any, status: str | None) -> list[tuple[str, str]]:
    """[(meddelande-id, DeliveryStatus)] om id:t är rimligt och statusen slutlig, annars tom lista."""
    if not status or not isinstance(message_id, str) or not _MESSAGE_ID.fullmatch(message_id):
        return []
    return [(message_id, status)]


def final_report(
    form: Mapping[str, Any] | None, id_key: str, status_key: str, statuses: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(meddelande-id, DeliveryStatus) ur ett formulär om statusen är slutlig, annars tom lista."""
    if form is None:
        return []
    return report_rows(form.get(id_key), final_status(form.get(status_key), statuses))
