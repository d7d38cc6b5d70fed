"""Egenskapstester för mallarnas administration: slumpade och fientliga fält i formuläret.

Formuläret sparar (302) eller visas igen med svenska besked (200); aldrig ett 500-fel, och
inskjuten HTML i det som skrevs visas som text i formuläret och i förhandsgranskningen.
"""

from __future__ import annotations

from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from templates_app.models import Category
from tests.fuzz.checks import FUZZ, TEXT, assert_clean

NUMBER = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), TEXT)
LINK = st.one_of(TEXT, st.sampled_from(["javascript:alert(1)", "sodermalmsortopedi.se/info", "https://x.example/ a"]))


@FUZZ
@given(
    title=TEXT,
    text=TEXT,
    link=LINK,
    order=NUMBER,
    category=st.one_of(NUMBER, st.none()),
    active=st.booleans(),
    admin_note=TEXT,
)
def test_template_admin_form_never_fails_with_500(
    admin_client_: Client,
    title: str,
    text: str,
    link: str,
    order: str,
    category: str | None,
    active: bool,
    admin_note: str,
) -> None:
    """Ny mall med slumpade fält: sparad (302) eller formuläret igen (200) med besked."""
    data = {
        "category": category if category is not None else str(Category.objects.order_by("pk").first().pk),
        "title": title,
        "text": text,
        "link": link,
        "order": order,
        "admin_note": admin_note,
    }
    if active:
        data["active"] = "on"
    response = admin_client_.post("/admin/templates_app/messagetemplate/add/", data)
    assert_clean(response, {200, 302})
