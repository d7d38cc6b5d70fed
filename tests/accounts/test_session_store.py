"""Sessionskakan: en kaka med tecken som Djangos nycklar aldrig har slås inte upp i databasen.

`Cookie: sessionid="\\000…"` (en citerad kaka med oktal-escape, som går igenom daphne) blir ett
NUL-tecken i nyckeln. Django kontrollerade bara längden, och PostgreSQL vägrar NUL: varje sida,
även patientsidan, gav 500. Nu behandlas kakan som ingen session.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.session_store import SessionStore

# Kakor som ingen webbläsare fått av portalen: NUL via citerad oktal-escape, versaler, bindestreck.
FOREIGN_COOKIES = ['"\\000garbage12345"', "ABCDEFGHIJKLMNOP", "abcdefgh-ijklmnop"]


def session_lookups(queries: CaptureQueriesContext) -> int:
    """Antal frågor mot sessionstabellen."""
    return sum("django_session" in query["sql"] for query in queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", FOREIGN_COOKIES)
@pytest.mark.parametrize(
    ("path", "status", "text"),
    [("/s/OkandKod12345678", 404, "Länken gäller inte längre"), ("/konto/logga-in/", 200, "Logga in")],
)
def test_foreign_session_cookie_is_no_session(cookie: str, path: str, status: int, text: str) -> None:
    """Patientsidan och inloggningen svarar som utan kaka, utan att fråga databasen om nyckeln."""
    client = Client(raise_request_exception=False, HTTP_COOKIE=f"sessionid={cookie}")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == status
    assert text in response.content.decode()
    assert session_lookups(queries) == 0


@pytest.mark.django_db
def test_signed_in_staff_keep_their_session(staff_client: Client, staff_user: Any) -> None:
    """Djangos egna nycklar (a–z, 0–9) fungerar som förut: inloggad personal når sändsidan."""
    key = staff_client.cookies["sessionid"].value
    assert set(key) <= set(VALID_KEY_CHARS)
    response = staff_client.get("/")
    assert response.status_code == 200 and response.wsgi_request.user == staff_user


@pytest.mark.django_db
def test_new_sessions_get_keys_the_store_accepts() -> None:
    """En ny session sparas och läses tillbaka med sin nyckel."""
    store = SessionStore()
    store["prov"] = 1
    store.create()
    assert SessionStore(session_key=store.session_key).load() == {"prov": 1}
    assert SessionStore(session_key="\x00" + store.session_key[1:]).load() == {}
