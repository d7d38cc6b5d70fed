"""Audit-sidan för administratörer: filter, CSV-export och antal per mall."""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.services import delivery_label, with_delivery_status

#: Tecken som får Excel att tolka en cell som formel (CSV-injektion).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = [
    ("created_at", "Tidpunkt"),
    ("actor_username", "Användare"),
    ("action", "Händelse"),
    ("status", "Status"),
    ("reason", "Orsak"),
    ("category", "Mallkategori"),
    ("template_title", "Mall"),
    ("edited", "Redigerad"),
    ("segments", "Segment"),
    ("provider", "Leverantör"),
    ("delivery", "Leverans"),
]


class AuditFilterForm(forms.Form):
    """Filter på användare, datum, händelse och status."""

    user = forms.ModelChoiceField(
        label="Användare", queryset=get_user_model().objects.order_by("username"), required=False,
        empty_label="Alla",
    )
    date_from = forms.DateField(label="Från och med", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="Till och med", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    action = forms.ChoiceField(label="Händelse", choices=[("", "Alla"), *Action.choices], required=False)
    status = forms.CharField(label="Status", required=False, max_length=32)

    def filter(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        """Tillämpar varje giltigt filter för sig; ett ogiltigt värde tar inte bort de andra."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("user"):
            events = events.filter(actor=data["user"])
        if data.get("date_from"):
            events = events.filter(created_at__gte=_start_of(data["date_from"]))
        if data.get("date_to"):
            events = events.filter(created_at__lt=_start_of(data["date_to"]) + timedelta(days=1))
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("status"):
            events = events.filter(status__iexact=data["status"].strip())
        return events


def _start_of(day: date) -> datetime:
    """Midnatt i klinikens tidszon; orimliga år begränsas (år 1 och 9999 ger inget fel)."""
    day = min(max(day, date(1900, 1, 1)), date(9000, 1, 1))
    return timezone.make_aware(datetime.combine(day, time.min))


@permission_required("audit.view_auditevent", raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Audit-loggen med filter; `?format=csv` ger samma urval som CSV-fil."""
    form = AuditFilterForm(request.GET or None)
    events = with_delivery_status(form.filter(AuditEvent.objects.all()))
    if request.GET.get("format") == "csv":
        return _csv(events)
    per_template = (
        events.filter(action__in=[Action.SMS_SENT, Action.SMS_FAILED])
        .exclude(template_title="")
        .values("category", "template_title")
        .annotate(sent=Count("id", filter=Q(action=Action.SMS_SENT)), failed=Count("id", filter=Q(action=Action.SMS_FAILED)))
        .order_by("-sent", "category", "template_title")
    )
    page = Paginator(events, 50).get_page(request.GET.get("sida"))
    for event in page:
        event.delivery = delivery_label(event)
    query = request.GET.copy()
    query.pop("sida", None)
    return render(
        request,
        "audit/log.html",
        {"form": form, "page": page, "per_template": per_template, "query": query.urlencode()},
    )


def _csv(events: QuerySet[AuditEvent]) -> HttpResponse:
    """CSV-export (semikolon och BOM, så att Excel med svenska inställningar öppnar den rätt)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow([title for _, title in CSV_COLUMNS])
    labels = dict(Action.choices)
    for event in events.iterator():
        row = []
        for field, _ in CSV_COLUMNS:
            value = getattr(event, field, None)
            if field == "created_at":
                value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
            elif field == "action":
                value = labels.get(value, value)
            elif field == "delivery":
                value = delivery_label(event)
            elif field == "edited":
                value = {True: "ja", False: "nej", None: ""}[value]
            row.append("" if value is None else _cell(value))
        writer.writerow(row)
    return response


def _cell(value: object) -> object:
    """Cellens värde; text som Excel skulle räkna ut som formel (=, +, -, @) får en inledande '.

    Mallrubriker och orsaker kommer från inmatning: `=HYPERLINK(...)` ska visas, inte köras.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
