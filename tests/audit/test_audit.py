"""Audit-loggen: record(), inga telefonnummer, skrivskyddad admin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from audit.models import Action, AuditEvent
from audit.services import PersonalDataInAudit, record


def test_record_stores_metadata(staff_user: Any) -> None:
    """record() sparar vem, vad och metadata."""
    event = record(Action.SMS_SENT, actor=staff_user, status="skickat", category="Inför besök", segments=1)
    assert event.actor_username == "anna"
    assert AuditEvent.objects.get().category == "Inför besök"


@pytest.mark.parametrize(
    "value",
    ["070-123 45 67", "+46701234567", "0046 70 123 45 67", "0701234567", "Ring 08-123 45 67"],
)
def test_record_refuses_phone_numbers(staff_user: Any, value: str) -> None:
    """Ett värde som liknar ett telefonnummer loggas aldrig, inte ens nästlat."""
    with pytest.raises(PersonalDataInAudit):
        record(Action.SMS_FAILED, actor=staff_user, reason=value)
    with pytest.raises(PersonalDataInAudit):
        record(Action.SMS_FAILED, actor=staff_user, data={"x": [value]})
    assert not AuditEvent.objects.exists()


def test_events_are_append_only(staff_user: Any) -> None:
    """En sparad händelse kan inte ändras via modellen."""
    event = record(Action.LOGIN, actor=staff_user)
    event.status = "ändrad"
    with pytest.raises(ValueError):
        event.save()


def test_admin_can_view_but_not_change(admin_client_: Client, staff_user: Any) -> None:
    """Administratören ser loggen men kan inte lägga till, ändra eller ta bort."""
    event = record(Action.SMS_SENT, actor=staff_user, status="skickat", template_title="Receptpolicy")
    base = "/admin/audit/auditevent/"
    listing = admin_client_.get(base)
    assert listing.status_code == 200 and "Receptpolicy" in listing.content.decode()
    assert admin_client_.get(base + "add/").status_code == 403
    detail = admin_client_.get(f"{base}{event.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert admin_client_.post(f"{base}{event.pk}/change/", {"status": "x"}).status_code == 403
    assert admin_client_.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).status == "skickat"


def test_admin_headings_show_the_clinics_clock(admin_client_: Client, staff_user: Any) -> None:
    """Händelsens rubrik i admin visar samma klockslag som fältet Tidpunkt (Stockholm), inte UTC.

    Rubriken gick en timme (sommar två) efter fältet under den, i en logg som ska läsas vid en utredning.
    """
    with time_machine.travel(datetime(2026, 12, 4, 20, 11, tzinfo=UTC), tick=False):
        event = record(Action.SMS_SENT, actor=staff_user, status="skickat", template_title="Receptpolicy")
    page = admin_client_.get(f"/admin/audit/auditevent/{event.pk}/change/").content.decode()
    assert "2026-12-04 21:11 " in page and "2026-12-04 20:11 " not in page


def test_staff_cannot_open_admin(staff_client: Client) -> None:
    """Vanlig personal kommer inte in i Django admin."""
    response = staff_client.get("/admin/audit/auditevent/", follow=True)
    assert response.status_code == 403
    assert "Åtkomst nekad" in response.content.decode()


def test_group_admin_cannot_become_superuser(admin_client_: Client, admin_user: Any) -> None:
    """En administratör kan hantera personal men inte ge sig själv superanvändarrätt."""
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="Ett-Långt-Rot-Lösen-1")
    assert admin_client_.get(f"/admin/auth/user/{root.pk}/change/").status_code == 302  # finns inte för henne
    url = f"/admin/auth/user/{admin_user.pk}/change/"
    page = admin_client_.get(url).content.decode()
    assert 'name="is_superuser"' not in page and 'name="is_staff"' in page
    admin_client_.post(
        url,
        {
            "username": "chef",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [g.pk for g in admin_user.groups.all()],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "08:00:00",
        },
    )
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser


def test_the_staff_flag_is_called_administrator_in_the_user_form(admin_client_: Client, staff_user: Any) -> None:
    """Djangos "Personalstatus" heter "Administratör" i användarformuläret, med vad den ger: en chef som lägger
    till receptionister ska inte tro att kryssrutan behövs för att de ska kunna logga in i portalen."""
    page = admin_client_.get(f"/admin/auth/user/{staff_user.pk}/change/").content.decode()
    assert "Administratör (får logga in i administrationen)" in page
    assert "Receptionen och annan personal loggar in i portalen utan den." in page
    assert "Personalstatus" not in page
    # Listan och filtret säger detsamma (förut "Personalstatus" och "På personalstatus").
    listing = admin_client_.get("/admin/auth/user/").content.decode()
    assert "Administratör" in listing and "ersonalstatus" not in listing
