"""django-axes: fem fel lösenord spärrar användarnamn + IP i 15 minuter."""

from __future__ import annotations

from typing import Any

import time_machine
from django.test import Client

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
        client.post(LOGIN_URL, {"username": "anna", "password": "fel"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    locked = client.post(LOGIN_URL, {"username": "anna", "password": STAFF_PASSWORD}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.status_code == 429
    other = Client().post(LOGIN_URL, {"username": "anna", "password": STAFF_PASSWORD}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert other.status_code == 302
