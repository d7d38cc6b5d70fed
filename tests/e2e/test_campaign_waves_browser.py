"""Webbläsartest av sändning i grupper på den levande kampanjsidan: en grupp från schemat syns
utan omladdning, "Skicka nästa grupp nu" släpper en grupp per klick, "Lägg till mottagare"
lägger nya rader sist, och patientsidan visar svarstiden."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import collect_console_errors, log_in, screenshot
from tests.e2e.test_campaign_live_browser import (
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    AsgiServer,
    run_manage,
    running_asgi_server,
    wait_for_state,
)

pytestmark = pytest.mark.browser

# En kampanj i grupper om två (sex patienter, paus vid JA av); första gruppen skickad.
SEED_WAVES = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from tests.campaigns.factories import make_campaign, send_all, tomorrow_at
anna = get_user_model().objects.get(username="anna")
patients = [(f"Patient {i}", f"+4670123450{i}", i % 2 == 0) for i in range(1, 7)]
slot = tomorrow_at(12)
campaign = make_campaign(anna, patients, slot_at=slot, answer_deadline=slot - timedelta(hours=2),
                         wave_size=2, wave_minutes=10, pause_on_yes=False, title="Sal 3")
send_all(campaign)
print("SEED=" + json.dumps({"campaign": campaign.pk, "code": campaign.recipients.last().code}))
"""


def wave_items(tab: Any) -> list[str]:
    """Raderna i listan över skickade grupper."""
    return [text.strip() for text in tab.get_by_test_id("skickade-grupper").locator("li").all_inner_texts()]


def test_waves_on_the_live_dashboard(tmp_path: Path, browser: Any) -> None:
    """Grupp 2 från schemat syns live; "Skicka nästa grupp nu" (dubbelklick) släpper en grupp;
    tillagda mottagare väntar sist; patientsidan visar "Svara senast"."""
    with running_asgi_server(tmp_path) as server:
        seed = json.loads(run_manage(server.env, "shell", "-c", SEED_WAVES).split("SEED=", 1)[1].strip())
        campaign_url = f"{server.url}/personal/akut-sms/{seed['campaign']}/"
        context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
        try:
            staff = context.new_page()
            errors = collect_console_errors(staff)
            log_in(staff, server.url, "anna", STAFF_PASSWORD)
            staff.goto(server.url + "/personal/akut-sms/")
            assert staff.get_by_label("Antal per grupp").is_disabled()
            staff.get_by_role("radio", name="Skicka i grupper").check()
            assert staff.get_by_label("Antal per grupp").input_value() == "5"
            assert staff.get_by_label("Minuter mellan grupper").is_enabled()
            assert staff.get_by_label("Pausa när någon svarat JA").is_checked()
            staff.goto(campaign_url)
            wait_for_state(staff, "live")
            assert staff.get_by_role("heading", level=1).inner_text().startswith("Sal 3: Ledig tid")
            assert len(wave_items(staff)) == 1 and wave_items(staff)[0].endswith("2 mottagare")

            release = f"from campaigns.waves import release_wave; release_wave({seed['campaign']}, expected=1)"
            run_manage(server.env, "shell", "-c", release)
            staff.get_by_test_id("skickade-grupper").locator("li").nth(1).wait_for(timeout=5000)
            assert staff.get_by_test_id("vantar-pa-grupp").inner_text() == "2"

            # Sidan har redan kampanjens adress: vänta på själva sidbytet efter POST:en, inte på adressen.
            with staff.expect_navigation(url=campaign_url):
                staff.get_by_test_id("skicka-nasta").dblclick()
            wait_for_state(staff, "live")
            assert len(wave_items(staff)) == 3
            assert staff.get_by_test_id("nasta-grupp").inner_text() == "alla grupper är skickade"
            assert staff.get_by_test_id("skicka-nasta").is_disabled()

            staff.locator("summary", has_text="Lägg till mottagare").click()
            staff.locator("[data-testid=lagg-till-formular] textarea").fill(
                "Ny Patient, 070-123 45 99\nPatient 1, 0701234501"
            )
            staff.get_by_role("button", name="Lägg till", exact=True).click()
            staff.wait_for_url(campaign_url + "mottagare/")
            assert "Patient 1 (070-123 ****) finns redan i kampanjen" in staff.get_by_test_id("dubbletter").inner_text()
            new_row = staff.locator("tr", has_text="Ny Patient")
            assert "väntar på sin grupp" in new_row.inner_text()
            assert staff.get_by_test_id("vantar-pa-grupp").inner_text() == "1"
            screenshot(staff, "akut-sms-grupper")
            assert errors == []
        finally:
            context.close()
        patient_page(browser, server, seed["code"])


def patient_page(browser: Any, server: AsgiServer, code: str) -> None:
    """Patientsidan (i sista gruppen) visar svarstiden."""
    context = browser.new_context(locale="sv-SE", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        phone.goto(f"{server.url}/s/{code}")
        assert phone.get_by_test_id("svara-senast").inner_text().startswith("Svara senast")
        screenshot(phone, "akut-sms-patient-svarstid")
    finally:
        context.close()
