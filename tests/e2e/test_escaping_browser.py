"""Webbläsartest: HTML i patientnamn och operationstyp förblir text, även när sidans skript ritar om.

Kampanjsidans skript ritar om raderna ur statusadressens JSON; namnen är patientuppgifter
som vem som helst kan ha klistrat in. Testet följer en omritning (ett nytt JA) och kontrollerar
att namnet står som text i cellen och att inget inskjutet element eller skript finns på sidan.
"""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.models import Recipient
from campaigns.services import record_answer
from tests.campaigns.factories import make_campaign, recipient, send_all
from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.browser

HOSTILE_NAME = '<img src=x onerror="document.body.dataset.xss=1"> Åsa'
HOSTILE_OPERATION = "<script>document.body.dataset.xss=2</script>"


def test_hostile_name_is_text_after_live_redraw(
    page: Any, live_server: Any, staff_user: Any, console_errors: list[str]
) -> None:
    """Serverns rendering och skriptets omritning visar namnet som text; inget skript körs."""
    campaign = make_campaign(
        staff_user,
        [(HOSTILE_NAME, "+46701234567", True), ("Karl Karlsson", "+46701234568", False)],
        operation_type=HOSTILE_OPERATION,
    )
    send_all(campaign)
    log_in(page, live_server.url, "anna", STAFF_PASSWORD)
    page.goto(f"{live_server.url}/personal/akut-sms/{campaign.pk}/")
    page.wait_for_selector("#kampanjsida[data-live-state=polling]")  # WSGI: sidan hämtar läget själv
    assert HOSTILE_OPERATION in page.get_by_test_id("kampanjsida").inner_text()

    record_answer(recipient(campaign, HOSTILE_NAME), Recipient.Answer.YES)
    page.get_by_test_id("ring-forst").wait_for(timeout=15000)  # syns först när skriptet ritat om
    first_row = page.get_by_test_id("mottagare").locator("tbody tr").first
    assert first_row.locator("td").first.inner_text() == HOSTILE_NAME
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("document.body.dataset.xss") is None
    screenshot(page, "fientligt-namn-som-text")
    assert console_errors == []
