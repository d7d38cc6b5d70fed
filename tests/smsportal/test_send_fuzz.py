"""Egenskapstester: slumpmässig och fientlig inmatning i sändformuläret ger aldrig ett 500-fel."""

from __future__ import annotations

from typing import Any

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from templates_app.models import MessageTemplate

HOSTILE = st.sampled_from(
    ["<script>alert(1)</script>", "\x00", "'; DROP TABLE audit_auditevent; --", "{{ 7*7 }}", "\u202e", "😀" * 50, ""]
)
TEXT = st.one_of(st.text(max_size=300), HOSTILE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(phone=TEXT, body=TEXT, template=st.one_of(st.none(), st.integers(-5, 50), TEXT), request_id=st.one_of(st.none(), TEXT))
def test_send_form_never_fails_with_500(
    staff_client: Client, phone: str, body: str, template: Any, request_id: Any
) -> None:
    """Varje kombination ger sidan med ett svenskt besked eller en omdirigering efter sändning."""
    data = {"phone": phone, "body": body}
    if template is not None:
        data["template"] = template
    if request_id is not None:
        data["request_id"] = request_id
    response = staff_client.post("/", data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        page = response.content.decode()
        assert "<script>alert(1)</script>" not in page  # visas som text, aldrig som kod


def test_template_text_is_shown_as_text(staff_client: Client) -> None:
    """HTML i en malls text visas som text på sändsidan."""
    template = MessageTemplate.objects.get(title="Receptpolicy")
    template.text = '<img src=x onerror="alert(1)"> [LÄNK]'
    template.save()
    page = staff_client.get("/").content.decode()
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
