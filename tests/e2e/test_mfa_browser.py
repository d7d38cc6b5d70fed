"""Webbläsartest: aktivera tvåstegsverifiering med nyckeln som sidan visar, logga ut och in igen med en ny kod.

Samma förlopp körs två gånger: med portalens strikta CSP (inga skriptfel, QR-bilden laddas)
och med axe-core (WCAG A/AA) på varje sida i förloppet.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import pytest

from audit.models import Action, AuditEvent
from tests.accounts.mfa_helpers import code_for
from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import Audit, describe

pytestmark = pytest.mark.browser

Look = Callable[[Any, str], None]


@pytest.fixture(autouse=True)
def mfa_required(settings: Any) -> Any:
    """Tvåstegsverifiering krävs (live-servern kör i samma process och läser samma inställningar)."""
    settings.STAFF_MFA_REQUIRED = True
    return settings


def password(page: Any) -> None:
    """Första steget: användarnamn och lösenord på inloggningssidan."""
    page.get_by_label("Användarnamn").fill("anna")
    page.get_by_label("Lösenord").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Logga in").click()


def enrol_log_out_and_in(page: Any, base: str, look: Look) -> None:
    """Hela förloppet; `look(flik, namn)` anropas på varje sida (skärmbild eller granskning)."""
    page.goto(base + "/personal/akut-sms/")
    password(page)
    page.wait_for_url(base + "/konto/tvastegsverifiering/aktivera/")
    qr = page.get_by_test_id("qr-kod")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # SVG-bilden laddas trots strikt CSP
    assert "Södermalms Ortopedi" in page.content()
    look(page, "mfa-aktivering")
    page.get_by_role("button", name="Aktivera").click()  # tomt fält: svenskt besked, räknas inte
    page.get_by_test_id("kodfel").wait_for()
    look(page, "mfa-aktivering-fel")

    key = base64.b32decode(page.get_by_test_id("hemlig-nyckel").inner_text().replace(" ", ""))
    page.get_by_label("Koden som appen visar nu").fill(code_for(key))
    page.get_by_role("button", name="Aktivera").click()
    codes = page.get_by_test_id("reservkoder").locator("li")
    codes.first.wait_for()
    assert codes.count() == 10
    look(page, "mfa-reservkoder")

    page.get_by_role("link", name="Jag har sparat koderna").click()
    page.wait_for_url(base + "/personal/akut-sms/")  # `next` från första adressen
    assert "Inloggad som Anna Receptionist" in page.get_by_test_id("inloggad-som").inner_text()

    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url("**/konto/logga-in/")
    password(page)
    page.wait_for_url(base + "/konto/tvastegsverifiering/")
    look(page, "mfa-kod")
    # Koden från aktiveringen är förbrukad; nästa 30-sekundersperiods kod godtas (toleransen).
    page.get_by_label("Kod från appen").fill(code_for(key, at=time.time() + 30))
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(base + "/")
    assert "Inloggad som Anna Receptionist" in page.get_by_test_id("inloggad-som").inner_text()


def test_enrol_then_log_in_with_a_fresh_code(
    page: Any, live_server: Any, staff_user: Any, console_errors: list[str]
) -> None:
    """Nyckeln läses av sidan, koden räknas som i en app; reservkoderna visas; nästa inloggning tar en ny kod."""
    enrol_log_out_and_in(page, live_server.url, screenshot)
    assert console_errors == [], console_errors


def test_second_factor_pages_have_no_wcag_violations(browser: Any, live_server: Any, staff_user: Any) -> None:
    """axe-core hittar inga WCAG A/AA-brister på aktiveringen, felbeskedet, reservkoderna och kodsidan."""
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 860}, bypass_csp=True)
    audit = Audit()
    try:
        enrol_log_out_and_in(context.new_page(), live_server.url, audit.check)
    finally:
        context.close()
    assert not audit.violations, describe(audit.violations)


def test_double_click_on_activate_shows_the_recovery_codes(page: Any, live_server: Any, staff_user: Any) -> None:
    """Ett dubbelklick på Aktivera skickar koden en gång: reservkoderna visas, och ingen fel kod räknas.

    Förut aktiverade den första begäran appen medan webbläsaren visade svaret på den andra ("Koden
    stämmer inte" eller "Formuläret har gått ut"): koderna, som bara visas en gång, syntes aldrig.
    """
    base = live_server.url
    page.goto(base + "/personal/akut-sms/")
    password(page)
    page.wait_for_url(base + "/konto/tvastegsverifiering/aktivera/")
    key = base64.b32decode(page.get_by_test_id("hemlig-nyckel").inner_text().replace(" ", ""))
    page.get_by_label("Koden som appen visar nu").fill(code_for(key))
    # Två klick med 40 ms emellan, som en människas dubbelklick (Playwrights dblclick blir ett enda
    # formulär i Chromium).
    page.get_by_role("button", name="Aktivera").evaluate("b => { b.click(); setTimeout(() => b.click(), 40); }")
    codes = page.get_by_test_id("reservkoder").locator("li")
    codes.first.wait_for()
    assert codes.count() == 10
    assert not AuditEvent.objects.filter(action=Action.MFA_FAILED).exists()
    assert AuditEvent.objects.filter(action=Action.MFA_ENROLLED).count() == 1
