"""Låtsas-Sinch: SMS-API:ts batch-ändpunkter (service plan-varianten) på 127.0.0.1.

Svarar som Sinchs REST-API `https://{region}.sms.api.sinch.com/xms/v1/{service_plan_id}/…`:

- `POST /xms/v1/{plan}/batches` med `Authorization: Bearer <token>` och en JSON-kropp
  (`to`, `from`, `body`, `type`, `delivery_report`, `callback_url`): 201 och en batch
  (`id`, `to`, `from`, `canceled`, `body`, `type: "mt_text"`, `created_at`, `modified_at`,
  `delivery_report`, `expire_at`, `callback_url`, `flash_message`, …).
- `GET /xms/v1/{plan}/batches?page=&page_size=&client_reference=`: en sida batchar,
  nyaste först (`count`, `page`, `page_size`, `batches`).
- Fel: 401 utan kropp för fel token eller service plan, 400 med `{"code", "text"}` för
  ogiltiga fält (`syntax_invalid_json`, `syntax_constraint_violation`,
  `syntax_invalid_parameter_format`; texten ekar det felaktiga värdet, som Sinch gör), 404
  för okända sökvägar.

Testet styr dessutom: `fail_with()` och `delay` (från `FakeProvider`), `rate_limit()` för en
429 med Retry-After, `reply_raw()` för en kropp som inte är JSON. Leveransrapporter byggs med
`recipient_report()` / `summary_report()` och signeras med `signature_headers()` – räknat
här för sig (HMAC-SHA256 över `kropp.nonce.tidsstämpel`, base64), inte med SDK:ts kod.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.server import FakeProvider, RecordedRequest, Reply

SERVICE_PLAN_ID = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
API_TOKEN = "sinch-test-token-5d0c1f9e2b"

_MSISDN = re.compile(r"\+?[1-9][0-9]{6,14}")
_ALPHANUMERIC = re.compile(r"[A-Za-z0-9 ]{1,11}")
_REPORT_TYPES = {"none", "summary", "full", "per_recipient", "per_recipient_final"}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _timestamp(moment: datetime) -> str:
    """Sinchs tidsformat: ISO-8601 med millisekunder och Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _batch_id() -> str:
    """Ett batch-id i Sinchs form: 26 tecken ULID (Crockford base32)."""
    return "01" + "".join(secrets.choice(_CROCKFORD) for _ in range(24))


def _error(status: int, code: str, text: str) -> Reply:
    """Sinchs felkropp för 400 och 403."""
    return Reply(status, {"code": code, "text": text})


class FakeSinch(FakeProvider):
    """Sinchs SMS-API (batches) med service plan id och API-token."""

    #: Kort avläsningsintervall så att `stop()` tar millisekunder, inte 0,5 s.
    poll_interval = 0.02

    def __init__(self, service_plan_id: str = SERVICE_PLAN_ID, api_token: str = API_TOKEN) -> None:
        """Skapar servern (startas med `start()`)."""
        super().__init__()
        self.service_plan_id = service_plan_id
        self.api_token = api_token
        #: Skapade batchar i ordning (som Sinch sparar dem).
        self.batches: list[dict[str, Any]] = []

    # --- Testets styrning ----------------------------------------------------------------

    def rate_limit(self, retry_after: str = "1", times: int = 1) -> None:
        """Nästa `times` svar blir 429 Too Many Requests med Retry-After (SDK:t väntar annars)."""
        reply = Reply(429, {"code": "too_many_requests", "text": "Too many requests"}, {"Retry-After": retry_after})
        self.queue_reply(reply, times)

    def reply_raw(self, status: int, body: bytes, content_type: str = "text/html") -> None:
        """Nästa svar blir en rå kropp (t.ex. en proxys HTML-sida)."""
        self.queue_reply(Reply(status, body, {"Content-Type": content_type}))

    def sends(self) -> list[RecordedRequest]:
        """Sändförsöken (POST till batches) som servern tog emot."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/batches")]

    # --- Leveransrapporter ---------------------------------------------------------------

    @staticmethod
    def recipient_report(
        batch: dict[str, Any] | str, status: str = "Delivered", code: int = 0, **extra: Any
    ) -> dict[str, Any]:
        """En rapport per mottagare som Sinch skickar den (`recipient_delivery_report_sms`)."""
        batch_id = batch if isinstance(batch, str) else batch["id"]
        recipient = "46701234567" if isinstance(batch, str) else batch["to"][0].lstrip("+")
        report = {
            "type": "recipient_delivery_report_sms",
            "batch_id": batch_id,
            "recipient": recipient,
            "code": code,
            "status": status,
            "at": _timestamp(datetime.now(timezone.utc)),
            "operator_status_at": _timestamp(datetime.now(timezone.utc) - timedelta(seconds=2)),
        }
        report.update(extra)
        return report

    @staticmethod
    def summary_report(batch: dict[str, Any] | str, statuses: list[tuple[str, int]]) -> dict[str, Any]:
        """En sammanfattning (`delivery_report_sms`) med (status, antal) per rad."""
        batch_id = batch if isinstance(batch, str) else batch["id"]
        codes = {"Delivered": 0, "Queued": 400, "Dispatched": 401}
        return {
            "type": "delivery_report_sms",
            "batch_id": batch_id,
            "total_message_count": sum(count for _, count in statuses),
            "statuses": [
                {"code": codes.get(status, 402), "count": count, "status": status} for status, count in statuses
            ],
        }

    @staticmethod
    def signature_headers(
        body: bytes, secret: str, *, nonce: str | None = None, timestamp: str | None = None
    ) -> dict[str, str]:
        """Sinchs signaturhuvuden för ett återanrop: HMAC-SHA256(hemlighet, kropp.nonce.tidsstämpel), base64."""
        nonce = nonce or secrets.token_hex(16)
        timestamp = timestamp or str(int(time.time()))
        signed = body + f".{nonce}.{timestamp}".encode()
        signature = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
        return {
            "x-sinch-webhook-signature": signature,
            "x-sinch-webhook-signature-nonce": nonce,
            "x-sinch-webhook-signature-timestamp": timestamp,
            "x-sinch-webhook-signature-algorithm": "HmacSHA256",
        }

    # --- API:t ---------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        """Autentisering, sedan batchar: skapa (POST) eller lista (GET)."""
        match = re.fullmatch(r"/xms/v1/([^/]+)/batches", request.path)
        if not match:
            return Reply(404, {"code": "not_found", "text": "Not found"})
        if match.group(1) != self.service_plan_id or request.headers.get("authorization") != f"Bearer {self.api_token}":
            return Reply(401, b"", {"WWW-Authenticate": 'Bearer realm="XMS"'})
        if request.method == "POST":
            return self._create_batch(request)
        if request.method == "GET":
            return self._list_batches(request)
        return Reply(405, b"")

    def _create_batch(self, request: RecordedRequest) -> Reply:
        """Validerar som Sinch och sparar batchen; 201 med batchen."""
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _error(400, "syntax_invalid_json", "Content-Type must be application/json")
        try:
            payload = request.json()
        except ValueError:
            return _error(400, "syntax_invalid_json", "The JSON body is invalid")
        if not isinstance(payload, dict):
            return _error(400, "syntax_invalid_json", "Expected a JSON object")
        to, body = payload.get("to"), payload.get("body")
        if not isinstance(to, list) or not 1 <= len(to) <= 1000:
            return _error(400, "syntax_constraint_violation", "to: must contain 1 to 1000 recipients")
        for number in to:
            if not isinstance(number, str) or not _MSISDN.fullmatch(number):
                return _error(400, "syntax_invalid_parameter_format", f"Invalid MSISDN: '{number}'")
        if not isinstance(body, str) or not body:
            return _error(400, "syntax_constraint_violation", "body: may not be empty")
        sender = payload.get("from")
        if sender is not None and not (_ALPHANUMERIC.fullmatch(sender) or _MSISDN.fullmatch(sender)):
            return _error(400, "syntax_invalid_parameter_format", f"Invalid originator: '{sender}'")
        if payload.get("type", "mt_text") != "mt_text":
            return _error(400, "syntax_invalid_parameter_format", "type: expected mt_text")
        report = payload.get("delivery_report", "none")
        if report not in _REPORT_TYPES:
            return _error(400, "syntax_invalid_parameter_format", f"delivery_report: invalid value '{report}'")
        callback = payload.get("callback_url")
        if callback is not None and urlsplit(callback).scheme not in ("http", "https"):
            return _error(400, "syntax_invalid_parameter_format", "callback_url: must be a valid URL")

        now = datetime.now(timezone.utc)
        batch: dict[str, Any] = {
            "id": _batch_id(),
            "to": to,
            "from": sender,
            "canceled": False,
            "body": body,
            "type": "mt_text",
            "created_at": _timestamp(now),
            "modified_at": _timestamp(now),
            "delivery_report": report,
            "expire_at": _timestamp(now + timedelta(days=3)),
            "flash_message": False,
            "feedback_enabled": False,
        }
        for optional in ("callback_url", "client_reference"):
            if payload.get(optional) is not None:
                batch[optional] = payload[optional]
        with self._lock:
            self.batches.append(batch)
        return Reply(201, batch)

    def _list_batches(self, request: RecordedRequest) -> Reply:
        """En sida batchar, nyaste först, filtrerad på client_reference."""
        try:
            page = int(request.query.get("page", ["0"])[0])
            page_size = int(request.query.get("page_size", ["30"])[0])
        except ValueError:
            return _error(400, "syntax_invalid_parameter_format", "page and page_size must be integers")
        if page < 0 or not 1 <= page_size <= 100:
            return _error(400, "syntax_constraint_violation", "page_size: must be between 1 and 100")
        with self._lock:
            found = list(reversed(self.batches))
        reference = request.query.get("client_reference", [None])[0]
        if reference is not None:
            found = [batch for batch in found if batch.get("client_reference") == reference]
        shown = found[page * page_size : (page + 1) * page_size]
        return Reply(200, {"count": len(found), "page": page, "page_size": len(shown), "batches": shown})
