"""46elks: SMS via 46elks REST-API med `requests` (46elks har ingen officiell SDK).

`POST {ELKS46_BASE_URL}/sms` med HTTP Basic-inloggning och formulärfält. `dontlog=message`
gör att 46elks inte sparar texten. Leveransrapporter kommer till `whendelivered`-adressen,
som bär portalens hemliga token (46elks signerar inte sina anrop).

Modulen har också de små hjälpfunktioner som alla HTTP-leverantörer delar (Twilio använder
dem också): saknade inställningar, nätverksfel, HTTP-status och formulärtolkning.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError
from urllib3.exceptions import MaxRetryError

from smsportal.backends.base import AMBIGUOUS_MESSAGE, BaseBackend, SendResult, SmsError
from smsportal.delivery import DeliveryStatus, callback_url
from smsportal.phone import ERROR_MESSAGE as INVALID_NUMBER_MESSAGE

#: Ett rimligt meddelande-id från en leverantör (bokstäver, siffror, - och _).
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: En felkropp som bara är en kort engelsk fras ("Not enough credits") får följa med i orsaken.
_SAFE_PHRASE = re.compile(r"[A-Za-z][A-Za-z ]{0,39}")
#: 46elks felsvar om mottagarens nummer, t.ex. "Invalid to number".
_ELKS_INVALID_NUMBER = re.compile(r"invalid.*\bto\b|\bto\b.*\bnumber\b", re.IGNORECASE)
#: Fel från `requests` som uppstår innan något skickats: adressen i inställningarna är fel.
_BAD_URL_ERRORS = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)

#: 46elks slutliga statusar; "created" och "sent" är mellanlägen.
ELKS46_STATUSES = {"delivered": DeliveryStatus.DELIVERED, "failed": DeliveryStatus.FAILED}


# --- Gemensamt för HTTP-leverantörer -------------------------------------------------------


def require_settings(provider: str, *names: str) -> None:
    """Kastar ImproperlyConfigured med ett svenskt besked om någon av inställningarna är tom."""
    missing = [name for name in names if not getattr(settings, name, "")]
    if missing:
        pronoun = "den" if len(missing) == 1 else "dem"
        raise ImproperlyConfigured(
            f"{' och '.join(missing)} saknas: sätt {pronoun} i miljön eller .env "
            f"(krävs när {provider} finns i SMS_PROVIDERS)."
        )


def _never_sent(error: requests.RequestException) -> bool:
    """Sant om anslutningen aldrig kom till stånd (nekad, DNS, TLS, proxy, anslutnings-tidsgräns).

    `requests` slår in sådana fel i urllib3:s MaxRetryError; ett fel efter att begäran
    skickats (läs-tidsgräns, avbruten anslutning) kastas utan den.
    """
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    return isinstance(error, requests.ConnectionError) and any(isinstance(arg, MaxRetryError) for arg in error.args)


def ambiguous_error(provider: str, reason: str) -> SmsError:
    """Begäran nådde leverantören men svaret uteblev eller var oläsbart: SMS:et kan ha skickats."""
    return SmsError(AMBIGUOUS_MESSAGE, permanent=False, ambiguous=True, provider=provider, reason=reason)


def network_error(provider: str, error: requests.RequestException, *, may_have_sent: bool) -> SmsError:
    """Översätter ett nätverksfel från `requests` till SmsError.

    Gick det inte att ansluta provas nästa leverantör. Kom inget svar efter att begäran
    skickats är läget osäkert (`may_have_sent`: en sändning) – SMS:et kan ha gått iväg.
    """
    kind = type(error).__name__
    if _never_sent(error):
        return SmsError(permanent=False, provider=provider, reason=f"kunde inte ansluta ({kind})")
    if isinstance(error, _BAD_URL_ERRORS):
        return SmsError(permanent=True, provider=provider, reason=f"ogiltig API-adress ({kind})")
    if may_have_sent:
        return ambiguous_error(provider, f"inget svar efter sändning ({kind})")
    return SmsError(permanent=False, provider=provider, reason=f"inget svar i tid ({kind})")


def unreadable_reply(provider: str, *, may_have_sent: bool) -> SmsError:
    """Leverantören svarade "OK" men svaret gick inte att läsa: efter en sändning är läget osäkert."""
    if may_have_sent:
        return ambiguous_error(provider, "oläsbart svar efter sändning")
    return SmsError(permanent=False, provider=provider, reason="oläsbart svar")


def status_error(provider: str, status: int, *, invalid_number: bool, detail: str = "") -> SmsError:
    """Översätter ett HTTP-felsvar: 5xx och 429 tillfälliga, övriga permanenta."""
    reason = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status >= 500 or status == 429:
        return SmsError(permanent=False, provider=provider, reason=reason)
    if invalid_number:
        return SmsError(INVALID_NUMBER_MESSAGE, permanent=True, provider=provider, reason=reason)
    return SmsError(permanent=True, provider=provider, reason=reason)


def safe_phrase(text: str) -> str:
    """Felkroppen om den är en kort fras av bara bokstäver, annars tomt (ekar aldrig nummer eller text)."""
    text = text.strip()
    return text if _SAFE_PHRASE.fullmatch(text) else ""


def form_data(request: HttpRequest) -> QueryDict | None:
    """Begärans formulärdata, eller None om kroppen inte går att tolka."""
    try:
        return request.POST
    except (SuspiciousOperation, MultiPartParserError, OSError, ValueError):
        return None


def final_report(
    form: Mapping[str, Any] | None, id_key: str, status_key: str, statuses: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(meddelande-id, DeliveryStatus) ur ett formulär om statusen är slutlig, annars tom lista."""
    if form is None:
        return []
    message_id = form.get(id_key)
    status = form.get(status_key)
    if not isinstance(message_id, str) or not isinstance(status, str) or not _MESSAGE_ID.fullmatch(message_id):
        return []
    final = statuses.get(status.strip().lower())
    return [(message_id, final)] if final else []


def _error_text(response: requests.Response) -> str:
    """46elks felkropp: vanlig text, i vissa fall JSON `{"error": "..."}`."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    error = payload.get("error") if isinstance(payload, dict) else None
    return error[:200] if isinstance(error, str) else ""


# --- 46elks ---------------------------------------------------------------------------------


class Elks46Backend(BaseBackend):
    """Skickar SMS via 46elks REST-API."""

    name = "elks46"
    delivery_reports = True

    def __init__(self) -> None:
        """Läser inloggning och adress ur inställningarna; inget nätverksanrop."""
        require_settings(
            self.name, "ELKS46_API_USERNAME", "ELKS46_API_PASSWORD", "ELKS46_BASE_URL", "SMS_WEBHOOK_TOKEN"
        )
        self.base_url = settings.ELKS46_BASE_URL.rstrip("/")
        self.webhook_token = settings.SMS_WEBHOOK_TOKEN
        self.timeout = settings.SMS_TIMEOUT_SECONDS
        self.session = requests.Session()
        self.session.auth = (settings.ELKS46_API_USERNAME, settings.ELKS46_API_PASSWORD)

    def send(self, to: str, text: str) -> SendResult:
        """Skickar SMS:et och returnerar 46elks meddelande-id."""
        data = {
            "from": settings.SMS_SENDER_ID,
            "to": to,
            "message": text,
            "whendelivered": callback_url(self.name, with_token=True),
            "dontlog": "message",
        }
        payload = self._request("POST", "/sms", data=data)
        message_id = payload.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise unreadable_reply(self.name, may_have_sent=True)
        return self.result(message_id, text)

    def check(self) -> str:
        """Hämtar kontot (GET /me) – skickar inget SMS."""
        account = self._request("GET", "/me")
        name = account.get("displayname") or "okänt namn"
        balance = account.get("balance")
        if not isinstance(balance, (int, float)):
            return f"inloggningen fungerar (konto {name!r})"
        amount = f"{balance / 10_000:.2f}".replace(".", ",")
        return f"inloggningen fungerar (konto {name!r}, saldo {amount} {account.get('currency', '')})".rstrip()

    def verify_webhook(self, request: HttpRequest) -> bool:
        """Sant om adressens token är portalens hemliga SMS_WEBHOOK_TOKEN."""
        token = request.GET.get("token", "")
        if not token or not self.webhook_token:
            return False
        return hmac.compare_digest(token.encode(), self.webhook_token.encode())

    def parse_delivery_report(self, request: HttpRequest) -> list[tuple[str, str]]:
        """46elks skickar `id`, `status` och (vid leverans) `delivered` som formulärdata."""
        return final_report(form_data(request), "id", "status", ELKS46_STATUSES)

    def _request(self, method: str, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
        """Gör ett anrop mot 46elks och returnerar JSON-svaret, eller kastar SmsError."""
        sending = method == "POST"
        try:
            response = self.session.request(
                method, self.base_url + path, data=data, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as error:
            raise network_error(self.name, error, may_have_sent=sending) from None
        if not 200 <= response.status_code < 300:
            raise self._http_error(response)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise unreadable_reply(self.name, may_have_sent=sending)
        return payload

    def _http_error(self, response: requests.Response) -> SmsError:
        """Klassar 46elks felsvar (t.ex. 403 "Invalid to number", 401 "Unauthorized")."""
        body = _error_text(response)
        invalid_number = response.status_code in (400, 403, 422) and bool(_ELKS_INVALID_NUMBER.search(body))
        return status_error(self.name, response.status_code, invalid_number=invalid_number, detail=safe_phrase(body))
