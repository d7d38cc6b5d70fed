"""Driftpaketet från början till slut: nginx med den levererade siten framför två daphne och django-q2.

Processerna startas ur deploy/ som kliniken startar dem (stack.py): `upgrade`, daphne och
django-q2 med kommandoraderna i systemd-enheterna, nginx med siten deploy/nginx/smsportal.conf
och ett självsignerat certifikat. DEBUG är av, PostgreSQL och Redis används, och SMS:en går
genom den riktiga 46elks-backenden till en låtsas-46elks. En riktig webbläsare (chromium)
går genom nginx över HTTPS: inloggning med engångskod, ett mall-SMS, en kampanj, ett JA från
patientens telefon som syns direkt på kampanjsidan via websocketen genom nginx. Efteråt får
nginx loggar inte innehålla någon svarskod, webhook-token, något telefonnummer eller någon
frågesträng, men ska innehålla begärandena.

Körs när DATABASE_URL pekar på PostgreSQL och REDIS_URL är satt (andra körningen i .ci/run).
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench._common import throwaway_postgres
from tests.accounts.mfa_helpers import code_for
from tests.deploy.stack import DEPLOY, Stack, http_status, insecure_tls, running_stack
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, collect_console_errors, screenshot
from tests.fakes.elks46_server import FakeElks46

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (DATABASE_URL.startswith(("postgres://", "postgresql://")) and REDIS_URL),
        reason="driftstacken körs som i drift, mot PostgreSQL och Redis: sätt DATABASE_URL (postgres://…) och REDIS_URL",
    ),
]

STAFF_PASSWORD = "Personal-Lösenord-2026!"
# Personalen och en aktiverad autentiseringsapp; nyckeln skrivs ut så att testet kan räkna koder som appen.
SEED_STAFF = """
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice
user = get_user_model().objects.create_user(
    username="anna", password=PASSWORD, first_name="Anna", last_name="Receptionist"
)
device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
print("KEY=" + device.key)
"""
#: Mall-SMS:ets mottagare och kampanjens två mottagare (E.164, som leverantören får dem).
TEMPLATE_NUMBER = "+46701234567"
RECIPIENTS = "Lisa Larsson, 070-123 45 68, ja\nKarl Karlsson, 070-123 45 69, nej"
LISA, KARL = "+46701234568", "+46701234569"
PHONE_VIEWPORT = {"width": 390, "height": 844}
NO_RELOAD_MARK = "() => { window.ingenOmladdning = true; }"
LISA_IS_FIRST_YES = """() => {
  const row = document.querySelector('[data-testid=mottagare] tbody tr');
  return window.ingenOmladdning === true
    && document.querySelector('[data-testid=ja]').textContent === '1'
    && row !== null && row.textContent.includes('Lisa Larsson') && row.textContent.includes('Ring först');
}"""
LISA_DELIVERED = """() => {
  const row = document.querySelector('[data-testid=mottagare] tbody tr');
  return window.ingenOmladdning === true && row.textContent.includes('Lisa Larsson') && row.textContent.includes('levererat');
}"""
#: En rad i åtkomstloggen enligt siten: adress, tid, "metod sökväg protokoll", status, …
ACCESS_LINE = re.compile(r'^\S+ \[[^\]]+\] "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')


def admin_url(database_url: str) -> str:
    """Samma PostgreSQL-server som DATABASE_URL, men underhållsdatabasen postgres (där nya skapas)."""
    parts = urllib.parse.urlsplit(database_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))


@pytest.fixture(scope="module")
def elks46() -> Iterator[FakeElks46]:
    """Låtsas-46elks som tar emot portalens SMS (från daphne och från django-q2)."""
    server = FakeElks46().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, elks46: FakeElks46) -> Iterator[Stack]:
    """Hela stacken mot en engångsdatabas på testets PostgreSQL-server; allt stoppas efteråt."""
    with throwaway_postgres(admin_url(DATABASE_URL)) as database_url:
        assert database_url, f"PostgreSQL svarar inte på {admin_url(DATABASE_URL)}"
        with running_stack(tmp_path_factory.mktemp("stack"), database_url, REDIS_URL, elks46.base_url) as running:
            yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium som godtar stackens självsignerade certifikat (även för websockets)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--ignore-certificate-errors"]
        )
        yield instance
        instance.close()


def seed_staff(stack: Stack) -> bytes:
    """Skapar personalkontot anna med en aktiverad app; returnerar appens hemliga nyckel."""
    output = stack.manage("shell", "-c", f"PASSWORD = {STAFF_PASSWORD!r}\n" + SEED_STAFF)
    return bytes.fromhex(output.split("KEY=", 1)[1].strip())


def log_in_with_code(page: Any, base_url: str, key: bytes) -> None:
    """Lösenord och sedan engångskoden som appen visar (tvåstegsverifiering, DEBUG av)."""
    page.goto(base_url + "/")
    page.get_by_label("Användarnamn").fill("anna")
    page.get_by_label("Lösenord").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(re.escape(base_url) + r"/konto/tvastegsverifiering/"))
    page.get_by_label("Kod från appen").fill(code_for(key))
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(base_url + "/")


def sent_sms(elks46: FakeElks46, number: str) -> dict[str, str]:
    """Formuläret som låtsas-46elks tog emot för numret (to, message, whendelivered …)."""
    forms = [r.form_fields() for r in elks46.requests if r.method == "POST" and r.path == "/a1/sms"]
    matches = [form for form in forms if form.get("to") == number]
    assert len(matches) == 1, f"väntade ett SMS till numret, fick {len(matches)}"
    return matches[0]


def reply_code(message: str) -> str:
    """Svarskoden i kampanj-SMS:ets länk (…/s/<kod>)."""
    return re.search(r"/s/([A-Za-z0-9]+)", message).group(1)


def send_template_sms(page: Any, elks46: FakeElks46) -> None:
    """Sändsidan: mallen, inklistrat nummer, Enter; 46elks får SMS:et."""
    page.get_by_role("button", name="Receptpolicy").click()
    page.keyboard.insert_text("070-123 45 67")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.get_by_role("status").first.inner_text() == "SMS skickat: Receptpolicy (1 SMS-del)."
    assert sent_sms(elks46, TEMPLATE_NUMBER)["from"] == "SodermOrto"
    screenshot(page, "drift-nginx-sandsida-skickat")


def create_campaign(page: Any) -> int:
    """Akut-SMS: tid i morgon, två mottagare, förhandsgranska och skicka; returnerar kampanjens id."""
    page.get_by_role("link", name="Akut-SMS").click()
    tomorrow = datetime.now(ZoneInfo("Europe/Stockholm")).date() + timedelta(days=1)
    page.get_by_label("Datum").fill(tomorrow.isoformat())
    page.get_by_label("Klockslag").fill("08:00")
    page.get_by_label("Mottagare", exact=True).fill(RECIPIENTS)
    page.get_by_role("button", name="Förhandsgranska").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Skicka till 2 mottagare").click()
    page.wait_for_url(re.compile(r".*/personal/akut-sms/\d+/$"))
    return int(re.search(r"/(\d+)/$", page.url).group(1))


def answer_yes(phone: Any, link: str) -> None:
    """Patienten öppnar länken från SMS:et i telefonen och svarar JA."""
    phone.goto(link)
    phone.get_by_role("button", name="JA, jag kan komma!").click()
    phone.wait_for_load_state()
    assert phone.get_by_role("heading", name="Tack!").is_visible()
    screenshot(phone, "drift-nginx-patient-tack")


def post_delivery_report(url: str, message_id: str) -> int:
    """46elks leveransrapport "levererat" till adressen i `whendelivered` (med portalens token); returnerar status."""
    body = urllib.parse.urlencode({"id": message_id, "status": "delivered"}).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, context=insecure_tls(), timeout=10) as response:
        return response.status


def access_entries(stack: Stack) -> list[tuple[str, str, str]]:
    """(metod, sökväg, status) för varje rad i nginx åtkomstlogg; varje rad ska följa sitens format."""
    entries = []
    for line in stack.access_log.read_text().splitlines():
        match = ACCESS_LINE.match(line)
        assert match, f"oväntad rad i åtkomstloggen: {line}"
        entries.append((match["method"], match["path"], match["status"]))
    return entries


def secrets_in(text: str, secrets: list[str]) -> list[str]:
    """De hemligheter (koder, token, nummer i olika former) som förekommer i texten."""
    return [secret for secret in secrets if secret in text]


def phone_forms(number: str) -> list[str]:
    """Ett nummer som det kan skrivas: +46…, 46…, 07… och med mellanslag (070-123 45 67)."""
    national = "0" + number[3:]
    return [number, number[1:], national, f"{national[:3]}-{national[3:6]} {national[6:8]} {national[8:]}"]


def test_clinic_flow_through_nginx_leaves_no_patient_data_in_its_logs(
    stack: Stack, elks46: FakeElks46, browser: Any
) -> None:
    """Inloggning, mall-SMS, kampanj och ett JA live via websocketen, allt genom nginx; loggarna är rena."""
    key = seed_staff(stack)
    staff = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 860}, ignore_https_errors=True)
    phone_context = browser.new_context(
        locale="sv-SE", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, ignore_https_errors=True
    )
    page, phone = staff.new_page(), phone_context.new_page()
    errors = collect_console_errors(page) + collect_console_errors(phone)
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    try:
        log_in_with_code(page, stack.base_url, key)
        send_template_sms(page, elks46)
        campaign_id = create_campaign(page)
        # Kampanj-SMS:en skickas av django-q2; sändstatusen kommer till sidan via websocketen.
        page.wait_for_function(
            "() => document.getElementById('kampanjsida').dataset.liveState === 'live'", timeout=15000
        )
        page.get_by_test_id("framsteg").filter(has_text="Skickade 2/2").wait_for(timeout=20000)
        page.evaluate(NO_RELOAD_MARK)

        lisa_sms = sent_sms(elks46, LISA)
        codes = [reply_code(lisa_sms["message"]), reply_code(sent_sms(elks46, KARL)["message"])]
        link = re.search(r"\S+/s/[A-Za-z0-9]+", lisa_sms["message"]).group(0)
        assert link.startswith(stack.base_url.removeprefix("https://"))
        answer_yes(phone, "https://" + link)

        page.wait_for_function(LISA_IS_FIRST_YES, timeout=5000)
        assert page.locator("#kampanjsida").get_attribute("data-live-state") == "live"
        # Websocketen gick genom nginx (wss på nginx port), inte direkt till någon daphne-process.
        assert f"{stack.base_url.replace('https://', 'wss://')}/ws/campaigns/{campaign_id}/" in sockets, sockets

        # 46elks leveransrapport genom nginx (token i frågesträngen) syns också live på sidan.
        webhook = lisa_sms["whendelivered"]
        assert webhook.startswith(stack.base_url + "/webhooks/sms/46elks/?token=")
        (lisa_id,) = [sms["id"] for sms in elks46.created if sms["to"] == LISA]
        assert post_delivery_report(webhook, lisa_id) == 200
        page.wait_for_function(LISA_DELIVERED, timeout=5000)
        screenshot(page, "drift-nginx-kampanj-ja-live")
        assert errors == [], errors
    finally:
        staff.close()  # websocketen stängs: nginx skriver raden (101) först nu
        phone_context.close()

    # HTTP skickas vidare till HTTPS; en stoppad daphne-process tas över av den andra. Den
    # stoppade ger nginx ett fel på nivån error, som med begäranraden (/s/<kod>?token=…) skulle
    # hamna i felloggen om siten loggade den nivån.
    token = stack.env["SMS_WEBHOOK_TOKEN"]
    assert http_status(f"{stack.http_url}/s/{codes[0]}") == 301
    stack.web[1].stop()
    assert [http_status(f"{stack.base_url}/s/{codes[1]}?token={token}") for _ in range(4)] == [200] * 4

    entries = access_entries(stack)
    assert ("POST", "/konto/logga-in/", "302") in entries
    assert ("POST", "/", "302") in entries or ("POST", "/", "200") in entries  # mall-SMS:et
    assert ("GET", f"/ws/campaigns/{campaign_id}/", "101") in entries
    assert ("POST", "/s/<kod>", "302") in entries  # patientens JA
    assert ("GET", "/s/<kod>", "301") in entries and ("GET", "/s/<kod>", "200") in entries
    assert ("POST", "/webhooks/sms/46elks/", "200") in entries
    access_log = stack.access_log.read_text()
    # Minst en begäran försökte först den stoppade processen (två upstream-adresser på raden).
    assert re.search(r"upstream=127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+/", access_log), access_log[-2000:]

    secrets = codes + [token] + [form for number in (TEMPLATE_NUMBER, LISA, KARL) for form in phone_forms(number)]
    assert secrets_in(access_log, secrets) == []
    assert not [path for _, path, _ in entries if "?" in path], "frågesträng i åtkomstloggen"
    error_log = stack.error_log.read_text()
    assert secrets_in(error_log, secrets) == [] and "?" not in error_log, error_log[-2000:]
    # Portalens egna loggar (daphne och django-q2) följer samma regel.
    assert secrets_in(stack.portal_logs(), secrets) == []


def test_smoke_test_script_against_web_process_and_nginx(stack: Stack) -> None:
    """deploy/smoke-test.sh godkänner en daphne startad av startskriptet och nginx, och underkänner fel.

    Röktestet väntar på /healthz tills bakgrundsjobben kört sitt första minutschema (upp till 30 s).
    """
    script = str(DEPLOY / "smoke-test.sh")

    def smoke(*args: str) -> subprocess.CompletedProcess[str]:
        """Kör röktestet som IT gör; utdata som text."""
        return subprocess.run([script, *args], capture_output=True, text=True, timeout=150)

    direct = smoke(f"http://127.0.0.1:{stack.web_ports[0]}")
    assert direct.returncode == 0, direct.stdout + direct.stderr
    assert "Röktestet gick igenom." in direct.stdout
    assert "OK   statiska filer: /static/css/portal." in direct.stdout

    via_nginx = smoke("-k", stack.base_url)
    assert via_nginx.returncode == 0, via_nginx.stdout + via_nginx.stderr

    # HTTP-porten omdirigerar bara (301): det är ingen fungerande portal.
    redirect = smoke(stack.http_url)
    assert redirect.returncode == 1
    assert "inloggningssidan: /konto/logga-in/ gav status 301" in redirect.stderr

    # Startskriptets driftkontroll (check --deploy) godkänner stackens inställningar.
    check = subprocess.run(
        [str(DEPLOY / "smsportal.sh"), "check"], env=stack.env, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr

    # Kommandon för hand (README): inställningarna ur filen i ENV_FILE, inte ur skalets miljö.
    shell_only = {"PATH", "LANG", "ENV_FILE", "SMSPORTAL_PYTHON", "NO_PROXY", "no_proxy"}
    env_file = stack.folder / "etc-smsportal-env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in stack.env.items() if key not in shell_only))
    by_hand = subprocess.run(
        [
            str(DEPLOY / "smsportal.sh"),
            "manage",
            "shell",
            "-c",
            "from smsportal.ledger import purge_ledger; print(purge_ledger())",
        ],
        env={key: value for key, value in stack.env.items() if key in shell_only} | {"ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert by_hand.returncode == 0 and by_hand.stdout.strip().endswith("0"), by_hand.stdout + by_hand.stderr

    # På servern själv: namnet löses inte (sms.example.se), SMOKE_CONNECT_TO ansluter till 127.0.0.1.
    https_port = stack.base_url.rsplit(":", 1)[1]
    connect_to = subprocess.run(
        [script, "-k", f"https://sms.example.se:{https_port}", "127.0.0.1"],
        env={**os.environ, "SMOKE_CONNECT_TO": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert connect_to.returncode == 0, connect_to.stdout + connect_to.stderr


def raw_request(
    base_url: str, path: str, host: str | None = None, source: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET `path` exakt som den skrivs (ingen normalisering); (status, huvuden, kropp), status 0 om nginx stänger.

    `host` byter Host-huvudet, `source` är klientens egen adress (t.ex. 127.0.0.2).
    """
    scheme, rest = base_url.split("://", 1)
    address, port = rest.rsplit(":", 1)
    source_address = (source, 0) if source else None
    if scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            address, int(port), timeout=10, context=insecure_tls(), source_address=source_address
        )
    else:
        connection = http.client.HTTPConnection(address, int(port), timeout=10, source_address=source_address)
    try:
        connection.request("GET", path, headers={"Host": host} if host else {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return 0, {}, b""
    finally:
        connection.close()


def test_http_server_serves_acme_challenges_and_redirects_only_to_the_portal(stack: Stack) -> None:
    """Port 80: Let's Encrypts kontrollfil svarar 200, allt annat 301 till portalens namn; fel namn får inget svar."""
    challenge = stack.folder / "letsencrypt" / ".well-known" / "acme-challenge" / "provtoken"
    challenge.write_text("provtoken.nyckelavtryck")
    status, _, body = raw_request(stack.http_url, "/.well-known/acme-challenge/provtoken")
    assert (status, body) == (200, b"provtoken.nyckelavtryck")

    status, headers, _ = raw_request(stack.http_url, "/konto/logga-in/?next=/")
    assert (status, headers["Location"]) == (301, f"{stack.base_url}/konto/logga-in/?next=/")
    # Ett påhittat Host-huvud hamnar i standardservern, som stänger utan svar (444) i stället
    # för att omdirigera till den påhittade värden.
    assert raw_request(stack.http_url, "/x", host="evil.example")[0] == 0


def test_health_check_only_from_allowed_addresses(stack: Stack) -> None:
    """/healthz genom nginx: 200 från 127.0.0.1 (tillåten i siten), 403 från en annan adress (127.0.0.2)."""
    deadline = time.monotonic() + 60  # 503 tills klustret kört sitt första minutschema
    while (status := raw_request(stack.base_url, "/healthz")[0]) == 503 and time.monotonic() < deadline:
        time.sleep(2)
    assert status == 200
    assert raw_request(stack.base_url, "/healthz", source="127.0.0.2")[0] == 403
    assert raw_request(stack.base_url, "/konto/logga-in/", source="127.0.0.2")[0] == 200


def test_access_log_redacts_every_spelling_of_a_reply_link(stack: Stack) -> None:
    """//s/, /%73/, /s%2F och /S/ före en kod: nginx normaliserar sökvägen, och loggen har bara /s/<kod>."""
    code = "Prov" + secrets.token_hex(6)
    spellings = [f"//s/{code}", f"/%73/{code}", f"/s%2F{code}", f"/S/{code}", f"/s/{code}"]
    before = len(access_entries(stack))
    for path in spellings:
        assert raw_request(stack.base_url, path)[0] != 0
    # nginx skriver raden när begäran avslutas, ibland strax efter att svaret kommit fram: vänta på
    # raderna (högst 5 s). Bara nya rader med patientsökvägen räknas.
    deadline = time.monotonic() + 5
    while True:
        new = access_entries(stack)[before:]
        logged = sum(1 for _, path, _ in new if path == "/s/<kod>")
        if logged >= len(spellings) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert logged == len(spellings), new
    assert code not in stack.access_log.read_text()
    assert code.lower() not in stack.access_log.read_text().lower()
