"""Tillgänglighet med axe-core (WCAG 2.0/2.1 A och AA) på portalens sidor i riktig webbläsare.

axe-core kommer från npm (package-lock.json, `npm ci` i `make test`) och läggs in i sidan av
testet. Portalens strikta Content-Security-Policy tillåter inga inline-skript, så testets
webbläsarkontexter har `bypass_csp=True`: det gäller bara testwebbläsaren, aldrig portalen.
Personalens sidor körs i datorstorlek, patientens sidor i telefonstorlek.

Lägena framkallas på riktigt i live-servern: websocketen blockeras i webbläsaren (polling),
en annan anslutning håller SQLite-filens skrivlås (sidan om tekniskt fel, 503), patienten
laddar om tills gränsen per IP-adress nås (429) och kakorna rensas innan svaret (CSRF, 403).
Bara sändsidans utfall "osäkert" och den slutförbrukade kvoten läggs in direkt i audit-loggen,
som är det sidan läser (ingen leverantör i testmiljön kan svara tvetydigt).
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from replies.views import RATE
from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import collect_console_errors, log_in, screenshot
from tests.e2e.test_campaign_live_browser import (  # noqa: F401 – asgi_server är en fixtur
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    AsgiServer,
    answer,
    asgi_server,
    run_manage,
    wait_for_state,
)
from tests.testenv import TEST_ENVIRONMENT

pytestmark = pytest.mark.browser

AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
REPLY_LIMIT = int(RATE.split("/")[0])
BLOCKED_SOCKET = "**/ws/campaigns/**"

# Annas tidigare SMS-försök som sändningen skriver dem: så många skickade att kvoten tar slut
# med det sista, ett misslyckat (räknas inte) och sist ett osäkert (leverantören svarade inte).
SEND_OUTCOMES = """
from django.contrib.auth import get_user_model
from smsportal.ledger import begin_attempt, complete_attempt
from smsportal.models import AttemptStatus, Purpose
from smsportal.quota import quota_for
from templates_app.models import MessageTemplate
anna = get_user_model().objects.get(username="anna")
template = MessageTemplate.objects.get(title="Väntetider")
fields = {"category": template.category.name, "template_title": template.title, "edited": False}
def attempt(status, **outcome):
    complete_attempt(begin_attempt(purpose=Purpose.ONE_WAY, actor=anna, **fields), status, provider="locmem", **outcome)
for number in range(quota_for(anna).remaining - 1):
    attempt(AttemptStatus.SENT, segments=1, provider_message_id=f"locmem-kvot-{number}")
attempt(AttemptStatus.FAILED, reason="ogiltigt nummer")
attempt(AttemptStatus.UNCERTAIN, reason="tidsgräns")
assert quota_for(anna).exceeded
"""


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


def side_tab(tab: Any, url: str, *, socket_blocked: bool = False) -> Any:
    """En flik till i samma kontext (samma inloggning) på `url`; websocketen kan blockeras som i ett nät utan den."""
    side = tab.context.new_page()
    if socket_blocked:
        side.route_web_socket(BLOCKED_SOCKET, lambda ws: ws.close(code=1011, reason="blockerad i testet"))
    side.goto(url)
    return side


def submit_expecting(tab: Any, button: str, status: int, timeout: float = 10000) -> None:
    """Trycker på knappen och väntar på formulärets svar med given HTTP-status (och sidan det ger)."""

    def is_form_post(response: Any) -> bool:
        """Formulärets POST (sidbyte), inte sidans egna skriptanrop."""
        return response.request.method == "POST" and response.request.is_navigation_request()

    with tab.expect_response(is_form_post, timeout=timeout) as posted:
        tab.get_by_role("button", name=button).click()
    assert posted.value.status == status
    tab.wait_for_load_state()


@contextmanager
def database_locked(server: AsgiServer) -> Iterator[None]:
    """En annan anslutning håller live-serverns SQLite-skrivlås: skrivningar väntar ut sin tidsgräns och fallerar."""
    lock = sqlite3.connect(server.env["DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        yield
        lock.execute("ROLLBACK")
    finally:
        lock.close()


def check_staff_pages(audit: Audit, tab: Any, server: AsgiServer) -> None:
    """Inloggning, sändsidan (tom, fel, skickat, osäkert och kvoten slut) och kampanjlistan med förhandsgranskning."""
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
    run_manage(server.env, "shell", "-c", SEND_OUTCOMES)
    tab.reload()
    assert tab.get_by_test_id("kvot").inner_text().startswith("Kvar denna timme: 0 av")
    outcomes = tab.get_by_test_id("senaste").locator("tbody tr").all_inner_texts()
    assert "osäkert" in outcomes[0] and "misslyckat" in outcomes[1]
    assert tab.get_by_role("button", name="Skicka SMS").is_disabled()
    audit.check(tab, "sandsida-osakert-kvot-slut")
    tab.goto(server.url + "/personal/akut-sms/")
    audit.check(tab, "kampanjlista")
    tab.get_by_label("Datum").fill((date.today() + timedelta(days=2)).isoformat())
    tab.get_by_label("Klockslag").fill("10:30")
    tab.get_by_label("Mottagare").fill("Eva Ek, 070-111 22 33, ja\nOlle Ö, 070-111 22 34")
    tab.get_by_role("button", name="Förhandsgranska").click()
    audit.check(tab, "kampanjlista-forhandsgranskning")


def check_new_campaign_to_deleted(audit: Audit, tab: Any, server: AsgiServer) -> None:
    """Kampanjen från förhandsgranskningen: nyss skapad (SMS köade), avslutad och raderad medan sidan är öppen."""
    tab.get_by_role("button", name="Skicka till 2 mottagare").click()
    tab.wait_for_url("**/personal/akut-sms/*/")
    wait_for_state(tab, "live")
    audit.check(tab, "kampanj-ny")
    tab.once("dialog", lambda dialog: dialog.accept())
    with tab.expect_navigation():
        tab.get_by_role("button", name="Avsluta").click()
    wait_for_state(tab, "live")
    assert tab.get_by_test_id("kampanjstatus").inner_text() == "Avslutad"
    audit.check(tab, "kampanj-avslutad")
    campaign_id = int(tab.url.rstrip("/").rsplit("/", 1)[1])
    delete = f"from campaigns.models import Campaign; Campaign.objects.filter(pk={campaign_id}).delete()"
    run_manage(server.env, "shell", "-c", delete)
    wait_for_state(tab, "deleted")
    audit.check(tab, "kampanj-raderad")


def check_campaign_and_replies(audit: Audit, tab: Any, phone: Any, server: AsgiServer) -> None:
    """Kampanjsidan live, efter JA, med polling och tillsatt; patientens sidor i alla lägen utom spärren."""
    tab.goto(server.campaign_url())
    wait_for_state(tab, "live")
    audit.check(tab, "kampanj-live")
    phone.goto(server.reply_url("Lisa Larsson"))
    audit.check(phone, "patient-obesvarad")
    answer(phone, server, "Lisa Larsson", "JA, jag kan komma!")
    audit.check(phone, "patient-efter-ja")
    tab.wait_for_function("() => document.querySelector('[data-testid=ja]').textContent === '1'", timeout=2000)
    audit.check(tab, "kampanj-efter-ja")
    polling = side_tab(tab, server.campaign_url(), socket_blocked=True)
    wait_for_state(polling, "polling")
    audit.check(polling, "kampanj-polling")
    polling.close()
    answer(phone, server, "Karl Karlsson", "NEJ, jag kan inte")
    audit.check(phone, "patient-efter-nej")
    submit_expecting(phone, "Ändra mitt svar till JA", 302)
    assert "reserv nr 1" in phone.get_by_test_id("plats").inner_text()
    audit.check(phone, "patient-andrat-till-ja-reserv")
    check_expired_form_and_outage(audit, phone, server)
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.get_by_role("button", name="Tiden är tillsatt").click()
    audit.check(tab, "kampanj-tillsatt")
    phone.goto(server.reply_url("Karl Karlsson"))
    audit.check(phone, "patient-tiden-tagen")
    phone.goto(server.url + "/s/okand-kod-1234567890")
    audit.check(phone, "patient-okand-kod")
    phone.goto(server.reply_url("Anna Andersson") + "/inga-fler")
    audit.check(phone, "patient-inga-fler-fraga")
    phone.get_by_role("button", name="Jag vill inte få fler sådana SMS").click()
    phone.wait_for_load_state()
    audit.check(phone, "patient-inga-fler-bekraftelse")


def check_expired_form_and_outage(audit: Audit, phone: Any, server: AsgiServer) -> None:
    """Anna svarar med ett formulär vars CSRF-kaka är borta (403) och medan databasen är låst (503)."""
    phone.goto(server.reply_url("Anna Andersson"))
    phone.wait_for_load_state("networkidle")
    phone.context.clear_cookies()  # CSRF-kakan är borta (rensad, eller sidan öppnad i en annan webbläsare)
    submit_expecting(phone, "JA, jag kan komma!", 403)
    phone.get_by_role("heading", name="Formuläret har gått ut").wait_for()
    audit.check(phone, "patient-formular-utgatt")
    phone.goto(server.reply_url("Anna Andersson"))
    phone.wait_for_load_state("networkidle")  # sidans "öppnad"-anrop är klart innan låset tas
    with database_locked(server):
        # Serverns SQLite-anslutning väntar 20 s på låset (settings: timeout) innan den ger upp.
        submit_expecting(phone, "JA, jag kan komma!", 503, timeout=40000)
    phone.get_by_role("heading", name="Tekniskt fel – försök igen om en stund").wait_for()
    audit.check(phone, "patient-tekniskt-fel")


def check_too_many_attempts(audit: Audit, phone: Any, server: AsgiServer) -> None:
    """Patienten laddar om sin sida tills gränsen per IP-adress nås: sidan "För många försök" (429).

    Telefonen har här en egen påhittad adress (X-Forwarded-For, servern litar på en proxy):
    spärren får inte drabba senare tester från 127.0.0.1, som med Redis delar räknarna.
    Fönstret är fast, inte rullande, så omladdningen görs om ifall ett nytt fönster hann börja.
    """
    url = server.reply_url("Karl Karlsson")
    phone.context.set_extra_http_headers({"X-Forwarded-For": f"198.51.100.{secrets.randbelow(250) + 1}"})
    try:
        for _ in range(3 * REPLY_LIMIT):
            if phone.request.get(url).status == 429 and phone.goto(url).status == 429:
                break
        else:
            raise AssertionError(f"gränsen {RATE} nåddes aldrig")
        audit.check(phone, "patient-for-manga-forsok")
    finally:
        phone.context.set_extra_http_headers({})
    # Kontroll: från 127.0.0.1 är sidan fortfarande öppen.
    assert phone.request.get(url).status == 200


def wrong_password(tab: Any, server: AsgiServer, username: str) -> None:
    """Ett inloggningsförsök med fel lösenord."""
    tab.goto(server.url + "/konto/logga-in/")
    tab.get_by_label("Användarnamn").fill(username)
    tab.get_by_label("Lösenord").fill("fel-lösenord")
    tab.get_by_role("button", name="Logga in").click()


def check_account_and_admin_pages(audit: Audit, tab: Any, server: AsgiServer) -> None:
    """Utloggning sedd från en öppen kampanjsida, fel lösenord, spärr, dataskydd; audit-sidan som administratör."""
    campaign = side_tab(tab, server.campaign_url())
    wait_for_state(campaign, "live")
    tab.get_by_role("button", name="Logga ut").click()
    wait_for_state(campaign, "expired")
    audit.check(campaign, "kampanj-utloggad")
    campaign.close()
    wrong_password(tab, server, "bertil")
    audit.check(tab, "inloggning-fel")
    for _ in range(4):
        wrong_password(tab, server, "bertil")
    tab.get_by_role("heading", name="Inloggningen är tillfälligt spärrad").wait_for()
    audit.check(tab, "inloggning-sparrad")
    tab.goto(server.url + "/dataskydd/")
    audit.check(tab, "dataskydd")
    run_manage(server.env, "ensure_admin")
    log_in(tab, server.url, "admin", TEST_ENVIRONMENT["ADMIN_PASSWORD"])
    tab.goto(server.url + "/logg/")
    audit.check(tab, "audit-logg")
    tab.goto(server.url + "/logg/atkomst/?campaign=abc")  # åtkomstloggen, med ett fel vid fältet
    audit.check(tab, "atkomstlogg")


def test_pages_have_no_wcag_violations(asgi_server: AsgiServer, staff: Any, mobile: Any) -> None:  # noqa: F811
    """axe-core hittar inga WCAG 2.1 A/AA-brister på personalens eller patientens sidor, i något av deras lägen."""
    assert AXE_SCRIPT.exists(), "axe-core saknas: kör `npm ci` (make test gör det)"
    errors = [collect_console_errors(staff), collect_console_errors(mobile)]
    audit = Audit()
    check_staff_pages(audit, staff, asgi_server)
    check_new_campaign_to_deleted(audit, staff, asgi_server)
    check_campaign_and_replies(audit, staff, mobile, asgi_server)
    check_too_many_attempts(audit, mobile, asgi_server)
    check_account_and_admin_pages(audit, staff, asgi_server)
    assert audit.violations == {}, "WCAG-brister enligt axe-core:\n" + describe(audit.violations)
    # Felsidornas statuskoder noterar webbläsaren i konsolen (personalens spärrsida 429; patientens
    # utgångna formulär 403, tekniska fel 503, okända kod 404 och spärr 429); inga andra fel.
    status = "Failed to load resource: the server responded with a status of {}"
    patient_codes = ("403 (Forbidden)", "503 (Service Unavailable)", "404 (Not Found)", "429 (Unknown Status)")
    assert errors == [[status.format("429 (Unknown Status)")], [status.format(code) for code in patient_codes]]
