"""46elks: SMS via 46elks REST-API med `requests` (46elks har ingen officiell SDK).

`POST {ELKS46_BASE_URL}/sms` med HTTP Basic-inloggning och formulärfält. `dontlog=message`
gör att 46elks inte sparar texten. Leveransrapporter kommer till `whendelivered`-adressen,
som bär portalens hemliga token (46elks signerar inte sina anrop).

De hjälpfunktioner som alla HTTP-leverantörer delar finns i `smsportal.backends.common`.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from django.conf import settings
from django.http import HttpRequest

from smsportal.backends.base import BaseBackend, SendResult, SmsError
from smsportal.backends.common import (
    final_report,
    form_data,
    http_reason,
    network_error,
    require_settings,
    safe_phrase,
    status_error,
    token_matches,
    unreadable_reply,
)
from smsportal.delivery import DeliveryStatus, callback_url

#: 46elks felsvar om mottagarens nummer, t.ex. "Invalid to number".
_ELKS_INVALID_NUMBER = re.compile(r"invalid.*\bto\b|\bto\b.*\bnumber\b", re.IGNORECASE)

#: 46elks slutliga statusar; "created" och "sent" är mellanlägen.
ELKS46_STATUSES = {"delivered": DeliveryStatus.DELIVERED, "failed": DeliveryStatus.FAILED}


def _error_text(response: requests.Response) -> str:
    """46elks felkropp: vanlig text, i vissa fall JSON `{"error": "..."}`."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    error = payload.get("error") if isinstance(payload, dict) else None
    return error[:200] if isinstance(error, str) else ""


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

    def http_sessions(self) -> list[requests.Session]:
        """Sessionen med 46elks inloggning."""
        return [self.session]

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
        return token_matches(request, self.webhook_token)

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
        reason = http_reason(response.status_code, safe_phrase(body))
        return status_error(self.name, response.status_code, invalid_number=invalid_number, reason=reason)
