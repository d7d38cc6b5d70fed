"""Statistiksidan /personal/statistik/ och dess månadstabell som CSV.

All personal ser klinikens siffror; siffror per person (envägs-SMS per användare och månad) bara
den som har rätten att se SMS-registret (administratörerna).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from common.csv_export import csv_response
from stats.charts import BarChart, Series, bar_chart
from stats.figures import (
    CampaignMonth,
    OneWayMonth,
    campaign_months,
    last_months,
    one_way_by_staff,
    one_way_failures,
    one_way_months,
    one_way_templates,
)

#: Rättigheten som ger siffror per person (administratörsgruppen har den).
STAFF_FIGURES_PERMISSION = "smsportal.view_sendattempt"
MONTH_NAMES = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
]


def month_name(month: date) -> str:
    """Månaden i ord: "december 2026"."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def month_short(month: date) -> str:
    """Månaden kort, för diagrammets etiketter: "dec 26"."""
    return f"{MONTH_NAMES[month.month - 1][:3]} {month:%y}"


def _minutes(seconds: float | None) -> float | None:
    """Sekunder som minuter med en decimal (för diagram och CSV)."""
    return None if seconds is None else round(seconds / 60, 1)


def _charts(campaigns: list[CampaignMonth], one_way: list[OneWayMonth]) -> dict[str, BarChart]:
    """Sidans tre diagram: kampanjer (tillsatta och inte), tid till första JA och envägs-SMS."""
    labels = [month_short(month.month) for month in campaigns if month.month]
    return {
        "campaigns": bar_chart(
            "diagram-kampanjer",
            "Kampanjer per månad",
            "Staplade staplar: tillsatta och inte tillsatta kampanjer per startmånad. Siffrorna står i tabellen bredvid.",
            labels,
            [
                Series("Tillsatta", "chart-filled", [m.filled for m in campaigns]),
                Series("Inte tillsatta", "chart-unfilled", [m.campaigns - m.filled for m in campaigns]),
            ],
        ),
        "first_yes": bar_chart(
            "diagram-forsta-ja",
            "Minuter till första JA (median)",
            "Median av minuter från kampanjens start till första JA, per månad. Siffrorna står i tabellen bredvid.",
            labels,
            [Series("Median", "chart-primary", [_minutes(m.median_first_yes) or 0 for m in campaigns])],
            value_text=lambda value: f"{value:.1f} min".replace(".", ","),
        ),
        "one_way": bar_chart(
            "diagram-envags",
            "Envägs-SMS per månad",
            "Staplade staplar: skickade och misslyckade envägs-SMS per månad. Siffrorna står i tabellen bredvid.",
            labels,
            [
                Series("Skickade", "chart-primary", [m.sent for m in one_way]),
                Series("Misslyckade", "chart-failed", [m.failed for m in one_way]),
            ],
        ),
    }


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Statistiken för de senaste tolv månaderna och totalt: kampanjer, envägs-SMS och (för
    administratörer) envägs-SMS per person."""
    months = last_months(timezone.localdate())
    campaigns, campaign_total = campaign_months(months)
    one_way, one_way_total = one_way_months(months)
    shows_staff = request.user.has_perm(STAFF_FIGURES_PERMISSION)
    context: dict[str, Any] = {
        "months": [month_name(month) for month in months],
        "campaign_rows": list(zip([month_name(m) for m in months], campaigns, strict=True)),
        "campaign_total": campaign_total,
        "campaign_year": _sum_campaigns(campaigns),
        "one_way_rows": list(zip([month_name(m) for m in months], one_way, strict=True)),
        "one_way_total": one_way_total,
        "templates": one_way_templates(months),
        "failures": one_way_failures(months),
        "staff": one_way_by_staff(months) if shows_staff else None,
        "staff_months": [month_short(month) for month in months],
        "charts": _charts(campaigns, one_way),
        "slot_value": settings.SLOT_VALUE_SEK,
        "segment_price": settings.SMS_PRICE_PER_SEGMENT_SEK,
        "first_month": month_name(months[0]),
    }
    return render(request, "stats/overview.html", context)


def _sum_campaigns(months: list[CampaignMonth]) -> CampaignMonth:
    """De visade månaderna sammanlagda (nyckeltalen överst på sidan)."""
    total = CampaignMonth(None)
    for month in months:
        total.merge(month)
    return total


CSV_TITLES = [
    "Månad",
    "Kampanjer",
    "Tillsatta",
    "Fyllnadsgrad (%)",
    "Mottagare",
    "Skickade",
    "Levererade",
    "Öppnade",
    "Svarade",
    "JA",
    "NEJ",
    "Kampanjer i grupper",
    "Grupper",
    "SMS-delar kampanjer",
    "Kostnad kampanjer (kr)",
    "Median till första JA (min)",
    "90:e percentil till första JA (min)",
    "Median till tillsatt (min)",
    "90:e percentil till tillsatt (min)",
    "Återvunnet värde (kr)",
    "Värde per SMS-krona",
    "Envägs-SMS skickade",
    "Envägs-SMS misslyckade",
    "Envägs-SMS osäkra",
    "Envägs-SMS levererade",
    "SMS-delar envägs",
    "Kostnad envägs (kr)",
]


def _decimal(value: float | None, decimals: int = 1) -> str | None:
    """Ett tal med decimalkomma för Excel med svenska inställningar; None blir en tom cell."""
    return None if value is None else f"{value:.{decimals}f}".replace(".", ",")


def _csv_row(label: str, campaign: CampaignMonth, one_way: OneWayMonth) -> list[Any]:
    """En rad i månadstabellen: kampanjernas och envägs-SMS:ens siffror."""
    return [
        label,
        campaign.campaigns,
        campaign.filled,
        _decimal(None if campaign.fill_rate is None else campaign.fill_rate * 100),
        campaign.recipients,
        campaign.sent,
        campaign.delivered,
        campaign.opened,
        campaign.answered,
        campaign.yes,
        campaign.no,
        campaign.in_waves,
        campaign.waves,
        campaign.segments,
        _decimal(campaign.cost, 2),
        _decimal(_minutes(campaign.median_first_yes)),
        _decimal(_minutes(campaign.p90_first_yes)),
        _decimal(_minutes(campaign.median_filled)),
        _decimal(_minutes(campaign.p90_filled)),
        campaign.value,
        _decimal(campaign.value_per_cost),
        one_way.sent,
        one_way.failed,
        one_way.uncertain,
        one_way.delivered,
        one_way.segments,
        _decimal(one_way.cost, 2),
    ]


def _csv_rows(months: list[date]) -> Iterator[list[Any]]:
    """Månadstabellens rader (ÅÅÅÅ-MM), äldst först, och sist totalen över all sparad statistik."""
    campaigns, campaign_total = campaign_months(months)
    one_way, one_way_total = one_way_months(months)
    for month, campaign, sms in zip(months, campaigns, one_way, strict=True):
        yield _csv_row(f"{month:%Y-%m}", campaign, sms)
    yield _csv_row("Totalt", campaign_total, one_way_total)


@login_required
def monthly_csv(request: HttpRequest) -> HttpResponse:
    """Månadstabellen som CSV-fil (samma siffror som sidan; inga siffror per person)."""
    return csv_response("statistik", CSV_TITLES, _csv_rows(last_months(timezone.localdate())))
