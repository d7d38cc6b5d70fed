"""`manage.py ensure_admin`: skapar eller uppdaterar administratören, idempotent."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.roles import ADMIN_GROUP


def run() -> str:
    """Kör kommandot och returnerar dess utskrift."""
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


@override_settings(ADMIN_USERNAME="klinikchef", ADMIN_PASSWORD="Ett-Långt-Eget-Lösenord-77")
def test_creates_then_leaves_unchanged(db: Any) -> None:
    """Första körningen skapar kontot, andra ändrar ingenting."""
    assert "skapad" in run()
    user = get_user_model().objects.get(username="klinikchef")
    assert user.check_password("Ett-Långt-Eget-Lösenord-77")
    assert user.is_staff and user.is_superuser and user.groups.filter(name=ADMIN_GROUP).exists()
    assert "oförändrad" in run()
    assert get_user_model().objects.filter(username="klinikchef").count() == 1


def test_if_missing_leaves_an_existing_account_alone(db: Any) -> None:
    """Uppgraderingens `--if-missing`: ett avstängt konto med bytt lösenord förblir så; ett saknat skapas."""
    settings = {"ADMIN_USERNAME": "klinikchef", "ADMIN_PASSWORD": "Ett-Långt-Eget-Lösenord-77"}
    out = StringIO()
    with override_settings(**settings):
        call_command("ensure_admin", "--if-missing", stdout=out)
    assert "skapad" in out.getvalue()
    user = get_user_model().objects.get(username="klinikchef")
    user.is_active = False
    user.set_password("Bytt-I-Administrationen-55")
    user.save()
    out = StringIO()
    with override_settings(**settings):
        call_command("ensure_admin", "--if-missing", stdout=out)
    assert "lämnas orörd" in out.getvalue()
    user.refresh_from_db()
    assert not user.is_active and user.check_password("Bytt-I-Administrationen-55")


def test_updates_password_and_restores_rights(db: Any) -> None:
    """Ett nytt lösenord i miljön och borttagna rättigheter rättas till."""
    with override_settings(ADMIN_USERNAME="klinikchef", ADMIN_PASSWORD="Ett-Långt-Eget-Lösenord-77"):
        run()
    get_user_model().objects.filter(username="klinikchef").update(is_active=False, is_superuser=False)
    with override_settings(ADMIN_USERNAME="klinikchef", ADMIN_PASSWORD="Ett-Annat-Långt-Lösen-88"):
        assert "uppdaterad" in run()
    user = get_user_model().objects.get(username="klinikchef")
    assert user.check_password("Ett-Annat-Långt-Lösen-88") and user.is_active and user.is_superuser


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("byt-detta-lösenord", "exempellösenordet"),
        ("admin123", "för svagt"),
        ("12345678901234", "för svagt"),
    ],
)
def test_refuses_weak_or_example_password_in_production(db: Any, password: str, message: str) -> None:
    """Med DEBUG avstängt vägras exempellösenordet och svaga lösenord, och inget konto skapas."""
    with override_settings(DEBUG=False, ADMIN_USERNAME="klinikchef", ADMIN_PASSWORD=password):
        with pytest.raises(CommandError, match=message):
            run()
    assert not get_user_model().objects.filter(username="klinikchef").exists()


@override_settings(DEBUG=True, ADMIN_USERNAME="admin", ADMIN_PASSWORD="admin")
def test_weak_password_allowed_in_development(db: Any) -> None:
    """I utvecklingsläge (DEBUG på) får man välja ett enkelt lösenord."""
    assert "skapad" in run()


@override_settings(ADMIN_USERNAME="klinikchef", ADMIN_PASSWORD="")
def test_missing_password_is_a_clear_error(db: Any) -> None:
    """Utan ADMIN_PASSWORD säger kommandot vad som saknas."""
    with pytest.raises(CommandError, match="ADMIN_PASSWORD"):
        run()
