"""Ursprungskontroll för websockets: schema, värd och port måste stämma med portalens egen adress.

Webbläsaren skickar sidans ursprung (Origin) när en websocket öppnas, och personalens sessionskaka
följer med oavsett vilken sida som öppnar den. Därför släpps bara portalens eget ursprung in:
PUBLIC_BASE_URL:s schema, värd och port (standardportarna 443 för https och 80 för http räknas
med). http:// när portalen ligger på https://, en annan port eller en annan värd vägras, liksom en
anslutning utan Origin. I utvecklingsläge (DEBUG) godtas också begärans egen värd (Host) med det
schema websocketen kom in på (ws → http, wss → https), om värden finns i ALLOWED_HOSTS.

Vägran sker före accept, på samma sätt som Channels egen OriginValidator (WebsocketDenier).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

#: Ett ursprung: schema, värd (gemener, IPv6 utan hakparenteser) och port.
Origin = tuple[str, str, int]

DEFAULT_PORTS = {"http": 80, "https": 443}
#: Websocketens schema → schemat för sidan som öppnade den.
PAGE_SCHEMES = {"ws": "http", "wss": "https"}


def origin_of(url: str) -> Origin | None:
    """Schema, värd och port i en adress (standardport om ingen anges); None om den inte är http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # t.ex. en port som inte är ett tal eller ligger utanför 0–65535
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, DEFAULT_PORTS[parts.scheme] if port is None else port


def allowed_origins(scope: dict[str, Any]) -> set[Origin]:
    """Ursprungen som får öppna websocketen: PUBLIC_BASE_URL, och i DEBUG begärans egen värd."""
    candidates = [origin_of(settings.PUBLIC_BASE_URL), _own_origin(scope) if settings.DEBUG else None]
    return {origin for origin in candidates if origin is not None}


def _own_origin(scope: dict[str, Any]) -> Origin | None:
    """Ursprunget för begärans Host med websocketens schema; None utan Host eller för en okänd värd."""
    hosts = _header_values(scope, b"host")
    scheme = PAGE_SCHEMES.get(scope.get("scheme", "ws"))
    if len(hosts) != 1 or scheme is None:
        return None
    domain, _port = split_domain_port(hosts[0])
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return origin_of(f"{scheme}://{hosts[0]}")


def _header_values(scope: dict[str, Any], name: bytes) -> list[str]:
    """Alla värden för en rubrik i ASGI-omfånget (namnen är gemener enligt ASGI)."""
    return [value.decode("latin-1") for header, value in scope.get("headers", []) if header == name]


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Sant om anslutningen har exakt en Origin-rubrik och den är ett av de tillåtna ursprungen."""
    origins = _header_values(scope, b"origin")
    return len(origins) == 1 and origin_of(origins[0]) in allowed_origins(scope)


class SameOriginValidator:
    """ASGI-mellanlager för websockets: släpper bara igenom portalens eget ursprung."""

    def __init__(self, application: Any) -> None:
        """Lindar in applikationen som får de godkända anslutningarna."""
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Skickar en godkänd anslutning vidare; stänger andra innan de accepteras."""
        if scope["type"] != "websocket":
            raise ValueError("SameOriginValidator gäller bara websocket-anslutningar.")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
