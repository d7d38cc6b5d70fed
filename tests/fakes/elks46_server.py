"""Låtsas-46elks: `POST /a1/sms` och `GET /a1/me`.

Svarar som 46elks: Basic-inloggning med API-användarnamn och lösenord (annars 401 med
texten "Unauthorized"), formulärkodade begäranden, JSON-svar och felsvar som vanlig text
(403 "Missing key to", 403 "Invalid to number").
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from tests.fakes.server import E164, FakeProvider, RecordedRequest, Reply

API_USERNAME = "u" + "0123456789abcdef" * 2
API_PASSWORD = "C0FFEE" * 5 + "AB"
DISPLAY_NAME = "Södermalms Ortopedi"
#: Kontots eget mobilnummer, som 46elks visar i /me: får aldrig synas i portalen.
ACCOUNT_MOBILE = "+46700000001"

_TEXT = {"Content-Type": "text/plain; charset=utf-8"}


def text_reply(status: int, text: str) -> Reply:
    """Ett felsvar som 46elks skickar det: vanlig text."""
    return Reply(status, text.encode(), dict(_TEXT))


class FakeElks46(FakeProvider):
    """Ett 46elks-konto; API:et ligger under /a1 som hos 46elks."""

    def __init__(self, username: str = API_USERNAME, password: str = API_PASSWORD) -> None:
        """Skapar servern för ett konto."""
        super().__init__()
        self.username = username
        self.password = password
        #: De SMS som kontot skapat (svaren på POST /sms, med id), t.ex. för leveransrapporter.
        self.created: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        """Adressen att sätta i ELKS46_BASE_URL (som https://api.46elks.com/a1)."""
        return self.url + "/a1"

    def fail_with_text(self, status: int, text: str, times: int = 1) -> None:
        """Nästa `times` svar blir detta textfel (46elks felkroppar är vanlig text)."""
        self.queue_reply(text_reply(status, text), times)

    def handle(self, request: RecordedRequest) -> Reply:
        """Kontrollerar inloggningen och svarar för /sms och /me."""
        if not request.has_basic_auth(self.username, self.password):
            return text_reply(401, "Unauthorized")
        if request.method == "POST" and request.path == "/a1/sms":
            return self._send(request)
        if request.method == "GET" and request.path == "/a1/me":
            return Reply(200, self._me())
        return text_reply(404, "Not Found")

    def _send(self, request: RecordedRequest) -> Reply:
        """POST /sms: 200 med SMS:et, eller 403 för saknade fält och ogiltigt nummer."""
        form = request.form_fields()
        for key in ("from", "to", "message"):
            if not form.get(key):
                return text_reply(403, f"Missing key {key}")
        if not E164.fullmatch(form["to"]):
            return text_reply(403, "Invalid to number")
        sms = self._sms(form)
        self.created.append(sms)
        return Reply(200, sms)

    def _sms(self, form: dict[str, str]) -> dict[str, Any]:
        """Det skapade SMS:et; med dontlog=message utelämnas texten, som hos 46elks."""
        sms: dict[str, Any] = {
            "status": "created",
            "direction": "outgoing",
            "from": form["from"],
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "parts": 1,
            "to": form["to"],
            "cost": 3500,
            "id": "s" + uuid.uuid4().hex,
        }
        if form.get("dontlog") == "message":
            sms["dontlog"] = "message"
        else:
            sms["message"] = form["message"]
        return sms

    def _me(self) -> dict[str, Any]:
        """Kontoinformationen (saldo i tiotusendelar av valutan)."""
        return {
            "id": self.username,
            "displayname": DISPLAY_NAME,
            "email": "kansli@example.se",
            "mobilenumber": ACCOUNT_MOBILE,
            "currency": "SEK",
            "balance": 1_234_500,
        }
