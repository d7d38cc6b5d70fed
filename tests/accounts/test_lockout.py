"""django-axes: fem fel lösenord spärrar användarnamn + IP i 15 minuter; 20 fel inom en timme
från alla adresser spärrar kontot (accounts/lockout.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit.models import Action, AuditEvent
from tests.accounts.test_login import LOGIN_URL, login
from tests.conftest import STAFF_PASSWORD

LOCK_MESSAGE = "För många felaktiga lösenord"


def fail(client: Client, times: int, ip: str = "10.0.0.1", username: str = "anna") -> Any:
    """Skriver fel lösenord `times` gånger och returnerar sista svaret."""
    response = None
    for _ in range(times):
        response = login(client, username, "fel-lösenord", ip=ip)
    return response


def test_fifth_wrong_password_locks_out_in_swedish(client: Client, staff_user: Any) -> None:
    """Efter fem fel är kontot spärrat från den adressen, även med rätt lösenord."""
    assert fail(client, 4).status_code == 200
    response = fail(client, 1)
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCK_MESSAGE in page and "15 minuter" in page

    response = login(client, "anna", STAFF_PASSWORD)
    assert response.status_code == 429
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action=Action.LOCKOUT, actor=staff_user).exists()


def test_lockout_is_per_username_and_ip(client: Client, staff_user: Any, admin_user: Any) -> None:
    """En spärr gäller bara kombinationen: kollegan bakom samma adress och Anna från annan adress kommer in."""
    fail(client, 5, ip="10.0.0.1")
    assert login(Client(), "chef", STAFF_PASSWORD, ip="10.0.0.1").status_code == 302
    assert login(Client(), "anna", STAFF_PASSWORD, ip="10.0.0.2").status_code == 302


def test_lockout_ends_after_fifteen_minutes(client: Client, staff_user: Any) -> None:
    """Spärren släpper efter 15 minuter, inte före."""
    with time_machine.travel("2026-11-20 08:00 +0100", tick=False) as traveller:
        fail(client, 5)
        traveller.shift(14 * 60)
        response = login(client, "anna", STAFF_PASSWORD)
        assert response.status_code == 429
        assert "försöka igen klockan 08:15" in response.content.decode()  # räknat från spärren, inte nu
        traveller.shift(2 * 60)
        assert login(client, "anna", STAFF_PASSWORD).status_code == 302


def test_correct_login_resets_count(client: Client, staff_user: Any) -> None:
    """En lyckad inloggning nollställer räkningen av fel."""
    fail(client, 4)
    assert login(client, "anna", STAFF_PASSWORD).status_code == 302
    client.post("/konto/logga-ut/")
    assert fail(client, 4).status_code == 200
    assert login(client, "anna", STAFF_PASSWORD).status_code == 302


def test_lockout_behind_proxy_uses_the_client_address(client: Client, staff_user: Any, settings: Any) -> None:
    """Bakom en betrodd proxy spärras patientens/personalens egen adress, inte proxyns."""
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        client.post(
            LOGIN_URL,
            {"username": "anna", "password": "fel"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.5",
        )
    locked = client.post(
        LOGIN_URL,
        {"username": "anna", "password": STAFF_PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.5",
    )
    assert locked.status_code == 429
    other = Client().post(
        LOGIN_URL,
        {"username": "anna", "password": STAFF_PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert other.status_code == 302


# --- Spärr per konto från alla adresser (accounts/lockout.py) ------------------------------

ACCOUNT_MESSAGE = "spärrat från alla adresser"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Snabb lösenordshash i de här testerna (hundratals felaktiga försök); spärren är densamma."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fail_from_addresses(count: int, first: int = 1, username: str = "anna") -> Any:
    """Ett fel lösenord från var och en av `count` olika adresser (10.1.0.`first` och uppåt),
    var och en i sin egen webbläsare; returnerar sista svaret."""
    response = None
    for number in range(first, first + count):
        response = login(Client(), username, "fel-lösenord", ip=f"10.1.0.{number}")
    return response


def test_failures_from_many_addresses_lock_the_account_everywhere(staff_user: Any, admin_user: Any) -> None:
    """20 fel inom en timme från 20 adresser spärrar kontot från alla adresser, på svenska;
    kollegan bakom samma adresser kommer in."""
    assert fail_from_addresses(19).status_code == 200
    response = fail_from_addresses(1, first=20)
    assert response.status_code == 429
    assert ACCOUNT_MESSAGE in response.content.decode() and LOCK_MESSAGE in response.content.decode()

    locked = login(Client(), "anna", STAFF_PASSWORD, ip="192.0.2.7")
    assert locked.status_code == 429 and ACCOUNT_MESSAGE in locked.content.decode()
    assert login(Client(), "chef", STAFF_PASSWORD, ip="10.1.0.1").status_code == 302
    assert AuditEvent.objects.filter(action=Action.LOCKOUT, actor=staff_user).exists()


def test_one_address_never_locks_the_account(settings: Any, staff_user: Any) -> None:
    """En adress räknas högst fem gånger: den spärras själv, men kontot går att nå från andra adresser
    även när alla timmens fel kommer därifrån."""
    settings.AXES_USERNAME_FAILURE_LIMIT = 8
    with time_machine.travel("2026-11-20 08:00 +0100", tick=False) as traveller:
        first = fail(Client(), 5, ip="10.0.0.1")
        assert first.status_code == 429 and ACCOUNT_MESSAGE not in first.content.decode()
        traveller.shift(16 * 60)  # adressens spärr har släppt; timmens fel från den är nu 5 + 3 = 8
        assert fail(Client(), 3, ip="10.0.0.1").status_code == 200
        assert login(Client(), "anna", STAFF_PASSWORD, ip="10.0.0.2").status_code == 302


def test_account_lock_counts_one_hour_and_ends_after_the_cool_off(settings: Any, staff_user: Any) -> None:
    """Fel äldre än en timme räknas inte; spärren släpper efter 15 minuter, men ett nytt fel medan
    timmens fel når gränsen spärrar igen."""
    settings.AXES_USERNAME_FAILURE_LIMIT = 8
    with time_machine.travel("2026-11-20 08:00 +0100", tick=False) as traveller:
        fail_from_addresses(7)
        traveller.shift(61 * 60)  # 09:01: de sju är äldre än en timme
        assert fail_from_addresses(7, first=8).status_code == 200
        response = fail_from_addresses(1, first=15)
        assert response.status_code == 429
        assert ACCOUNT_MESSAGE in response.content.decode()
        assert "försöka igen klockan 09:16" in response.content.decode()

        traveller.shift(14 * 60)  # 09:15
        assert login(Client(), "anna", STAFF_PASSWORD, ip="192.0.2.7").status_code == 429
        traveller.shift(2 * 60)  # 09:17
        assert login(Client(), "anna", STAFF_PASSWORD, ip="192.0.2.7").status_code == 302
        again = fail_from_addresses(1, first=16)
        assert again.status_code == 429 and "försöka igen klockan 09:32" in again.content.decode()


def test_admin_unlocks_the_account_in_django_admin(settings: Any, staff_user: Any, admin_client_: Client) -> None:
    """Administratören låser upp kontot med åtgärden under Användare; därefter kommer personen in."""
    settings.AXES_USERNAME_FAILURE_LIMIT = 8
    fail_from_addresses(8)
    assert login(Client(), "anna", STAFF_PASSWORD, ip="192.0.2.7").status_code == 429

    response = admin_client_.post(
        reverse("admin:auth_user_changelist"),
        {"action": "unlock_login", "_selected_action": [staff_user.pk]},
        follow=True,
    )
    assert "Inloggningen är upplåst för anna" in response.content.decode()
    assert login(Client(), "anna", STAFF_PASSWORD, ip="192.0.2.7").status_code == 302


def test_axes_reset_username_unlocks_the_account(settings: Any, staff_user: Any) -> None:
    """django-axes eget kommando `axes_reset_username` låser också upp kontot från alla adresser."""
    settings.AXES_USERNAME_FAILURE_LIMIT = 8
    fail_from_addresses(8)
    assert login(Client(), "anna", STAFF_PASSWORD, ip="192.0.2.7").status_code == 429
    call_command("axes_reset_username", "anna", stdout=io.StringIO())
    assert login(Client(), "anna", STAFF_PASSWORD, ip="192.0.2.7").status_code == 302


def test_account_limit_is_above_the_address_limit(settings: Any) -> None:
    """Gränsen per konto är större än gränsen per adress: ingen enskild adress kan spärra kontot för alla."""
    assert settings.AXES_USERNAME_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT
