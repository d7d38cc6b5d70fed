"""Audit-sidan för administratörer: händelser och åtkomstlogg, med filter och CSV-export.

Varje visning och export av sidan skrivs själv i åtkomstloggen (`record_access`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from audit.models import AccessEvent, AccessKind, Action, AuditEvent
from audit.services import record_access
from common.csv_export import csv_response
from common.users import signed_in_user

#: Rättigheten som ger audit-sidan, båda flikarna (administratörsgruppen har den).
AUDIT_PERMISSION = "audit.view_auditevent"
#: Största id som databasen kan jämföra med (PostgreSQL bigint); större ger ingen träff.
_MAX_ID = 2**63 - 1

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
]
ACCESS_CSV_COLUMNS = ["Tidpunkt", "Användare", "Visning", "Kampanj-id"]


class PeriodFilterForm(forms.Form):
    """Filter som båda flikarna har: användare och datum (från och med, till och med).

    Användaren väljs med användarnamnet: dagens konton, och konton som raderats men har rader i
    loggen (raden har kvar namnet, kopplingen till kontot är borta). "Vad gjorde U" ska gå att
    fråga också om den som slutat.
    """

    #: Loggen som fliken visar (AuditEvent eller AccessEvent).
    model: type[AuditEvent] | type[AccessEvent]

    user = forms.ChoiceField(label="Användare", required=False)
    date_from = forms.DateField(label="Från och med", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="Till och med", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Användarvalet: dagens konton och raderade konton som finns i loggen."""
        super().__init__(*args, **kwargs)
        current = set(get_user_model().objects.values_list("username", flat=True))
        deleted = set(
            self.model.objects.filter(actor__isnull=True)
            .exclude(actor_username="")
            .values_list("actor_username", flat=True)
        )
        users = [(name, name) for name in current] + [(name, f"{name} (borttaget konto)") for name in deleted - current]
        cast(forms.ChoiceField, self.fields["user"]).choices = [("", "Alla"), *sorted(users)]

    def filter(self, events: QuerySet[Any]) -> QuerySet[Any]:
        """Tillämpar varje giltigt filter för sig; ett ogiltigt värde tar inte bort de andra."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("user"):
            # Dagens konto via kopplingen (också rader från före ett namnbyte), ett raderat via namnet.
            name = data["user"]
            events = events.filter(Q(actor__username=name) | Q(actor__isnull=True, actor_username=name))
        if data.get("date_from"):
            events = events.filter(created_at__gte=_start_of(data["date_from"]))
        if data.get("date_to"):
            events = events.filter(created_at__lt=_start_of(data["date_to"]) + timedelta(days=1))
        return self.filter_more(events, data)

    def filter_more(self, events: QuerySet[Any], data: dict[str, Any]) -> QuerySet[Any]:
        """Flikens egna filter (inga här)."""
        return events


class AuditFilterForm(PeriodFilterForm):
    """Händelser: användare, datum, händelse och status."""

    model = AuditEvent

    action = forms.ChoiceField(label="Händelse", choices=[("", "Alla"), *Action.choices], required=False)
    status = forms.CharField(label="Status", required=False, max_length=32)

    def filter_more(self, events: QuerySet[AuditEvent], data: dict[str, Any]) -> QuerySet[AuditEvent]:
        """Händelse och status (utan hänsyn till stora och små bokstäver)."""
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("status"):
            events = events.filter(status__iexact=data["status"].strip())
        return events


class AccessFilterForm(PeriodFilterForm):
    """Åtkomstloggen: användare ("vad tittade U på"), datum och kampanj-id ("vem såg kampanj N")."""

    model = AccessEvent

    campaign = forms.IntegerField(label="Kampanj-id", required=False, min_value=1, max_value=_MAX_ID)

    def filter_more(self, events: QuerySet[AccessEvent], data: dict[str, Any]) -> QuerySet[AccessEvent]:
        """Kampanjens id."""
        if data.get("campaign"):
            events = events.filter(campaign_id=data["campaign"])
        return events


def _start_of(day: date) -> datetime:
    """Midnatt i klinikens tidszon; orimliga år begränsas (år 1 och 9999 ger inget fel)."""
    day = min(max(day, date(1900, 1, 1)), date(9000, 1, 1))
    return timezone.make_aware(datetime.combine(day, time.min))


def _wants_csv(request: HttpRequest) -> bool:
    """Sant när sidan ska ges som CSV-fil (`?format=csv`)."""
    return request.GET.get("format") == "csv"


def _paged(request: HttpRequest, rows: QuerySet[Any]) -> tuple[Page, str]:
    """Sidan (50 rader) som `?sida=` pekar ut, och filtrets frågesträng för sidlänkar och export."""
    query = request.GET.copy()
    query.pop("sida", None)
    return Paginator(rows, 50).get_page(request.GET.get("sida")), query.urlencode()


@login_required
@permission_required(AUDIT_PERMISSION, raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Audit-loggen med filter; `?format=csv` ger samma urval som CSV-fil."""
    record_access(AccessKind.AUDIT_CSV if _wants_csv(request) else AccessKind.AUDIT_LOG, user=signed_in_user(request))
    form = AuditFilterForm(request.GET or None)
    events = form.filter(AuditEvent.objects.all())
    if _wants_csv(request):
        return csv_response("audit", [title for _, title in CSV_COLUMNS], _audit_rows(events))
    per_template = (
        events.filter(action__in=[Action.SMS_SENT, Action.SMS_FAILED])
        .exclude(template_title="")
        .values("category", "template_title")
        .annotate(
            sent=Count("id", filter=Q(action=Action.SMS_SENT)), failed=Count("id", filter=Q(action=Action.SMS_FAILED))
        )
        .order_by("-sent", "category", "template_title")
    )
    page, query = _paged(request, events)
    return render(
        request,
        "audit/log.html",
        {"form": form, "page": page, "per_template": per_template, "query": query, "tab": "events"},
    )


@login_required
@permission_required(AUDIT_PERMISSION, raise_exception=True)
def access_log(request: HttpRequest) -> HttpResponse:
    """Åtkomstloggen: vem som såg vilken kampanj eller logg och när; `?format=csv` som CSV-fil."""
    record_access(AccessKind.ACCESS_CSV if _wants_csv(request) else AccessKind.ACCESS_LOG, user=signed_in_user(request))
    form = AccessFilterForm(request.GET or None)
    events = form.filter(AccessEvent.objects.all())
    if _wants_csv(request):
        return csv_response("atkomst", ACCESS_CSV_COLUMNS, _access_rows(events))
    page, query = _paged(request, events)
    context = {
        "form": form,
        "page": page,
        "query": query,
        "tab": "access",
        "retention_days": settings.ACCESS_LOG_RETENTION_DAYS,
    }
    return render(request, "audit/access_log.html", context)


def _local(moment: datetime) -> str:
    """Tidpunkten i klinikens tidszon, t.ex. 2026-11-19 10:00:00."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _audit_rows(events: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    """Händelsernas rader i CSV_COLUMNS ordning, med svenska värden."""
    labels = dict(Action.choices)
    for event in events.iterator():
        row = []
        for field, _ in CSV_COLUMNS:
            value = getattr(event, field, None)
            if field == "created_at":
                value = _local(event.created_at)
            elif field == "action":
                value = labels.get(event.action, event.action)
            elif field == "edited":
                value = {True: "ja", False: "nej", None: ""}[value]
            row.append(value)
        yield row


def _access_rows(events: QuerySet[AccessEvent]) -> Iterator[list[Any]]:
    """Åtkomstloggens rader: tidpunkt, användare, visning och kampanjens id."""
    for event in events.iterator():
        yield [_local(event.created_at), event.actor_username, event.shown_kind, event.campaign_id]
