"""Middleware för hela portalen: inga dynamiska svar sparas i någon cache."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Sätter `Cache-Control: no-store` på alla dynamiska svar.

    Inloggade sidor och patientsidor får aldrig sparas i en delad eller lokal cache.
    Statiska filer hanteras av WhiteNoise före denna middleware och cachas som vanligt.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standardkonstruktor för Django-middleware."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Lägger till cachehuvudena på svaret."""
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response
