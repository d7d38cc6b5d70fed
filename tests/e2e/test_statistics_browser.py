"""Webbläsartest av statistiken: en kampanj där en patient svarade JA efter 12 minuter blir
tillsatt med "Bokad" på kampanjsidan (tratten visar det live), och statistiksidan visar då
fyllnadsgraden och tiden till första JA, med diagram, utan CSP-fel och utan WCAG-brister."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import collect_console_errors, log_in, screenshot
from tests.e2e.test_accessibility import AXE_SCRIPT, axe_violations, describe
from tests.e2e.test_campaign_live_browser import DESKTOP_VIEWPORT, run_manage, running_asgi_server, wait_for_state

pytestmark = pytest.mark.browser

# Kampanjen startade för 25 minuter sedan; Karl svarade JA efter 12 minuter.
SEED_ANSWERED = """
import json
from datetime import timedelta
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone
from campaigns.services import mark_opened, record_answer
from tests.campaigns.factories import make_campaign, recipient, send_all
from campaigns.models import Campaign
Campaign.objects.all().delete()  # bara den här kampanjen i statistiken
anna = get_user_model().objects.get(username="anna")
start = timezone.now() - timedelta(minutes=25)
with time_machine.travel(start, tick=False):
    campaign = make_campaign(anna, title="Sal 2")
    send_all(campaign)
with time_machine.travel(start + timedelta(minutes=12), tick=False):
    karl = recipient(campaign, "Karl Karlsson")
    mark_opened(karl)
    record_answer(karl, "yes")
print("SEED=" + json.dumps({"campaign": campaign.pk}))
"""


def test_statistics_after_a_filled_campaign(tmp_path: Path, browser: Any) -> None:
    """Ett NEJ syns live i tratten; Bokad på kampanjsidan → tratten visar Bokad 1; statistiken visar
    100 % och 12 min."""
    assert AXE_SCRIPT.exists(), "axe-core saknas: kör `npm ci` (make test gör det)"
    with running_asgi_server(tmp_path) as server:
        seed = json.loads(run_manage(server.env, "shell", "-c", SEED_ANSWERED).split("SEED=", 1)[1].strip())
        context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
        try:
            staff = context.new_page()
            errors = collect_console_errors(staff)
            log_in(staff, server.url, "anna", STAFF_PASSWORD)
            staff.goto(f"{server.url}/personal/akut-sms/{seed['campaign']}/")
            wait_for_state(staff, "live")
            assert staff.get_by_test_id("tratt-ja").inner_text() == "1"
            assert staff.get_by_test_id("tratt-ja-tid").inner_text() == "efter 12 min"
            assert staff.get_by_test_id("tratt-bokad").inner_text() == "0"

            # Lisa svarar NEJ medan sidan är öppen: tratten visar det utan omladdning.
            answer = (
                f"from campaigns.models import Recipient; from campaigns.services import record_answer; "
                f"record_answer(Recipient.objects.get(campaign_id={seed['campaign']}, name='Lisa Larsson'), 'no')"
            )
            run_manage(server.env, "shell", "-c", answer)
            staff.wait_for_function(
                "() => document.querySelector('[data-testid=tratt-svarade]').textContent === '2'", timeout=5000
            )

            staff.once("dialog", lambda dialog: dialog.accept())
            with staff.expect_navigation():
                staff.locator("tr", has_text="Karl Karlsson").get_by_role("button", name="Bokad").click()
            wait_for_state(staff, "live")
            assert staff.get_by_test_id("tratt-bokad").inner_text() == "1"
            assert staff.get_by_test_id("tratt-bokad-tid").inner_text().startswith("efter 2")  # 25 min och uppåt
            screenshot(staff, "kampanj-tratt")

            staff.get_by_role("link", name="Statistik").click()
            staff.wait_for_load_state()
            assert staff.get_by_role("heading", level=1).inner_text() == "Statistik"
            assert staff.get_by_test_id("fyllnadsgrad").inner_text() == "100 %"
            assert staff.get_by_test_id("tid-till-forsta-ja").inner_text() == "12 min"
            assert staff.get_by_test_id("vardet").inner_text() == "10\u202f000 kr"
            assert staff.get_by_test_id("diagram-kampanjer").locator("rect.chart-filled").count() == 1
            # Varje tabell får plats på en vanlig skärm: ingen kolumn (t.ex. Kostnad) göms bakom en rullning.
            hidden = staff.evaluate(
                "() => [...document.querySelectorAll('.table-responsive')]"
                ".filter(region => region.scrollWidth > region.clientWidth + 1)"
                ".map(region => region.getAttribute('aria-label'))"
            )
            assert hidden == [], hidden
            screenshot(staff, "statistik")
            assert errors == [], errors  # inga CSP-fel: diagrammen har inget skript och ingen inline-stil
        finally:
            context.close()

        # axe-core behöver CSP:n förbigången för att kunna läggas in på sidan.
        checker = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT, bypass_csp=True)
        try:
            tab = checker.new_page()
            log_in(tab, server.url, "anna", STAFF_PASSWORD)
            tab.goto(server.url + "/personal/statistik/")
            violations = axe_violations(tab)
            assert violations == [], "WCAG-brister enligt axe-core:\n" + describe({"statistik": violations})
        finally:
            checker.close()
