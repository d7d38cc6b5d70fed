"""Egenskapstester för adressernas frågesträngar: filter, sidnummer, next-adresser.

Audit-sidans filter och CSV-export, personalens sidor och inloggningens next-adress med
slumpade och fientliga värden: alltid sidan (200) eller en omdirigering, aldrig ett 500-fel;
och en CSV-cell börjar aldrig som en Excel-formel.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from audit.models import Action, AuditEvent
from tests.fuzz.checks import FUZZ, HOSTILE, MARKER, TEXT, assert_clean, has_nul

VALUE = st.one_of(TEXT, st.integers(min_value=-(2**70), max_value=2**70).map(str), st.dates().map(str))
AUDIT_QUERY = st.fixed_dictionaries(
    {},
    optional={
        "user": VALUE,
        "date_from": VALUE,
        "date_to": VALUE,
        "action": st.one_of(VALUE, st.sampled_from([a for a, _ in Action.choices])),
        "status": VALUE,
        "sida": st.one_of(VALUE, st.just("last")),
        "format": st.sampled_from(["csv", "html", "CSV", ""]),
    },
)
#: Celler som Excel annars räknar ut som formler (CSV-injektion).
FORMULAS = st.sampled_from(['=HYPERLINK("http://evil.example","klicka")', "+1+1", "-1+1", "@SUM(1)", "\t=1"])


@FUZZ
@given(
    params=AUDIT_QUERY,
    title=st.one_of(FORMULAS, HOSTILE.filter(lambda value: "\x00" not in value and len(value) <= 100)),
)
def test_audit_filters_and_csv(admin_client_: Client, params: dict[str, str], title: str) -> None:
    """Varje filter ger sidan eller CSV-filen (200); en mallrubrik blir aldrig en formel i Excel.

    Raden skrivs direkt, så som en mallrubrik kan se ut: högst 100 tecken och utan NUL
    (formulären stoppar det, och PostgreSQL tar inte emot det).
    """
    AuditEvent.objects.all().delete()
    AuditEvent.objects.create(action=Action.SMS_SENT, category="Recept", template_title=title, status="skickat")
    response = admin_client_.get(f"/logg/?{urlencode(params)}")
    if has_nul(*params.values()):
        assert_clean(response, {400})
        return
    if params.get("format") != "csv":
        assert_clean(response, {200})
        return
    assert response.status_code == 200  # en CSV-fil, inte HTML: rubriken står där som den är
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells


@FUZZ
@given(
    path=st.sampled_from(["/", "/personal/akut-sms/", "/dataskydd/", "/konto/session/", "/logg/", "/logg/atkomst/"]),
    params=st.dictionaries(
        st.one_of(TEXT, st.sampled_from(["template", "next", "sida", "q", "campaign"])), VALUE, max_size=4
    ),
)
def test_staff_pages_ignore_odd_queries(admin_client_: Client, path: str, params: dict[str, str]) -> None:
    """Personalens sidor med slumpade frågesträngar: samma sida (200), aldrig ett 500-fel (NUL: 400)."""
    expected = 400 if has_nul(*params, *params.values()) else 200
    assert_clean(admin_client_.get(f"{path}?{urlencode(params)}"), {expected})


@FUZZ
@given(next_url=st.one_of(TEXT, st.sampled_from(["//evil.example/", "https://evil.example/", "javascript:alert(1)"])))
def test_login_pages_with_odd_next(client: Client, db: Any, next_url: str) -> None:
    """Inloggningssidan och admins inloggning med fientlig next: sidan eller omdirigering till inloggningen."""
    rejected = has_nul(next_url)  # NUL: 400 före vyn (config.middleware)
    page = assert_clean(client.get(f"/konto/logga-in/?{urlencode({'next': next_url})}"), {400 if rejected else 200})
    if rejected:
        return
    assert 'name="next"' in page and MARKER not in page
    redirect = client.get(f"/admin/login/?{urlencode({'next': next_url})}")
    assert_clean(redirect, {302})
    assert redirect["Location"].startswith("/konto/logga-in/?")
