"""Tillgänglighet med axe-core (WCAG 2.0/2.1 A och AA) på portalens sidor i riktig webbläsare.

axe-core kommer från npm (package-lock.json, `npm ci` i `make test`) och läggs in i sidan av
testet. Portalens strikta Content-Security-Policy tillåter inga inline-skript, så testets
webbläsarkontexter har `bypass_csp=True`: det gäller bara testwebbläsaren, aldrig portalen.
Personalens sidor körs i datorstorlek, patientens sidor i telefonstorlek.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import collect_console_errors, log_in, screenshot
from tests.testenv import TEST_ENVIRONMENT
from tests.e2e.test_campaign_live_browser import (  # noqa: F401 – asgi_server är en fixtur
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    AsgiServer,
    answer,
    asgi_server,
    run_manage,
    server_env,
    wait_for_state,
)

pytestmark = pytest.mark.browser

AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def staff(browser: Any) -> Iterator[Any]:
    """Personalens flik: datorstorlek, CSP förbigången bara för att kunna lägga in axe-core."""
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT, bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def mobile(browser: Any) -> Iterator[Any]:
    """Patientens telefon: telefonstor pekskärm, CSP förbigången bara för axe-core."""
    context = browser.new_context(
        locale="sv-SE", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, bypass_csp=True
    )
    yield context.new_page()
    context.close()


def axe_violations(tab: Any) -> list[dict[str, Any]]:
    """Kör axe-core på sidan som den ser ut nu och returnerar WCAG A/AA-bristerna."""
    if not tab.evaluate("() => typeof window.axe !== 'undefined'"):
        tab.add_script_tag(path=str(AXE_SCRIPT))
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}}
    return tab.evaluate("options => axe.run(document, options).then(result => result.violations)", options)


def describe(violations: dict[str, list[dict[str, Any]]]) -> str:
    """Bristerna i läsbar form: sida, regel, allvar, hjälptext och berörda element."""
    lines = []
    for page_name, found in violations.items():
        for violation in found:
            lines.append(f"{page_name}: {violation['id']} ({violation['impact']}): {violation['help']}")
            for node in violation["nodes"]:
                lines.append(f"    {node['target']}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


class Audit:
    """Samlar axe-bristerna per sida och sparar en skärmbild av varje granskad sida."""

    def __init__(self) -> None:
        """Tom samling."""
        self.violations: dict[str, list[dict[str, Any]]] = {}

    def check(self, tab: Any, name: str) -> None:
        """Granskar fliken som den ser ut nu under namnet `name`."""
        tab.wait_for_load_state()
        screenshot(tab, f"a11y-{name}")
        found = axe_violations(tab)
        if found:
            self.violations[name] = found


def check_staff_pages(audit: Audit, tab: Any, server: AsgiServer) -> None:
    """Inloggning, sändsidan (tom, fel, skickat) och kampanjlistan med förhandsgranskning."""
    response = tab.goto(server.url + "/konto/logga-in/")
    assert "script-src 'self'" in response.headers["content-security-policy"]  # portalens CSP gäller som vanligt
    audit.check(tab, "inloggning")
    log_in(tab, server.url, "anna", STAFF_PASSWORD)
    audit.check(tab, "sandsida-tom")
    tab.get_by_role("button", name="Väntetider").click()
    tab.get_by_label("Mobilnummer", exact=True).fill("08-123 45 67")
    tab.get_by_role("button", name="Skicka SMS").click()
    audit.check(tab, "sandsida-fel")
    tab.get_by_label("Mobilnummer", exact=True).fill("070-123 45 67")
    tab.get_by_role("button", name="Skicka SMS").click()
    tab.get_by_role("status").first.wait_for()
    audit.check(tab, "sandsida-skickat")
    tab.goto(server.url + "/personal/akut-sms/")
    audit.check(tab, "kampanjlista")
    tab.get_by_label("Datum").fill((date.today() + timedelta(days=2)).isoformat())
    tab.get_by_label("Klockslag").fill("10:30")
    tab.get_by_label("Mottagare").fill("Eva Ek, 070-111 22 33, ja\nOlle Ö, 070-111 22 34")
    tab.get_by_role("button", name="Förhandsgranska").click()
    audit.check(tab, "kampanjlista-forhandsgranskning")


def check_campaign_and_replies(audit: Audit, tab: Any, phone: Any, server: AsgiServer) -> None:
    """Kampanjsidan live och efter ett JA; patientens sida obesvarad, efter JA, stängd och okänd."""
    tab.goto(server.campaign_url())
    wait_for_state(tab, "live")
    audit.check(tab, "kampanj-live")
    phone.goto(server.reply_url("Lisa Larsson"))
    audit.check(phone, "patient-obesvarad")
    answer(phone, server, "Lisa Larsson", "JA, jag kan komma!")
    audit.check(phone, "patient-efter-ja")
    tab.wait_for_function("() => document.querySelector('[data-testid=ja]').textContent === '1'", timeout=2000)
    audit.check(tab, "kampanj-efter-ja")
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.get_by_role("button", name="Tiden är tillsatt").click()
    audit.check(tab, "kampanj-tillsatt")
    phone.goto(server.reply_url("Karl Karlsson"))
    audit.check(phone, "patient-tiden-tagen")
    phone.goto(server.url + "/s/okand-kod-1234567890")
    audit.check(phone, "patient-okand-kod")


def wrong_password(tab: Any, server: AsgiServer, username: str) -> None:
    """Ett inloggningsförsök med fel lösenord."""
    tab.goto(server.url + "/konto/logga-in/")
    tab.get_by_label("Användarnamn").fill(username)
    tab.get_by_label("Lösenord").fill("fel-lösenord")
    tab.get_by_role("button", name="Logga in").click()


def check_account_and_admin_pages(audit: Audit, tab: Any, server: AsgiServer, database: Path) -> None:
    """Utloggad: fel lösenord, spärrad inloggning, dataskyddssidan; sedan audit-sidan som administratör."""
    tab.get_by_role("button", name="Logga ut").click()
    wrong_password(tab, server, "bertil")
    audit.check(tab, "inloggning-fel")
    for _ in range(4):
        wrong_password(tab, server, "bertil")
    tab.get_by_role("heading", name="Inloggningen är tillfälligt spärrad").wait_for()
    audit.check(tab, "inloggning-sparrad")
    tab.goto(server.url + "/dataskydd/")
    audit.check(tab, "dataskydd")
    run_manage(server_env(database, server.url), "ensure_admin")
    log_in(tab, server.url, "admin", TEST_ENVIRONMENT["ADMIN_PASSWORD"])
    tab.goto(server.url + "/logg/")
    audit.check(tab, "audit-logg")


def test_pages_have_no_wcag_violations(
    asgi_server: AsgiServer, staff: Any, mobile: Any, tmp_path: Path  # noqa: F811
) -> None:
    """axe-core hittar inga WCAG 2.1 A/AA-brister på personalens eller patientens sidor."""
    assert AXE_SCRIPT.exists(), "axe-core saknas: kör `npm ci` (make test gör det)"
    errors = [collect_console_errors(staff), collect_console_errors(mobile)]
    audit = Audit()
    check_staff_pages(audit, staff, asgi_server)
    check_campaign_and_replies(audit, staff, mobile, asgi_server)
    check_account_and_admin_pages(audit, staff, asgi_server, tmp_path / "live.sqlite3")
    assert audit.violations == {}, "WCAG-brister enligt axe-core:\n" + describe(audit.violations)
    # Spärrsidan svarar 429 och den okända koden 404, vilket webbläsaren noterar i konsolen; inga andra fel.
    status = "Failed to load resource: the server responded with a status of {}"
    assert errors == [[status.format("429 (Unknown Status)")], [status.format("404 (Not Found)")]]
