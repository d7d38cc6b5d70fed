"""Inloggning, utloggning, startsida, dataskyddssida, spärrsida och felsidor."""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import lockout as lockout_state
from accounts import mfa, sessions
from accounts.forms import LoginForm
from accounts.oidc import oidc_enabled
from config.client_ip import client_ip
from config.database_errors import is_outage, is_patient_request, outage_response


class LoginView(auth_views.LoginView):
    """Inloggningssidan (svenska; spärr efter fem fel hanteras av django-axes).

    Rätt lösenord loggar in direkt bara när ingen andra faktor behövs; annars leder det till
    koden eller aktiveringen (`accounts.mfa_views`), med `next` bevarad.
    """

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """Sidans innehåll, med knappen för klinikens inloggning när OIDC är på."""
        return {**super().get_context_data(**kwargs), "oidc_enabled": oidc_enabled()}

    def form_valid(self, form: LoginForm) -> HttpResponse:
        """Rätt lösenord: inloggad, eller vidare till tvåstegsverifieringen."""
        user = form.get_user()
        if not mfa.second_step_needed(user):
            return super().form_valid(form)
        mfa.start_pending(self.request, user, self.get_success_url())
        step = "accounts:mfa_verify" if mfa.confirmed_totp(user) else "accounts:mfa_enrol"
        return HttpResponseRedirect(reverse(step))


class LogoutView(auth_views.LogoutView):
    """Utloggning med POST från knappen "Logga ut" i menyraden."""


@require_GET
@sessions.background_request
def session_status(request: HttpRequest) -> JsonResponse:
    """Hur länge sessionen räcker (bakgrundsanrop: förlänger den inte).

    Sidans skript frågar då och då, varnar före utloggningen och visar direkt när
    sessionen har gått ut, innan personalen hinner skriva något som skulle gå förlorat.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"inloggad": False, "sekunder_kvar": 0})
    return JsonResponse({"inloggad": True, "sekunder_kvar": sessions.seconds_left(request.session)})


@require_POST
@login_required
def keep_alive(request: HttpRequest) -> JsonResponse:
    """Knappen "Fortsätt vara inloggad": en egen handling, så sessionen förlängs."""
    return JsonResponse({"inloggad": True, "sekunder_kvar": sessions.seconds_left(request.session)})


def data_protection(request: HttpRequest) -> HttpResponse:
    """Dataskyddspolicyn: vad portalen sparar, hur länge, och leverantörens egna loggar."""
    return render(
        request,
        "pages/dataskydd.html",
        {
            "retention_days": getattr(settings, "CAMPAIGN_RETENTION_DAYS", 7),
            "session_minutes": settings.SESSION_TIMEOUT_MINUTES,
            "mfa_required": mfa.mfa_required(),
        },
    )


def admin_login_redirect(request: HttpRequest) -> HttpResponse:
    """Django admins inloggning går via portalens egen inloggningssida.

    Inloggad personal utan administratörsrätt får sidan "Åtkomst nekad" (annars skulle
    admin och inloggningen skicka dem fram och tillbaka i all oändlighet).
    """
    if request.user.is_authenticated:
        return permission_denied(request)
    next_url = request.GET.get("next", reverse("admin:index"))
    return HttpResponseRedirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")


def lockout(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Sidan som django-axes visar när användarnamn + IP-adress (eller kontot från alla adresser,
    accounts.lockout) är spärrade, med klockslaget då spärren släpper."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    unlock_at, account_wide = lockout_state.unlock_at(username, client_ip(request))
    context = {"minutes": minutes, "unlock_at": timezone.localtime(unlock_at), "account_wide": account_wide}
    return render(request, "accounts/lockout.html", context, status=429)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Felsida 400 på svenska; en för stor begäran (över DATA_UPLOAD_MAX_MEMORY_SIZE) får 413."""
    if isinstance(exception, RequestDataTooBig):
        return _error_page(
            request,
            413,
            "Det du skickade är för stort",
            "Formuläret var för stort för att tas emot och ingenting har sparats. "
            "Gå tillbaka, korta texten eller listan och försök igen.",
        )
    return _error_page(request, 400, "Felaktig begäran", "Sidan kunde inte visas. Försök igen.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Felsida 403 på svenska."""
    return _error_page(request, 403, "Åtkomst nekad", "Du har inte behörighet till den här sidan.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Felsida 404 på svenska; under `/s/` patienternas sida för okända länkar (samma för alla)."""
    if is_patient_request(request):
        return HttpResponse(render_to_string("replies/unknown.html"), status=404)
    return _error_page(request, 404, "Sidan finns inte", "Kontrollera adressen och försök igen.")


def server_error(request: HttpRequest) -> HttpResponse:
    """Felsida 500 på svenska, utan några tekniska detaljer (databasen nere före vyn: sidan 503)."""
    error = sys.exc_info()[1]
    if is_outage(error):
        return outage_response(request, error)
    return _error_page(
        request, 500, "Något gick fel", "Ett oväntat fel inträffade. Försök igen om en stund."
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF-fel (t.ex. ett formulär som legat öppet för länge) på svenska."""
    if is_patient_request(request):
        text = "Ditt svar har inte sparats. Ladda om sidan och svara igen."
    else:
        text = "Ladda om sidan och försök igen. Inget har skickats."
    return _error_page(request, 403, "Formuläret har gått ut", text)


def _error_page(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    """Gemensam felsida utan begärans kontext: inga databasanrop, fungerar även när databasen är nere.

    Patienter (`/s/…`) får patientlayouten, utan personalens meny och länk till startsidan.
    """
    template = "replies/error.html" if is_patient_request(request) else "error.html"
    html = render_to_string(template, {"status": status, "title": title, "text": text})
    return HttpResponse(html, status=status)
