"""Middleware för hela portalen: inga dynamiska svar sparas i någon cache, inga adresser med NUL."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
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


class RejectNulInPathMiddleware:
    """En adress med ett NUL-tecken (%00) är aldrig en av portalens sidor: 404 direkt, före databasen.

    PostgreSQL vägrar NUL i text. En sådan adress nådde annars databasen som nyckel (i Django
    admin för django-q2:s jobb, som har textnycklar) och gav 500. Felsidan är den vanliga för
    adresser som inte finns: under `/s/` patienternas sida "Länken gäller inte längre".
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standardkonstruktor för Django-middleware."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """404 för en adress med NUL-tecken, annars vidare."""
        if "\x00" in request.path:
            raise Http404("NUL-tecken i adressen")
        return self.get_response(request)
