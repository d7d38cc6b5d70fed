"""Klientens IP-adress bakom betrodda proxyer (django-ratelimit, django-axes och spärrsidan).

Modulen importerar inget av portalens egna.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# Adressen när ingen giltig finns: daphne på en Unix-socket utan proxy ger ingen REMOTE_ADDR, och en
# felräknad TRUSTED_PROXY_COUNT kan peka på ett värde som klienten själv skrivit i X-Forwarded-For.
# Alla sådana begäranden delar då gränsen per adress i stället för att få ett serverfel.
UNKNOWN_ADDRESS = "0.0.0.0"


def client_ip(request: HttpRequest) -> str:
    """Adressen som den yttersta betrodda proxyn såg, annars REMOTE_ADDR; alltid en giltig IP-adress.

    Med TRUSTED_PROXY_COUNT = n är klientens adress den n:te från slutet i X-Forwarded-For;
    allt till vänster om den kan klienten själv ha hittat på. Ett värde som inte är en IP-adress
    (saknas, eller skräp) ger UNKNOWN_ADDRESS.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    address = forwarded[-count] if 0 < count <= len(forwarded) else remote
    return address if _is_ip_address(address) else UNKNOWN_ADDRESS


def _is_ip_address(value: str) -> bool:
    """Sant om `value` är en IPv4- eller IPv6-adress (utan port eller hakparenteser)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
