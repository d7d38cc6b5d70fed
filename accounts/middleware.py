"""Middleware för sessionens inaktivitetsgräns och för att inga inloggade sidor cachas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from accounts import sessions
from audit.models import Action
from audit.services import record

EXPIRED_MESSAGE = "Du har loggats ut efter {minutes} minuters inaktivitet. Logga in igen."


class InactivityTimeoutMiddleware:
    """Loggar ut efter SESSION_TIMEOUT_MINUTES utan egen aktivitet.

    Bakgrundsanrop (vyer märkta med `accounts.sessions.background_request`) får svaret
    401 när sessionen har gått ut och förlänger den aldrig.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standardkonstruktor för Django-middleware."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Skickar vidare begäran; själva kontrollen sker i `process_view`."""
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        """Loggar ut en utgången session och noterar aktivitet för vanliga sidvisningar."""
        if not request.user.is_authenticated:
            return None
        background = getattr(view_func, "background_request", False)
        if sessions.is_expired(request.session):
            self._expire(request)
            if background:
                return JsonResponse({"fel": "Sessionen har gått ut. Logga in igen."}, status=401)
            return None
        if not background:
            sessions.touch(request.session)
        return None

    @staticmethod
    def _expire(request: HttpRequest) -> None:
        """Loggar ut, skriver audit-händelsen och lämnar ett meddelande till inloggningssidan."""
        user = request.user
        request.session_expired = True  # type: ignore[attr-defined]
        logout(request)
        record(Action.SESSION_EXPIRED, actor=user, status="ok")
        minutes = sessions.timeout_seconds() // 60
        messages.info(request, EXPIRED_MESSAGE.format(minutes=minutes))


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
