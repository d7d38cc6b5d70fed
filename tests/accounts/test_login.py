"""Inloggning, utloggning och sessionens inaktivitetsgräns."""

from __future__ import annotations

from typing import Any

import time_machine
from django.test import Client
from django.urls import reverse

from audit.models import Action, AuditEvent
from tests.conftest import STAFF_PASSWORD

LOGIN_URL = reverse("accounts:login")


def login(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    """Loggar in via formuläret, som en människa gör."""
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_start_page_requires_login(client: Client, db: Any) -> None:
    """Utloggad besökare skickas till inloggningssidan."""
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_login_page_is_swedish(client: Client, db: Any) -> None:
    """Inloggningssidan är på svenska."""
    page = client.get(LOGIN_URL).content.decode()
    assert 'lang="sv"' in page
    assert "Logga in" in page and "Användarnamn" in page and "Lösenord" in page


def test_login_and_logout(client: Client, staff_user: Any) -> None:
    """Rätt lösenord leder till startsidan med namn och Logga ut; utloggning loggar ut."""
    response = login(client, "anna", STAFF_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "Anna Receptionist" in page and "Logga ut" in page

    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    events = list(AuditEvent.objects.order_by("id").values_list("action", "status"))
    assert events == [(Action.LOGIN, "ok"), (Action.LOGOUT, "ok")]


def test_wrong_password_gives_swedish_error(client: Client, staff_user: Any) -> None:
    """Fel lösenord ger ett svenskt felmeddelande och användarnamnet står kvar."""
    response = login(client, "anna", "fel")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ange ett korrekt användarnamn och lösenord" in page
    assert 'value="anna"' in page
    assert AuditEvent.objects.get().action == Action.LOGIN_FAILED


def test_disabled_or_locked_account_is_logged_as_such(client: Client, staff_user: Any) -> None:
    """Rätt lösenord på ett avstängt konto, och på ett spärrat, loggas med rätt orsak (inte "fel lösenord")."""
    staff_user.is_active = False
    staff_user.save()
    login(client, "anna", STAFF_PASSWORD)
    staff_user.is_active = True
    staff_user.save()
    for _ in range(6):
        login(client, "anna", "fel", ip="10.0.0.9")
    login(client, "anna", STAFF_PASSWORD, ip="10.0.0.9")
    statuses = list(
        AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("id").values_list("status", flat=True)
    )
    assert statuses[0] == "kontot avstängt"
    assert statuses[1] == "fel lösenord" and statuses[-1] == "spärrad"


def test_unknown_username_is_not_stored(client: Client, db: Any) -> None:
    """Ett inskrivet användarnamn som inte finns (kanske ett lösenord) sparas inte."""
    login(client, "hemligt-lösenord-av-misstag", "x")
    event = AuditEvent.objects.get()
    assert event.actor is None and event.actor_username == ""
    assert "hemligt" not in str(AuditEvent.objects.values().get())


def test_logout_button_on_every_logged_in_page(staff_client: Client) -> None:
    """Knappen Logga ut finns på inloggade sidor, som ett POST-formulär med CSRF."""
    for url in ["/", reverse("data_protection")]:
        page = staff_client.get(url).content.decode()
        assert f'action="{reverse("accounts:logout")}"' in page
        assert "csrfmiddlewaretoken" in page


def test_logout_requires_post(staff_client: Client) -> None:
    """En länk (GET) kan inte logga ut någon."""
    assert staff_client.get(reverse("accounts:logout")).status_code == 405
    assert staff_client.get("/").status_code == 200


def test_inactivity_logs_out(client: Client, staff_user: Any) -> None:
    """Efter 30 minuter utan aktivitet är man utloggad, med ett svenskt besked."""
    with time_machine.travel("2026-11-20 08:00 +0100", tick=False) as traveller:
        login(client, "anna", STAFF_PASSWORD)
        traveller.shift(29 * 60)
        assert client.get("/").status_code == 200  # aktivitet: klockan börjar om
        traveller.shift(29 * 60)
        assert client.get("/").status_code == 200
        traveller.shift(31 * 60)
        response = client.get("/", follow=True)
    assert response.redirect_chain[0][0].startswith(LOGIN_URL)
    assert "Du har loggats ut efter 30 minuters inaktivitet" in response.content.decode()
    assert AuditEvent.objects.filter(action=Action.SESSION_EXPIRED).count() == 1
    assert not AuditEvent.objects.filter(action=Action.LOGOUT).exists()


def test_background_requests_do_not_extend_session(client: Client, staff_user: Any) -> None:
    """Polling av sessionsstatus förlänger inte sessionen; efter gränsen svarar den 401."""
    status_url = reverse("accounts:session_status")
    with time_machine.travel("2026-11-20 08:00 +0100", tick=False) as traveller:
        login(client, "anna", STAFF_PASSWORD)
        for _ in range(5):
            traveller.shift(5 * 60)
            state = client.get(status_url).json()
            assert state["inloggad"] is True
        assert state["sekunder_kvar"] == 5 * 60
        traveller.shift(6 * 60)
        response = client.get(status_url)
        assert response.status_code == 401
        assert client.get(status_url).json() == {"inloggad": False, "sekunder_kvar": 0}
        assert client.get("/").status_code == 302


def test_keep_alive_extends_session(client: Client, staff_user: Any) -> None:
    """Knappen "Fortsätt vara inloggad" är en egen handling och förlänger sessionen."""
    with time_machine.travel("2026-11-20 08:00 +0100", tick=False) as traveller:
        login(client, "anna", STAFF_PASSWORD)
        traveller.shift(29 * 60)
        state = client.post(reverse("accounts:keep_alive")).json()
        assert state["sekunder_kvar"] == 30 * 60
        traveller.shift(29 * 60)
        assert client.get("/").status_code == 200


def test_session_cookie_is_httponly_and_ends_with_browser(client: Client, staff_user: Any) -> None:
    """Sessionskakan är HttpOnly och försvinner när webbläsaren stängs."""
    response = login(client, "anna", STAFF_PASSWORD)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["max-age"] and not cookie["expires"]


def test_admin_login_goes_through_portal_login(client: Client, db: Any) -> None:
    """Django admins inloggning använder portalens svenska sida (med samma spärr)."""
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(LOGIN_URL)
    assert "next=%2Fadmin%2F" in response.redirect_chain[-1][0]
