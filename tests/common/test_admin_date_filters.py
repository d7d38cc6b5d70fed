"""Datumnavigeringen i admins listor med datum utanför kalendern: Djangos "?e=1", aldrig 500.

Django fångade ValueError men inte OverflowError: `?created_at__year=99999999999999999999` eller
dagen efter 9999-12-31 gav ett fel och ett felbrev till IT på audit-loggen, SMS-registret och
avböjandena. Testet går igenom varje registrerad admin med datumnavigering (config.admin_site
lägger in kontrollen i alla, också andra pakets).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

HUGE = "99999999999999999999"


def _lists_with_date_navigation() -> list[tuple[str, str]]:
    """(listans adress, datumfältet) för varje registrerad admin med `date_hierarchy`."""
    return [
        (reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"), model_admin.date_hierarchy)
        for model, model_admin in admin.site._registry.items()
        if model_admin.date_hierarchy
    ]


def _outside_the_calendar(field: str) -> list[dict[str, str]]:
    """Datum som inte finns eller vars nästa dag inte finns."""
    return [
        {f"{field}__year": HUGE},
        {f"{field}__year": "2026", f"{field}__month": HUGE},
        {f"{field}__year": "2026", f"{field}__month": "1", f"{field}__day": HUGE},
        {f"{field}__year": "9999", f"{field}__month": "12", f"{field}__day": "31"},
        {f"{field}__year": "9999", f"{field}__month": "12"},
        {f"{field}__year": "0"},
        {f"{field}__year": "-5"},
        {f"{field}__year": "2026", f"{field}__month": "13"},
    ]


def test_the_audit_log_and_the_registers_have_date_navigation() -> None:
    """Listorna som förut gav 500 finns med (annars prövar testet nedan ingenting)."""
    urls = {url for url, _ in _lists_with_date_navigation()}
    assert {"/admin/audit/auditevent/", "/admin/smsportal/sendattempt/"} <= urls


@pytest.mark.parametrize("url, field", _lists_with_date_navigation())
def test_dates_outside_the_calendar_give_the_filter_notice(superuser_client: Client, url: str, field: str) -> None:
    """Varje sådan adress leder till listan med Djangos besked om felaktiga filter (?e=1)."""
    for query in _outside_the_calendar(field):
        response = superuser_client.get(url, query)
        assert response.status_code == 302, (url, query, response.status_code)
        assert response["Location"].endswith("?e=1")
