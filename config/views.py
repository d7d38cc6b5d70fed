"""Sidor för hela portalen: felsidorna (400, 403, 404, 405, 500, CSRF), dataskyddssidan och admins inloggning.

Felsidorna renderas utan begärans kontext: inga databasanrop, så de fungerar även när databasen
är nere. Patienter (`/s/…`) får patientlayouten, utan personalens meny och länk till startsidan.
"""

from __future__ import annotations

import sys
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.mfa import mfa_required
from config.database_errors import is_outage, is_patient_request, outage_response


def data_protection(request: HttpRequest) -> HttpResponse:
    """Dataskyddspolicyn: vad portalen sparar, hur länge, och leverantörens egna loggar."""
    return render(
        request,
        "pages/dataskydd.html",
        {
            "retention_days": getattr(settings, "CAMPAIGN_RETENTION_DAYS", 7),
            "session_minutes": settings.SESSION_TIMEOUT_MINUTES,
            "mfa_required": mfa_required(),
            "opt_out_days": getattr(settings, "OPT_OUT_RETENTION_DAYS", 365),
            "clinic_phone": getattr(settings, "CLINIC_PHONE", ""),
            "keep_yes_numbers": settings.CAMPAIGN_KEEP_YES_NUMBERS,
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


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    """Felsida 405 på svenska: en adress som bara tar emot en knapptryckning (POST) öppnades direkt.

    Händer t.ex. när inloggningen leder tillbaka till en sådan adress, eller med en sparad länk.
    `allowed` är metoderna som adressen tar emot (huvudet Allow).
    """
    response = _error_page(
        request,
        405,
        "Sidan kan inte öppnas så här",
        "Adressen hör till en knapp och kan inte öppnas direkt. Ingenting har ändrats. Gå tillbaka och försök igen.",
    )
    response["Allow"] = allowed
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Felsida 500 på svenska, utan några tekniska detaljer (databasen nere före vyn: sidan 503)."""
    error = sys.exc_info()[1]
    if is_outage(error):
        return outage_response(request, error)
    return _error_page(request, 500, "Något gick fel", "Ett oväntat fel inträffade. Försök igen om en stund.")


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
