"""Webbläsartest av "fyll tiden snabbare" (issue 14) hela vägen: personalen skapar en kampanj i
grupper i formuläret, SMS:en går via 46elks (låtsasleverantören) från ett riktigt django-q2-kluster,
grupp 2 går iväg efter en minut från minutschemat, ett JA pausar grupperna, "Bokad" tillsätter
kampanjen och en annan patients sida säger att tiden är tagen. Patientsidan visar svarstiden och
klinikens telefon. Skärmbilder och axe-core (WCAG 2.1 AA) på kampanjsidan och patientsidorna.

Daphne (HTTP och websockets) och `manage.py qcluster` körs som egna processer mot samma SQLite-fil
(och med .ci/run:s andra körning samma Redis), med 46elks pekat mot låtsasservern i testprocessen.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import collect_console_errors, log_in, screenshot
from tests.e2e.test_accessibility import AXE_SCRIPT, axe_violations, describe
from tests.e2e.test_campaign_live_browser import (
    BASE_DIR,
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    AsgiServer,
    run_manage,
    running_asgi_server,
    wait_for_state,
)
from tests.fakes.elks46_server import API_PASSWORD, API_USERNAME, FakeElks46

pytestmark = pytest.mark.browser

CLINIC_PHONE = "08-123 45 67"
# Sex patienter i prioritetsordning (namn, nummer som 46elks får det, raden som personalen klistrar in).
PATIENTS = [
    ("Eva Ek", "+46701234601", "Eva Ek, 070-123 46 01, ja"),
    ("Olof Berg", "+46701234602", "Olof Berg, 070-123 46 02, nej"),
    ("Maja Lind", "+46701234603", "Maja Lind, 070-123 46 03, ja"),
    ("Nils Holm", "+46701234604", "Nils Holm, 070-123 46 04, nej"),
    ("Stina Ås", "+46701234605", "Stina Ås, 070-123 46 05, ja"),
    ("Bo Dahl", "+46701234606", "Bo Dahl, 070-123 46 06, nej"),
]
NUMBERS = [number for _, number, _ in PATIENTS]
REPLY_CODE = re.compile(r"/s/([A-Za-z0-9]{17})")

# Minutschemats nästa körning sätts till kampanjens nästa grupp (innan klustret startar): då tar
# klustrets schemaläggare (var 30:e sekund) gruppen vid sin första runda efter att den blivit
# aktuell, inte upp till en minut senare (schemats egen fas), och testet väntar en gång ~65 s.
ALIGN_SCHEDULE = """
from django_q.models import Schedule
from campaigns.apps import REQUEUE_SCHEDULE_NAME
from campaigns.models import Campaign
campaign = Campaign.objects.get(pk={campaign_id})
assert campaign.waves_sent == 1 and campaign.next_wave_at is not None
assert Schedule.objects.filter(name=REQUEUE_SCHEDULE_NAME).update(next_run=campaign.next_wave_at) == 1
"""


class Findings:
    """axe-core:s brister per granskad sida; varje granskad sida sparas också som skärmbild."""

    def __init__(self) -> None:
        """Inga brister ännu."""
        self.violations: dict[str, list[dict[str, Any]]] = {}

    def check(self, tab: Any, name: str) -> None:
        """Skärmbild och WCAG 2.1 A/AA-granskning av fliken som den ser ut nu."""
        tab.wait_for_load_state()
        screenshot(tab, f"fyll-snabbare-{name}")
        found = axe_violations(tab)
        if found:
            self.violations[name] = found


@contextlib.contextmanager
def elks46_provider() -> Iterator[FakeElks46]:
    """Låtsas-46elks på 127.0.0.1 så länge blocket körs."""
    provider = FakeElks46().start()
    try:
        yield provider
    finally:
        provider.stop()


def provider_env(provider: FakeElks46) -> dict[str, str]:
    """Serverprocessernas miljö för 46elks mot låtsasservern, klinikens telefon och ingen tyst tid
    (testet ska kunna köras dygnet runt; tyst tid provas i tests/campaigns)."""
    return {
        "SMS_PROVIDERS": "elks46",
        "ELKS46_BASE_URL": provider.base_url,
        "ELKS46_API_USERNAME": API_USERNAME,
        "ELKS46_API_PASSWORD": API_PASSWORD,
        "SMS_WEBHOOK_TOKEN": "pQ7vK2mXr9LwT4bYc8NfH3sJd6GzA1eU5iO0kRqWtVy",  # slumpad, bara för detta test
        "CLINIC_PHONE": CLINIC_PHONE,
        "CAMPAIGN_QUIET_HOURS": "",
    }


@contextlib.contextmanager
def running_qcluster(env: dict[str, str], folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`manage.py qcluster` (arbetare och minutschemat) i en egen processgrupp, med serverns miljö."""
    with (folder / "qcluster.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        # SIGTERM: klustret stänger sina arbetsprocesser; det som är kvar dödas med gruppen.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def sent_sms(provider: FakeElks46) -> list[dict[str, str]]:
    """SMS:en som låtsas-46elks tog emot till testets sex patienter, i ankomstordning."""
    forms = [request.form_fields() for request in list(provider.requests) if request.path == "/a1/sms"]
    return [form for form in forms if form.get("to") in NUMBERS]


def recipients_by_wave(provider: FakeElks46) -> list[list[str]]:
    """Numren som fått SMS, två och två i ankomstordning (inom en grupp skickar arbetarna samtidigt)."""
    numbers = [sms["to"] for sms in sent_sms(provider)]
    return [sorted(numbers[start : start + 2]) for start in range(0, len(numbers), 2)]


def wait_until(condition: Callable[[], bool], timeout: float, message: str) -> None:
    """Väntar tills villkoret är sant (annars testfel med meddelandet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(message)


def reply_codes(provider: FakeElks46) -> dict[str, str]:
    """Svarskoden per nummer, ur länken i det SMS som patienten fick."""
    codes = {}
    for sms in sent_sms(provider):
        match = REPLY_CODE.search(sms["message"])
        assert match is not None, "SMS:et saknar svarslänk"
        codes[sms["to"]] = match.group(1)
    return codes


def create_campaign_in_waves(tab: Any, server: AsgiServer, findings: Findings) -> None:
    """Personalen fyller i formuläret: sex patienter, "Skicka i grupper" om 2, 1 minut, paus vid JA."""
    tab.goto(server.url + "/personal/akut-sms/")
    tab.get_by_label("Rubrik (valfri)").fill("Sal 2")
    tab.get_by_label("Datum").fill((date.today() + timedelta(days=2)).isoformat())
    tab.get_by_label("Klockslag").fill("10:30")
    tab.get_by_label("Mottagare", exact=True).fill("\n".join(line for _, _, line in PATIENTS))
    tab.get_by_role("radio", name="Skicka i grupper").check()
    tab.get_by_label("Antal per grupp").fill("2")
    tab.get_by_label("Minuter mellan grupper").fill("1")
    assert tab.get_by_label("Pausa när någon svarat JA").is_checked()
    tab.get_by_role("button", name="Förhandsgranska").click()
    tab.get_by_test_id("forhandsgranskning").wait_for()
    assert tab.get_by_test_id("forhandsgranskning-sandning").inner_text() == (
        "Sändning i 3 grupper om högst 2, med 1 minut mellan grupperna; pausar när någon svarat JA "
        "tills samtalet är noterat. Första gruppen skickas direkt."
    )
    assert "kl 08:30" in tab.get_by_test_id("forhandsgranskning-svarstid").inner_text()
    findings.check(tab, "forhandsgranskning")
    tab.get_by_role("button", name="Skicka till 6 mottagare").click()
    tab.wait_for_url("**/personal/akut-sms/*/")


def wave_items(tab: Any) -> list[str]:
    """Raderna i kampanjsidans lista över skickade grupper."""
    return [text.strip() for text in tab.get_by_test_id("skickade-grupper").locator("li").all_inner_texts()]


def wait_for_text(tab: Any, test_id: str, text: str, timeout: float = 5000) -> None:
    """Väntar tills elementet med `data-testid` har exakt texten (live, utan omladdning)."""
    tab.wait_for_function(
        "([id, text]) => { const el = document.querySelector(`[data-testid=${id}]`);"
        " return el !== null && el.textContent.trim() === text; }",
        arg=[test_id, text],
        timeout=timeout,
    )


def phone_tab(browser: Any) -> Any:
    """En patients egen telefon: egen kontext, telefonstor pekskärm; CSP förbigången bara för axe-core."""
    context = browser.new_context(
        locale="sv-SE", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, bypass_csp=True
    )
    return context.new_page()


def check_patient_footer(tab: Any) -> None:
    """Patientsidan visar svarstiden (på frågan) och klinikens telefon."""
    assert tab.get_by_test_id("vid-fragor").inner_text() == f"Vid frågor: {CLINIC_PHONE}"
    assert tab.get_by_test_id("vid-fragor").get_by_role("link").get_attribute("href") == "tel:081234567"


def test_waves_pause_on_yes_and_booking_fills_the_slot(tmp_path: Path, browser: Any) -> None:
    """Sex patienter i grupper om två, en minut emellan: 2 SMS, 2 till efter en minut, JA pausar,
    "Bokad" tillsätter, nästa patients sida säger att tiden är tagen; svarstid och klinikens telefon
    på patientsidan; inga WCAG-brister enligt axe-core."""
    assert AXE_SCRIPT.exists(), "axe-core saknas: kör `npm ci` (make test gör det)"
    findings = Findings()
    with elks46_provider() as provider, running_asgi_server(tmp_path, **provider_env(provider)) as server:
        staff_context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT, bypass_csp=True)
        phones: list[Any] = []
        try:
            staff = staff_context.new_page()
            errors = collect_console_errors(staff)
            log_in(staff, server.url, "anna", STAFF_PASSWORD)
            create_campaign_in_waves(staff, server, findings)
            created = time.monotonic()
            campaign_id = int(staff.url.rstrip("/").rsplit("/", 1)[1])
            wait_for_state(staff, "live")
            assert staff.get_by_role("heading", level=1).inner_text().startswith("Sal 2: Ledig tid")
            waves_heading = staff.get_by_role("heading", name="Sändning i grupper").inner_text()
            assert waves_heading == "Sändning i grupper om 2, 1 minut mellan grupperna, paus vid JA"
            run_manage(server.env, "shell", "-c", ALIGN_SCHEDULE.format(campaign_id=campaign_id))

            with running_qcluster(server.env, tmp_path):
                # Grupp 1: de två första i listan, direkt.
                wait_until(lambda: len(sent_sms(provider)) >= 2, 45, "första gruppen nådde inte 46elks")
                assert recipients_by_wave(provider) == [NUMBERS[:2]]
                wait_for_text(staff, "skickade", "2/6")
                assert len(wave_items(staff)) == 1 and wave_items(staff)[0].endswith("2 mottagare")
                assert staff.get_by_test_id("vantar-pa-grupp").inner_text() == "4"
                assert staff.get_by_test_id("nasta-grupp").inner_text().startswith("kl ")
                findings.check(staff, "kampanj-ny")

                # Grupp 2: från minutschemat, tidigast en minut efter skapandet, live på sidan.
                wait_until(lambda: len(sent_sms(provider)) >= 4, 100, "andra gruppen kom inte efter en minut")
                second_wave_after = time.monotonic() - created
                assert second_wave_after >= 59, f"grupp 2 efter {second_wave_after:.0f} s"
                assert recipients_by_wave(provider) == [NUMBERS[:2], NUMBERS[2:4]]
                wait_for_text(staff, "skickade", "4/6")
                assert len(wave_items(staff)) == 2 and wave_items(staff)[1].endswith("2 mottagare")
                codes = reply_codes(provider)

                # Eva (grupp 1) svarar JA på sin telefon: svarstiden och klinikens telefon står på sidan.
                eva = phone_tab(browser)
                phones.append(eva)
                eva_errors = collect_console_errors(eva)
                eva.goto(f"{server.url}/s/{codes[NUMBERS[0]]}")
                deadline = eva.get_by_test_id("svara-senast").inner_text()
                assert deadline.startswith("Svara senast ") and "kl 08:30" in deadline
                check_patient_footer(eva)
                findings.check(eva, "patient-fraga")
                eva.get_by_role("button", name="JA, jag kan komma!").click()
                eva.get_by_test_id("plats").wait_for()
                assert eva.get_by_test_id("plats").inner_text() == "Vi ringer dig inom kort för att bekräfta."
                check_patient_footer(eva)
                findings.check(eva, "patient-efter-ja")

                # Grupperna pausar medan JA:t väntar på att ringas.
                wait_for_text(staff, "ja", "1")
                wait_for_text(staff, "nasta-grupp", "pausad: väntar på att JA ringas")
                assert staff.get_by_test_id("vantar-pa-grupp").inner_text() == "2"
                assert "Ring först" in staff.locator("tr", has_text="Eva Ek").inner_text()
                findings.check(staff, "kampanj-pausad")

                # "Bokad" på Evas rad tillsätter kampanjen; inga fler grupper.
                staff.once("dialog", lambda dialog: dialog.accept())
                with staff.expect_navigation():
                    staff.locator("tr", has_text="Eva Ek").get_by_role("button", name="Bokad").click()
                wait_for_state(staff, "live")
                assert staff.get_by_test_id("kampanjstatus").inner_text() == "Tillsatt"
                assert staff.get_by_test_id("bokad").inner_text() == "Tiden gick till Eva Ek."
                wait_for_text(staff, "nasta-grupp", "inga fler grupper: kampanjen är stängd")
                findings.check(staff, "kampanj-tillsatt")

                # Maja (grupp 2) öppnar sin länk: tiden är tagen; klinikens telefon står kvar.
                maja = phone_tab(browser)
                phones.append(maja)
                maja_errors = collect_console_errors(maja)
                maja.goto(f"{server.url}/s/{codes[NUMBERS[2]]}")
                assert maja.get_by_role("heading", level=1).inner_text() == "Tiden är inte längre ledig"
                assert maja.get_by_test_id("utfall").inner_text() == (
                    "Tiden är tyvärr redan tillsatt. Din ordinarie tid kvarstår."
                )
                assert maja.get_by_role("button", name="JA, jag kan komma!").count() == 0
                check_patient_footer(maja)
                findings.check(maja, "patient-tiden-tagen")

            # Ingen tredje grupp: Stina och Bo fick aldrig något SMS.
            assert recipients_by_wave(provider) == [NUMBERS[:2], NUMBERS[2:4]]
            assert findings.violations == {}, "WCAG-brister enligt axe-core:\n" + describe(findings.violations)
            assert errors == [] and eva_errors == [] and maja_errors == []
            print(json.dumps({"grupp 2 efter (s)": round(second_wave_after, 1)}))
        finally:
            for tab in phones:
                tab.context.close()
            staff_context.close()
