"""Kampanjsidan i en riktig webbläsare i en kvart medan en kampanj går ut i grupper (`live_soak.py --waves`).

Kör portalen som kliniken: daphne och `manage.py qcluster` som egna processer, DEBUG av,
PostgreSQL (engångsdatabas) och Redis, tvåstegsverifiering på, SMS genom den riktiga
46elks-backenden till låtsas-46elks. Personalen loggar in (lösenord och kod från appen) i
Debians chromium via Playwright, skapar en kampanj i grupper genom formuläret (standard 16
mottagare, grupper om 2, 1 minut emellan, utan paus vid JA, svara senast om 15 minuter) och
låter kampanjsidan stå öppen tills svarstiden har stängt kampanjen. Grupperna släpps av
qcluster:s minutschema. Under tiden:

* svarar en patient i varje grupp (JA eller NEJ, i telefonen: länken, "öppnad", svaret);
* startas qcluster om en gång (efter grupp 3) och daphne en gång (efter grupp 5): sidan ska
  visa avbrottet, polla och koppla upp websocketen igen;
* noterar personalen till sist "Nådde inte" på första JA (sidan laddas om av formuläret).

Sidan iakttas med en MutationObserver (tidsstämplar i webbläsaren): grupplistan, "Nästa
grupp", räknaren för JA, uppläsningen (larmet), statusmärket, radernas svar, liveläget och
meddelanderaden. Skriver per grupp när den var aktuell, när minutschemat släppte den och när
sidan visade den; per svar tiden från POST till sidan; uppkopplingar och avbrott; och en
tabell med kontroller (FEL ger felkod).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402 – projektroten måste ligga i sys.path först
    CHROMIUM,
    CHROMIUM_ARGS,
    Service,
    environment,
    fake_elks46_on_port,
    fake_elks46_settings,
    print_table,
    setup_django,
    start_process,
    stop,
)
from tests.fakes.elks46_server import FakeElks46  # noqa: E402

STAFF_USERNAME = "personal"
STAFF_PASSWORD = "Bench-Personal-Lösenord-42!"
CLINIC_ZONE = ZoneInfo("Europe/Stockholm")
# Efter svarstiden: minutschemat stänger kampanjen inom en minut (och lite till).
AFTER_DEADLINE_SECONDS = 100.0
# En grupp ska synas på sidan senast så här länge efter att minutschemat släppt den.
WAVE_PAGE_GOAL = 2.0
# Ett svar ska synas på sidan inom (DESIGN: en sekund; p95-målet i live_soak.py).
ANSWER_GOAL = 1.0
# "Nästa grupp" ska bli "inom en minut" senast så här länge efter att gruppen blivit aktuell.
NEXT_TEXT_GOAL = 2.0
# Sidan ska vara live igen senast så här länge efter att daphne startat om.
RECONNECT_GOAL = 20.0
# daphne är nere så här länge vid omstarten.
DAPHNE_DOWN_SECONDS = 5.0

# Iakttagaren i sidan: rapporterar varje ändring av det som personalen ser, med webbläsarens klocka.
OBSERVER_SCRIPT = """
(() => {
  const report = (kind, value) => { if (window.soakEvent) { window.soakEvent(kind, value, Date.now()); } };
  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("kampanjsida");
    report("load", location.pathname);
    if (!root) { return; }
    const text = (id) => {
      const el = root.querySelector(`[data-testid=${id}]`);
      return el ? el.textContent.trim() : "";
    };
    let last = {};
    const check = () => {
      const message = root.querySelector("[data-live-message]");
      const rows = {};
      root.querySelectorAll("tr[data-recipient-id]").forEach((tr) => {
        rows[tr.dataset.recipientId] = tr.dataset.answer || "";
      });
      const state = {
        live: root.dataset.liveState || "",
        waves: String(root.querySelectorAll("[data-testid=skickade-grupper] li").length),
        next: text("nasta-grupp"),
        yes: text("ja"),
        status: text("kampanjstatus"),
        announce: (root.querySelector("[data-live-announce]") || {}).textContent || "",
        message: message && !message.hidden ? message.querySelector("[data-live-text]").textContent.trim() : "",
        rows: JSON.stringify(rows),
        title: document.title,
        watch: root.dataset.watchState || "",
        newyes: message ? message.dataset.newYes || "" : "",
      };
      for (const key in state) {
        if (state[key] !== last[key]) { report(key, state[key]); }
      }
      last = state;
    };
    check();
    new MutationObserver(check).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
    new MutationObserver(check).observe(document.querySelector("title"), { childList: true, characterData: true, subtree: true });
  });
})();
"""


@dataclass
class Patient:
    """En mottagare: namn, nummer, klientadress, svarskod och när SMS:et kom fram."""

    name: str
    national: str
    address: str
    code: str = ""
    sms_at: float = 0.0

    @property
    def e164(self) -> str:
        """Numret som leverantören får det."""
        return "+46" + self.national[1:]


@dataclass
class Answer:
    """Ett svar: vem, vad, när dess POST började (epoch) och när sidan visade det."""

    recipient_id: str
    name: str
    choice: str
    posted_at: float
    seen_at: float | None = None
    alert_at: float | None = None
    error: str = ""


@dataclass
class Disturbance:
    """En planerad störning (omstart av qcluster eller daphne): när den började och slutade."""

    what: str
    start: float
    end: float = 0.0


@dataclass
class PageLog:
    """Allt sidan rapporterade: (tid, slag, värde) i ordning, och konsolens fel."""

    events: list[tuple[float, str, str]] = field(default_factory=list)
    console_errors: list[tuple[float, str]] = field(default_factory=list)
    sockets: list[tuple[float, str]] = field(default_factory=list)  # (tid, "öppnad"/"stängd")
    current: dict[str, str] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, kind: str, value: str, at_ms: float) -> None:
        """En ändring på sidan (webbläsarens tid i millisekunder)."""
        self.events.append((at_ms / 1000, kind, value))
        self.current[kind] = value
        self.changed.set()

    def first(self, kind: str, predicate: Any, after: float = 0.0) -> float | None:
        """Tiden för första ändringen av `kind` efter `after` där värdet uppfyller `predicate`."""
        return next((t for t, k, v in self.events if k == kind and t >= after and predicate(v)), None)

    async def wait_for(self, kind: str, predicate: Any, timeout: float) -> float:
        """Väntar tills sidans värde för `kind` uppfyller `predicate`; returnerar tiden (RuntimeError efter timeout)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.current.get(kind, "")):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(
                    f"sidan visade inte väntat {kind} inom {timeout:.0f} s (nu: {self.current.get(kind)!r})"
                )
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass
        found = [t for t, k, v in self.events if k == kind and predicate(v)]
        return found[-1] if found else time.time()


@dataclass
class Soak:
    """Körningens delar: processer, leverantör, patienter, svar och störningar."""

    args: argparse.Namespace
    env: dict[str, str]
    base: str
    fake: FakeElks46
    services: dict[str, Service]
    patients: list[Patient]
    log: PageLog = field(default_factory=PageLog)
    answers: list[Answer] = field(default_factory=list)
    disturbances: list[Disturbance] = field(default_factory=list)
    campaign_id: int = 0
    created_at: float = 0.0
    deadline_at: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- Förberedelser --------------------------------------------------------------------------


def create_staff() -> bytes:
    """Personalkontot med en bekräftad autentiseringsapp (som efter aktiveringen); returnerar nyckeln."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.create_user(username=STAFF_USERNAME, password=STAFF_PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    return bytes(device.bin_key)


def totp_code(key: bytes, at: float | None = None) -> str:
    """Koden som appen visar för nyckeln vid tiden `at` (nu)."""
    from django_otp.oath import TOTP

    totp = TOTP(key)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def make_patients(count: int) -> list[Patient]:
    """Mottagarna i prioritetsordning: påhittade namn, unika nummer och egna klientadresser."""
    return [Patient(f"Patient G-{i + 1}", f"07012347{i + 1:02d}", f"10.8.0.{i + 1}") for i in range(count)]


# --- Webbläsaren ----------------------------------------------------------------------------


async def log_in(page: Any, base: str, key: bytes) -> None:
    """Inloggning som personalen gör den: lösenord, sedan koden från appen."""
    await page.goto(base + "/konto/logga-in/")
    await page.get_by_label("Användarnamn").fill(STAFF_USERNAME)
    await page.get_by_label("Lösenord").fill(STAFF_PASSWORD)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url("**/konto/tvastegsverifiering/**")
    await page.get_by_label("Kod från appen").fill(totp_code(key))
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(base + "/")


async def create_campaign(page: Any, soak: Soak) -> int:
    """Kampanjen i grupper genom formuläret (förhandsgranska, Skicka); returnerar dess id."""
    args = soak.args
    now = datetime.now(CLINIC_ZONE)
    deadline = (now + timedelta(minutes=args.deadline_minutes + 1)).replace(second=0, microsecond=0)
    soak.deadline_at = deadline.timestamp()
    await page.goto(soak.base + "/personal/akut-sms/")
    await page.get_by_label("Rubrik (valfri)").fill("Sal 4")
    await page.get_by_label("Datum").fill((date.today() + timedelta(days=1)).isoformat())
    await page.get_by_label("Klockslag").fill("10:30")
    await page.get_by_label("Svara senast (valfri)").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    lines = "\n".join(f"{p.name}, {p.national}, ja" for p in soak.patients)
    await page.get_by_label("Mottagare", exact=True).fill(lines)
    await page.get_by_role("radio", name="Skicka i grupper").check()
    await page.get_by_label("Antal per grupp").fill(str(args.wave_size))
    await page.get_by_label("Minuter mellan grupper").fill(str(args.wave_minutes))
    await page.get_by_label("Pausa när någon svarat JA").set_checked(False)
    await page.get_by_role("button", name="Förhandsgranska").click()
    await page.get_by_test_id("forhandsgranskning").wait_for()
    async with page.expect_navigation(url=re.compile(r"/personal/akut-sms/\d+/$")):
        await page.get_by_role("button", name=re.compile(r"^Skicka till \d+ mottagare$")).click()
    soak.created_at = time.time()
    match = re.search(r"/personal/akut-sms/(\d+)/", page.url)
    if match is None:
        raise RuntimeError("Skicka ledde inte till kampanjsidan")
    return int(match.group(1))


# --- Patienterna ----------------------------------------------------------------------------


def collect_codes(soak: Soak) -> None:
    """Svarskoderna ur SMS:en som låtsas-46elks tagit emot (och när de kom)."""
    wanted = {p.e164: p for p in soak.patients if not p.code}
    for request in list(soak.fake.requests):
        form = request.form_fields()
        match = re.search(r"/s/([A-Za-z0-9]+)", form.get("message", ""))
        patient = wanted.get(form.get("to", ""))
        if patient is not None and match:
            patient.code = match.group(1)
            patient.sms_at = time.time()


def hidden_value(html: str, name: str) -> str:
    """Värdet i ett dolt formulärfält."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    return match.group(1) if match else ""


async def patient_answers(
    soak: Soak, patient: Patient, recipient_id: str, choice: str, into: list[Answer] | None = None
) -> None:
    """En patient i telefonen: länken, sidans "öppnad" och JA/NEJ; svaret väntas sedan på kampanjsidan."""
    headers = {"X-Forwarded-For": patient.address}
    url = f"{soak.base}/s/{patient.code}"
    answer = Answer(recipient_id, patient.name, choice, 0.0)
    jar = aiohttp.CookieJar(unsafe=True)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(cookie_jar=jar, headers={"Origin": soak.base}, timeout=timeout) as phone:
        try:
            async with phone.get(url, headers=headers) as response:
                page = await response.text()
                if response.status != 200:
                    raise RuntimeError(f"patientsidan gav {response.status}")
            token = hidden_value(page, "csrfmiddlewaretoken")
            if "data-opened-url" in page:
                async with phone.post(f"{url}/oppnad", headers={**headers, "X-CSRFToken": token}) as response:
                    await response.read()
            answer.posted_at = time.time()
            data = {"csrfmiddlewaretoken": token, "svar": choice}
            async with phone.post(url, headers=headers, data=data, allow_redirects=False) as response:
                await response.read()
                if response.status != 302:
                    raise RuntimeError(f"svaret gav {response.status}")
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as error:
            answer.error = str(error) or type(error).__name__
    (soak.answers if into is None else into).append(answer)


# --- Processerna ----------------------------------------------------------------------------


def start_daphne(env: dict[str, str], port: int) -> Service:
    """daphne med README:ns kommandorad (åtkomstloggen av); väntar tills porten svarar."""
    args = ["-b", "127.0.0.1", "-p", str(port), "--access-log", "/dev/null", "config.asgi:application"]
    return start_process("daphne", [sys.executable, "-m", "daphne", *args], env, port)


def start_qcluster(env: dict[str, str]) -> Service:
    """`manage.py qcluster`: arbetare och minutschemat."""
    return start_process("qcluster", [sys.executable, "manage.py", "qcluster"], env)


def restart(soak: Soak, name: str, pause: float = 0.0) -> Disturbance:
    """Stoppar processen `name` (SIGTERM, som systemd), väntar `pause` s och startar en ny."""
    disturbance = Disturbance(name, time.time())
    old = soak.services[name]
    errors = old.output(3000)
    stop(old)
    if "Traceback" in errors:
        soak.notes.append(f"{name} skrev en traceback före omstarten:\n{errors}")
    time.sleep(pause)
    port = soak.args.port
    soak.services[name] = start_daphne(soak.env, port) if name == "daphne" else start_qcluster(soak.env)
    disturbance.end = time.time()
    soak.disturbances.append(disturbance)
    return disturbance


# --- Databasen ------------------------------------------------------------------------------


def released_waves(database_url: str, campaign_id: int) -> list[tuple[int, float]]:
    """Släppta grupper ur audit-loggen: (nummer, tid), i ordning."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute(
            "SELECT (data->>'grupp')::int, extract(epoch FROM created_at) FROM audit_auditevent "
            "WHERE action = 'campaign_wave_sent' AND (data->>'kampanj')::int = %s ORDER BY created_at",
            [campaign_id],
        ).fetchall()
    return [(int(number), float(at)) for number, at in rows]


def campaign_row(database_url: str, campaign_id: int) -> dict[str, Any]:
    """Kampanjens status, antal skickade grupper och nästa grupps tid (epoch)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT status, waves_sent, extract(epoch FROM next_wave_at), extract(epoch FROM status_changed_at) "
            "FROM campaigns_campaign WHERE id = %s",
            [campaign_id],
        ).fetchone()
    assert row is not None
    return {
        "status": row[0],
        "waves_sent": row[1],
        "next_wave_at": float(row[2]) if row[2] is not None else None,
        "status_changed_at": float(row[3]) if row[3] is not None else None,
    }


def schedule_runs(database_url: str, start: float, end: float) -> list[float]:
    """Minutschemats körningar (start, epoch) mellan `start` och `end`."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute(
            "SELECT extract(epoch FROM started) FROM django_q_task WHERE func = %s "
            "AND started >= to_timestamp(%s) AND started <= to_timestamp(%s) ORDER BY started",
            ["campaigns.tasks.requeue_stuck_work", start, end],
        ).fetchall()
    return [float(row[0]) for row in rows]


# --- Körningen ------------------------------------------------------------------------------


async def drive(soak: Soak, key: bytes, database_url: str) -> dict[str, Any]:
    """Webbläsaren, kampanjen, patienterna och omstarterna; returnerar det som rapporten behöver."""
    from playwright.async_api import async_playwright

    args = soak.args
    rng = random.Random(args.seed)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
        await context.expose_binding("soakEvent", lambda source, kind, value, at: soak.log.record(kind, value, at))
        await context.add_init_script(OBSERVER_SCRIPT)
        page = await context.new_page()
        page.on(
            "console",
            lambda message: (
                soak.log.console_errors.append((time.time(), message.text)) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: soak.log.console_errors.append((time.time(), str(error))))
        page.on("websocket", lambda socket: track_socket(soak.log, socket))
        print("Loggar in (lösenord och kod från appen) och skapar kampanjen i formuläret ...", flush=True)
        await log_in(page, soak.base, key)
        soak.campaign_id = await create_campaign(page, soak)
        await soak.log.wait_for("live", lambda v: v == "live", 30)
        total_waves = -(-len(soak.patients) // args.wave_size)
        print(
            f"Kampanj {soak.campaign_id}: {len(soak.patients)} mottagare i {total_waves} grupper om "
            f"{args.wave_size}, {args.wave_minutes} min emellan; svara senast "
            f"{datetime.fromtimestamp(soak.deadline_at, CLINIC_ZONE):%H:%M}. Sidan står öppen tills kampanjen stängts.",
            flush=True,
        )
        ids: dict[str, str] = {}
        answered: set[str] = set()
        running: list[asyncio.Task[None]] = []
        restarted: set[str] = set()
        seen_waves = 1
        last_print = time.time()
        yes_rows: list[str] = []
        result: dict[str, Any] = {}
        # Grupperna: vänta på varje grupp på sidan, svara, och starta om processerna på vägen.
        while time.time() < soak.deadline_at + AFTER_DEADLINE_SECONDS:
            await asyncio.sleep(0.5)
            collect_codes(soak)
            if not ids:
                ids = await page.evaluate(
                    "() => Object.fromEntries([...document.querySelectorAll('tr[data-recipient-id]')]"
                    ".map(tr => [tr.cells[0].textContent.trim(), tr.dataset.recipientId]))"
                )
            shown = int(soak.log.current.get("waves", "0") or 0)
            if shown > seen_waves:
                seen_waves = shown
                print(f"  {elapsed(soak)}: grupp {shown} syns på sidan ({soak.log.current.get('next')})", flush=True)
            # En patient i varje grupp svarar 5–30 s efter sitt SMS: varannan grupp JA, varannan NEJ.
            for index, patient in enumerate(soak.patients):
                wave = index // args.wave_size + 1
                if patient.code and index % args.wave_size == 0 and patient.name not in answered:
                    if time.time() - patient.sms_at >= rng.uniform(5, 30):
                        answered.add(patient.name)
                        choice = "ja" if wave % 2 == 1 else "nej"
                        if choice == "ja":
                            yes_rows.append(ids.get(patient.name, ""))
                        running.append(
                            asyncio.create_task(patient_answers(soak, patient, ids.get(patient.name, ""), choice))
                        )
            if seen_waves >= 3 and "qcluster" not in restarted:
                restarted.add("qcluster")
                print(f"  {elapsed(soak)}: startar om qcluster ...", flush=True)
                await asyncio.to_thread(restart, soak, "qcluster")
            if seen_waves >= 5 and "daphne" not in restarted and soak.log.current.get("live") == "live":
                restarted.add("daphne")
                print(f"  {elapsed(soak)}: startar om daphne ({DAPHNE_DOWN_SECONDS:g} s nere) ...", flush=True)
                await asyncio.to_thread(restart, soak, "daphne", DAPHNE_DOWN_SECONDS)
            if time.time() - last_print >= 60:
                last_print = time.time()
                print(
                    f"  {elapsed(soak)}: {seen_waves} grupper på sidan, {len(soak.answers)} svar, "
                    f"läge {soak.log.current.get('live')}, nästa grupp: {soak.log.current.get('next')!r}, "
                    f"status {soak.log.current.get('status')!r}",
                    flush=True,
                )
            if "outcome" not in result and seen_waves >= total_waves and len(soak.answers) >= total_waves:
                await asyncio.sleep(10)
                print(f"  {elapsed(soak)}: personalen noterar 'Nådde inte' på första JA ...", flush=True)
                result["outcome_at"] = time.time()
                result["outcome"] = await note_outcome(page, soak, yes_rows)
            if soak.log.current.get("live") == "expired" and "after_logout" not in result:
                # Utloggad av inaktivitet: en patient som inte svarat säger JA; sidan ska larma ändå.
                free = next((p for p in soak.patients if p.code and p.name not in answered), None)
                result["after_logout"] = []
                if free is not None:
                    answered.add(free.name)
                    print(f"  {elapsed(soak)}: utloggad; en patient svarar JA ...", flush=True)
                    running.append(
                        asyncio.create_task(
                            patient_answers(soak, free, ids.get(free.name, ""), "ja", result["after_logout"])
                        )
                    )
            if soak.log.current.get("status", "").lower().startswith("avslutad"):
                break
            if soak.log.current.get("watch") in ("ended", "deleted", "refused"):
                await asyncio.sleep(65)  # minutschemat stänger kampanjen i databasen
                break
        await asyncio.gather(*running)
        result.update({"ids": ids, "yes_rows": yes_rows, "total_waves": total_waves})
        result.setdefault("outcome", "inte gjort")
        result["final_next"] = soak.log.current.get("next", "")
        result["final_status"] = soak.log.current.get("status", "")
        await context.close()
        await browser.close()
    return result


def track_socket(log: PageLog, socket: Any) -> None:
    """Kampanjsidans websocket (inte JA-signalen): när den öppnades och stängdes."""
    if not re.search(r"/ws/campaigns/\d+/$", socket.url):
        return
    log.sockets.append((time.time(), "öppnad"))
    socket.on("close", lambda _: log.sockets.append((time.time(), "stängd")))


async def note_outcome(page: Any, soak: Soak, yes_rows: list[str]) -> str:
    """Personalen noterar "Nådde inte" på första JA (om kampanjen fortfarande visar knapparna)."""
    if not yes_rows or not yes_rows[0]:
        return "inget JA"
    row = page.locator(f"tr[data-recipient-id='{yes_rows[0]}']")
    button = row.get_by_role("button", name="Nådde inte")
    if await button.count() == 0:
        return "inga samtalsknappar (kampanjen stängd)"
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    async with page.expect_navigation():
        await button.click()
    await soak.log.wait_for("live", lambda v: v == "live", 20)
    return (await row.inner_text()).replace("\n", " ")


def elapsed(soak: Soak) -> str:
    """Tid sedan kampanjen skapades, mm:ss."""
    seconds = max(0, int(time.time() - (soak.created_at or time.time())))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def run_waves(args: argparse.Namespace, database_url: str) -> bool:
    """Startar låtsasleverantören, daphne och qcluster, kör och skriver rapporten; sant om allt höll."""
    fake = fake_elks46_on_port(args.port + 1).start()
    overrides = {
        **fake_elks46_settings(fake.base_url),
        "CAMPAIGN_QUIET_HOURS": "",  # körningen ska gå att göra dygnet runt
        "SESSION_TIMEOUT_MINUTES": str(args.session_minutes or args.deadline_minutes + 15),
    }
    services: dict[str, Service] = {}
    soak: Soak | None = None
    started = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix="live-waves-") as tmp:
            env = environment(database_url, args.port, Path(tmp) / "static", args.redis_url, **overrides)
            setup_django(env)
            key = create_staff()
            services["daphne"] = start_daphne(env, args.port)
            services["qcluster"] = start_qcluster(env)
            base = f"http://127.0.0.1:{args.port}"
            soak = Soak(args, env, base, fake, services, make_patients(args.recipients))
            try:
                result = asyncio.run(drive(soak, key, database_url))
            except Exception:
                for service in soak.services.values():
                    print(f"{service.name} skrev (sista raderna):\n" + service.output(3000))
                raise
            for service in soak.services.values():
                output = service.output(6000)
                if "Traceback" in output or "ERROR" in output:
                    soak.notes.append(f"{service.name} skrev:\n{output}")
            waves = released_waves(database_url, soak.campaign_id)
            row = campaign_row(database_url, soak.campaign_id)
            runs = schedule_runs(database_url, started, time.time())
    finally:
        for service in reversed(list((soak.services if soak else services).values())):
            stop(service)
        fake.stop()
    return report(soak, result, waves, row, runs, time.time() - started)


# --- Rapporten ------------------------------------------------------------------------------


def clock(at: float | None) -> str:
    """Klockslag hh:mm:ss (klinikens tid), eller – ."""
    return datetime.fromtimestamp(at, CLINIC_ZONE).strftime("%H:%M:%S") if at else "–"


def seconds(value: float | None) -> str:
    """Sekunder med en decimal, eller – ."""
    return f"{value:.1f}" if value is not None else "–"


def report(
    soak: Soak,
    result: dict[str, Any],
    waves: list[tuple[int, float]],
    row: dict[str, Any],
    runs: list[float],
    total: float,
) -> bool:
    """Skriver tabellerna; sant om alla kontroller håller."""
    args, log = soak.args, soak.log
    loads = [t for t, k, _ in log.events if k == "load"]
    checks: dict[str, bool] = {}
    # Grupperna: aktuell (förra gruppen + wave_minutes), släppt (audit), på sidan (grupplistan).
    wave_rows = []
    page_delays: list[float] = []
    due_delays: list[float] = []
    next_lags: list[float] = []
    live_waves = True
    # Efter utloggningen visar sidan bara antalet JA (inga rader, inga grupper): det som kommer
    # därefter väntas inte på sidan.
    logged_out = log.first("live", lambda v: v == "expired") or float("inf")
    for number, released in waves:
        previous = next((at for n, at in waves if n == number - 1), None)
        due = previous + args.wave_minutes * 60 if previous is not None else None
        seen = log.first("waves", lambda v, n=number: int(v or 0) >= n, after=released - 5)
        reload_between = seen is not None and any(released <= t <= seen for t in loads)
        if 1 < number and released < logged_out:  # grupp 1 släpps när kampanjen skapas, före sidan
            live_waves &= seen is not None and not reload_between
        became_due_text = log.first("next", lambda v: v == "inom en minut", after=due - 1) if due is not None else None
        next_lag = (
            became_due_text - due
            if due is not None and became_due_text is not None and became_due_text < released
            else None
        )
        if next_lag is not None:
            next_lags.append(next_lag)
        if seen is not None and number > 1:
            page_delays.append(seen - released)
        if due is not None:
            due_delays.append(released - due)
        wave_rows.append(
            [
                str(number),
                clock(due) if due else "skapandet",
                clock(released),
                seconds(released - due if due else None),
                seconds(seen - released if seen else None) + (" (sidan visades efter)" if reload_between else ""),
                seconds(next_lag),
            ]
        )
    print(
        f"\nKampanj i grupper: {args.recipients} mottagare, grupper om {args.wave_size}, {args.wave_minutes} min emellan; "
        f"sidan öppen {total / 60:.1f} min, minutschemat körde {len(runs)} gånger."
    )
    print_table(
        [
            "grupp",
            "aktuell",
            "släppt",
            "släppt efter aktuell (s)",
            "på sidan efter släppt (s)",
            '"inom en minut" efter aktuell (s)',
        ],
        wave_rows,
    )
    checks["alla grupper släpptes"] = len(waves) == result["total_waves"] or row["status"] == "closed"
    checks["varje grupp syntes live utan omladdning"] = live_waves and bool(waves)
    checks[f"grupp på sidan inom {WAVE_PAGE_GOAL:g} s efter släppt"] = (
        bool(page_delays) and max(page_delays) <= WAVE_PAGE_GOAL
    )
    checks["gruppen släpptes inom en minut efter aktuell"] = bool(due_delays) and max(due_delays) <= 61
    # "Nästa grupp": texterna sidan visade i ordning.
    texts = [(t, v) for t, k, v in log.events if k == "next"]
    distinct: list[str] = []
    for _, value in texts:
        if not distinct or distinct[-1] != value:
            distinct.append(value)
    print('\n"Nästa grupp" på sidan, i ordning: ' + " → ".join(distinct))
    klockslag = [v for v in distinct if v.startswith("kl ")]
    checks['"Nästa grupp" följde varje grupp (kl …)'] = len(set(klockslag)) >= len(waves) - 1
    checks[f'"inom en minut" inom {NEXT_TEXT_GOAL:g} s efter aktuell'] = (
        not next_lags or max(next_lags) <= NEXT_TEXT_GOAL
    )
    # Svaren: POST → raden på sidan, och larmet för JA. Ett svar medan daphne startar om kommer med
    # sidans första läge efter uppkopplingen: det visas men räknas inte mot målet.
    outages = [
        (d.start, log.first("live", lambda v: v == "live", after=d.end) or d.end + RECONNECT_GOAL)
        for d in soak.disturbances
        if d.what == "daphne"
    ]
    answer_rows = []
    latencies: list[float] = []
    for answer in sorted(soak.answers, key=lambda a: a.posted_at):
        want = "yes" if answer.choice == "ja" else "no"
        seen = log.first(
            "rows", lambda v, a=answer, w=want: json.loads(v).get(a.recipient_id) == w, after=answer.posted_at - 1
        )
        alert = (
            log.first("announce", lambda v: v.startswith("Nytt JA"), after=answer.posted_at - 1)
            if answer.choice == "ja"
            else None
        )
        answer.seen_at, answer.alert_at = seen, alert
        during_outage = any(a <= answer.posted_at <= b for a, b in outages)
        if seen is not None and not during_outage:
            latencies.append(seen - answer.posted_at)
        answer_rows.append(
            [
                clock(answer.posted_at),
                answer.choice.upper(),
                answer.error
                or seconds(seen - answer.posted_at if seen else None) + (" (daphne nere)" if during_outage else ""),
                seconds(alert - answer.posted_at if alert else None) if answer.choice == "ja" else "",
            ]
        )
    print_table(["svar (POST)", "svar", "på sidan efter (s)", "larm (uppläsning) efter (s)"], answer_rows)
    shown = [a for a in soak.answers if a.posted_at < logged_out]
    checks["varje svar syntes på sidan (före utloggningen)"] = (
        bool(shown) and all(a.seen_at for a in shown) and not any(a.error for a in soak.answers)
    )
    checks[f"svar på sidan inom {ANSWER_GOAL:g} s"] = bool(latencies) and max(latencies) <= ANSWER_GOAL
    checks["varje JA larmade"] = all(a.alert_at for a in soak.answers if a.choice == "ja")
    # Liveläget: avbrott utanför de planerade störningarna, och uppkopplingen efter daphne.
    states = [(t, v) for t, k, v in log.events if k == "live"]
    planned = [(d.start, d.end + RECONNECT_GOAL) for d in soak.disturbances if d.what == "daphne"]
    # Utloggningen av inaktivitet är väntad (med --session-minutes) tidigast en minut före gränsen.
    last_view = max(loads) if loads else 0.0
    logout_from = last_view + args.session_minutes * 60 - 60 if args.session_minutes else float("inf")
    expired_at = next((t for t, v in states if v == "expired"), None)
    unplanned = [
        (t, v)
        for t, v in states
        if v not in ("live", "connecting")
        and not any(a <= t <= b for a, b in planned)
        and not (v == "expired" and t >= logout_from)
    ]
    reconnects = []
    for disturbance in soak.disturbances:
        down = next((t for t, v in states if t >= disturbance.start and v != "live"), None)
        back = next((t for t, v in states if t >= (down or disturbance.start) and v == "live"), None)
        if disturbance.what == "qcluster":
            next_wave = next((at for _, at in waves if at > disturbance.end), None)
            reconnects.append(
                [
                    "qcluster",
                    clock(disturbance.start),
                    seconds(disturbance.end - disturbance.start),
                    "– (ingen websocket)",
                    f"nästa grupp släppt {clock(next_wave)}",
                ]
            )
            later = [n for n, at in waves if at > disturbance.end]
            checks["grupperna fortsatte efter omstarten av qcluster"] = bool(later)
            continue
        reconnects.append(
            [
                disturbance.what,
                clock(disturbance.start),
                seconds(disturbance.end - disturbance.start),
                seconds(down - disturbance.start) if down else "inget avbrott",
                seconds(back - disturbance.end) if back and down else "–",
            ]
        )
        checks[f"websocketen uppe igen inom {RECONNECT_GOAL:g} s efter daphne"] = (
            down is not None and back is not None and back - disturbance.end <= RECONNECT_GOAL
        )
    print_table(
        ["omstart", "när", "nere/omstart (s)", "sidan märkte efter (s)", "live igen efter start (s)"], reconnects
    )
    opened = [t for t, what in log.sockets if what == "öppnad"]
    closed = [t for t, what in log.sockets if what == "stängd"]
    outcome_at = result.get("outcome_at", 0.0)
    expected_closes = [*planned, (outcome_at, outcome_at + 30)]
    if expired_at is not None and expired_at >= logout_from:
        expected_closes.append((expired_at - 30, expired_at + 30))
    stray = [t for t in closed if not any(a <= t <= b for a, b in expected_closes)]
    print(
        f"\nKampanjsidans websocket: {len(opened)} öppnade, {len(closed)} stängda av sig själva eller servern "
        f"({len(closed) - len(stray)} vid daphnes omstart eller omladdningen efter 'Nådde inte')."
    )
    statuses: list[str] = []
    for _, kind, value in log.events:
        if kind == "status" and (not statuses or statuses[-1] != value):
            statuses.append(value)
    print("Statusmärket på sidan, i ordning: " + " → ".join(statuses))
    checks["statusmärket säger varför kampanjen stängde (inte 'Tiden har passerat' före tiden)"] = (
        "Tiden har passerat" not in statuses
    )
    checks["ingen websocket stängd utöver omstarten och omladdningen"] = not stray
    # Sessionsvaktens bakgrundsanrop får 401 när sessionen gått ut (så märker sidan utloggningen);
    # chromium skriver det i konsolen. Det är väntat efter utloggningen, inget skriptfel.
    errors = [
        (t, text)
        for t, text in log.console_errors
        if not any(a <= t <= b for a, b in planned) and not (t >= logged_out - 60 and "status of 401" in text)
    ]
    messages = sorted({v for _, k, v in log.events if k == "message" and v})
    print(
        f"\nLägen på sidan: {' → '.join(v for _, v in states)}; sidladdningar {len(loads)} "
        f"(inloggning, formulär och kampanjsida före mätningen, sist 'Nådde inte')."
    )
    if messages:
        print("Meddelanderader som visades: " + " | ".join(messages))
    checks["inga avbrott utöver de planerade"] = not unplanned
    checks["inga skriptfel i konsolen (utanför daphnes omstart)"] = not errors
    # Svarstiden: kampanjen stängs av minutschemat och sidan visar det.
    closed_at = log.first("status", lambda v: v.lower().startswith("avslutad"))
    print(
        f"Svarstiden {clock(soak.deadline_at)}: kampanjen {row['status']} kl {clock(row['status_changed_at'])}, "
        f"sidan visade 'Avslutad' kl {clock(closed_at)}; sist \"Nästa grupp\": {result['final_next']!r}."
    )
    if args.session_minutes:
        logout_after = (expired_at - last_view) / 60 if expired_at else None
        late = result.get("after_logout", [])
        banner = log.first("newyes", lambda v: v not in ("", "0"), after=expired_at or 0.0)
        latency = banner - late[0].posted_at if late and banner else None
        ended = log.first("watch", lambda v: v == "ended")
        print(
            f"Utloggad av inaktivitet {logout_after:.1f} min efter sista sidvisningen "
            f"(gräns {args.session_minutes} min); JA efter utloggningen → banderollen 'Nytt JA' efter "
            f"{seconds(latency)} s; JA-signalen slutade ('ended') kl {clock(ended)}."
            if logout_after is not None
            else f"Ingen utloggning av inaktivitet syntes (gräns {args.session_minutes} min)."
        )
        checks["utloggad av inaktivitet i tid"] = logout_after is not None and logout_after <= args.session_minutes + 1
        checks["JA efter utloggningen larmade (banderoll)"] = latency is not None and latency <= 5
        closed_live = closed_at is not None or (ended is not None and ended >= soak.deadline_at)
    else:
        closed_live = closed_at is not None
    checks["svarstiden stängde kampanjen live"] = row["status"] == "closed" and closed_live
    print(f"'Nådde inte' på första JA: {result['outcome']}")
    for note in soak.notes:
        print("\n" + note)
    figures = {
        "grupper släppta": len(waves),
        "grupp släppt efter aktuell, median/max (s)": summary(due_delays),
        "grupp på sidan efter släppt, median/max (s)": summary(page_delays),
        "svar på sidan, median/max (s)": summary(latencies),
        "avbrott utanför omstarterna": len(unplanned),
    }
    print("\n" + "; ".join(f"{k}: {v}" for k, v in figures.items()))
    print_table(["kontroll", "resultat"], [[name, "OK" if passed else "FEL"] for name, passed in checks.items()])
    if errors:
        print("Konsolfel: " + " | ".join(text for _, text in errors[:10]))
    if unplanned:
        print("Avbrott: " + ", ".join(f"{clock(t)} {v}" for t, v in unplanned))
    return all(checks.values())


def summary(values: list[float]) -> str:
    """Median / max med en decimal, eller – ."""
    if not values:
        return "–"
    return f"{statistics.median(values):.1f} / {max(values):.1f}"
