"""Patientens sidor /s/<kod>: utan inloggning, koden i länken är nyckeln.

GET ändrar ingenting (meddelandeappar öppnar länkar för att bygga förhandsvisningar).
Svaret är en POST med CSRF. Okända, utgångna och raderade koder får samma sida. Förnamn och
operationstyp visas bara för den som samtyckt och bara när PATIENT_PAGE_DETAILS är på
(`patient_details`); ett telefonnummer visas aldrig.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from campaigns.models import Recipient
from campaigns.optout import opt_out
from campaigns.services import find_by_code, mark_opened, record_answer_by_code, yes_position

RATE = "60/m"
ANSWERS = {"ja": Recipient.Answer.YES, "nej": Recipient.Answer.NO}


def _page(request: HttpRequest, template: str, context: dict | None = None, status: int = 200) -> HttpResponse:
    """Patientsidorna indexeras aldrig av sökmotorer."""
    response = render(request, template, context or {}, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def patient_details(recipient: Recipient) -> dict[str, str] | None:
    """Förnamn och operationstyp som sidan får visa, eller None: då bara tiden och kliniken.

    Bara för den som samtyckt, och bara när kliniken inte stängt av det (PATIENT_PAGE_DETAILS):
    länken i SMS:et är ingen stark autentisering.
    """
    if not (settings.PATIENT_PAGE_DETAILS and recipient.consent):
        return None
    return {"first_name": recipient.first_name, "operation_type": recipient.campaign.operation_type}


def _limited(request: HttpRequest) -> HttpResponse:
    """För många anrop från samma adress."""
    return _page(request, "replies/limited.html", status=429)


def _unknown(request: HttpRequest) -> HttpResponse:
    """Samma sida för okända, utgångna och raderade koder."""
    return _page(request, "replies/unknown.html", status=404)


def _answer_posted(request: HttpRequest, code: str) -> HttpResponse:
    """JA eller NEJ: sparas, och patienten skickas till sidan (GET) som visar svaret.

    Svaret sparas direkt via koden (`record_answer_by_code`), utan att mottagaren först slås upp.
    """
    choice = ANSWERS.get(request.POST.get("svar", ""))
    if choice is None:
        known = find_by_code(code) is not None
    else:
        known = record_answer_by_code(code, choice) is not None
    if not known:
        return _unknown(request)
    return redirect("replies:answer", code=code)


@ratelimit(key="ip", rate=RATE, block=False)
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, code: str) -> HttpResponse:
    """Visar frågan eller tacksidan (GET) och tar emot JA eller NEJ (POST)."""
    if getattr(request, "limited", False):
        return _limited(request)
    if request.method == "POST":
        return _answer_posted(request, code)
    link = find_by_code(code)
    if link is None:
        return _unknown(request)
    recipient = link.recipient
    campaign = recipient.campaign
    context = {
        "recipient": recipient,
        "campaign": campaign,
        "position": yes_position(recipient),
        "details": patient_details(recipient),
        "opted_out": link.opted_out,
        # Efter NEJ står "Jag vill inte få fler sådana SMS" direkt under svaret, annars längst ned.
        "opt_out_inline": campaign.is_open and recipient.answer == Recipient.Answer.NO,
    }
    if not campaign.is_open:
        return _page(request, "replies/taken.html", context)
    if recipient.answer:
        return _page(request, "replies/thanks.html", context)
    return _page(request, "replies/question.html", context)


@ratelimit(key="ip", rate=RATE, block=False)
@require_POST
def opened(request: HttpRequest, code: str) -> HttpResponse:
    """Sidans skript meddelar att en människa öppnat sidan (förhandsvisningar kör inga skript)."""
    if getattr(request, "limited", False):
        return HttpResponse(status=429)
    link = find_by_code(code)
    if link is not None:
        mark_opened(link.recipient)
    return HttpResponse(status=204)


@ratelimit(key="ip", rate=RATE, block=False)
@require_http_methods(["GET", "HEAD", "POST"])
def opt_out_page(request: HttpRequest, code: str) -> HttpResponse:
    """Knappen "Jag vill inte få fler sådana SMS": frågan eller bekräftelsen (GET ändrar inget), avböjandet (POST).

    Gäller så länge koden finns, även när kampanjen är stängd. Bara numrets nyckelhash och datumet
    sparas (campaigns.optout); ett andra klick ändrar ingenting.
    """
    if getattr(request, "limited", False):
        return _limited(request)
    link = find_by_code(code)
    if link is None:
        return _unknown(request)
    if request.method == "POST":
        opt_out(link.recipient)
        return redirect("replies:opt_out", code=code)
    context = {
        "recipient": link.recipient,
        "opted_out": link.opted_out,
        "opt_out_inline": True,
        "retention_days": settings.OPT_OUT_RETENTION_DAYS,
    }
    return _page(request, "replies/opt_out.html", context)
