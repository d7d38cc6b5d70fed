"""Låtsas-Twilio: Messages- och Accounts-resurserna i REST-API 2010-04-01.

Svarar som Twilio: Basic-inloggning med konto-SID och token (annars 401 med felkod 20003),
formulärkodade begäranden, JSON-svar och Twilios felkropp
`{"code", "message", "more_info", "status"}`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

from tests.fakes.server import E164, FakeProvider, RecordedRequest, Reply

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f00dcafe" * 4
FRIENDLY_NAME = "Södermalms Ortopedi"


def twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilios felkropp (det äldre formatet som nästan alla REST-resurser använder)."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _now() -> str:
    """Tidsstämpel i Twilios format (RFC 2822)."""
    return format_datetime(datetime.now(timezone.utc), usegmt=False)


class FakeTwilio(FakeProvider):
    """Ett Twilio-konto med `ACCOUNT_SID` och `AUTH_TOKEN`."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        """Skapar servern för ett konto."""
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        #: Kontots status i GET-svaret (active, suspended eller closed).
        self.account_status = "active"

    def handle(self, request: RecordedRequest) -> Reply:
        """Kontrollerar inloggningen och svarar för meddelanden och kontot."""
        if not request.has_basic_auth(self.account_sid, self.auth_token):
            return Reply(401, twilio_error(401, 20003, "Authenticate"))
        account = f"/2010-04-01/Accounts/{self.account_sid}"
        if request.method == "POST" and request.path == f"{account}/Messages.json":
            return self._create_message(request)
        if request.method == "GET" and request.path == f"{account}.json":
            return Reply(200, self._account())
        return Reply(404, twilio_error(404, 20404, f"The requested resource {request.path} was not found"))

    def _create_message(self, request: RecordedRequest) -> Reply:
        """POST Messages.json: 201 med meddelandet, eller 400 (21604 saknat 'To', 21211 ogiltigt 'To')."""
        form = request.form_fields()
        to = form.get("To", "")
        if not to:
            return Reply(400, twilio_error(400, 21604, "A 'To' phone number is required."))
        if not E164.fullmatch(to):
            # Som hos Twilio ekar felet numret: backenden får aldrig föra det vidare.
            return Reply(400, twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number."))
        return Reply(201, self._message(form))

    def _message(self, form: dict[str, str]) -> dict[str, Any]:
        """Ett nyskapat meddelande som Twilio beskriver det (status "queued")."""
        sid = "SM" + uuid.uuid4().hex
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": _now(),
            "date_sent": None,
            "date_updated": _now(),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": form.get("To"),
            "uri": f"{base}.json",
        }

    def _account(self) -> dict[str, Any]:
        """Kontot som Twilio beskriver det."""
        base = f"/2010-04-01/Accounts/{self.account_sid}"
        return {
            "auth_token": self.auth_token,
            "date_created": _now(),
            "date_updated": _now(),
            "friendly_name": FRIENDLY_NAME,
            "owner_account_sid": self.account_sid,
            "sid": self.account_sid,
            "status": self.account_status,
            "subresource_uris": {"messages": f"{base}/Messages.json"},
            "type": "Full",
            "uri": f"{base}.json",
        }
