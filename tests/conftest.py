"""Gemensamma fixturer för hela testsviten."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from accounts.roles import ADMIN_GROUP

STAFF_PASSWORD = "Personal-Lösenord-2026!"


def pytest_configure(config: pytest.Config) -> None:
    """Testerna läser statiska filer direkt ur static/ (utan collectstatic och manifest)."""
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True


@pytest.fixture(autouse=True)
def sms_outbox() -> Iterator[list[Any]]:
    """Utkorgen för locmem-backenden, tömd före varje test."""
    from smsportal.backends import locmem

    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def staff_user(db: Any) -> Any:
    """En vanlig personalanvändare (skickar SMS, driver kampanjer)."""
    return get_user_model().objects.create_user(
        username="anna", password=STAFF_PASSWORD, first_name="Anna", last_name="Receptionist"
    )


@pytest.fixture
def admin_user(db: Any) -> Any:
    """En administratör: is_staff och medlem i administratörsgruppen, inte superanvändare."""
    user = get_user_model().objects.create_user(
        username="chef", password=STAFF_PASSWORD, first_name="Cecilia", is_staff=True
    )
    user.groups.add(Group.objects.get(name=ADMIN_GROUP))
    return user


@pytest.fixture
def staff_client(client: Client, staff_user: Any) -> Client:
    """En testklient inloggad som personal (force_login: django-axes kräver request vid login())."""
    client.force_login(staff_user)
    return client


@pytest.fixture
def admin_client_(admin_user: Any) -> Client:
    """En egen testklient inloggad som administratör (oberoende av `client`)."""
    admin = Client()
    admin.force_login(admin_user)
    return admin
