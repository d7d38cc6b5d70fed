"""Webbläsartest av den levande kampanjsidan: websocket, ljud, titel och polling när socketen är nere.

pytest-djangos live_server är en WSGI-server utan websockets. Här körs i stället hela
ASGI-appen i daphne som en egen process mot en egen SQLite-fil, med samma testmiljö som
resten av sviten. Testdata skapas i en separat `manage.py shell`-körning mot samma fil.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import STAFF_PASSWORD
from tests.e2e.conftest import collect_console_errors, log_in, screenshot
from tests.testenv import TEST_ENVIRONMENT

pytestmark = pytest.mark.browser

PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 860}
BASE_DIR = Path(settings.BASE_DIR)

# Startar daphne med samma statiska filer som testerna (direkt ur static/, utan collectstatic).
DAPHNE_LAUNCHER = """
import sys
import django
django.setup()
from django.conf import settings
settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
settings.WHITENOISE_USE_FINDERS = True
settings.WHITENOISE_AUTOREFRESH = True
from daphne.cli import CommandLineInterface
CommandLineInterface().run(["-b", "127.0.0.1", "-p", sys.argv[1], "-v", "0", "config.asgi:application"])
"""

# Två personalkonton och en skickad kampanj till tre patienter; skriver ut svarskoderna som JSON.
SEED = """
import json
from django.contrib.auth import get_user_model
from tests.campaigns.factories import make_campaign, send_all
User = get_user_model()
anna = User.objects.create_user(username="anna", password=PASSWORD, first_name="Anna")
User.objects.create_user(username="bertil", password=PASSWORD, first_name="Bertil")
campaign = make_campaign(anna)
send_all(campaign)
codes = {r.name: r.code for r in campaign.recipients.all()}
print("SEED=" + json.dumps({"campaign": campaign.pk, "codes": codes}))
"""


@dataclass
class AsgiServer:
    """En körande daphne-server med sin kampanj."""

    url: str
    campaign_id: int
    codes: dict[str, str]
    env: dict[str, str]

    def reply_url(self, name: str) -> str:
        """Patientens svarslänk (samma som i SMS:et)."""
        return f"{self.url}/s/{self.codes[name]}"

    def campaign_url(self) -> str:
        """Personalens kampanjsida."""
        return f"{self.url}/personal/akut-sms/{self.campaign_id}/"


def free_port() -> int:
    """En ledig TCP-port på 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database: Path, url: str) -> dict[str, str]:
    """Miljön för serverprocesserna: testmiljön, egen SQLite-fil, locmem-SMS och testernas
    serverinställningar (tests/e2e/server_settings.py: sessionen kontrolleras varje sekund)."""
    env = {**os.environ, **TEST_ENVIRONMENT}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        PUBLIC_BASE_URL=url,
        DJANGO_SETTINGS_MODULE="tests.e2e.server_settings",
        PYTHONPATH=str(BASE_DIR),
        # En betrodd proxy: ett test kan ge en flik en egen klientadress (X-Forwarded-For);
        # utan rubriken gäller 127.0.0.1 som förut.
        TRUSTED_PROXY_COUNT="1",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def run_manage(env: dict[str, str], *args: str) -> str:
    """Kör manage.py med serverns miljö; returnerar stdout (fel ger ett tydligt testfel)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Väntar tills servern svarar på inloggningssidan."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "daphne avslutades direkt"
        try:
            with urllib.request.urlopen(url + "/konto/logga-in/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise AssertionError("daphne startade inte i tid")


@contextlib.contextmanager
def running_asgi_server(folder: Path, **extra_env: str) -> Iterator[AsgiServer]:
    """Daphne med hela ASGI-appen (HTTP och websockets) mot en egen, nymigrerad SQLite-fil i `folder`.

    `extra_env` ändrar serverns miljö (t.ex. ett REDIS_URL där ingen Redis svarar).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**server_env(folder / "live.sqlite3", url), **extra_env}
    run_manage(env, "migrate", "--noinput", "-v", "0")
    output = run_manage(env, "shell", "-c", f"PASSWORD = {STAFF_PASSWORD!r}\n" + SEED)
    seed = json.loads(output.split("SEED=", 1)[1].strip())
    log = (folder / "daphne.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", DAPHNE_LAUNCHER, str(port)], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(url, process)
        yield AsgiServer(url=url, campaign_id=seed["campaign"], codes=seed["codes"], env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def asgi_server(tmp_path: Path) -> Iterator[AsgiServer]:
    """Daphne med testmiljöns inställningar (andra körningen i .ci/run: med Redis)."""
    with running_asgi_server(tmp_path) as server:
        yield server


@pytest.fixture
def staff_tabs(browser: Any) -> Iterator[list[Any]]:
    """Två personalflikar i egna kontexter (egna kakor): anna och bertil."""
    contexts = [browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT) for _ in range(2)]
    yield [context.new_page() for context in contexts]
    for context in contexts:
        context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """En patients mobil: egen kontext, telefonstor skärm, pekskärm."""
    context = browser.new_context(locale="sv-SE", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    tab = context.new_page()
    yield tab
    context.close()


def live_state(tab: Any) -> str:
    """Sidans läge för liveuppdateringen (data-live-state)."""
    return tab.locator("#kampanjsida").get_attribute("data-live-state")


def wait_for_state(tab: Any, state: str, timeout: float = 5000) -> None:
    """Väntar tills sidan är i givet läge."""
    tab.wait_for_function(
        "state => document.getElementById('kampanjsida').dataset.liveState === state", arg=state, timeout=timeout
    )


def answer(phone: Any, server: AsgiServer, name: str, button: str) -> None:
    """Patienten öppnar sin länk och trycker på knappen; väntar tills svarssidan laddats."""
    phone.goto(server.reply_url(name))
    phone.get_by_role("button", name=button).click()
    phone.wait_for_load_state()


# Allt som ett nytt JA ska ge på personalens sida, i en kontroll i sidan (samma ögonblick).
SHOWS_FIRST_YES = """() => {
  const row = document.querySelector('[data-testid=mottagare] tbody tr');
  return document.querySelector('[data-testid=ja]').textContent === '1'
    && row !== null && row.textContent.includes('Lisa Larsson') && row.textContent.includes('Ring först')
    && row.textContent.includes('JA') && row.classList.contains('ja-ny')
    && document.title.startsWith('(1) JA – Akut-SMS ');
}"""
SOUND_PLAYED = "n => Number(document.getElementById('ja-ljud').dataset.played || '0') >= n"
FIRST_YES_WITH_SOUND = f"() => ({SHOWS_FIRST_YES})() && ({SOUND_PLAYED})(1)"


def watch_for(tab: Any, condition: str) -> None:
    """Sidan själv noterar klockslaget (Date.now) då villkoret först blir sant, vid varje DOM-ändring.

    Då mäts tiden i sidan och inte Playwrights turer fram och tillbaka.
    """
    tab.evaluate(
        f"""() => {{
          const test = {condition};
          window.seenAt = null;
          const observer = new MutationObserver(() => {{
            if (window.seenAt === null && test()) {{
              window.seenAt = Date.now();
              observer.disconnect();
            }}
          }});
          observer.observe(document, {{subtree: true, childList: true, characterData: true, attributes: true}});
        }}"""
    )


def seen_within(tab: Any, started_ms: float, condition: str, limit_ms: float) -> float:
    """Väntar på villkoret och returnerar hur många ms efter `started_ms` sidan såg det."""
    tab.wait_for_function(condition, timeout=5000)
    tab.wait_for_function("() => window.seenAt !== null", timeout=1000)
    elapsed = tab.evaluate("() => window.seenAt") - started_ms
    assert elapsed < limit_ms, f"{elapsed:.0f} ms"
    return elapsed


NO_RELOAD_MARK = "() => { window.ingenOmladdning = true; }"
NOT_RELOADED = "() => window.ingenOmladdning === true"


def log_in_without_gesture(context: Any, base_url: str, username: str, password: str) -> None:
    """Loggar in kontexten med ett vanligt formulär-POST utanför sidan (inget klick i någon flik)."""
    login_url = base_url + "/konto/logga-in/"
    context.request.get(login_url)
    token = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == settings.CSRF_COOKIE_NAME)
    response = context.request.post(
        login_url,
        form={"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/"},
        headers={"Referer": login_url},
    )
    assert response.ok and response.url == base_url + "/"


def row_texts(tab: Any) -> list[str]:
    """Mottagartabellens rader som text, uppifrån."""
    return tab.get_by_test_id("mottagare").locator("tbody tr").all_inner_texts()


def test_live_dashboard_shows_yes_within_a_second(asgi_server: AsgiServer, staff_tabs: list[Any], phone: Any) -> None:
    """JA syns inom en sekund utan omladdning, med ljud, markering och titel; sedan NEJ, en reserv och tillsatt.

    Två personalkontexter ser samma sak; patientens redan öppna sida får "tiden är inte längre
    ledig" när den svarar efter att tiden tillsatts.
    """
    staff, other = staff_tabs
    staff_errors = collect_console_errors(staff)
    other_errors = collect_console_errors(other)
    phone_errors = collect_console_errors(phone)
    log_in(staff, asgi_server.url, "anna", STAFF_PASSWORD)
    log_in(other, asgi_server.url, "bertil", STAFF_PASSWORD)
    for tab in staff_tabs:
        tab.goto(asgi_server.campaign_url())
        wait_for_state(tab, "live")
        assert tab.get_by_test_id("live").is_visible()
        tab.evaluate(NO_RELOAD_MARK)
    plain_title = staff.title()  # "Akut-SMS 5/12 kl 08:00 – …": tiden skiljer två kampanjers flikar åt
    assert plain_title.startswith("Akut-SMS ") and " kl " in plain_title
    staff.get_by_role("button", name="Slå på ljud").click()
    assert staff.get_by_role("button", name="Ljud på").get_attribute("aria-pressed") == "true"
    assert staff.evaluate("() => document.getElementById('ja-ljud').dataset.played || '0'") == "0"
    assert staff.get_by_test_id("ja").inner_text() == "0"
    screenshot(staff, "akut-sms-live-start")

    # Klockan startar när patienten trycker (före POST:en), inte när tacksidan laddats; varje
    # personalsida noterar själv när allt syns (ljudet spelat där det är påslaget).
    watch_for(staff, FIRST_YES_WITH_SOUND)
    watch_for(other, SHOWS_FIRST_YES)
    phone.goto(asgi_server.reply_url("Lisa Larsson"))
    started_ms = time.time() * 1000
    phone.get_by_role("button", name="JA, jag kan komma!").click()
    seen_within(staff, started_ms, FIRST_YES_WITH_SOUND, 1000)
    seen_within(other, started_ms, SHOWS_FIRST_YES, 1000)
    for tab in staff_tabs:
        assert tab.evaluate(NOT_RELOADED)
        assert tab.title() == "(1) JA – " + plain_title
    # Skärmläsare får beskedet i en statusregion, utan patientens namn.
    assert staff.get_by_test_id("uppläsning").text_content() == "Nytt JA från en patient. Totalt 1 JA."
    assert other.evaluate("() => document.getElementById('ja-ljud').dataset.played || '0'") == "0"  # ljudet är av där
    screenshot(staff, "akut-sms-live-ja")
    screenshot(other, "akut-sms-live-ja-andra-personal")

    answer(phone, asgi_server, "Karl Karlsson", "NEJ, jag kan inte")
    for tab in staff_tabs:
        tab.wait_for_function("() => document.querySelector('[data-testid=nej]').textContent === '1'", timeout=1000)
        rows = row_texts(tab)
        assert "Lisa Larsson" in rows[0] and "Karl Karlsson" in rows[1] and "NEJ" in rows[1]
        assert "Anna Andersson" in rows[2] and "ej svarat" in rows[2]
        assert tab.title().startswith("(1) JA – Akut-SMS ")
    assert staff.evaluate("() => document.getElementById('ja-ljud').dataset.played") == "1"  # NEJ låter inte
    screenshot(staff, "akut-sms-live-nej")
    # Karls tacksida står kvar öppen i telefonen (han kan ändra sig så länge tiden är ledig).

    other_phone = phone.context.new_page()
    answer(other_phone, asgi_server, "Anna Andersson", "JA, jag kan komma!")
    for tab in staff_tabs:
        tab.wait_for_function("() => document.title.startsWith('(2) JA – Akut-SMS ')", timeout=1000)
        rows = row_texts(tab)
        assert "Lisa Larsson" in rows[0] and "Ring först" in rows[0]
        assert "Anna Andersson" in rows[1] and "Reserv 1" in rows[1]
        assert "Karl Karlsson" in rows[2] and "NEJ" in rows[2]
        assert tab.get_by_test_id("ja").inner_text() == "2"
        assert tab.evaluate(NOT_RELOADED)
    staff.wait_for_function(SOUND_PLAYED, arg=2, timeout=1000)
    screenshot(staff, "akut-sms-live-reserv")

    # Samtalen: Lisa nås inte (Ring först flyttas till Anna på båda sidorna), Anna får tiden ("Bokad").
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.locator("tr", has_text="Lisa Larsson").get_by_role("button", name="Nådde inte").click()
    staff.wait_for_load_state()
    other.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ring-forst]').length === 1 && "
        "document.querySelector('[data-testid=ring-forst]').closest('tr').textContent.includes('Anna Andersson')",
        timeout=1000,
    )
    assert "Nådde inte" in row_texts(other)[0] and "Nådde inte" in row_texts(staff)[0]
    assert other.evaluate(NOT_RELOADED)
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.locator("tr", has_text="Anna Andersson").get_by_role("button", name="Bokad").click()
    staff.wait_for_load_state()
    assert staff.get_by_test_id("kampanjstatus").inner_text() == "Tillsatt"
    assert staff.get_by_test_id("bokad").inner_text() == "Tiden gick till Anna Andersson."
    other.wait_for_function(
        "() => document.querySelector('[data-testid=kampanjstatus]').textContent === 'Tillsatt'", timeout=1000
    )
    assert other.get_by_test_id("bokad").inner_text() == "Tiden gick till Anna Andersson."
    assert other.get_by_test_id("ring-forst").count() == 0 and other.get_by_test_id("samtalsknappar").count() == 0
    assert other.get_by_role("button", name="Öppna igen").is_visible()
    assert not other.get_by_role("button", name="Tiden är tillsatt").is_visible()
    assert other.evaluate(NOT_RELOADED)
    assert not other.get_by_test_id("ljud").is_visible() and not staff.get_by_test_id("ljud").is_visible()
    screenshot(other, "akut-sms-live-tillsatt-andra-personal")

    # Karls sida var öppen när tiden tillsattes: hans ändring till JA ger beskedet och ändrar inget.
    phone.get_by_role("button", name="Ändra mitt svar till JA").click()
    phone.wait_for_load_state()
    assert phone.get_by_role("heading", name="Tiden är inte längre ledig").is_visible()
    screenshot(phone, "akut-sms-live-patient-tagen")
    assert "NEJ" in row_texts(other)[2] and other.get_by_test_id("ja").inner_text() == "2"
    other_phone.goto(asgi_server.reply_url("Lisa Larsson"))
    assert other_phone.get_by_role("heading", name="Tiden är inte längre ledig").is_visible()
    assert staff_errors == [] and other_errors == [] and phone_errors == []


def wait_for_yes_count(tab: Any, frames: list[str], yes: int, timeout: float = 5.0) -> None:
    """Väntar tills websocketen fått en ögonblicksbild med `yes` JA, utan att köra något i sidan.

    Playwrights anrop i sidan (evaluate, locatorer) räknas av chromium som användarens klick
    och skulle låsa upp ljudet; här väntar testet bara på trafiken.
    """
    deadline = time.monotonic() + timeout
    while not any(snapshot_yes(frame) == yes for frame in frames):
        assert time.monotonic() < deadline, f"ingen ögonblicksbild med {yes} JA bland {len(frames)} meddelanden"
        tab.wait_for_timeout(50)


def snapshot_yes(frame: str) -> int | None:
    """Antal JA i ett websocketmeddelande, eller None om det inte är en ögonblicksbild."""
    message = json.loads(frame)
    return message["data"]["counts"]["yes"] if message.get("type") == "snapshot" else None


def test_remembered_sound_waits_for_a_click(asgi_server: AsgiServer, browser: Any, phone: Any) -> None:
    """Ljudet var påslaget sedan förut: webbläsaren spärrar det tills personalen klickat, och sidan ber om klicket."""
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
    try:
        # Inloggning utan klick i sidan (ett klick på samma webbplats skulle låsa upp ljudet),
        # och valet "ljud på" sparat sedan en tidigare dag.
        log_in_without_gesture(context, asgi_server.url, "anna", STAFF_PASSWORD)
        context.add_init_script("window.localStorage.setItem('akutsms.ljud', 'på')")
        staff = context.new_page()
        errors = collect_console_errors(staff)
        frames: list[str] = []
        staff.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
        staff.goto(asgi_server.campaign_url())
        wait_for_yes_count(staff, frames, 0)  # första läget

        answer(phone, asgi_server, "Lisa Larsson", "JA, jag kan komma!")
        wait_for_yes_count(staff, frames, 1)  # JA:t har nått sidan
        staff.wait_for_timeout(300)  # sidan ritar och webbläsaren vägrar uppspelningen (ett löfte)
        assert staff.get_by_test_id("ljud").inner_text() == "Klicka för att tillåta ljud"
        assert staff.evaluate("() => document.getElementById('ja-ljud').dataset.played || '0'") == "0"
        assert staff.title().startswith("(1) JA – Akut-SMS ")
        screenshot(staff, "akut-sms-live-klicka-for-ljud")

        staff.get_by_test_id("mottagare").click()  # ett klick någonstans på sidan låser upp ljudet
        staff.get_by_role("button", name="Ljud på").wait_for(timeout=2000)
        answer(phone, asgi_server, "Anna Andersson", "JA, jag kan komma!")
        staff.wait_for_function(SOUND_PLAYED, arg=1, timeout=2000)
        assert staff.title().startswith("(2) JA – Akut-SMS ")
        assert errors == []
    finally:
        context.close()


def test_polling_when_the_socket_is_down_then_live_again_then_logged_out(
    asgi_server: AsgiServer, browser: Any, phone: Any
) -> None:
    """Socketen blockeras: sidan säger det och pollar; JA syns ändå; socketen tillbaka: Live; utloggning syns."""
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
    try:
        staff = context.new_page()
        errors = collect_console_errors(staff)
        blocked = {"on": True}

        def route(ws: Any) -> None:
            """Stänger socketen direkt medan den är blockerad, annars vidare till servern."""
            if blocked["on"]:
                ws.close(code=1011, reason="blockerad i testet")
            else:
                ws.connect_to_server()

        staff.route_web_socket("**/ws/campaigns/**", route)
        log_in(staff, asgi_server.url, "anna", STAFF_PASSWORD)
        staff.goto(asgi_server.campaign_url())
        wait_for_state(staff, "polling")
        message = staff.get_by_test_id("livestatus")
        assert message.inner_text().strip() == "Liveuppdateringen är nere – hämtar läget var 5:e sekund"
        assert not staff.get_by_test_id("live").is_visible()
        screenshot(staff, "akut-sms-live-polling")

        answer(phone, asgi_server, "Anna Andersson", "JA, jag kan komma!")
        staff.wait_for_function("() => document.querySelector('[data-testid=ja]').textContent === '1'", timeout=6500)
        assert "Ring först" in staff.get_by_test_id("mottagare").locator("tbody tr").first.inner_text()
        assert staff.title().startswith("(1) JA – Akut-SMS ") and live_state(staff) == "polling"

        blocked["on"] = False
        wait_for_state(staff, "live", timeout=35000)  # nästa försök: högst 30 s bort
        assert staff.get_by_test_id("live").is_visible() and not message.is_visible()
        screenshot(staff, "akut-sms-live-igen")

        # Utloggning i en annan flik (samma kakor): servern skickar session_expired och stänger.
        other = context.new_page()
        other.goto(asgi_server.url + "/")
        other.get_by_role("button", name="Logga ut").click()
        other.wait_for_load_state()
        wait_for_state(staff, "expired", timeout=5000)
        assert message.inner_text().strip().startswith("Du har loggats ut")
        assert staff.get_by_role("link", name="Logga in igen").first.is_visible()
        screenshot(staff, "akut-sms-live-utloggad")
        # Websocketen som testet blockerade ger webbläsarens egna felrader; inga skriptfel i övrigt.
        assert [error for error in errors if "WebSocket" not in error] == []
    finally:
        context.close()


def test_polling_notices_logout(asgi_server: AsgiServer, browser: Any) -> None:
    """Websocketen är nere och personalen loggas ut: pollingen får inloggningssidan och säger det."""
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
    try:
        staff = context.new_page()
        staff.route_web_socket("**/ws/campaigns/**", lambda ws: ws.close(code=1011, reason="blockerad i testet"))
        log_in(staff, asgi_server.url, "anna", STAFF_PASSWORD)
        staff.goto(asgi_server.campaign_url())
        wait_for_state(staff, "polling")
        other = context.new_page()
        other.goto(asgi_server.url + "/")
        other.get_by_role("button", name="Logga ut").click()
        other.wait_for_load_state()
        wait_for_state(staff, "expired", timeout=7000)
        assert staff.get_by_test_id("livestatus").inner_text().strip().startswith("Du har loggats ut")
    finally:
        context.close()


def test_purged_campaign_is_said_on_the_open_page(asgi_server: AsgiServer, browser: Any) -> None:
    """Kampanjen raderas medan sidan är öppen: sidan säger det i stället för att stå kvar som "Live"."""
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
    try:
        staff = context.new_page()
        errors = collect_console_errors(staff)
        log_in(staff, asgi_server.url, "anna", STAFF_PASSWORD)
        staff.goto(asgi_server.campaign_url())
        wait_for_state(staff, "live")
        delete = (
            f"from campaigns.models import Campaign; Campaign.objects.filter(pk={asgi_server.campaign_id}).delete()"
        )
        run_manage(asgi_server.env, "shell", "-c", delete)
        wait_for_state(staff, "deleted", timeout=5000)
        assert (
            staff.get_by_test_id("livestatus").inner_text().strip() == "Kampanjen finns inte längre: den har raderats."
        )
        assert not staff.get_by_test_id("live").is_visible()
        assert not staff.get_by_role("button", name="Tiden är tillsatt").is_visible()
        assert not staff.get_by_test_id("ljud").is_visible()
        screenshot(staff, "akut-sms-live-raderad")
        assert errors == []
    finally:
        context.close()


def test_silent_socket_falls_back_to_polling(asgi_server: AsgiServer, browser: Any, phone: Any) -> None:
    """En websocket som öppnas men aldrig svarar (servern når inte Redis): sidan pollar inom några sekunder."""
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
    try:
        staff = context.new_page()
        staff.route_web_socket("**/ws/campaigns/**", lambda ws: None)  # öppen, men tyst
        log_in(staff, asgi_server.url, "anna", STAFF_PASSWORD)
        staff.goto(asgi_server.campaign_url())
        assert live_state(staff) == "connecting"
        wait_for_state(staff, "polling", timeout=7000)
        answer(phone, asgi_server, "Karl Karlsson", "NEJ, jag kan inte")
        staff.wait_for_function("() => document.querySelector('[data-testid=nej]').textContent === '1'", timeout=6500)
    finally:
        context.close()


def test_redis_down_dashboard_polls_and_answers_are_recorded(tmp_path: Path, browser: Any, phone: Any) -> None:
    """REDIS_URL satt men Redis nere: patienten svarar som vanligt, och kampanjsidan säger det och pollar.

    Websocketen når inget kanal-lager och stängs; sidan hämtar läget från statusadressen
    (cachen ger efter) och visar JA:t utan omladdning.
    """
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # ingen lyssnar på porten
    with running_asgi_server(tmp_path, REDIS_URL=dead_redis) as server:
        context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
        try:
            staff = context.new_page()
            log_in(staff, server.url, "anna", STAFF_PASSWORD)
            staff.goto(server.campaign_url())
            wait_for_state(staff, "polling", timeout=7000)
            assert staff.get_by_test_id("livestatus").inner_text().strip() == (
                "Liveuppdateringen är nere – hämtar läget var 5:e sekund"
            )
            staff.evaluate(NO_RELOAD_MARK)

            answer(phone, server, "Lisa Larsson", "JA, jag kan komma!")
            assert phone.get_by_role("heading", name="Tack!").is_visible()
            assert phone.get_by_test_id("plats").inner_text() == "Vi ringer dig inom kort för att bekräfta."
            staff.wait_for_function(SHOWS_FIRST_YES, timeout=6500)
            assert staff.evaluate(NOT_RELOADED) and live_state(staff) == "polling"
            screenshot(staff, "akut-sms-redis-nere-polling")
        finally:
            context.close()


# Sessionens senaste aktivitet längre bak än inaktivitetsgränsen, som efter en lång stund vid telefonen.
EXPIRE_SESSIONS = """
import time
from django.contrib.sessions.models import Session
from django.contrib.sessions.backends.db import SessionStore
from accounts.sessions import LAST_ACTIVITY_KEY, timeout_seconds
for row in Session.objects.all():
    store = SessionStore(row.session_key)
    store[LAST_ACTIVITY_KEY] = time.time() - timeout_seconds() - 5
    store.save()
"""
# Två minuter kvar av sessionen.
SESSIONS_NEAR_TIMEOUT = EXPIRE_SESSIONS.replace("- timeout_seconds() - 5", "- timeout_seconds() + 100")
NEW_YES_AFTER_LOGOUT = """() => document.title.startsWith('(1) Nytt JA – logga in – Akut-SMS ')
  && document.querySelector('[data-testid=livestatus]').textContent.includes('Nytt JA från en patient')
  && !document.querySelector('[data-testid=livestatus]').hidden"""


def test_page_keeps_announcing_yes_after_the_session_ends(asgi_server: AsgiServer, browser: Any, phone: Any) -> None:
    """Sessionen går ut medan sidan står öppen: namnen försvinner, men ett nytt JA ger titel, banderoll och
    ljud inom en sekund, utan namn; inloggning från sidan leder tillbaka till kampanjen med raden.

    Varningen två minuter före utloggningen syns också i flikens titel (för en flik i bakgrunden).
    """
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
    try:
        staff = context.new_page()
        errors = collect_console_errors(staff)
        log_in(staff, asgi_server.url, "anna", STAFF_PASSWORD)
        staff.goto(asgi_server.campaign_url())
        wait_for_state(staff, "live")
        staff.get_by_role("button", name="Slå på ljud").click()

        run_manage(asgi_server.env, "shell", "-c", SESSIONS_NEAR_TIMEOUT)
        staff.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))")  # fliken visas: fråga nu
        staff.wait_for_function("() => document.title.startsWith('Loggas ut om 2 min – Akut-SMS')", timeout=5000)
        assert staff.locator("#session-varning").inner_text().startswith("Du loggas ut om 2 min")

        run_manage(asgi_server.env, "shell", "-c", EXPIRE_SESSIONS)
        wait_for_state(staff, "expired", timeout=5000)
        staff.wait_for_function("() => document.getElementById('kampanjsida').dataset.watchYes === '0'", timeout=5000)
        assert staff.get_by_test_id("livestatus").inner_text().startswith("Du har loggats ut. Sidan larmar ändå")
        assert not staff.get_by_test_id("inloggad-som").is_visible()
        assert not staff.title().startswith("Loggas ut om")
        content = staff.content()
        for name in asgi_server.codes:  # (personalen heter också Anna: efternamnen prövas för sig)
            assert name not in content and name.split()[-1] not in content
        assert "070-123" not in content and "axeloperation" not in content
        assert staff.get_by_test_id("dolda-mottagare").is_visible()

        watch_for(staff, NEW_YES_AFTER_LOGOUT)
        phone.goto(asgi_server.reply_url("Lisa Larsson"))
        started_ms = time.time() * 1000
        phone.get_by_role("button", name="JA, jag kan komma!").click()
        seen_within(staff, started_ms, NEW_YES_AFTER_LOGOUT, 1000)
        staff.wait_for_function(SOUND_PLAYED, arg=1, timeout=1000)
        assert staff.get_by_test_id("ja").inner_text() == "1"
        assert not staff.get_by_role("button", name="Tiden är tillsatt").is_visible()  # kräver inloggning
        content = staff.content()
        assert "Lisa" not in content and "Larsson" not in content
        assert staff.get_by_test_id("uppläsning").text_content() == "Nytt JA. Logga in igen för att se vem."
        screenshot(staff, "akut-sms-nytt-ja-efter-utloggning")

        staff.get_by_test_id("livestatus").get_by_role("link", name="Logga in igen").click()
        staff.get_by_label("Användarnamn").fill("anna")
        staff.get_by_label("Lösenord").fill(STAFF_PASSWORD)
        staff.get_by_role("button", name="Logga in").click()
        staff.wait_for_url(asgi_server.campaign_url())
        wait_for_state(staff, "live")
        rows = row_texts(staff)
        assert "Lisa Larsson" in rows[0] and "Ring först" in rows[0]
        assert staff.title().startswith("(1) JA – Akut-SMS ")
        assert [error for error in errors if "WebSocket" not in error] == []
    finally:
        context.close()


def test_announcing_after_logout_stops_when_the_slot_is_filled(asgi_server: AsgiServer, browser: Any) -> None:
    """Utloggad sida och tiden tillsätts av en kollega: signalen slutar och sidan säger att kampanjen är stängd."""
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT)
    try:
        staff = context.new_page()
        log_in(staff, asgi_server.url, "anna", STAFF_PASSWORD)
        staff.goto(asgi_server.campaign_url())
        wait_for_state(staff, "live")
        run_manage(asgi_server.env, "shell", "-c", EXPIRE_SESSIONS)
        staff.wait_for_function("() => document.getElementById('kampanjsida').dataset.watchYes === '0'", timeout=5000)
        fill = (
            "from campaigns.models import Campaign; from campaigns.services import change_status; "
            f"c = Campaign.objects.get(pk={asgi_server.campaign_id}); change_status(c, c.created_by, 'filled')"
        )
        run_manage(asgi_server.env, "shell", "-c", fill)
        staff.wait_for_function(
            "() => document.getElementById('kampanjsida').dataset.watchState === 'ended'", timeout=5000
        )
        assert "Kampanjen är inte längre öppen" in staff.get_by_test_id("livestatus").inner_text()
        assert not staff.get_by_test_id("ljud").is_visible()
    finally:
        context.close()


def test_show_number_and_thanks_sms_with_keep_yes_numbers(
    tmp_path: Path, staff_tabs: list[Any], phone: Any, browser: Any
) -> None:
    """CAMPAIGN_KEEP_YES_NUMBERS=true: "Visa nummer" på en live-ritad JA-rad, numret står kvar vid nästa
    ändring; "Bokad" ger tack-SMS-rutan med kostnad på den andra sidan, och frågan före sändningen.
    Båda lägena granskas med axe-core."""
    from tests.e2e.test_accessibility import axe_violations

    with running_asgi_server(tmp_path, CAMPAIGN_KEEP_YES_NUMBERS="true") as server:
        staff, other = staff_tabs
        errors = collect_console_errors(staff) + collect_console_errors(other)
        log_in(staff, server.url, "anna", STAFF_PASSWORD)
        log_in(other, server.url, "bertil", STAFF_PASSWORD)
        # axe-core läggs in i en egen flik med CSP förbigången (bara i testwebbläsaren); de andra har portalens CSP.
        auditor = browser.new_context(locale="sv-SE", viewport=DESKTOP_VIEWPORT, bypass_csp=True).new_page()
        log_in(auditor, server.url, "anna", STAFF_PASSWORD)
        for tab in staff_tabs:
            tab.goto(server.campaign_url())
            wait_for_state(tab, "live")
        other.evaluate(NO_RELOAD_MARK)
        answer(phone, server, "Lisa Larsson", "JA, jag kan komma!")
        answer(phone, server, "Anna Andersson", "JA, jag kan komma!")
        other.wait_for_function("() => document.title.startsWith('(2) JA – Akut-SMS ')", timeout=2000)

        other.locator("tr", has_text="Lisa Larsson").get_by_role("button", name="Visa nummer").click()
        other.get_by_test_id("visat-nummer").wait_for(timeout=2000)
        assert other.get_by_test_id("visat-nummer").inner_text() == "070-123 45 69"
        answer(phone, server, "Karl Karlsson", "NEJ, jag kan inte")
        other.wait_for_function("() => document.querySelector('[data-testid=nej]').textContent === '1'", timeout=2000)
        assert other.get_by_test_id("visat-nummer").inner_text() == "070-123 45 69"  # står kvar efter omritningen
        assert other.locator("tr", has_text="Karl Karlsson").get_by_role("button", name="Visa nummer").count() == 0
        auditor.goto(server.campaign_url())
        assert auditor.get_by_role("button", name="Visa nummer").count() == 2
        auditor.locator("tr", has_text="Lisa Larsson").get_by_role("button", name="Visa nummer").click()
        auditor.get_by_test_id("visat-nummer").wait_for(timeout=2000)
        assert axe_violations(auditor) == []

        staff.once("dialog", lambda dialog: dialog.accept())
        staff.locator("tr", has_text="Lisa Larsson").get_by_role("button", name="Bokad").click()
        staff.wait_for_load_state()
        other.get_by_test_id("tack-sms").wait_for(state="visible", timeout=2000)
        assert "1 SMS (1 SMS-del), uppskattad kostnad 0,35 kr." in other.get_by_test_id("tack-sms").inner_text()
        assert other.get_by_test_id("visat-nummer").count() == 0  # Lisas nummer raderades vid bokningen
        auditor.goto(server.campaign_url())
        assert auditor.get_by_test_id("tack-sms").is_visible() and axe_violations(auditor) == []
        auditor.context.close()
        assert other.evaluate(NOT_RELOADED)
        questions: list[str] = []

        def accept(dialog: Any) -> None:
            """Noterar frågan och svarar ja."""
            questions.append(dialog.message)
            dialog.accept()

        other.once("dialog", accept)
        other.get_by_role("button", name="Skicka tack-SMS").click()
        other.wait_for_load_state()
        assert questions == ["Skicka tack-SMS till 1 patient? 1 SMS (1 SMS-del), uppskattad kostnad 0,35 kr."]
        assert "Tack-SMS skickat till 1 patient." in other.content()
        staff.get_by_test_id("tack-sms").wait_for(state="hidden", timeout=2000)
        screenshot(other, "akut-sms-tack-sms-skickat")
        assert errors == []
