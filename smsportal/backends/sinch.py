"""Sinch (primär leverantör) via det officiella SDK:t `sinch` 2.x, synkrona klienten.

Inställningar: SINCH_SERVICE_PLAN_ID, SINCH_API_TOKEN, SINCH_REGION (eu, us, au, br, ca),
valfritt SINCH_WEBHOOK_SECRET och SINCH_BASE_URL, samt SMS_SENDER_ID, SMS_TIMEOUT_SECONDS
och SMS_WEBHOOK_TOKEN.

Så används SDK:t (kontrollerat mot sinch 2.3.0):

- Klienten skapas med `service_plan_id`, `sms_api_token` och `sms_region` (krävs). SDK:t
  skickar då `Authorization: Bearer <token>` till `{origin}/xms/v1/{service_plan_id}/batches`.
- `SINCH_BASE_URL` är bara ursprunget (schema, värd, port), t.ex. `http://127.0.0.1:54321`:
  SDK:t lägger själv till `/xms/v1/{service_plan_id}/…`. Adressen sätts i
  `configuration.sms_origin_with_service_plan_id` *efter* regionen, eftersom varje ändring av
  regionen räknar om ursprunget och skriver över en tidigare ändring.
- Inga omförsök: SDK:t väntar och försöker igen vid 429 om inget annat sägs. Här gäller
  `RetryPolicy.NONE`, så en 429 går direkt vidare till nästa leverantör i kedjan.
- Tidsgräns: SDK:ts transport (`HTTPTransportRequests`, biblioteket requests) skickar
  `configuration.connection_timeout` (standard 10 s) som `timeout=` till requests; den sätts
  till SMS_TIMEOUT_SECONDS. Det är requests tidsgräns för anslutning och för varje läsning,
  inte för hela anropet. Transporten byts mot en underklass som bara noterar att en begäran
  har gått iväg (se `_Transport`).
- Fel: HTTP-fel (4xx/5xx) blir `SmsException` (en `SinchException`) med status i
  `response_status_code` och den tolkade JSON-kroppen i `http_response.body`. En kropp som
  inte är JSON ger `SinchException` där `http_response` är requests eget svar. Nätverksfel
  kommer oförändrade från requests (`ConnectionError`, `ConnectTimeout`, `ReadTimeout`).
- SDK:ts DEBUG-logg skriver ut hela begäran och svaret (token, nummer, text). Klienten får
  därför en egen logger som aldrig släpper igenom DEBUG.

Fel för failover-kedjan (`smsportal.sending`):

- 401, 403, 404 och övriga 4xx: permanenta (fel token, fel service plan, ogiltigt fält).
- 408, 429 och 5xx: tillfälliga, nästa leverantör provas.
- Gick inte att ansluta (nekad, namnuppslag, tidsgräns vid anslutning, TLS): tillfälligt.
- Ogiltig adress (t.ex. SINCH_BASE_URL med felaktig värd): permanent.
- Begäran skickad men svaret uteblev (läs-tidsgräns, avbruten anslutning) eller ett 2xx-svar
  som inte går att tolka: *osäkert* – SMS:et kan ha skickats, ingen annan leverantör provas.

Klassningen av nätverksfel, HTTP-status och oläsbara svar delas med de andra leverantörerna
och finns i `smsportal.backends.common`.

Leveransrapporter: `delivery_report="per_recipient_final"` och återanropsadressen
`/webhooks/sms/sinch/` skickas med varje SMS (SDK:ts `event_destination_target`, på tråden
`callback_url`). Sinch skickar då en rapport per mottagare när den når slutlig status:

    {"type": "recipient_delivery_report_sms", "batch_id": "…", "recipient": "46701234567",
     "code": 0, "status": "Delivered", "at": "…", …}

Delivered → levererat; Aborted, Cancelled, Failed, Expired, Rejected, Deleted → ej levererat;
Queued, Dispatched (mellanlägen) och Unknown lämnas därhän. Även sammanfattningen
`delivery_report_sms` (`statuses: [{"status", "count", "code"}]`) tas emot: den räknas bara
när alla dess rader har samma slutliga status (portalens batchar har en mottagare).
Meddelande-id:t är batchens id.

Äkthet: med SINCH_WEBHOOK_SECRET kontrolleras Sinchs signatur med SDK:ts egen funktion
(`client.sms.sinch_events(secret).validate_authentication_header`): huvudena
`x-sinch-webhook-signature`, `-nonce` och `-timestamp`, HMAC-SHA256 med hemligheten över
`kropp.nonce.tidsstämpel`, base64. Hemligheten måste också läggas in hos Sinch (deras
support eller kundportal) så att de signerar återanropen. SDK:t kontrollerar varken
huvudet `x-sinch-webhook-signature-algorithm` eller tidsstämpelns ålder; en uppspelad
äkta rapport ändrar ändå ingenting (första slutliga status gäller). Utan hemlighet måste
återanropsadressens `?token=` vara SMS_WEBHOOK_TOKEN (jämförs i konstant tid; en tom token
godtas aldrig).
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from sinch import SinchClient
from sinch.core.adapters.requests_http_transport import HTTPTransportRequests
from sinch.core.clients.retry_configuration import RetryConfiguration
from sinch.core.enums import RetryPolicy, SmsRegionEnum
from sinch.core.exceptions import SinchException

from smsportal.backends.base import BaseBackend, SendResult, SmsError
from smsportal.backends.common import (
    final_status,
    network_error,
    report_rows,
    require_settings,
    status_error,
    token_matches,
    unreadable_reply,
)
from smsportal.delivery import DeliveryStatus, callback_url

logger = logging.getLogger(__name__)

#: SDK:ts logger. Dess DEBUG-rader innehåller token, nummer och text: släpps aldrig igenom.
sdk_logger = logging.getLogger("smsportal.backends.sinch.sdk")
sdk_logger.setLevel(logging.WARNING)

#: Regioner som Sinchs SMS-API (service plan) finns i.
REGIONS = tuple(region.value for region in SmsRegionEnum)

#: Sinchs leveransstatus (gemener) -> portalens status. Övriga (Queued, Dispatched,
#: Unknown) är mellanlägen eller okända och ändrar ingenting.
STATUS_MAP = {
    "delivered": DeliveryStatus.DELIVERED,
    "aborted": DeliveryStatus.FAILED,
    "cancelled": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "expired": DeliveryStatus.FAILED,
    "rejected": DeliveryStatus.FAILED,
    "deleted": DeliveryStatus.FAILED,
}

#: Rapporttyper för SMS från Sinch (MMS skickas aldrig av portalen).
RECIPIENT_REPORT = "recipient_delivery_report_sms"
SUMMARY_REPORT = "delivery_report_sms"

#: Filter för `check()`: portalen sätter aldrig client_reference, så listan blir tom och
#: kontrollen hämtar aldrig någon patients nummer eller text.
CHECK_REFERENCE = "smsportal-sms-check"


class _Transport(HTTPTransportRequests):
    """SDK:ts requests-transport som noterar om en begäran har skickats.

    Ett oväntat fel efter att begäran gått iväg (t.ex. ett 2xx-svar som inte går att tolka)
    betyder att SMS:et kan ha skickats; ett fel före betyder att inget skickades.
    """

    def __init__(self, sinch: Any) -> None:
        """Som SDK:ts transport, med en flagga för skickad begäran."""
        super().__init__(sinch)
        self.attempted = False

    def send_request(self, request_data: Any) -> Any:
        """Noterar försöket och skickar som vanligt."""
        self.attempted = True
        return super().send_request(request_data)


class SinchBackend(BaseBackend):
    """Skickar SMS genom Sinchs SMS-API (batches) med det officiella SDK:t."""

    name = "sinch"
    delivery_reports = True

    def __init__(self) -> None:
        """Kontrollerar inställningarna; saknade uppgifter ger ImproperlyConfigured på svenska."""
        require_settings(
            self.name,
            "SINCH_SERVICE_PLAN_ID",
            "SINCH_API_TOKEN",
            hint="Service plan id och API-token finns i Sinch-kontot (SMS → Service APIs).",
        )
        self.region = (settings.SINCH_REGION or "").strip().lower()
        if self.region not in REGIONS:
            raise ImproperlyConfigured(
                f"SINCH_REGION måste vara en av {', '.join(REGIONS)} (var {settings.SINCH_REGION!r})."
            )
        self.base_url = (settings.SINCH_BASE_URL or "").strip().rstrip("/")
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                "SINCH_BASE_URL måste börja med http:// eller https:// (bara schema, värd och port)."
            )
        if not settings.SINCH_WEBHOOK_SECRET and not settings.SMS_WEBHOOK_TOKEN:
            raise ImproperlyConfigured(
                "Sinchs leveransrapporter kan inte autentiseras: ange SINCH_WEBHOOK_SECRET "
                "(Sinchs signering) eller SMS_WEBHOOK_TOKEN (hemlig token i återanropsadressen)."
            )

    @cached_property
    def client(self) -> SinchClient:
        """SDK-klienten: region först, sedan eventuell annan adress; inga omförsök; tidsgräns."""
        client = SinchClient(
            service_plan_id=settings.SINCH_SERVICE_PLAN_ID,
            sms_api_token=settings.SINCH_API_TOKEN,
            sms_region=self.region,
            logger=sdk_logger,
            retry_configuration=RetryConfiguration(retry_policy=RetryPolicy.NONE, max_retries=0),
        )
        configuration = client.configuration
        configuration.transport = _Transport(client)
        configuration.connection_timeout = settings.SMS_TIMEOUT_SECONDS
        if self.base_url:
            # Efter regionen: att sätta regionen igen räknar om och skriver över ursprunget.
            configuration.sms_origin_with_service_plan_id = self.base_url
        return client

    @property
    def origin(self) -> str:
        """Adressen som SDK:t skickar till (utan sökväg)."""
        return self.client.configuration.get_sms_origin_for_auth()

    # --- Sändning ---------------------------------------------------------------------

    def http_sessions(self) -> list[requests.Session]:
        """SDK-transportens session."""
        transport: _Transport = self.client.configuration.transport
        return [transport.http_session]

    def send(self, to: str, text: str) -> SendResult:
        """Skickar en batch med en mottagare; batchens id blir meddelande-id."""
        transport: _Transport = self.client.configuration.transport
        transport.attempted = False
        try:
            batch = self.client.sms.batches.send_sms(
                to=[to],
                from_=settings.SMS_SENDER_ID,
                body=text,
                delivery_report="per_recipient_final",
                event_destination_target=callback_url("sinch", with_token=not settings.SINCH_WEBHOOK_SECRET),
            )
        except SinchException as error:
            raise self._api_error(error, sending=True) from None
        except requests.RequestException as error:
            raise network_error(self.name, error, may_have_sent=True) from None
        except Exception as error:  # SDK:ts tolkning av svaret, t.ex. pydantic
            # Texten kan eka svaret (nummer, text): bara typen sparas.
            if transport.attempted:
                raise unreadable_reply(self.name, may_have_sent=True, detail=type(error).__name__) from None
            raise SmsError(
                permanent=True, provider=self.name, reason=f"Sinch-klienten: {type(error).__name__}"
            ) from None
        batch_id = getattr(batch, "id", None)
        if not isinstance(batch_id, str) or not batch_id:
            raise unreadable_reply(self.name, may_have_sent=True, detail="utan batch-id")
        return self.result(batch_id, text)

    def check(self) -> str:
        """Listar batchar (högst en, filtrerat så att inget SMS hämtas): kontrollerar token och plan."""
        try:
            self.client.sms.batches.list(page_size=1, client_reference=CHECK_REFERENCE)
        except SinchException as error:
            raise self._api_error(error, sending=False) from None
        except requests.RequestException as error:
            raise network_error(self.name, error, may_have_sent=False) from None
        except Exception as error:  # oväntat svar på en läsning
            raise unreadable_reply(self.name, may_have_sent=False, detail=type(error).__name__) from None
        return f"inloggningen fungerar ({self.origin})"

    # --- Felklassning -----------------------------------------------------------------

    def _api_error(self, error: SinchException, *, sending: bool) -> SmsError:
        """Ett svar från Sinch som SDK:t inte godtog (HTTP-fel eller kropp som inte är JSON)."""
        # `response_status_code` blir None för requests egna svar med felstatus (SDK:t skriver
        # `if response`, och ett requests-svar med 4xx/5xx är falskt): läs statusen direkt.
        status = getattr(error.http_response, "status_code", None)
        if not error.is_from_server or not isinstance(status, int):
            # SDK:t vägrade skicka (saknade uppgifter): inget gick iväg.
            return SmsError(permanent=True, provider=self.name, reason="Sinch-klienten vägrade skicka")
        if status < 400:
            # 2xx med en kropp som inte är JSON: Sinch tog emot begäran.
            return unreadable_reply(self.name, may_have_sent=sending, detail=f"HTTP {status}")
        reason = f"HTTP {status}" + _describe_body(getattr(error.http_response, "body", None))
        if status == 401:
            reason += " (fel SINCH_API_TOKEN eller SINCH_SERVICE_PLAN_ID)"
        return status_error(self.name, status, reason=reason)

    # --- Leveransrapporter ------------------------------------------------------------

    def verify_webhook(self, request: HttpRequest) -> bool:
        """Sinchs signatur (med SINCH_WEBHOOK_SECRET) eller annars hemlig token i adressen."""
        secret = settings.SINCH_WEBHOOK_SECRET
        if secret:
            events = self.client.sms.sinch_events(secret)
            try:
                return bool(events.validate_authentication_header(dict(request.headers), request.body))
            except (UnicodeDecodeError, LookupError, ValueError):
                return False  # kroppen gick inte att avkoda med angiven teckenkodning
        return token_matches(request, settings.SMS_WEBHOOK_TOKEN)

    def parse_delivery_report(self, request: HttpRequest) -> list[tuple[str, str]]:
        """(batch-id, status) ur en rapport; tom lista för mellanlägen och okända kroppar."""
        try:
            report = json.loads(request.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return []  # RecursionError: djupt nästlad JSON (t.ex. tiotusen "[")
        if not isinstance(report, dict):
            return []
        kind = report.get("type")
        if kind == RECIPIENT_REPORT:
            status = final_status(report.get("status"), STATUS_MAP)
        elif kind == SUMMARY_REPORT:
            status = _summary_status(report.get("statuses"))
        else:
            status = None
        return report_rows(report.get("batch_id"), status)


def _summary_status(statuses: Any) -> str | None:
    """En sammanfattning räknas bara när alla rader med mottagare har samma slutliga status."""
    if not isinstance(statuses, list):
        return None
    found: set[str | None] = set()
    for row in statuses:
        if not isinstance(row, dict):
            return None
        count = row.get("count", 1)
        if isinstance(count, int) and count <= 0:
            continue
        found.add(final_status(row.get("status"), STATUS_MAP))
    if len(found) != 1:
        return None
    return found.pop()


def _describe_body(body: Any) -> str:
    """Sinchs felkod och text ur felkroppen (`code`/`text`, eller `error.message`)."""
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("error"), dict):
        body = body["error"]
    code = body.get("code") or body.get("status")
    text = body.get("text") or body.get("message")
    parts = [str(part) for part in (code, text) if part not in (None, "")]
    return (" " + ": ".join(parts)) if parts else ""
