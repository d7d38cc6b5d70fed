"""Andra steget i inloggningen: koden, och aktiveringen av en app för den som saknar en.

Båda sidorna nås bara med det väntande steget som rätt lösenord ger (`accounts.mfa`); annars
leder de tillbaka till inloggningen. Fel koder räknas mot samma spärr som fel lösenord.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_otp.models import Device

from accounts import mfa
from accounts.forms import SecondFactorForm

RESTART_MESSAGE = "Inloggningen avbröts eller tog för lång tid. Logga in igen med lösenordet."
WRONG_CODE = "Koden stämmer inte eller har redan använts. Vänta på nästa kod i appen och försök igen."
#: Efter en felaktig kod väntar appens kontroll en stund (1, 2, 4 … sekunder), redan efter det första felet.
WAIT_MESSAGE = "Efter en felaktig kod får du vänta en stund innan nästa försök. Vänta {seconds} {unit} och försök igen."
RECOVERY_MESSAGE = "Du loggade in med en reservkod; den går inte att använda igen. Du har {left} reservkoder kvar."
#: Stegets namn i audit-loggen (orsaken till MFA_FAILED), efter sidans URL-namn.
STEP_NAMES = {"mfa_verify": "inloggning", "mfa_enrol": "aktivering"}
RECOVERY_LOW = " Be administratören nollställa tvåstegsverifieringen för att få nya."


def _restart(request: HttpRequest) -> HttpResponse:
    """Tillbaka till inloggningen (med samma `next`) när det väntande steget saknas eller gått ut.

    Den som redan är inloggad (t.ex. skickade aktiveringen en gång till) går till startsidan.
    """
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    next_url = mfa.pending_next_url(request)
    mfa.clear_pending(request)
    messages.info(request, RESTART_MESSAGE)
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return redirect(reverse("accounts:login") + query)


def _refuse(request: HttpRequest, form: SecondFactorForm, user: object, check: mfa.CodeCheck) -> None:
    """Fel kod eller väntetid: beskedet på sidan; en prövad fel kod räknas och loggas (med vilket steg)."""
    if check.wait_seconds:
        unit = "sekund" if check.wait_seconds == 1 else "sekunder"
        form.add_error(None, WAIT_MESSAGE.format(seconds=check.wait_seconds, unit=unit))
        return
    match = request.resolver_match
    step = STEP_NAMES.get(match.url_name or "", "") if match is not None else ""
    mfa.record_failure(request, user, step)
    form.add_error(None, WRONG_CODE)


def _recovery_notice(request: HttpRequest, left: int) -> None:
    """Beskedet efter en inloggning med reservkod: hur många som finns kvar."""
    text = RECOVERY_MESSAGE.format(left=left) + (RECOVERY_LOW if left <= 3 else "")
    messages.warning(request, text)


def _code_page(
    request: HttpRequest,
    pending: mfa.PendingLogin,
    check: Callable[[str], mfa.CodeCheck],
    accepted: Callable[[Device], HttpResponse],
    page: tuple[str, dict[str, Any]],
) -> HttpResponse:
    """Gemensamt för koden och aktiveringen: spärrkontroll, kontroll av koden, beskedet vid fel.

    `page` är mallen och dess innehåll; `accepted` ger svaret när koden godtagits.
    """
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST":
        locked = mfa.lockout_response(request, pending.user)
        if locked is not None:
            return locked
        if form.is_valid():
            result = check(form.cleaned_data["otp_token"])
            if result.ok:
                return accepted(result.device)
            _refuse(request, form, pending.user, result)
    template, context = page
    return render(request, template, {"form": form, **context})


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Koden från appen (eller en reservkod) efter rätt lösenord; rätt kod loggar in och leder till `next`."""
    pending = mfa.pending_login(request)
    if pending is None:
        return _restart(request)
    if mfa.confirmed_totp(pending.user) is None:
        return redirect("accounts:mfa_enrol")

    def accepted(device: Device) -> HttpResponse:
        """Inloggad: vidare till `next`, med besked om reservkoderna om en sådan användes."""
        mfa.complete_login(request, pending, device)
        if mfa.record_success(pending.user, device) is not None:
            _recovery_notice(request, device.codes_left)
        return HttpResponseRedirect(pending.next_url)

    check = partial(mfa.check_code, pending.user)
    return _code_page(request, pending, check, accepted, ("accounts/mfa_verify.html", {}))


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Aktivering för ett konto utan app: QR-kod och nyckel, en kod som bekräftar, sedan reservkoderna en gång.

    Ett konto som redan har en app kan inte byta den här (bara lösenordet räcker inte):
    en administratör nollställer först.
    """
    pending = mfa.pending_login(request)
    if pending is None:
        return _restart(request)
    if mfa.confirmed_totp(pending.user) is not None:
        return redirect("accounts:mfa_verify")
    device = mfa.enrolment_device(request, pending.user)

    def accepted(confirmed: Device) -> HttpResponse:
        """Appen är bekräftad: inloggad, och reservkoderna visas den här enda gången."""
        codes = mfa.confirm_enrolment(confirmed)
        mfa.complete_login(request, pending, confirmed)
        return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next_url": pending.next_url})

    check = partial(mfa.check_enrolment_code, device)
    page = ("accounts/mfa_enrol.html", mfa.setup_details(device))
    return _code_page(request, pending, check, accepted, page)
