"""Klientens IP-adress bakom betrodda proxyer (django-ratelimit, django-axes och spärrsidan).

Modulen importerar inget av portalens egna.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Adressen som den yttersta betrodda proxyn såg, annars REMOTE_ADDR.

    Med TRUSTED_PROXY_COUNT = n är klientens adress den n:te från slutet i X-Forwarded-For;
    allt till vänster om den kan klienten själv ha hittat på.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count <= 0 or len(forwarded) < count:
        return remote
    return forwarded[-count]
