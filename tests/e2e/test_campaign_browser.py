"""Webbläsartest av akut-SMS: personalen skapar en kampanj, en patient svarar JA i mobilen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_q.conf import Conf

from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import collect_console_errors, log_in, screenshot

pytestmark = pytest.mark.browser

RECIPIENTS = "Anna Andersson, 070-123 45 67, ja\nKarl Karlsson\t070-123 45 68\tnej\nLisa Larsson; 070-123 45 69; ja"
PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """En patients mobil: egen kontext (egna kakor), telefonstor skärm, pekskärm."""
    context = browser.new_context(locale="sv-SE", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def phone_errors(phone: Any) -> list[str]:
    """Skriptfel och CSP-brott i mobilens konsol (ska vara tom)."""
    return collect_console_errors(phone)


def link_for(sms_outbox: list[Any], number: str) -> str:
    """Länken i SMS:et till numret (telefonen lägger själv till http://)."""
    text = next(message.text for message in sms_outbox if message.to == number)
    return "http://" + re.search(r"(\S+/s/[A-Za-z0-9]+)", text).group(1)


def test_campaign_from_form_to_first_yes(
    page: Any,
    phone: Any,
    live_server: Any,
    staff_user: Any,
    sms_outbox: list[Any],
    console_errors: list[str],
    phone_errors: list[str],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Förhandsgranska, skicka till tre; Lisa svarar JA i mobilen; personalen ser henne först."""
    monkeypatch.setattr(Conf, "SYNC", True)  # sändjobben körs direkt, som av en arbetsprocess
    settings.PUBLIC_BASE_URL = live_server.url
    log_in(page, live_server.url, "anna", STAFF_PASSWORD)
    page.get_by_role("link", name="Akut-SMS").click()
    tomorrow = timezone.localdate() + timedelta(days=1)
    page.get_by_label("Datum").fill(tomorrow.isoformat())
    page.get_by_label("Klockslag").fill("08:00")
    page.get_by_label("Operationstyp (valfri)").fill("axeloperation")
    page.get_by_label("Mottagare", exact=True).fill(RECIPIENTS)
    page.get_by_role("button", name="Förhandsgranska").click()
    page.wait_for_load_state()

    summary = page.get_by_test_id("sammanfattning").inner_text()
    assert summary == "3 mottagare, varav 2 med samtycke. Totalt 5 SMS-delar, uppskattad kostnad 1,75 kr."
    assert (
        page.get_by_test_id("sms-med-samtycke")
        .inner_text()
        .startswith("Hej Anna! En operationstid för din axeloperation")
    )
    assert page.get_by_test_id("sms-utan-samtycke").inner_text().startswith("Hej! En tid har blivit ledig imorgon.")
    assert "GSM-7 · " in page.get_by_test_id("delar-utan-samtycke").inner_text()
    assert page.get_by_label("Mottagare", exact=True).input_value() == RECIPIENTS
    assert sms_outbox == []
    screenshot(page, "akut-sms-forhandsgranskning")

    page.get_by_role("button", name="Skicka till 3 mottagare").click()
    page.wait_for_url(re.compile(r".*/personal/akut-sms/\d+/$"))
    assert page.get_by_test_id("framsteg").inner_text() == "Skickade 3/3"
    assert len(sms_outbox) == 3
    screenshot(page, "akut-sms-kampanj-skickad")

    phone.goto(link_for(sms_outbox, "+46701234569"))
    assert phone.get_by_text("Hej Lisa!").is_visible()
    assert "axeloperation" in phone.content() and "070" not in phone.locator("main").inner_text()
    yes = phone.get_by_role("button", name="JA, jag kan komma!")
    box = yes.bounding_box()
    assert box["width"] > 300 and box["height"] >= 56  # stor knapp för tummen
    screenshot(phone, "akut-sms-patient-fraga")
    yes.click()
    phone.wait_for_load_state()
    assert phone.get_by_role("heading", name="Tack!").is_visible()
    assert phone.get_by_test_id("plats").inner_text() == "Vi ringer dig inom kort för att bekräfta."
    screenshot(phone, "akut-sms-patient-tack")

    phone.goto(link_for(sms_outbox, "+46701234568"))
    assert phone.get_by_text("En tid har blivit ledig:").is_visible() and "Karl" not in phone.content()
    screenshot(phone, "akut-sms-patient-fraga-utan-samtycke")

    page.reload()
    first_row = page.get_by_test_id("mottagare").locator("tbody tr").first
    assert "Lisa Larsson" in first_row.inner_text() and "Ring först" in first_row.inner_text()
    assert page.get_by_test_id("ja").inner_text() == "1"
    screenshot(page, "akut-sms-kampanj-ja")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Tiden är tillsatt").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("kampanjstatus").inner_text() == "Tillsatt"
    assert page.get_by_role("button", name="Tiden är tillsatt").count() == 0
    screenshot(page, "akut-sms-kampanj-tillsatt")

    phone.goto(link_for(sms_outbox, "+46701234569"))
    assert phone.get_by_role("heading", name="Tiden är inte längre ledig").is_visible()
    screenshot(phone, "akut-sms-patient-tagen")
    phone.goto(link_for(sms_outbox, "+46701234568"))
    assert "Din ordinarie tid kvarstår." in phone.locator("main").inner_text()
    screenshot(phone, "akut-sms-patient-tagen-nej")
    assert console_errors == [] and phone_errors == []


def test_bad_lines_are_named_and_the_list_is_kept(
    page: Any, live_server: Any, staff_user: Any, sms_outbox: list[Any], console_errors: list[str]
) -> None:
    """Felaktiga rader namnges under listan; allt som skrevs står kvar; inget skickas."""
    log_in(page, live_server.url, "anna", STAFF_PASSWORD)
    page.goto(live_server.url + "/personal/akut-sms/")
    bad = "Anna Andersson, 070-123 45 67, ja\nErik Eriksson, 08-123 45 67\nAnna Andersson igen, 0701234567"
    page.get_by_label("Datum").fill((timezone.localdate() + timedelta(days=2)).isoformat())
    page.get_by_label("Klockslag").fill("13:30")
    page.get_by_label("Mottagare", exact=True).fill(bad)
    page.get_by_role("button", name="Förhandsgranska").click()
    page.wait_for_load_state()
    errors = page.get_by_test_id("radfel").inner_text()
    assert (
        "Rad 2: ogiltigt mobilnummer" in errors
        and "Rad 3 (Anna Andersson igen): samma nummer som rad 1 (Anna Andersson)." in errors
    )
    assert page.get_by_label("Mottagare", exact=True).input_value() == bad
    assert page.get_by_label("Klockslag").input_value() == "13:30"
    assert page.get_by_test_id("forhandsgranskning").count() == 0 and sms_outbox == []
    screenshot(page, "akut-sms-radfel")
    assert console_errors == []
