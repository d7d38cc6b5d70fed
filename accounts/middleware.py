"""Middleware för sessionens inaktivitetsgräns och tvåstegsverifieringen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts import sessions
from accounts.mfa import session_is_verified
from audit.models import Action
from audit.services import record
from common.users import signed_in_user

EXPIRED_MESSAGE = "Du har loggats ut efter {minutes} minuters inaktivitet. Logga in igen."
UNVERIFIED_MESSAGE = "Inloggningen kräver tvåstegsverifiering. Logga in igen med lösenord och kod."
# Utloggningens status i audit-loggen när sessionen saknar bekräftad andra faktor (t.ex. efter nollställning).
SECOND_FACTOR_MISSING = "andra faktorn saknas"


class ViewCheckMiddleware:
    """Grund för middleware vars kontroll sker i `process_view` (när vyn och dess märkning är kända)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standardkonstruktor för Django-middleware."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Skickar vidare begäran; själva kontrollen sker i `process_view`."""
        return self.get_response(request)


class InactivityTimeoutMiddleware(ViewCheckMiddleware):
    """Loggar ut efter SESSION_TIMEOUT_MINUTES utan egen aktivitet.

    Bakgrundsanrop (vyer märkta med `accounts.sessions.background_request`) får svaret
    401 när sessionen har gått ut och förlänger den aldrig.
    """

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
        user = signed_in_user(request)
        # Ett eget attribut på begäran, som audit.signals läser (utloggning efter inaktivitet, inte av personen).
        request.session_expired = True  # type: ignore[attr-defined]
        logout(request)
        record(Action.SESSION_EXPIRED, actor=user, status="ok")
        minutes = sessions.timeout_seconds() // 60
        messages.info(request, EXPIRED_MESSAGE.format(minutes=minutes))


class SecondFactorMiddleware(ViewCheckMiddleware):
    """Ingen sida, inget bakgrundsanrop och ingen admin för en session utan bekräftad andra faktor.

    Inloggningen sker först när koden godtagits (`accounts.mfa`), så en sådan session uppstår
    bara om STAFF_MFA_REQUIRED slogs på efter inloggningen eller om en administratör
    nollställde personens tvåstegsverifiering. Den loggas ut innan vyn körs; vyn ser sedan en
    anonym besökare (inloggningssidan med `next`, svaret 401 för bakgrundsanrop). Sidor som
    aldrig kräver inloggning (inloggningen, koden, dataskydd, patientsidor, webhooks, statiska
    filer, felsidor) fungerar som för alla andra besökare.
    """

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        """Loggar ut en inloggad session som saknar bekräftad andra faktor när den krävs."""
        if not request.user.is_authenticated or session_is_verified(request.session):
            return None
        # Audit-händelsens status (audit.signals): portalen loggade ut, inte personen.
        request.logout_status = SECOND_FACTOR_MISSING  # type: ignore[attr-defined]
        logout(request)
        if getattr(view_func, "background_request", False):
            return JsonResponse({"fel": UNVERIFIED_MESSAGE}, status=401)
        messages.info(request, UNVERIFIED_MESSAGE)
        return None
