"""Inloggning, utloggning, sessionens status och spärrsidan (felsidorna för hela portalen: config.views)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import lockout as lockout_state
from accounts import mfa, sessions
from accounts.forms import LoginForm
from accounts.oidc import oidc_enabled
from common.client_ip import client_ip


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

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
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


def lockout(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: Any = None,
    *args: Any,
    **kwargs: Any,
) -> HttpResponse:
    """Sidan som django-axes visar när användarnamn + IP-adress (eller kontot från alla adresser,
    accounts.lockout) är spärrade, med klockslaget då spärren släpper."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    unlock_at, account_wide = lockout_state.unlock_at(username, client_ip(request))
    context = {"minutes": minutes, "unlock_at": timezone.localtime(unlock_at), "account_wide": account_wide}
    return render(request, "accounts/lockout.html", context, status=429)
