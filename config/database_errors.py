"""Databasen tillfälligt otillgänglig (låst, omstartad, nätverket borta): en svensk "försök igen"-sida.

Ett enda ställe för både patientsidorna och personalens sidor: `DatabaseOutageMiddleware`
fångar felet från vyn, och Djangos 500-hanterare (`config.views.server_error`) lämnar över
hit när felet kom före vyn (t.ex. när sessionen lästes). Svaret är 503 med `Retry-After`.
Vyns transaktion har redan rullats tillbaka, så inget är halvskrivet och händelser som väntar
på commit skickas aldrig. Loggen får bara feltypen: aldrig sökvägen (patientlänkar), SQL
eller parametrar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeGuard

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

#: Fel som betyder att databasen inte gick att nå eller var låst, inte att koden är fel.
OUTAGE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
TITLE = "Tekniskt fel – försök igen om en stund"


def is_outage(error: BaseException | None) -> TypeGuard[BaseException]:
    """Sant om felet betyder att databasen tillfälligt inte svarade."""
    return isinstance(error, OUTAGE_ERRORS)


def is_patient_request(request: HttpRequest) -> bool:
    """Sant för patienternas sidor `/s/<kod>` (då gäller patientlayouten, utan personalens länkar)."""
    namespace = getattr(getattr(request, "resolver_match", None), "namespace", "")
    return namespace == "replies" or request.path_info.startswith("/s/")


def outage_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    """Sidan "Tekniskt fel – försök igen om en stund" med 503; patienter får sin egen layout.

    Renderas utan begärans kontext: inga databasanrop, ingen inloggad användare behövs.
    """
    patient = is_patient_request(request)
    posted = request.method == "POST"
    if patient:
        html = render_to_string("replies/unavailable.html", {"title": TITLE, "posted": posted})
    else:
        text = "Inget har sparats. " if posted else ""
        html = render_to_string(
            "error.html",
            {
                "status": 503,
                "title": TITLE,
                "text": text + "Databasen svarar inte just nu. Vänta en stund och försök igen.",
            },
        )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Djangos begäranlogg skulle skriva hela sökvägen (patientens kod); vi loggar själva, utan den.
    # _has_been_logged är Djangos interna flagga (django.utils.log.log_response), utan typ i django-stubs.
    response._has_been_logged = True  # type: ignore[attr-defined]
    logger.warning(
        "Databasen svarade inte (%s) under en %s-begäran till %s: sidan om tekniskt fel visades",
        type(error).__name__,
        request.method,
        "patientsidan" if patient else "personalsidan",
    )
    return response


class DatabaseOutageMiddleware:
    """Gör ett databasfel i en vy till sidan om tekniskt fel (503) i stället för en felsida 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        """Standardkonstruktor för Django-middleware."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Skickar vidare begäran; felen fångas i `process_exception`."""
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Databasfel blir 503-sidan; andra fel går vidare till Djangos vanliga hantering."""
        if not is_outage(exception):
            return None
        return outage_response(request, exception)
