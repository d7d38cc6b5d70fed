"""HTML och skript i mallar, patientnamn och operationstyper visas alltid som text.

Mallens rubrik och text på sändsidan, i adminsidans förhandsgranskning, i mallistan och på
audit-sidan; patientens namn och operationstypen på kampanjsidorna, i statusadressens JSON
(som sidans skript skriver med textContent) och på patientens egen sida.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Campaign
from smsportal.models import SendAttempt
from templates_app.models import MessageTemplate
from tests.campaigns.factories import make_campaign, send_all
from tests.fuzz.checks import FUZZ, MARKER, MARKER_ESCAPED, assert_clean, new_address

#: Slumpad text runt markören (så att escapningen prövas i alla sammanhang). Utan NUL och
#: ensamma surrogattecken: formulären släpper aldrig igenom dem, här skrivs raderna direkt.
AROUND = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
INJECTED = st.builds(lambda before, after: before + MARKER + after, AROUND, AROUND)


@FUZZ
@given(title=INJECTED, text=INJECTED)
def test_template_html_is_shown_as_text(staff_client: Client, admin_client_: Client, title: str, text: str) -> None:
    """Sändsidan, adminsidorna och audit-sidan visar mallens HTML escapad, aldrig som kod."""
    SendAttempt.objects.all().delete()  # kvoten (SMS-registret) får inte stoppa sändningen nedan
    template = _receptpolicy()
    template.title, template.text = title.strip() or MARKER, text
    template.save()
    assert MARKER_ESCAPED in assert_clean(staff_client.get("/"), {200})
    change_page = assert_clean(admin_client_.get(f"/admin/templates_app/messagetemplate/{template.pk}/change/"), {200})
    assert 'class="sms-preview"' in change_page and MARKER_ESCAPED in change_page
    assert_clean(admin_client_.get("/admin/templates_app/messagetemplate/"), {200})
    assert_clean(admin_client_.get(f"/admin/templates_app/category/{template.category_id}/change/"), {200})
    sent = staff_client.post("/", {"template": template.pk, "phone": "070-123 45 67", "body": "Hej!"})
    assert_clean(sent, {302})
    assert MARKER_ESCAPED in assert_clean(admin_client_.get("/logg/"), {200})


def _receptpolicy() -> MessageTemplate:
    """Den inlagda mallen som testet skriver över (samma rad i varje exempel)."""
    return MessageTemplate.objects.order_by("pk").first()


NAME = st.builds(
    lambda first, rest: f"{first} {rest}".strip(), st.sampled_from([MARKER, "<b>Åsa</b>", "&amp;"]), AROUND
)


@FUZZ
@given(name=NAME, operation_type=INJECTED.map(lambda text: text[:60]))
def test_campaign_names_and_operation_type_are_text(
    staff_client: Client, staff_user: Any, name: str, operation_type: str
) -> None:
    """Kampanjlistan, kampanjsidan, statusadressen och patientsidan visar namn och operationstyp som text."""
    campaign = make_campaign(staff_user, [(name, "+46701234567", True)], operation_type=operation_type)
    send_all(campaign)
    assert_clean(staff_client.get("/personal/akut-sms/"), {200})
    detail = assert_clean(staff_client.get(f"/personal/akut-sms/{campaign.pk}/"), {200})
    assert MARKER_ESCAPED in detail or MARKER not in name + operation_type
    snapshot = staff_client.get(f"/personal/akut-sms/{campaign.pk}/status/")
    assert snapshot["Content-Type"] == "application/json" and snapshot["X-Content-Type-Options"] == "nosniff"
    assert [row["name"] for row in json.loads(snapshot.content)["rows"]] == [name]  # skriptet skriver textContent
    patient_page = assert_clean(Client().get(f"/s/{campaign.recipients.get().code}", REMOTE_ADDR=new_address()), {200})
    assert MARKER_ESCAPED in patient_page  # i operationstypen (och förnamnet när det är markören)
    Campaign.objects.filter(pk=campaign.pk).delete()


def test_no_script_writes_html() -> None:
    """Sidornas skript skriver bara text (textContent): ingen kod tolkar data som HTML."""
    scripts = sorted((Path(settings.BASE_DIR) / "static" / "js").glob("*.js"))
    assert scripts
    for script in scripts:
        source = script.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{script.name} använder {sink}"
