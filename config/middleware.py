"""Middleware för hela portalen: inga dynamiska svar sparas i någon cache, inga begäranden med NUL,
och en svensk sida när en adress öppnas med fel metod."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from config.views import method_not_allowed


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


class MethodNotAllowedPageMiddleware:
    """Djangos tomma 405 (`require_POST` m.fl.) blir den svenska felsidan, med samma Allow-huvud.

    Personal vars session gick ut mitt i en åtgärd kom efter inloggningen till åtgärdens adress
    med GET och fick en tom sida; patienter och webbläsare får samma sida för t.ex.
    `/s/<kod>/oppnad`. Ett svar med eget innehåll lämnas orört.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standardkonstruktor för Django-middleware."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Byter ett tomt 405-svar mot felsidan."""
        response = self.get_response(request)
        if response.status_code == 405 and not getattr(response, "content", b"x"):
            return method_not_allowed(request, response.get("Allow", ""))
        return response


class RejectNulMiddleware:
    """Ett NUL-tecken hör aldrig hemma i en begäran till portalen: den avvisas före databasen.

    PostgreSQL vägrar NUL i text, och en sådan begäran gav annars 500 (och ett felbrev till IT):
    en adress med `%00` nådde databasen som nyckel (Django admin för django-q2:s jobb), ett filter
    i admins listor med `%00` nådde den som värde, och django-axes sparar webbläsarens
    User-Agent och Accept vid en misslyckad inloggning. Adressen med NUL får den vanliga sidan för
    adresser som inte finns (404; under `/s/` patienternas "Länken gäller inte längre"), en
    frågesträng eller ett huvud med NUL sidan "Felaktig begäran" (400).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standardkonstruktor för Django-middleware."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """404 för en adress med NUL, 400 för en frågesträng eller ett huvud med NUL, annars vidare."""
        if "\x00" in request.path:
            raise Http404("NUL-tecken i adressen")
        if _nul_in_query_or_headers(request.META):
            raise BadRequest("NUL-tecken i frågesträngen eller ett huvud")
        return self.get_response(request)


def _nul_in_query_or_headers(meta: dict[str, Any]) -> bool:
    """Sant om frågesträngen (rå, `%00` eller tecknet självt) eller något HTTP-huvud har ett NUL-tecken."""
    query = meta.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query:
        return True
    return any("\x00" in value for key, value in meta.items() if key.startswith("HTTP_") and isinstance(value, str))
