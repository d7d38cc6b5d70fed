"""Sändsidan för envägs-SMS (startsidan) och utvecklingsutkorgen."""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters

from smsportal import devoutbox
from smsportal.forms import SendForm
from smsportal.ledger import recent_attempts
from smsportal.models import SendAttempt
from smsportal.oneway import SendRefused, send_template_sms
from smsportal.quota import quota_for
from templates_app.models import MessageTemplate, with_signature

#: "Dina senaste SMS" visar försök från så här långt tillbaka.
RECENT_WINDOW = timedelta(hours=12)


@sensitive_post_parameters("phone", "body")
@login_required
def send_page(request: HttpRequest) -> HttpResponse:
    """Välj mall, klistra in numret, skicka. Efter sändning: bekräftelse och tomt nummerfält."""
    if request.method == "POST":
        form = SendForm(request.POST)
        if form.is_valid():
            try:
                sent = send_template_sms(
                    user=request.user,
                    template=form.cleaned_data["template"],
                    to=form.cleaned_data["phone"],
                    body=form.cleaned_data["body"],
                    request_id=str(form.cleaned_data["request_id"] or ""),
                )
            except SendRefused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _confirmation(form.cleaned_data["template"], sent.segments, sent.duplicate))
                return redirect("smsportal:send")
    else:
        form = SendForm()
    return render(
        request,
        "smsportal/send.html",
        {
            "form": form,
            "categories": _templates_by_category(),
            "quota": quota_for(request.user),
            "recent": recent_sends(request.user),
            "signature": settings.SMS_SIGNATURE,
            "preview": with_signature(form["body"].value() or "") if form.is_bound else "",
        },
    )


def recent_sends(user: Any, limit: int = 8) -> list[SendAttempt]:
    """Användarens egna senaste SMS-försök (12 timmar) med utfall och leverans, för sändsidan."""
    return recent_attempts(user, timezone.now() - RECENT_WINDOW, limit)


def _confirmation(template: MessageTemplate, segments: int, duplicate: bool) -> str:
    """Bekräftelsen efter sändning (utan nummer eller text)."""
    parts = "1 SMS-del" if segments == 1 else f"{segments} SMS-delar"
    if duplicate:
        return f"SMS:et med mallen ”{template.title}” var redan skickat. Inget nytt SMS skickades."
    return f"SMS skickat: {template.title} ({parts})."


def _templates_by_category() -> list[tuple[str, list[MessageTemplate]]]:
    """Aktiva mallar grupperade per kategori, i visningsordning."""
    templates = MessageTemplate.objects.active()
    return [(name, list(group)) for name, group in groupby(templates, key=lambda t: t.category.name)]


def dev_outbox_enabled() -> bool:
    """Utvecklingsutkorgen finns bara med DEBUG på och konsolbackenden vald."""
    return settings.DEBUG and "console" in settings.SMS_PROVIDERS


@login_required
def dev_outbox(request: HttpRequest) -> HttpResponse:
    """Utvecklingsutkorgen: SMS som konsolbackenden "skickat", från alla processer (bara i utvecklingsläge)."""
    if not dev_outbox_enabled():
        raise Http404
    return render(request, "smsportal/dev_outbox.html", {"outbox": devoutbox.recent(), "keep": devoutbox.KEEP})
