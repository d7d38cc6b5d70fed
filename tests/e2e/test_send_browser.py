"""Webbläsartest av sändsidan: mall, inklistrat nummer, skicka – och ett felaktigt nummer."""

from __future__ import annotations

from typing import Any

import pytest

from templates_app.models import MessageTemplate
from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_send_template_sms_in_three_actions(
    page: Any, live_server: Any, staff_user: Any, sms_outbox: list[Any], console_errors: list[str]
) -> None:
    """Klick på mall, klistra in numret, skicka: ett SMS, bekräftelse, kvoten minskar."""
    log_in(page, live_server.url, "anna", STAFF_PASSWORD)
    quota = page.get_by_test_id("kvot")
    assert quota.inner_text() == "Kvar denna timme: 30 av 30"

    page.get_by_role("button", name="Receptpolicy").click()
    expected = MessageTemplate.objects.get(title="Receptpolicy").sms_text()
    assert page.get_by_test_id("forhandsgranskning").inner_text() == expected
    assert "GSM-7 · 1 SMS-del" in page.get_by_test_id("raknare").inner_text()
    # Fokus flyttas till nummerfältet: klistra in och tryck Enter.
    page.keyboard.insert_text(" 070-123 45 67 ")
    screenshot(page, "sandsida-ifylld")
    page.keyboard.press("Enter")
    page.wait_for_load_state()

    assert page.get_by_role("status").first.inner_text() == "SMS skickat: Receptpolicy (1 SMS-del)."
    assert [(m.to, m.text) for m in sms_outbox] == [("+46701234567", expected)]
    assert quota.inner_text() == "Kvar denna timme: 29 av 30"
    assert page.get_by_label("Mobilnummer", exact=True).input_value() == ""
    screenshot(page, "sandsida-skickat")

    page.get_by_role("button", name="Hitta till oss").click()
    page.get_by_label("Mobilnummer", exact=True).fill("08-123 45 67")
    page.get_by_role("button", name="Skicka SMS").click()
    page.wait_for_load_state()
    assert "Ogiltigt telefonnummer - ange format +46XXXXXXXXX" in page.get_by_test_id("fel").first.inner_text()
    assert page.get_by_label("Mobilnummer", exact=True).input_value() == "08-123 45 67"
    assert page.get_by_role("button", name="Hitta till oss").get_attribute("aria-pressed") == "true"
    assert len(sms_outbox) == 1
    screenshot(page, "sandsida-fel")
    assert console_errors == []


def test_signed_out_send_page_says_nothing_is_sent_and_hides_the_number(
    page: Any, live_server: Any, staff_user: Any, sms_outbox: list[Any]
) -> None:
    """Sessionen tar slut med ett nummer ifyllt: knappen säger att SMS:et inte skickas, numret försvinner
    från skärmen och ett tryck skickar ingenting (förut ledde det till inloggningen utan besked)."""
    log_in(page, live_server.url, "anna", STAFF_PASSWORD)
    page.get_by_role("button", name="Receptpolicy").click()
    page.keyboard.insert_text("070-123 45 67")
    page.context.clear_cookies()  # sessionen är slut
    page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")  # sessionsvakten frågar genast
    button = page.locator("[data-send-button]")
    page.wait_for_function(
        "() => document.querySelector('[data-send-button]').textContent.startsWith('Utloggad')", timeout=5000
    )
    assert button.inner_text() == "Utloggad – SMS:et skickas inte. Logga in igen."
    assert page.get_by_label("Mobilnummer", exact=True).input_value() == ""
    address = page.url
    button.click(force=True)  # aria-disabled: Playwright klickar annars inte
    page.wait_for_timeout(300)
    assert page.url == address and sms_outbox == []


def test_counter_names_ucs2_characters_and_replaces_them(
    page: Any, live_server: Any, staff_user: Any, console_errors: list[str]
) -> None:
    """Typografiska tecken namnges och byts ut med ett klick; räknaren går tillbaka till GSM-7."""
    log_in(page, live_server.url, "anna", STAFF_PASSWORD)
    page.get_by_role("button", name="Väntetider").click()
    body = page.get_by_label("Meddelande", exact=True)
    body.fill("Hej! ”Välkommen” – vi ses… " + "x" * 150)
    counter = page.get_by_test_id("raknare")
    assert "UCS-2" in counter.inner_text() and "SMS-delar" in counter.inner_text()
    warning = page.locator("#ucs2-varning")
    assert "typografiskt citattecken ”" in warning.inner_text()
    assert "tankstreck –" in warning.inner_text() and "tre punkter …" in warning.inner_text()
    screenshot(page, "sandsida-ucs2")
    page.get_by_role("button", name="Byt till vanliga tecken").click()
    assert body.input_value().startswith('Hej! "Välkommen" - vi ses... ')
    assert "GSM-7 · 2 SMS-delar" in counter.inner_text()
    assert warning.is_hidden()
    # En emoji har ingen vanlig motsvarighet: ingen knapp som inte gör något, men ett besked.
    body.fill("Välkommen! 😊")
    assert "tas bort för hand" in warning.inner_text()
    assert page.get_by_role("button", name="Byt till vanliga tecken").is_hidden()
    body.fill("Välkommen – 😊")
    assert page.get_by_role("button", name="Byt till vanliga tecken").is_visible()
    assert console_errors == []


def test_keyboard_only(
    page: Any, live_server: Any, staff_user: Any, sms_outbox: list[Any], console_errors: list[str]
) -> None:
    """Bara tangentbordet: Tab till mallen, Enter, skriv numret, Enter."""
    log_in(page, live_server.url, "anna", STAFF_PASSWORD)
    assert page.evaluate("document.activeElement.textContent.trim()") == "Receptpolicy"
    page.keyboard.press("Tab")  # rubriken "Inför besök"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Förberedelser inför operation"
    page.keyboard.press("Enter")
    page.keyboard.type("0701234567")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.get_by_role("status").first.inner_text().startswith("SMS skickat: Förberedelser inför operation")
    assert [m.text for m in sms_outbox] == [
        MessageTemplate.objects.get(title="Förberedelser inför operation").sms_text()
    ]
    assert console_errors == []
