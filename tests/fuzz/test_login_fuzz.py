"""Egenskapstester för inloggningen: slumpade användarnamn, lösenord och next-adresser.

django-axes spärrar efter fem fel; spärrarna tas bort före varje exempel så att varje
exempel prövar själva formuläret, och ett eget test prövar fientlig inmatning under spärr.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import STAFF_PASSWORD
from tests.fuzz.checks import FUZZ, TEXT, assert_clean

LOGIN_URL = "/konto/logga-in/"
#: Adresser som försöker skicka den inloggade vidare till en annan webbplats.
NEXT = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "\\\\evil.example",
            "javascript:alert(1)",
            "http:evil.example",
            " //evil.example",
            "/%2F%2Fevil.example",
            "/personal/akut-sms/",
        ]
    ),
)


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> Iterator[None]:
    """Snabb lösenordshash i dessa tester (varje exempel hashar ett lösenord, även okända användare)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


def login_data(username: str, password: str, next_url: str | None) -> dict[str, str]:
    """Formulärdata som inloggningssidan skickar."""
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return data


@FUZZ
@given(username=TEXT, password=TEXT, next_url=st.one_of(st.none(), NEXT))
def test_login_form_never_fails_with_500(client: Client, db: Any, username: str, password: str, next_url: Any) -> None:
    """Fel inloggning: sidan igen (200) med svenskt besked, aldrig ett 500-fel eller okodad HTML.

    Även tomma fält, NUL-tecken och användarnamn längre än databasens kolumner (PostgreSQL).
    """
    AccessAttempt.objects.all().delete()
    response = client.post(LOGIN_URL, login_data(username, password, next_url))
    assert "Ange ett korrekt användarnamn och lösenord" in assert_clean(response, {200})


@FUZZ
@given(next_url=NEXT)
def test_next_never_leaves_the_portal(client: Client, staff_user: Any, next_url: str) -> None:
    """Rätt lösenord och en fientlig next-adress: omdirigeringen stannar alltid i portalen."""
    client.logout()
    response = client.post(LOGIN_URL, login_data("anna", STAFF_PASSWORD, next_url))
    assert_clean(response, {302})
    # Som en webbläsare läser adressen: tabbar och radbrytningar bort, \\ som /.
    location = re.sub(r"[\t\n\r]", "", response["Location"]).replace("\\", "/")
    target = urlsplit(urljoin("http://testserver" + LOGIN_URL, location))
    assert (target.scheme, target.netloc) == ("http", "testserver"), response["Location"]


@FUZZ
@given(password=TEXT, next_url=st.one_of(st.none(), NEXT))
def test_locked_account_stays_locked_without_500(client: Client, staff_user: Any, password: str, next_url: Any) -> None:
    """Under spärr: fientliga försök ger inget 500-fel, och rätt lösenord ger spärrsidan (429)."""
    if (
        AccessAttempt.objects.filter(username="anna", failures_since_start__gte=settings.AXES_FAILURE_LIMIT).count()
        == 0
    ):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post(LOGIN_URL, login_data("anna", "fel-lösenord", None))
    # Ett tomt fält stoppas av formuläret (200) innan spärren prövas; inget loggar in.
    assert_clean(client.post(LOGIN_URL, login_data("anna", password, next_url)), {200, 429})
    page = assert_clean(client.post(LOGIN_URL, login_data("anna", STAFF_PASSWORD, next_url)), {429})
    assert "Inloggningen är tillfälligt spärrad" in page
