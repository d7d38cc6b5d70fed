"""Grund för låtsasleverantörer: en riktig HTTP-server på 127.0.0.1 i en tråd.

Varje låtsasleverantör (Sinch, Twilio, 46elks) ärver `FakeProvider` och svarar som det
riktiga API:et (sökvägar, autentisering, kroppar, felkroppar). Testet styr beteendet:
`fail_with(status, body)` för nästa svar, `delay` för en tidsgräns efter sändning, och
`stop()` för en leverantör som inte går att nå.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

#: Ett nummer i E.164-form, som leverantörerna kräver det i `To`/`to`.
E164 = re.compile(r"\+[1-9]\d{7,14}")


@dataclass
class RecordedRequest:
    """En begäran som låtsasservern tog emot."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    #: Klientens port: samma port = samma (återanvända) TCP-anslutning.
    client_port: int = 0

    def json(self) -> Any:
        """Kroppen tolkad som JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        """Kroppen tolkad som formulärdata."""
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def form_fields(self) -> dict[str, str]:
        """Formulärdatan med första värdet per fält (som leverantörernas API:er läser den)."""
        return {key: values[0] for key, values in self.form().items()}

    def has_basic_auth(self, username: str, password: str) -> bool:
        """Sant om Authorization-huvudet är HTTP Basic med just dessa uppgifter."""
        expected = base64.b64encode(f"{username}:{password}".encode()).decode()
        return self.headers.get("authorization") == f"Basic {expected}"


@dataclass
class Reply:
    """Ett svar: status, JSON- eller textkropp och huvuden."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeProvider:
    """Basklass: starta med `start()`, stoppa med `stop()`; underklasser implementerar `handle()`."""

    #: Hur ofta servertråden ser efter `stop()` (sekunder); kortare ger snabbare stopp.
    poll_interval = 0.05

    def __init__(self) -> None:
        """Skapar servern på en ledig port (startas med `start()`)."""
        self.requests: list[RecordedRequest] = []
        self.delay = 0.0
        self._failures: list[Reply] = []
        self._lock = threading.Lock()
        # Öppna anslutningar: HTTP/1.1 håller dem öppna mellan begäranden, som hos leverantörerna.
        self._connections: set[socket.socket] = set()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            """Tar emot varje begäran och låter låtsasleverantören svara (HTTP/1.1, keep-alive)."""

            protocol_version = "HTTP/1.1"
            # Huvuden och kropp skrivs var för sig: utan TCP_NODELAY väntar kroppen på klientens
            # fördröjda ACK (upp till 40 ms per svar på en återanvänd anslutning), vilket ingen
            # riktig leverantör gör och som skulle mätas som portalens tid.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                """Noterar anslutningen, så att `stop()` kan stänga den."""
                super().setup()
                with provider._lock:
                    provider._connections.add(self.connection)

            def finish(self) -> None:
                """Glömmer anslutningen när klienten stängt den."""
                with provider._lock:
                    provider._connections.discard(self.connection)
                super().finish()

            def _serve(self) -> None:
                """Läser begäran, spelar in den och skickar svaret."""
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    client_port=self.client_address[1],
                )
                reply = provider._reply(request)
                if provider.delay:
                    time.sleep(provider.delay)
                payload = (
                    reply.body
                    if isinstance(reply.body, bytes)
                    else (json.dumps(reply.body).encode() if reply.body is not None else b"")
                )
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # klienten gav upp (tidsgräns): precis det testet vill se

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Ingen åtkomstlogg (den skulle innehålla testnummer)."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Serverns basadress, t.ex. http://127.0.0.1:54321."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Startar servern i en bakgrundstråd."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": self.poll_interval}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stänger servern: porten tar inte längre emot anslutningar och öppna anslutningar stängs."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # redan stängd av klienten

    def fail_with(self, status: int, body: Any = None, times: int = 1) -> None:
        """Nästa `times` svar blir detta fel i stället för det vanliga svaret."""
        self.queue_reply(Reply(status, body), times)

    def queue_reply(self, reply: Reply, times: int = 1) -> None:
        """Nästa `times` svar blir `reply` (med egna huvuden) i stället för det vanliga svaret."""
        with self._lock:
            self._failures.extend([reply] * times)

    def _reply(self, request: RecordedRequest) -> Reply:
        """Spelar in begäran och väljer svar: ett köat fel, annars `handle()`."""
        with self._lock:
            self.requests.append(request)
            if self._failures:
                return self._failures.pop(0)
        return self.handle(request)

    def handle(self, request: RecordedRequest) -> Reply:
        """Svaret för en lyckad begäran. Underklasser implementerar API:ets form."""
        return Reply(404, {"error": "okänd sökväg"})
