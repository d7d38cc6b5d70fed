"""Webbläsartest av mallredigeringen i Django admin: förhandsgranskningen följer texten."""

from __future__ import annotations

from typing import Any

import pytest

from templates_app.models import MessageTemplate
from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_template_preview_updates_while_typing(
    page: Any, live_server: Any, admin_user: Any, console_errors: list[str]
) -> None:
    """Administratören ändrar text och länk; exakt SMS och antal delar uppdateras direkt (strikt CSP)."""
    template = MessageTemplate.objects.get(title="Receptpolicy")
    log_in(page, live_server.url, "chef", STAFF_PASSWORD)
    page.goto(f"{live_server.url}/admin/templates_app/messagetemplate/{template.pk}/change/")
    preview = page.locator("[data-sms-preview]")
    count = page.locator("[data-sms-preview-count]")
    assert preview.inner_text() == template.sms_text()
    assert "1 SMS-del" in count.inner_text()

    page.locator("#id_text").fill("Hej! Läs om recept här: [LÄNK] – välkommen!")
    page.locator("#id_link").fill("sodermalmsortopedi.se/recept")
    assert (
        preview.inner_text()
        == "Hej! Läs om recept här: sodermalmsortopedi.se/recept – välkommen!\n/Södermalms Ortopedi"
    )
    assert "UCS-2" in count.inner_text()
    page.locator("#id_text").fill("x" * 170)
    assert "GSM-7, 2 SMS-delar" in count.inner_text()
    screenshot(page, "admin-mall")
    page.get_by_role("button", name="Spara", exact=True).click()
    # Sidan och allt den hämtar (ikonen) klart innan testet slutar och databasen töms.
    page.wait_for_load_state("networkidle")
    template.refresh_from_db()
    assert template.text == "x" * 170
    assert page.locator('link[rel="icon"]').get_attribute("href").endswith(".svg")
    assert console_errors == []
