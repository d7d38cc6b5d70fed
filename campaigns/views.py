"""Personalens sidor för akut-SMS: skapa med förhandsgranskning, följ svaren, tillsätt eller avsluta."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.sessions import background_request
from audit.services import AccessKind, record_access
from campaigns.dashboard import dashboard_rows, snapshot
from campaigns.forms import AddRecipientsForm, CampaignForm
from campaigns.messages import format_cost, message_for, message_with_consent, message_without_consent, thanks_text
from campaigns.models import CODE_LENGTH, Campaign, Recipient
from campaigns.outcomes import CALL_BUTTONS, CallResult, record_call_outcome, reopen_campaign
from campaigns.services import add_recipients, change_status, create_campaign
from campaigns.watch import watch_token
from campaigns.waves import release_wave
from campaigns.yes_numbers import reveal_number, send_thanks, skip_thanks, thanks_offer
from common.smstext import analyse
from common.users import signed_in_user
from smsportal.phone import national_format

EXAMPLE_CODE = "x" * CODE_LENGTH  # samma längd som en riktig svarskod
#: Beskedet efter "Tiden är tillsatt" och "Avsluta": det som patienternas länkar visar efteråt.
STATUS_MESSAGES: dict[str, str] = {
    Campaign.Status.FILLED: "Tiden är tillsatt. Patienternas länkar visar nu att tiden är tagen.",
    Campaign.Status.CLOSED: "Kampanjen är avslutad. Patienternas länkar visar nu att förfrågan har upphört.",
}
QUEUE_DOWN_MESSAGE = (
    "Kampanjen är skapad, men bakgrundsjobben svarar inte just nu. Mottagarna står kvar i kö "
    "och SMS:en skickas automatiskt så snart bakgrundsjobben är tillbaka."
)


def login_then_campaign_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Som login_required för kampanjsidans knappar, men inloggningen leder tillbaka till kampanjsidan.

    Knapparnas adresser tar bara POST. Den vars session gått ut mitt i en åtgärd kom efter
    inloggningen till knappens adress med GET och fick en felsida i stället för kampanjen.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
        """Utloggad: till inloggningen med kampanjsidan som `next`; annars vyn."""
        if not request.user.is_authenticated:
            return redirect_to_login(reverse("campaigns:detail", args=[pk]))
        return view(request, pk, *args, **kwargs)

    return wrapped


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    """Kampanjlistan och formuläret för en ny kampanj (förhandsgranska, sedan skicka)."""
    form = CampaignForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("skicka") == "1":
            creation = create_campaign(
                user=request.user,
                slot_at=form.cleaned_data["slot_at"],
                operation_type=form.cleaned_data["operation_type"],
                recipients=form.parsed.recipients,
                request_id=form.cleaned_data["request_id"],
                notify_phone=form.cleaned_data["notify_phone"],
                title=form.cleaned_data["title"],
                answer_deadline=form.cleaned_data["answer_deadline"],
                wave_size=form.cleaned_data["wave_size"],
                wave_minutes=form.cleaned_data["wave_minutes"],
                pause_on_yes=form.cleaned_data["pause_on_yes"],
            )
            if creation.created and form.opt_out_notices:
                # Raderna namngavs i förhandsgranskningen; meddelandet efteråt bär inga namn (det
                # sparas i en kaka till nästa sida).
                left_out = len(form.opt_out_notices)
                messages.warning(
                    request,
                    f"{left_out} rad{'er' if left_out > 1 else ''} lämnades utanför: patienten har bett "
                    "att inte få fler förfrågningar.",
                )
            if creation.created and not creation.queued:
                messages.warning(request, QUEUE_DOWN_MESSAGE)
            elif creation.created and creation.campaign.wave_size:
                first = creation.campaign.recipients.filter(wave=1).count()
                messages.success(request, f"Kampanjen är skapad: första gruppen, {first} mottagare, skickas nu.")
            elif creation.created:
                messages.success(
                    request, f"Kampanjen är skapad: SMS skickas nu till {len(form.parsed.recipients)} mottagare."
                )
            else:
                messages.info(request, "Kampanjen var redan skapad. Inga nya SMS skickades.")
            return redirect("campaigns:detail", pk=creation.campaign.pk)
        preview = _preview(form)
    campaigns = list(
        Campaign.objects.select_related("created_by").annotate(
            recipient_count=Count("recipients"),
            sent_count=Count("recipients", filter=Q(recipients__send_status=Recipient.SendStatus.SENT)),
            yes_count=Count("recipients", filter=Q(recipients__answer=Recipient.Answer.YES)),
        )[:30]
    )
    context = {
        "form": form,
        "preview": preview,
        # Pågående kampanjer står överst, ovanför formuläret; de stängda under det.
        "running": [campaign for campaign in campaigns if campaign.is_open],
        "campaigns": [campaign for campaign in campaigns if not campaign.is_open],
        "max_recipients": settings.CAMPAIGN_MAX_RECIPIENTS,
        "retention_days": settings.CAMPAIGN_RETENTION_DAYS,
        "alert_every_yes": settings.CAMPAIGN_ALERT_EVERY_YES,
        "quiet_hours": settings.CAMPAIGN_QUIET_HOURS,
    }
    return render(request, "campaigns/list.html", context)


def _preview(form: CampaignForm) -> dict[str, Any]:
    """Båda varianterna som de skickas, deras SMS-delar, kostnaden och de tolkade mottagarna."""
    data = form.cleaned_data
    recipients = form.parsed.recipients
    deadline = data["answer_deadline"]
    texts = [
        message_for(
            data["slot_at"],
            EXAMPLE_CODE,
            name=r.name,
            consent=r.consent,
            operation_type=data["operation_type"],
            answer_deadline=deadline,
        )
        for r in recipients
    ]
    segments = sum(analyse(text).segments for text in texts)
    with_consent = next((r for r in recipients if r.consent), None)
    example_with = message_with_consent(
        data["slot_at"], EXAMPLE_CODE, with_consent.name if with_consent else "Anna", data["operation_type"], deadline
    )
    example_without = message_without_consent(data["slot_at"], EXAMPLE_CODE, deadline)
    consent_count = sum(r.consent for r in recipients)
    return {
        "request_id": data["request_id"],
        "rows": [(r, national_format(r.phone)) for r in recipients],
        "count": len(recipients),
        "consent_count": consent_count,
        "no_consent_count": len(recipients) - consent_count,
        "with_consent": example_with,
        "with_consent_info": analyse(example_with),
        "without_consent": example_without,
        "without_consent_info": analyse(example_without),
        "segments": segments,
        "answer_deadline": deadline,
        "waves": form.wave_count if data["wave_size"] else 0,
        "cost": format_cost(segments),
    }


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Kampanjens svar: räknare, rader i ordningen Ring först, reserver, NEJ, ej svarat."""
    campaign = get_object_or_404(Campaign, pk=pk)
    return _detail_page(request, campaign)


def _detail_page(
    request: HttpRequest,
    campaign: Campaign,
    add_form: AddRecipientsForm | None = None,
    duplicates: list[str] | None = None,
) -> HttpResponse:
    """Kampanjsidan (visningen loggas i åtkomstloggen), med formuläret "Lägg till mottagare" och
    dess fel eller överhoppade dubbletter när det nyss skickats."""
    record_access(AccessKind.CAMPAIGN_PAGE, user=signed_in_user(request), campaign_id=campaign.pk)
    # Nyckeln låter en öppen sida larma om nya JA (utan namn) även efter att sessionen tagit slut.
    token = watch_token(campaign.pk, request.user.pk) if campaign.is_open else ""
    context = {
        "campaign": campaign,
        "watch_token": token,
        "call_buttons": CALL_BUTTONS,
        "keep_yes_numbers": settings.CAMPAIGN_KEEP_YES_NUMBERS,
        "thanks_text": thanks_text(campaign.slot_at),
        "add_form": add_form or AddRecipientsForm(),
        "duplicates": duplicates or [],
        "max_recipients": settings.CAMPAIGN_MAX_RECIPIENTS,
        **dashboard_rows(campaign),
    }
    return render(request, "campaigns/detail.html", context)


@require_POST
@login_then_campaign_page
def campaign_send_next(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Skicka nästa grupp nu": släpper nästa grupp direkt, även under tyst tid och under paus.

    Formuläret bär antalet grupper som sidan visade: ett dubbelklick eller två i personalen
    samtidigt släpper bara en grupp.
    """
    campaign = get_object_or_404(Campaign, pk=pk)
    value = request.POST.get("grupp", "")
    # Bara ASCII-siffror (int() tar även t.ex. arabiska siffror); annat släpper ingen grupp.
    expected = int(value) if value.isascii() and value.isdigit() and len(value) < 6 else -1
    released = release_wave(campaign.pk, expected=expected, actor=request.user)
    if released:
        messages.success(request, f"Grupp {expected + 1} skickas nu till {released} mottagare.")
    else:
        messages.info(
            request, "Ingen ny grupp skickades: den var redan skickad, ingen väntar, eller kampanjen är stängd."
        )
    return redirect("campaigns:detail", pk=campaign.pk)


@require_POST
@login_then_campaign_page
def campaign_add_recipients(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Lägg till mottagare": samma tolkning och fel som vid skapandet; dubbletter namnges och hoppas över."""
    campaign = get_object_or_404(Campaign, pk=pk)
    form = AddRecipientsForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, campaign, form)
    addition = add_recipients(campaign, request.user, form.parsed.recipients)
    if addition.error and not Campaign.objects.get(pk=campaign.pk).is_open:
        # Stängd kampanj: sidan visar inget formulär längre, så felet blir ett meddelande.
        messages.error(request, addition.error)
        return redirect("campaigns:detail", pk=campaign.pk)
    # Överhoppade rader: avböjt fler förfrågningar, eller redan i kampanjen.
    skipped = form.opt_out_notices + addition.duplicates
    if addition.error:
        form.add_error("recipients", addition.error)
        return _detail_page(request, campaign, form, skipped)
    if addition.added:
        later = "De väntar på sin grupp." if campaign.wave_size else "SMS skickas nu."
        messages.success(request, f"{addition.added} mottagare tillagda. {later}")
    if skipped:
        # De överhoppade namnges på sidan direkt (namn hör inte hemma i en sparad flash-cookie).
        return _detail_page(request, campaign, AddRecipientsForm(), skipped)
    return redirect("campaigns:detail", pk=campaign.pk)


@login_required
@background_request
def campaign_snapshot(request: HttpRequest, pk: int) -> JsonResponse:
    """Kampanjens läge som JSON, för sidans polling när websocketen är nere (förlänger inte sessionen).

    Åtkomstloggen får en rad per användare, kampanj och minut, inte en per anrop.
    """
    campaign = get_object_or_404(Campaign, pk=pk)
    record_access(AccessKind.CAMPAIGN_STATUS, user=signed_in_user(request), campaign_id=campaign.pk)
    return JsonResponse(snapshot(campaign))


@require_POST
@login_then_campaign_page
def campaign_status(request: HttpRequest, pk: int, status: str) -> HttpResponse:
    """ "Tiden är tillsatt" (reserv när tiden gick till någon utanför listan; annars "Bokad" på
    patientens rad) eller "Avsluta": stänger alla länkar på en gång."""
    campaign = get_object_or_404(Campaign, pk=pk)
    if change_status(campaign, request.user, status):
        messages.success(request, STATUS_MESSAGES[status])
    else:
        messages.info(request, "Kampanjen var redan stängd.")
    return redirect("campaigns:detail", pk=campaign.pk)


@require_POST
@login_then_campaign_page
def call_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Bokad", "Nådde inte" eller "Tackade nej i telefon" på en JA-rad (se `campaigns.outcomes`)."""
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        recipient_id = int(request.POST.get("recipient", ""))
    except ValueError:
        recipient_id = 0
    result = record_call_outcome(campaign, recipient_id, request.POST.get("outcome", ""), request.user)
    return _after(request, campaign, result)


@require_POST
@login_then_campaign_page
def campaign_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Öppna igen": bokningen föll bort före svarstiden."""
    campaign = get_object_or_404(Campaign, pk=pk)
    return _after(request, campaign, reopen_campaign(campaign, request.user))


def _after(request: HttpRequest, campaign: Campaign, result: CallResult) -> HttpResponse:
    """Beskedet som meddelande på kampanjsidan, och tillbaka dit."""
    messages.add_message(
        request, {"success": messages.SUCCESS, "info": messages.INFO}.get(result.level, messages.ERROR), result.message
    )
    return redirect("campaigns:detail", pk=campaign.pk)


@never_cache
@require_POST
@login_then_campaign_page
def reveal_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Visa nummer" på en JA-rad (CAMPAIGN_KEEP_YES_NUMBERS): numret, aldrig cachat; varje visning
    skrivs i åtkomstloggen. Sidans skript får JSON; utan skript visas en liten sida."""
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        recipient_id = int(request.POST.get("recipient", ""))
    except ValueError:
        recipient_id = 0
    revealed = reveal_number(campaign, recipient_id, signed_in_user(request))
    wants_json = "application/json" in request.headers.get("Accept", "")
    if revealed is None:
        error = "Numret finns inte längre: det raderas när patienten svarar NEJ och när kampanjen tar slut."
        if wants_json:
            return JsonResponse({"error": error}, status=404)
        messages.error(request, error)
        return redirect("campaigns:detail", pk=campaign.pk)
    recipient, number = revealed
    if wants_json:
        return JsonResponse({"id": recipient.pk, "phone": number})
    return render(request, "campaigns/phone.html", {"campaign": campaign, "recipient": recipient, "number": number})


@require_POST
@login_then_campaign_page
def thanks(request: HttpRequest, pk: int) -> HttpResponse:
    """Tack-SMS till övriga JA när tiden är tillsatt (`skicka`), eller inget tack-SMS (numren raderas)."""
    campaign = get_object_or_404(Campaign, pk=pk)
    choice = request.POST.get("val")
    if choice not in ("skicka", "inget"):
        messages.error(request, "Okänt val. Ladda om sidan och försök igen; inget har skickats eller raderats.")
        return redirect("campaigns:detail", pk=campaign.pk)
    if choice == "inget":
        skip_thanks(campaign)
        messages.success(request, "Inget tack-SMS skickas. Numren till övriga JA-patienter är raderade.")
        return redirect("campaigns:detail", pk=campaign.pk)
    if thanks_offer(campaign) is None:
        messages.info(request, "Det finns inga tack-SMS att skicka (redan skickade, bortvalda eller numren raderade).")
        return redirect("campaigns:detail", pk=campaign.pk)
    result = send_thanks(campaign, request.user)
    total = result.sent + result.failed
    patients = "patient" if total == 1 else "patienter"
    if result.failed:
        text = f"Tack-SMS skickat till {result.sent} av {total} {patients}; resten misslyckades."
        messages.warning(request, text)
    else:
        messages.success(request, f"Tack-SMS skickat till {result.sent} {patients}. Numren är raderade.")
    return redirect("campaigns:detail", pk=campaign.pk)
