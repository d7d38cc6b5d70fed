"""Audit-sidan: filter, CSV-export och antal per mall."""

from __future__ import annotations

import csv
import io
from typing import Any

import time_machine
from django.test import Client

from audit.models import Action
from audit.services import record


def make_events(staff_user: Any, admin_user: Any) -> None:
    """Några SMS-händelser över två dagar och två användare."""
    sent = {"status": "skickat", "category": "Inför besök", "template_title": "Hitta till oss", "segments": 1}
    with time_machine.travel("2026-11-18 10:00 +0100"):
        record(Action.SMS_SENT, actor=staff_user, provider="locmem", **sent)
    with time_machine.travel("2026-11-19 10:00 +0100"):
        record(Action.SMS_SENT, actor=staff_user, provider="locmem", **sent)
        record(
            Action.SMS_FAILED,
            actor=admin_user,
            status="misslyckat",
            reason="kvoten överskriden",
            category="Policyer & regler",
            template_title="Receptpolicy",
        )


def test_filters_by_user_date_and_status(admin_client_: Client, staff_user: Any, admin_user: Any) -> None:
    """Filter på användare, datum och status ger rätt rader."""
    make_events(staff_user, admin_user)
    page = admin_client_.get("/logg/", {"user": staff_user.username}).content.decode()
    assert page.count("Inför besök – Hitta till oss") == 2 and "kvoten överskriden" not in page
    page = admin_client_.get(
        "/logg/", {"date_from": "2026-11-19", "date_to": "2026-11-19", "action": "sms_sent"}
    ).content.decode()
    assert page.count("Inför besök – Hitta till oss") == 1
    page = admin_client_.get("/logg/", {"status": "misslyckat"}).content.decode()
    assert "kvoten överskriden" in page and "Inför besök – Hitta till oss" not in page


def test_a_deleted_account_can_still_be_chosen_in_the_user_filter(
    admin_client_: Client, staff_user: Any, admin_user: Any
) -> None:
    """Kontot som gjorde något raderas: det står kvar i användarfiltret, märkt, och filtret ger dess rader.

    Raderna har kvar användarnamnet men inte kopplingen till kontot; förut gick "vad gjorde U" inte
    att fråga om den som slutat.
    """
    make_events(staff_user, admin_user)
    staff_user.delete()
    page = admin_client_.get("/logg/", {"user": "anna"}).content.decode()
    assert "anna (borttaget konto)" in page
    assert page.count("Inför besök – Hitta till oss") == 2 and "kvoten överskriden" not in page


def test_csv_export_and_counts_per_template(admin_client_: Client, staff_user: Any, admin_user: Any) -> None:
    """CSV-exporten följer filtret; antal per mall räknar skickade och misslyckade."""
    make_events(staff_user, admin_user)
    response = admin_client_.get("/logg/", {"action": "sms_sent", "format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Tidpunkt", "Användare", "Händelse"]
    assert [row[1:3] for row in rows[1:]] == [["anna", "SMS skickat"]] * 2
    page = admin_client_.get("/logg/").content.decode()
    assert '<td>Hitta till oss</td><td class="text-end">2</td><td class="text-end">0</td>' in page
    assert '<td>Receptpolicy</td><td class="text-end">0</td><td class="text-end">1</td>' in page


def test_bad_filter_values_do_not_break_the_page(admin_client_: Client, staff_user: Any, admin_user: Any) -> None:
    """Ogiltiga eller extrema filtervärden ger sidan, och de giltiga filtren gäller ändå."""
    make_events(staff_user, admin_user)
    for params in ({"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}, {"sida": "999"}):
        assert admin_client_.get("/logg/", params).status_code == 200
    page = admin_client_.get("/logg/", {"date_from": "igår", "status": "misslyckat"}).content.decode()
    assert "kvoten överskriden" in page and "Inför besök – Hitta till oss" not in page
