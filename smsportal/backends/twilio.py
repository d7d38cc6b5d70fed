"""Twilio: SMS via Twilios officiella SDK (twilio 9.x).

SDK:t har Twilios värd (https://api.twilio.com) inbyggd och skriver om den när TWILIO_REGION
eller TWILIO_EDGE finns i miljön (även med `environment={}`). Därför byter en egen HTTP-klient
schema och värd mot TWILIO_BASE_URL när den är satt – så kör testerna det riktiga SDK:t mot en
låtsasserver. Leveransrapporter signeras av Twilio (X-Twilio-Signature) med kontots token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.http import HttpRequest
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from smsportal.backends.base import BaseBackend, SendResult, SmsError
from smsportal.backends.common import (
    final_report,
    form_data,
    http_reason,
    network_error,
    require_settings,
    status_error,
    unreadable_reply,
)
from smsportal.delivery import DeliveryStatus, callback_url

T = TypeVar("T")

#: Twilios felkoder som gäller mottagarens nummer (21211 ogiltigt 'To', 21614 inte ett mobilnummer).
INVALID_NUMBER_CODES = {21211, 21614}

#: Twilios slutliga statusar; queued, sending, sent m.fl. är mellanlägen.
TWILIO_STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilios HTTP-klient, men med schema och värd utbytta mot `base_url` när den är satt."""

    def __init__(self, base_url: str, timeout: float) -> None:
        """`base_url` t.ex. http://127.0.0.1:54321 (tom: Twilios egen adress)."""
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Skickar begäran till `base_url` + SDK:ts sökväg."""
        if self.base_url:
            parts = urlsplit(url)
            url = self.base_url + urlunsplit(("", "", parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


class TwilioBackend(BaseBackend):
    """Skickar SMS via Twilio Programmable Messaging."""

    name = "twilio"
    delivery_reports = True

    def __init__(self) -> None:
        """Skapar SDK-klienten ur inställningarna; inget nätverksanrop."""
        require_settings(self.name, "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.http_client = BaseUrlHttpClient(settings.TWILIO_BASE_URL, timeout=settings.SMS_TIMEOUT_SECONDS)
        self.client = Client(self.account_sid, self.auth_token, http_client=self.http_client)

    def http_sessions(self) -> list[requests.Session]:
        """SDK:ts HTTP-klients session."""
        session = self.http_client.session
        return [session] if session is not None else []

    def send(self, to: str, text: str) -> SendResult:
        """Skickar SMS:et; meddelande-id är Twilios SID (SM…)."""
        message = self._call(
            lambda: self.client.messages.create(
                to=to,
                from_=settings.SMS_SENDER_ID,
                body=text,
                status_callback=callback_url(self.name, with_token=False),
            ),
            sending=True,
        )
        if not message.sid:
            raise unreadable_reply(self.name, may_have_sent=True)
        return self.result(message.sid, text)

    def check(self) -> str:
        """Hämtar kontot (GET /2010-04-01/Accounts/{sid}.json) – skickar inget SMS."""
        account = self._call(lambda: self.client.api.v2010.accounts(self.account_sid).fetch(), sending=False)
        if account.status not in (None, "active"):
            raise SmsError(permanent=True, provider=self.name, reason=f"kontot har status {account.status}")
        return f"inloggningen fungerar (konto {account.friendly_name!r}, status {account.status})"

    def verify_webhook(self, request: HttpRequest) -> bool:
        """Kontrollerar X-Twilio-Signature mot den exakta publika adressen och formulärdatan.

        Bakom en proxy ser begäran en annan värd än Twilio anropade: därför byggs adressen
        av PUBLIC_BASE_URL och begärans sökväg (med eventuell frågesträng).
        """
        signature = request.headers.get("X-Twilio-Signature", "")
        form = form_data(request)
        if not signature or form is None:
            return False
        url = settings.PUBLIC_BASE_URL + request.get_full_path()
        return RequestValidator(self.auth_token).validate(url, form, signature)

    def parse_delivery_report(self, request: HttpRequest) -> list[tuple[str, str]]:
        """Twilio skickar `MessageSid` och `MessageStatus` som formulärdata."""
        return final_report(form_data(request), "MessageSid", "MessageStatus", TWILIO_STATUSES)

    def _call(self, operation: Callable[[], T], *, sending: bool) -> T:
        """Kör ett SDK-anrop och översätter dess fel till SmsError (utan nummer eller text)."""
        try:
            return operation()
        except TwilioException as error:
            # Både TwilioRestException och TwilioServiceException (RFC 9457) ärver härifrån.
            raise self._api_error(error) from None
        except requests.RequestException as error:
            raise network_error(self.name, error, may_have_sent=sending) from None
        except ValueError:
            # 2xx med en kropp som inte är JSON.
            raise unreadable_reply(self.name, may_have_sent=sending) from None

    def _api_error(self, error: TwilioException) -> SmsError:
        """Klassar ett felsvar efter HTTP-status och Twilios felkod (meddelandet kan eka numret)."""
        try:
            # Utan status (eller med en som inte är ett tal) ger int() ValueError.
            status = int(getattr(error, "status", ""))
        except (TypeError, ValueError):
            reason = f"Twilio-fel utan HTTP-status ({type(error).__name__})"
            return SmsError(permanent=True, provider=self.name, reason=reason)
        code = getattr(error, "code", None)
        if not isinstance(code, int):
            return status_error(self.name, status)
        reason = http_reason(status, f"Twilio-felkod {code}")
        return status_error(self.name, status, invalid_number=code in INVALID_NUMBER_CODES, reason=reason)
