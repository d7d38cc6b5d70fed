"""Egenskapstester: slumpmässig och fientlig inmatning i sändformuläret ger aldrig ett 500-fel."""

from __future__ import annotations

from typing import Any

from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from audit.models import AuditEvent
from templates_app.models import MessageTemplate
from tests.fuzz.checks import FUZZ, MARKER, MARKER_ESCAPED, TEXT, assert_clean

#: Ibland ett giltigt nummer, så att även sändvägen (locmem) prövas med fientlig text.
PHONE = st.one_of(TEXT, st.sampled_from(["070-123 45 67", "+46701234567", "0046 70 123 45 67"]))
TEMPLATE = st.one_of(st.none(), st.integers(-5, 50), st.integers(min_value=2**63), TEXT)


@FUZZ
@given(phone=PHONE, body=TEXT, template=TEMPLATE, request_id=st.one_of(st.none(), st.uuids().map(str), TEXT))
def test_send_form_never_fails_with_500(
    staff_client: Client, phone: str, body: str, template: Any, request_id: Any
) -> None:
    """Varje kombination ger sidan med ett svenskt besked eller en omdirigering efter sändning."""
    AuditEvent.objects.all().delete()  # kvoten (30 SMS i timmen) får inte dölja några fall
    data = {"phone": phone, "body": body}
    if template is not None:
        data["template"] = template
    if request_id is not None:
        data["request_id"] = request_id
    response = staff_client.post("/", data)
    page = assert_clean(response, {200, 302})
    if response.status_code == 200 and MARKER in body:
        assert MARKER_ESCAPED in page  # texten står kvar i formuläret, som text


def test_template_text_is_shown_as_text(staff_client: Client) -> None:
    """HTML i en malls text visas som text på sändsidan."""
    template = MessageTemplate.objects.get(title="Receptpolicy")
    template.text = '<img src=x onerror="alert(1)"> [LÄNK]'
    template.save()
    page = staff_client.get("/").content.decode()
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
