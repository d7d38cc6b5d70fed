"""Mätning: personalens kampanjsidor öppna i tio minuter mot den riktiga servern, medan patienter svarar då och då.

Kör portalen så som kliniken kör den: `daphne` (README:ns kommandorad) och `manage.py qcluster`
som egna processer, DEBUG av, PostgreSQL (en engångsdatabas på
postgres://postgres@127.0.0.1:5432/ som raderas efteråt) och Redis (`--redis-url`, standard
redis://127.0.0.1:6379/0: kanal-lager, cache och django-q2-kö). Portalens adress är
http://127.0.0.1, så HTTPS-reglerna (omdirigering, Secure-kakor, HSTS) gäller inte: mätningen talar
vanlig http. SMS:en går genom den riktiga 46elks-backenden till en låtsas-46elks i den
här processen (tests/fakes/elks46_server.py).

Som i verkligheten: personalen loggar in genom inloggningsformuläret med lösenord och kod från
appen (tvåstegsverifieringen är på i drift; ett konto och en session per öppen sida, standard 20), skapar kampanjerna (standard 5 × 10 mottagare) genom personalens formulär
(förhandsgranska, sedan Skicka), och qcluster skickar SMS:en. Patienternas länkar tas ur
SMS:en som låtsasleverantören tog emot. Varje sida laddas (GET) och öppnar sedan sin websocket
`/ws/campaigns/<id>/` med sessionskakan och Origin lika med portalens ursprung; stängs den
utan att mätningen bett om det räknas det och sidan kopplar upp igen efter 1, 2, 4 … högst 30 s,
som sidans skript gör. Patienterna svarar vid slumpade tillfällen (ett svar var 20–40:e s,
`--min-gap`/`--max-gap`) som i telefonen: GET /s/<kod>, sidans POST "öppnad", och POST med JA
eller NEJ (ett ändrat svar varje gång). De sista `--idle-minutes` (standard 2) kommer inga
svar alls: tomgång.

Skriver, i en tabell sist:

* stängda websockets under körningen (mål 0), med stängningskoder;
* händelser levererade mot väntade (mål alla): varje svar ska ge varje öppen sida för den
  kampanjen en ögonblicksbild där mottagarens nya svar syns, inom 10 s;
* latens från svarets POST till ögonblicksbilden på varje sida: median, p95 (mål under en
  sekund, DESIGN) och max;
* läsningar av kampanjtabellerna (campaigns_campaign + campaigns_recipient, seq_scan + idx_scan
  i PostgreSQL:s pg_stat_user_tables) per öppen sida och minut i tomgångsfönstret (mål 0 med
  Redis). qcluster:s minutschema (`requeue_stuck_work`) läser samma tabeller oberoende av
  sidorna: dess körningar i fönstret (django_q_task) gånger dess läsningar per körning
  (uppmätta med pg_stat_xact_user_tables) dras av. Sessionskontrollen var 15:e sekund läser
  bara django_session och auth_user, som visas för sammanhanget i tabellen före.

PostgreSQL skickar en process statistik upp till 10 s sent; därför kommer sista svaret minst
15 s före tomgångsfönstret, och fönstret börjar och slutar mitt emellan två körningar av
minutschemat (så börjar det upp till en minut senare, och körningen blir så mycket längre).
En körning kortare än 10 minuter är en provkörning och sägs vara det. Svarar PostgreSQL eller Redis inte blir mätningen FEL, och ett
mål som inte nås ger också felkod. Körs inte av `make test`.

    .venv/bin/python bench/live_soak.py [--minutes 10] [--dashboards 20] [--campaigns 5] [--port 8300]
    .venv/bin/python bench/live_soak.py --minutes 2              # provkörning
    .venv/bin/python bench/live_soak.py --redis-url redis://127.0.0.1:6379/9
    .venv/bin/python bench/live_soak.py --waves              # en kampanj i grupper i chromium, se nedan

`--waves` kör i stället bench/_live_waves.py: en kampanj i grupper (standard 16 mottagare, grupper
om 2, 1 minut emellan) med kampanjsidan öppen i Debians chromium (Playwright) tills svarstiden
stängt kampanjen, omkring 17 minuter, med en omstart av qcluster och en av daphne på vägen.

Daphne lyssnar på `--port`, låtsas-46elks på porten efter. Kanal-lagrets grupper och kön heter
som portalens: kör andra samtidigt mot samma Redis, välj ett eget databasnummer i `--redis-url`.
Patientsidornas gräns per IP-adress (60/min) gäller: varje patient har en egen påhittad
klientadress via X-Forwarded-For (TRUSTED_PROXY_COUNT=1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import re
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402 – projektroten måste ligga i sys.path först
    Service,
    environment,
    fake_elks46_on_port,
    fake_elks46_settings,
    percentile,
    print_table,
    redis_reachable,
    setup_django,
    start_process,
    stop,
    throwaway_postgres,
)
from tests.fakes.elks46_server import FakeElks46  # noqa: E402

# En fullständig körning; kortare är en provkörning.
FULL_MINUTES = 10.0
DEFAULT_PORT = 8300
# En händelse räknas som levererad om ögonblicksbilden kom inom så många sekunder efter POST.
EVENT_DEADLINE = 10.0
# Sista svaret kommer minst så här långt före tomgångsfönstret (leveranser och statistik hinner fram).
SETTLE_SECONDS = 15.0
# Längsta väntan på alla kampanj-SMS, på sidornas första läge och på en enskild HTTP-begäran.
SMS_TIMEOUT = 120.0
FIRST_SNAPSHOT_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
# Sidans skript: nytt försök efter 1, 2, 4 … högst 30 sekunder.
MAX_BACKOFF = 30.0
# Nyckeltal för p95 (DESIGN: svar syns på öppna sidor inom en sekund).
P95_GOAL = 1.0
STAFF_USERNAME = "personal"
STAFF_PASSWORD = "Bench-Personal-Lösenord-42!"
CAMPAIGN_TABLES = ("campaigns_campaign", "campaigns_recipient")
# För sammanhanget: SMS-registret (sändförsök och leveransrapporter), audit och sessionskontrollen.
CONTEXT_TABLES = ("smsportal_sendattempt", "audit_auditevent", "django_session", "auth_user")
ALL_TABLES = CAMPAIGN_TABLES + CONTEXT_TABLES
SCHEDULE_FUNC = "campaigns.tasks.requeue_stuck_work"
# Minutschemats period (sekunder): tomgångsfönstret börjar och slutar mitt emellan två körningar.
SCHEDULE_PERIOD = 60.0
# Formulärets svar och svaret som ögonblicksbilden visar.
SNAPSHOT_ANSWER = {"ja": "yes", "nej": "no"}
SCANS_SQL = "SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM {view} WHERE relname = ANY(%s)"


@dataclass
class Patient:
    """En mottagare: kampanjens nummer i mätningen, namn, nummer, svarskod och senaste svar."""

    campaign: int
    name: str
    national: str
    address: str
    code: str = ""
    recipient_id: int = 0
    answer: str = ""  # "ja" eller "nej", som formulärets fält `svar`
    answered_at: float = -math.inf

    @property
    def e164(self) -> str:
        """Numret som leverantören får det (+46…)."""
        return "+46" + self.national[1:]


@dataclass
class Expectation:
    """Ett svar: vilka sidor som ska få se det, och när dess POST började."""

    campaign_id: int
    recipient_id: int
    answer: str  # "yes" eller "no", som i ögonblicksbilden
    started: float
    waiting: set[int]
    pages: int = 0
    cancelled: bool = False


@dataclass
class Tracker:
    """Hela körningens utfall: väntade och levererade händelser, latenser, stängningar och fel."""

    expectations: list[Expectation] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    late: int = 0
    closes: Counter[str] = field(default_factory=Counter)
    idle_closes: int = 0
    in_idle_window: bool = False
    patient_errors: Counter[str] = field(default_factory=Counter)
    answers: int = 0
    run_minutes: float = 0.0  # hur länge sidorna faktiskt var öppna under mätningen

    def expect(self, campaign_id: int, recipient_id: int, answer: str, dashboards: set[int]) -> Expectation:
        """Registrerar ett svar just innan dess POST: varje sida i `dashboards` ska få se det."""
        expectation = Expectation(
            campaign_id, recipient_id, answer, time.perf_counter(), set(dashboards), len(dashboards)
        )
        self.expectations.append(expectation)
        self.answers += 1
        return expectation

    def seen(self, dashboard: int, campaign_id: int, rows: dict[int, dict[str, Any]], at: float) -> None:
        """En sida fick en ögonblicksbild: de svar den visar för första gången räknas som levererade."""
        for expectation in self.expectations:
            if (
                expectation.cancelled
                or expectation.campaign_id != campaign_id
                or dashboard not in expectation.waiting
                or rows.get(expectation.recipient_id, {}).get("answer") != expectation.answer
            ):
                continue
            expectation.waiting.discard(dashboard)
            elapsed = at - expectation.started
            if elapsed <= EVENT_DEADLINE:
                self.latencies.append(elapsed)
            else:
                self.late += 1

    def closed(self, reason: str) -> None:
        """En websocket stängdes eller gick inte att öppna, utan att mätningen bett om det."""
        self.closes[reason] += 1
        self.idle_closes += self.in_idle_window

    def patient_failed(self, kind: str, expectation: Expectation | None = None) -> None:
        """Ett patientsvar gick inte fram: felet räknas och svaret väntas inte på någon sida."""
        self.patient_errors[kind] += 1
        if expectation is not None:
            expectation.cancelled = True

    @property
    def expected(self) -> int:
        """Antal händelser som borde ha kommit fram: svar som gick fram × kampanjens öppna sidor."""
        return sum(e.pages for e in self.expectations if not e.cancelled)

    @property
    def delivered(self) -> int:
        """Antal händelser som kom fram inom EVENT_DEADLINE."""
        return len(self.latencies)


@dataclass
class Dashboard:
    """En öppen kampanjsida: personalens inloggade webbläsare och dess websocket."""

    index: int
    campaign_id: int
    http: aiohttp.ClientSession
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    socket: aiohttp.ClientWebSocketResponse | None = None
    ended: str = ""  # "session_expired" eller "deleted": sidan slutar då försöka
    stopping: bool = False
    task: asyncio.Task[None] | None = None


@dataclass
class IdleWindow:
    """Tomgångsfönstret: läsningar per tabell, databasens klocka vid start och slut, och minutschemat."""

    minutes: float
    scans: dict[str, int]
    start: datetime
    end: datetime
    schedule_runs: int = 0
    schedule_cost: dict[str, int] = field(default_factory=dict)

    def schedule_scans(self, table: str) -> int:
        """Läsningar av tabellen som minutschemat stod för i fönstret."""
        return self.schedule_runs * self.schedule_cost.get(table, 0)

    def residual(self, tables: tuple[str, ...]) -> int:
        """Läsningar av tabellerna utöver minutschemats: det som de öppna sidorna står för."""
        return sum(self.scans.get(t, 0) - self.schedule_scans(t) for t in tables)


@dataclass
class Outcome:
    """Allt som rapporten behöver."""

    tracker: Tracker
    idle: IdleWindow
    dashboards: int


# --- HTTP: personal och patienter ------------------------------------------------------------


def hidden_value(html: str, name: str) -> str:
    """Värdet i ett formulärfält `name` i sidan (CSRF-token, formulär-id); tomt om det saknas."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    return match.group(1) if match else ""


def browser(origin: str) -> aiohttp.ClientSession:
    """En webbläsare: egen kakburk (även för 127.0.0.1), Origin som en riktig webbläsare skickar."""
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"Origin": origin},
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_TIMEOUT),
    )


async def fetch(http: aiohttp.ClientSession, method: str, url: str, expected: int, **kwargs: Any) -> tuple[str, str]:
    """En begäran som ska ge statusen `expected`; returnerar (kropp, Location). Annat ger RuntimeError."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with http.request(method, url, allow_redirects=False, timeout=timeout, **kwargs) as response:
        body = await response.text()
        if response.status != expected:
            shown = re.sub(r"/s/[^/]+", "/s/<kod>", url)  # patientens kod hör inte hemma i utskriften
            raise RuntimeError(f"{method} {shown} gav {response.status}, väntat {expected}")
        return body, response.headers.get("Location", "")


async def login(base: str, username: str, key: bytes) -> aiohttp.ClientSession:
    """Loggar in en personal genom inloggningsformuläret och koden från appen (tvåstegsverifieringen
    krävs i drift); returnerar webbläsaren med sessionen."""
    from bench._live_waves import totp_code

    http = browser(base)
    try:
        page, _ = await fetch(http, "GET", f"{base}/konto/logga-in/", 200)
        data = {
            "csrfmiddlewaretoken": hidden_value(page, "csrfmiddlewaretoken"),
            "username": username,
            "password": STAFF_PASSWORD,
            "next": "",
        }
        _, location = await fetch(http, "POST", f"{base}/konto/logga-in/", 302, data=data)
        if "tvastegsverifiering" in location:
            page, _ = await fetch(http, "GET", base + location, 200)
            code = {"csrfmiddlewaretoken": hidden_value(page, "csrfmiddlewaretoken"), "otp_token": totp_code(key)}
            await fetch(http, "POST", base + location, 302, data=code)
    except BaseException:
        await http.close()
        raise
    return http


def recipient_list(patients: list[Patient]) -> str:
    """Den inklistrade listan: namn, mobilnummer, samtycke (ja), en mottagare per rad."""
    return "\n".join(f"{p.name}, {p.national}, ja" for p in patients)


async def create_campaign(http: aiohttp.ClientSession, base: str, number: int, patients: list[Patient]) -> int:
    """Skapar en kampanj genom personalens formulär (förhandsgranska, sedan Skicka); returnerar dess id."""
    url = f"{base}/personal/akut-sms/"
    page, _ = await fetch(http, "GET", url, 200)
    fields = {
        "csrfmiddlewaretoken": hidden_value(page, "csrfmiddlewaretoken"),
        "request_id": hidden_value(page, "request_id"),
        "slot_date": (date.today() + timedelta(days=1)).isoformat(),
        "slot_time": f"{8 + number % 8:02d}:00",
        "operation_type": "",
        "recipients": recipient_list(patients),
        "notify_phone": "",
    }
    preview, _ = await fetch(http, "POST", url, 200, data=fields)
    if 'name="skicka"' not in preview:
        raise RuntimeError("formuläret för en ny kampanj godtogs inte (ingen förhandsgranskning)")
    fields["request_id"] = hidden_value(preview, "request_id")
    fields["csrfmiddlewaretoken"] = hidden_value(preview, "csrfmiddlewaretoken") or fields["csrfmiddlewaretoken"]
    _, location = await fetch(http, "POST", url, 302, data={**fields, "skicka": "1"})
    match = re.search(r"/personal/akut-sms/(\d+)/", location)
    if match is None:
        raise RuntimeError("Skicka ledde inte till kampanjsidan")
    return int(match.group(1))


async def patient_answers(
    base: str, patient: Patient, choice: str, campaign_id: int, pages: set[int], tracker: Tracker
) -> None:
    """En patient i telefonen: öppnar länken, sidans skript säger "öppnad", patienten trycker JA/NEJ."""
    headers = {"X-Forwarded-For": patient.address}
    url = f"{base}/s/{patient.code}"
    expectation: Expectation | None = None
    async with browser(base) as phone:
        try:
            page, _ = await fetch(phone, "GET", url, 200, headers=headers)
            token = hidden_value(page, "csrfmiddlewaretoken")
            if "data-opened-url" in page:
                await fetch(phone, "POST", f"{url}/oppnad", 204, headers={**headers, "X-CSRFToken": token})
            expectation = tracker.expect(campaign_id, patient.recipient_id, SNAPSHOT_ANSWER[choice], pages)
            data = {"csrfmiddlewaretoken": token, "svar": choice}
            _, location = await fetch(phone, "POST", url, 302, headers=headers, data=data)
            patient.answer = choice
            expectation = None  # svaret är sparat: nu väntas det på sidorna
            await fetch(phone, "GET", base + location, 200, headers=headers)  # tacksidan, som webbläsaren visar
        except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as error:
            kind = str(error) if isinstance(error, RuntimeError) else type(error).__name__
            tracker.patient_failed(kind, expectation)


# --- Websockets ----------------------------------------------------------------------------


async def open_dashboard(dashboard: Dashboard, base: str, tracker: Tracker) -> None:
    """Laddar kampanjsidan (GET) och håller dess websocket öppen, med nya försök som sidans skript."""
    await fetch(dashboard.http, "GET", f"{base}/personal/akut-sms/{dashboard.campaign_id}/", 200)
    url = f"ws://{base.split('://', 1)[1]}/ws/campaigns/{dashboard.campaign_id}/"
    attempt = 0
    while not dashboard.stopping:
        try:
            dashboard.socket = await dashboard.http.ws_connect(url, origin=base)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            if dashboard.stopping:
                return
            tracker.closed(f"uppkopplingen misslyckades ({type(error).__name__})")
        else:
            attempt = await read_socket(dashboard, dashboard.socket, tracker, attempt)
            if dashboard.stopping:
                return
            tracker.closed(close_reason(dashboard))
            if dashboard.ended:
                return  # utloggad eller raderad: sidan slutar försöka
        await asyncio.sleep(min(MAX_BACKOFF, 2.0**attempt))
        attempt += 1


async def read_socket(dashboard: Dashboard, ws: aiohttp.ClientWebSocketResponse, tracker: Tracker, attempt: int) -> int:
    """Läser meddelanden tills socketen stängs; returnerar antalet misslyckade försök i rad (0 efter en bild)."""
    while True:
        message = await ws.receive()
        if message.type != aiohttp.WSMsgType.TEXT:
            return attempt  # CLOSE, CLOSING, CLOSED eller ERROR
        at = time.perf_counter()
        data = json.loads(message.data)
        if data.get("type") == "snapshot":
            attempt = 0
            dashboard.rows = {row["id"]: row for row in data["data"]["rows"]}
            dashboard.ready.set()
            tracker.seen(dashboard.index, dashboard.campaign_id, dashboard.rows, at)
        elif data.get("type") in ("session_expired", "deleted"):
            dashboard.ended = data["type"]


def close_reason(dashboard: Dashboard) -> str:
    """Varför socketen stängdes: stängningskoden (1011 = serverfel, 1006 = bruten) och ev. beskedet."""
    ws = dashboard.socket
    code = ws.close_code if ws is not None else None
    error = ws.exception() if ws is not None else None
    reason = f"kod {code}" if code is not None else "ingen kod"
    if error is not None:
        reason += f", {type(error).__name__}"
    return reason + (f" ({dashboard.ended})" if dashboard.ended else "")


async def close_dashboards(dashboards: list[Dashboard]) -> None:
    """Stänger sidornas websockets (det räknas inte som avbrott)."""
    for dashboard in dashboards:
        dashboard.stopping = True
    for dashboard in dashboards:
        if dashboard.socket is not None and not dashboard.socket.closed:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                await dashboard.socket.close()
        if dashboard.task is not None:
            dashboard.task.cancel()
            await asyncio.gather(dashboard.task, return_exceptions=True)


# --- PostgreSQL-statistik ------------------------------------------------------------------


def read_scans(database_url: str) -> tuple[datetime, dict[str, int]]:
    """Databasens klocka och läsningar (seq_scan + idx_scan) per tabell just nu, i en egen anslutning."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute("SELECT pg_stat_clear_snapshot()")
        row = connection.execute("SELECT now()").fetchone()
        rows = connection.execute(SCANS_SQL.format(view="pg_stat_user_tables"), [list(ALL_TABLES)]).fetchall()
    assert row is not None
    return row[0], {table: int(scans) for table, scans in rows}


def seconds_to_mid_schedule(database_url: str) -> float:
    """Sekunder tills det är mitt emellan två körningar av minutschemat (0 om det inte körts än).

    Där börjar tomgångsfönstret: PostgreSQL skickar en process statistik upp till 10 s sent,
    och med en halv minuts marginal hamnar varje körning helt i eller helt utanför fönstret.
    """
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT max(started), now() FROM django_q_task WHERE func = %s", [SCHEDULE_FUNC]
        ).fetchone()
    if row is None or row[0] is None:
        return 0.0
    since = (row[1] - row[0]).total_seconds()
    return (SCHEDULE_PERIOD / 2 - since) % SCHEDULE_PERIOD


def schedule_runs(database_url: str, start: datetime, end: datetime) -> int:
    """Antal körningar av minutschemat som började i fönstret (django-q2 sparar dem i django_q_task)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT count(*) FROM django_q_task WHERE func = %s AND started >= %s AND started < %s",
            [SCHEDULE_FUNC, start, end],
        ).fetchone()
    return int(row[0]) if row else 0


def schedule_cost() -> dict[str, int]:
    """Läsningar per tabell i en körning av minutschemat (utan att något ändras: rullas tillbaka)."""
    from django.db import connection, transaction

    from campaigns.tasks import requeue_stuck_work

    with transaction.atomic():
        requeue_stuck_work()
        with connection.cursor() as cursor:
            cursor.execute(SCANS_SQL.format(view="pg_stat_xact_user_tables"), [list(ALL_TABLES)])
            cost = {table: int(scans) for table, scans in cursor.fetchall()}
        transaction.set_rollback(True)
    return cost


def difference(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Läsningar per tabell mellan två avläsningar."""
    return {table: after.get(table, 0) - before.get(table, 0) for table in ALL_TABLES}


# --- Körningen -----------------------------------------------------------------------------


def make_patients(campaigns: int, per_campaign: int) -> list[list[Patient]]:
    """Mottagarna per kampanj: påhittade namn, unika mobilnummer och egna klientadresser."""
    return [
        [
            Patient(
                campaign=c,
                name=f"Patient {c + 1}-{i + 1}",
                national=f"070{1_000_000 + c * 1_000 + i:07d}",
                address=f"10.{c // 256 % 256}.{c % 256}.{i % 256}",
            )
            for i in range(per_campaign)
        ]
        for c in range(campaigns)
    ]


async def wait_for_sms(fake: FakeElks46, patients: list[Patient]) -> None:
    """Väntar tills leverantören fått varje patients SMS och tar svarskoden ur länken i texten."""
    wanted = {p.e164: p for p in patients}
    deadline = time.monotonic() + SMS_TIMEOUT
    while True:
        for request in list(fake.requests):
            form = request.form_fields()
            match = re.search(r"/s/([A-Za-z0-9]+)", form.get("message", ""))
            if form.get("to") in wanted and match:
                wanted[form["to"]].code = match.group(1)
        missing = sum(1 for p in patients if not p.code)
        if not missing:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{missing} av {len(patients)} kampanj-SMS kom inte fram till leverantören inom {SMS_TIMEOUT:.0f} s"
            )
        await asyncio.sleep(0.2)


def pick_patient(rng: random.Random, patients: list[Patient], now: float) -> Patient:
    """En slumpad patient som inte svarat de senaste EVENT_DEADLINE sekunderna (hans förra svar mäts)."""
    free = [p for p in patients if now - p.answered_at > EVENT_DEADLINE]
    return rng.choice(free or patients)


def next_choice(rng: random.Random, patient: Patient) -> str:
    """Patientens nya svar: slumpat första gången, sedan det motsatta (varje svar är en ändring)."""
    if not patient.answer:
        return rng.choice(["ja", "nej"])
    return "nej" if patient.answer == "ja" else "ja"


async def answer_phase(
    base: str,
    until: float,
    args: argparse.Namespace,
    patients: list[Patient],
    campaign_ids: list[int],
    pages: dict[int, set[int]],
    tracker: Tracker,
) -> None:
    """Patienterna svarar vid slumpade tillfällen (mellanrum min–max gap) fram till `until` (perf_counter)."""
    rng = random.Random(args.seed)
    running: list[asyncio.Task[None]] = []
    while True:
        gap = rng.uniform(args.min_gap, args.max_gap)
        if time.perf_counter() + gap > until:
            break
        await asyncio.sleep(gap)
        patient = pick_patient(rng, patients, time.perf_counter())
        patient.answered_at = time.perf_counter()
        campaign_id = campaign_ids[patient.campaign]
        choice = next_choice(rng, patient)
        running.append(
            asyncio.create_task(patient_answers(base, patient, choice, campaign_id, pages[campaign_id], tracker))
        )
    await asyncio.gather(*running)


async def progress(tracker: Tracker, started: float) -> None:
    """En rad i minuten, så att en lång körning syns medan den pågår."""
    while True:
        await asyncio.sleep(60)
        minute = round((time.perf_counter() - started) / 60)
        print(
            f"  minut {minute}: {tracker.answers} svar, {sum(tracker.closes.values())} stängda websockets, "
            f"{tracker.delivered} händelser levererade",
            flush=True,
        )


async def soak(
    args: argparse.Namespace, base: str, fake: FakeElks46, database_url: str, staff: list[tuple[str, bytes]]
) -> tuple[Tracker, IdleWindow]:
    """Hela körningen mot den startade servern: inloggning, kampanjer, sidor, svar och tomgång."""
    tracker = Tracker()
    sessions: list[aiohttp.ClientSession] = []
    dashboards: list[Dashboard] = []
    try:
        print(f"Loggar in {args.dashboards} personalsessioner genom inloggningsformuläret ...", flush=True)
        for username, key in staff:
            sessions.append(await login(base, username, key))
        groups = make_patients(args.campaigns, args.per_campaign)
        print(
            f"Skapar {args.campaigns} kampanjer × {args.per_campaign} mottagare genom personalens formulär ...",
            flush=True,
        )
        campaign_ids = [await create_campaign(sessions[0], base, n, group) for n, group in enumerate(groups)]
        patients = [p for group in groups for p in group]
        print(f"Väntar på att qcluster skickar {len(patients)} SMS ...", flush=True)
        await wait_for_sms(fake, patients)
        print(f"Öppnar {args.dashboards} kampanjsidor med websocket ...", flush=True)
        dashboards = [Dashboard(i, campaign_ids[i % args.campaigns], http) for i, http in enumerate(sessions)]
        for dashboard in dashboards:
            dashboard.task = asyncio.create_task(open_dashboard(dashboard, base, tracker))
        try:
            await asyncio.wait_for(asyncio.gather(*(d.ready.wait() for d in dashboards)), FIRST_SNAPSHOT_TIMEOUT)
        except TimeoutError:
            waiting = sum(not d.ready.is_set() for d in dashboards)
            raise RuntimeError(
                f"{waiting} kampanjsidor fick inget läge över websocketen inom {FIRST_SNAPSHOT_TIMEOUT:.0f} s"
            ) from None
        assign_recipient_ids(groups, campaign_ids, dashboards)
        idle = await timed_run(args, base, patients, campaign_ids, dashboards, tracker, database_url)
    finally:
        await close_dashboards(dashboards)
        for http in sessions:
            await http.close()
    return tracker, idle


async def timed_run(
    args: argparse.Namespace,
    base: str,
    patients: list[Patient],
    campaign_ids: list[int],
    dashboards: list[Dashboard],
    tracker: Tracker,
    database_url: str,
) -> IdleWindow:
    """De `--minutes` minuterna: svar vid slumpade tillfällen, sedan tomgång med avläsning före och efter."""
    pages = {cid: {d.index for d in dashboards if d.campaign_id == cid} for cid in campaign_ids}
    answer_minutes = args.minutes - args.idle_minutes
    print(
        f"Kör {args.minutes:g} min: svar i {answer_minutes:g} min (ett var {args.min_gap:g}–{args.max_gap:g}:e s), "
        f"sedan {args.idle_minutes:g} min tomgång (börjar mitt mellan två körningar av minutschemat, "
        "högst en minut senare) ...",
        flush=True,
    )
    started = time.perf_counter()
    ticker = asyncio.create_task(progress(tracker, started))
    try:
        last_answer = started + answer_minutes * 60 - SETTLE_SECONDS
        await answer_phase(base, last_answer, args, patients, campaign_ids, pages, tracker)
        await asyncio.sleep(max(0.0, started + answer_minutes * 60 - time.perf_counter()))
        tracker.in_idle_window = True
        await asyncio.sleep(await asyncio.to_thread(seconds_to_mid_schedule, database_url))
        start_clock, before = await asyncio.to_thread(read_scans, database_url)
        await asyncio.sleep(args.idle_minutes * 60)
        end_clock, after = await asyncio.to_thread(read_scans, database_url)
    finally:
        ticker.cancel()
    tracker.run_minutes = (time.perf_counter() - started) / 60
    return IdleWindow(args.idle_minutes, difference(before, after), start_clock, end_clock)


def assign_recipient_ids(groups: list[list[Patient]], campaign_ids: list[int], dashboards: list[Dashboard]) -> None:
    """Mottagarnas id ur sidornas första ögonblicksbild (namnet står på raden, som personalen ser det)."""
    for number, group in enumerate(groups):
        page = next(d for d in dashboards if d.campaign_id == campaign_ids[number])
        ids = {row["name"]: row_id for row_id, row in page.rows.items()}
        for patient in group:
            if patient.name not in ids:
                raise RuntimeError(f"kampanjsidan visar inte mottagaren {patient.name}")
            patient.recipient_id = ids[patient.name]


# --- Processer och rapport -----------------------------------------------------------------


def port_free(port: int) -> bool:
    """Sant om porten på 127.0.0.1 går att lyssna på (som daphne: gamla TIME_WAIT-anslutningar stör inte)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_daphne(env: dict[str, str], port: int) -> Service:
    """Startar daphne med README:ns kommandorad (åtkomstloggen av) och väntar tills porten svarar."""
    args = ["-b", "127.0.0.1", "-p", str(port), "--access-log", "/dev/null", "config.asgi:application"]
    return start_process("daphne", [sys.executable, "-m", "daphne", *args], env, port)


def create_staff(count: int) -> list[tuple[str, bytes]]:
    """Ett personalkonto per öppen sida (aktivt, utan administratörsrätt), var och ett med en bekräftad
    autentiseringsapp: en kod godtas bara en gång per konto, så 20 inloggningar behöver 20 konton.
    Returnerar (användarnamn, appens nyckel) per konto."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = []
    for number in range(1, count + 1):
        user = get_user_model().objects.create_user(username=f"{STAFF_USERNAME}-{number}", password=STAFF_PASSWORD)
        device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
        staff.append((user.username, bytes(device.bin_key)))
    return staff


def close_django_connections() -> None:
    """Stänger den här processens databasanslutningar (och pool) innan databasen raderas."""
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def run(args: argparse.Namespace, database_url: str) -> Outcome:
    """Startar låtsasleverantören, daphne och qcluster mot engångsdatabasen, kör och stoppar allt."""
    fake = fake_elks46_on_port(args.port + 1).start()
    overrides = {
        **fake_elks46_settings(fake.base_url),
        "CAMPAIGN_MAX_RECIPIENTS": str(max(50, args.per_campaign)),
        # Sidorna förlänger aldrig sessionen: den får räcka hela körningen (standard 30 min).
        "SESSION_TIMEOUT_MINUTES": str(max(30, math.ceil(args.minutes) + 10)),
    }
    services: list[Service] = []
    try:
        with tempfile.TemporaryDirectory(prefix="live-soak-") as tmp:
            env = environment(database_url, args.port, Path(tmp) / "static", args.redis_url, **overrides)
            setup_django(env)
            staff = create_staff(args.dashboards)
            services.append(start_daphne(env, args.port))
            services.append(start_process("qcluster", [sys.executable, "manage.py", "qcluster"], env))
            base = f"http://127.0.0.1:{args.port}"
            try:
                tracker, idle = asyncio.run(soak(args, base, fake, database_url, staff))
            except Exception:
                for service in services:
                    print(f"{service.name} skrev (sista raderna):\n" + service.output(1500))
                raise
            idle.schedule_runs = schedule_runs(database_url, idle.start, idle.end)
            if tracker.closes or tracker.patient_errors:
                print("daphne skrev (sista raderna):\n" + services[0].output(1500))
    finally:
        for service in reversed(services):
            stop(service)
        fake.stop()
    idle.schedule_cost = schedule_cost()
    close_django_connections()
    return Outcome(tracker, idle, args.dashboards)


def milliseconds(values: list[float]) -> str:
    """Median / p95 / max i millisekunder, eller – utan mätvärden."""
    if not values:
        return "–"
    return f"{statistics.median(values) * 1000:.0f} / {percentile(values, 0.95) * 1000:.0f} / {max(values) * 1000:.0f}"


def per_socket_minute(scans: int, outcome: Outcome) -> str:
    """Läsningar per öppen sida och minut i tomgångsfönstret."""
    return f"{scans / (outcome.dashboards * outcome.idle.minutes):.2f}"


def print_idle_table(outcome: Outcome) -> None:
    """Tabellen för tomgångsfönstret: läsningar per tabell, varav minutschemat, per sida och minut."""
    idle = outcome.idle
    print(
        f"\nTomgångsfönstret: {idle.minutes:g} min utan svar, {outcome.dashboards} öppna sidor; "
        f"minutschemat körde {idle.schedule_runs} gånger."
    )
    rows = [
        [
            table,
            str(idle.scans.get(table, 0)),
            str(idle.schedule_scans(table)),
            per_socket_minute(idle.scans.get(table, 0) - idle.schedule_scans(table), outcome),
        ]
        for table in ALL_TABLES
    ]
    print_table(["tabell", "läsningar", "varav minutschemat", "övriga per sida och minut"], rows)


def report(outcome: Outcome, args: argparse.Namespace, trial: bool) -> bool:
    """Skriver tabellerna; sant om alla mål nås."""
    tracker, idle = outcome.tracker, outcome.idle
    print_idle_table(outcome)
    for kind, count in tracker.patient_errors.items():
        print(f"  patientsvar som inte gick fram: {count} × {kind}")
    closes = sum(tracker.closes.values())
    codes = ", ".join(f"{reason} × {count}" for reason, count in tracker.closes.most_common())
    expected = tracker.expected
    p95 = percentile(tracker.latencies, 0.95) if tracker.latencies else math.inf
    residual = idle.residual(CAMPAIGN_TABLES)
    # Högst en körning av minutschemat fel åt något håll (fönstret ligger mitt emellan körningarna).
    slack = sum(idle.schedule_cost.get(t, 0) for t in CAMPAIGN_TABLES)
    checks = {
        "closes": closes == 0,
        "events": expected > 0 and tracker.delivered == expected,
        "latency": p95 < P95_GOAL,
        "queries": abs(residual) <= slack,
    }
    rows = [
        ["stängda websockets", f"{closes}" + (f" ({codes})" if codes else ""), "0", ok(checks["closes"])],
        [
            "händelser levererade inom 10 s / väntade",
            f"{tracker.delivered}/{expected}" + (f" ({tracker.late} senare)" if tracker.late else ""),
            "alla",
            ok(checks["events"]),
        ],
        ["svar → sida, median / p95 / max (ms)", milliseconds(tracker.latencies), "p95 < 1000", ok(checks["latency"])],
        [
            "kampanjfrågor per sida och minut i tomgång",
            per_socket_minute(residual, outcome),
            "0 med Redis",
            ok(checks["queries"]),
        ],
    ]
    kind = (
        f"PROVKÖRNING ({args.minutes:g} min; rapportens siffror bygger på {FULL_MINUTES:g} min)"
        if trial
        else f"{args.minutes:g} min"
    )
    print(
        f"\n{kind}: {outcome.dashboards} sidor öppna i {tracker.run_minutes:.1f} min på {args.campaigns} kampanjer, "
        f"{tracker.answers} svar; {tracker.idle_closes} stängningar i tomgångsfönstret. Redis: {args.redis_url}."
    )
    print_table(["mått", "resultat", "mål", "kontroll"], rows)
    return all(checks.values())


def ok(passed: bool) -> str:
    """OK eller FEL."""
    return "OK" if passed else "FEL"


def unavailable(service: str, reason: str) -> int:
    """En tjänst som inte svarar: FEL i tabellen och felkod."""
    print_table(["tjänst", "kontroll", "orsak"], [[service, "FEL", reason]])
    return 1


def parse_arguments() -> argparse.Namespace:
    """Kommandoradens argument."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=FULL_MINUTES, help="körningens längd i minuter (standard 10)")
    parser.add_argument(
        "--dashboards", type=int, default=20, help="antal öppna kampanjsidor, en session var (standard 20)"
    )
    parser.add_argument("--campaigns", type=int, default=5, help="antal kampanjer som sidorna delas på (standard 5)")
    parser.add_argument("--per-campaign", type=int, default=10, help="mottagare per kampanj (standard 10)")
    parser.add_argument(
        "--min-gap", type=float, default=20.0, help="kortaste tid mellan två svar, sekunder (standard 20)"
    )
    parser.add_argument(
        "--max-gap", type=float, default=40.0, help="längsta tid mellan två svar, sekunder (standard 40)"
    )
    parser.add_argument(
        "--idle-minutes", type=float, help="tomgång utan svar sist i körningen (standard 2, högst halva körningen)"
    )
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/0", help="Redis (standard redis://127.0.0.1:6379/0)"
    )
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL-serverns administrationsdatabas; engångsdatabasen skapas bredvid (standard %(default)s)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="daphnes port; låtsas-46elks tar nästa (standard 8300)"
    )
    parser.add_argument("--seed", type=int, default=42, help="slumpfrö för vem som svarar och när (standard 42)")
    parser.add_argument(
        "--waves",
        action="store_true",
        help="i stället: en kampanj i grupper, kampanjsidan i chromium tills svarstiden stängt den (bench/_live_waves.py)",
    )
    parser.add_argument("--recipients", type=int, default=16, help="--waves: mottagare (standard 16)")
    parser.add_argument("--wave-size", type=int, default=2, help="--waves: antal per grupp (standard 2)")
    parser.add_argument("--wave-minutes", type=int, default=1, help="--waves: minuter mellan grupper (standard 1)")
    parser.add_argument(
        "--deadline-minutes", type=int, default=15, help="--waves: svara senast om så många minuter (minst 15)"
    )
    parser.add_argument(
        "--session-minutes",
        type=int,
        default=0,
        help="--waves: SESSION_TIMEOUT_MINUTES, så att utloggningen av inaktivitet kommer under körningen "
        "(standard: ingen utloggning)",
    )
    args = parser.parse_args()
    if args.idle_minutes is None:
        args.idle_minutes = min(2.0, args.minutes / 2)
    if args.dashboards < 1 or args.campaigns < 1 or args.per_campaign < 1:
        parser.error("minst en sida, en kampanj och en mottagare per kampanj")
    if args.dashboards < args.campaigns:
        parser.error("--dashboards måste vara minst --campaigns (varje kampanj ska ha en öppen sida)")
    if not 0 < args.min_gap <= args.max_gap:
        parser.error("--min-gap måste vara större än 0 och högst --max-gap")
    if args.idle_minutes <= 0 or (args.minutes - args.idle_minutes) * 60 < SETTLE_SECONDS + args.max_gap:
        parser.error("--minutes räcker inte till både svar och tomgång (--idle-minutes)")
    return args


def main() -> int:
    """Kontrollerar tjänsterna, kör mätningen och skriver tabellerna; felkod om ett mål inte nås."""
    args = parse_arguments()
    if args.waves:
        return main_waves(args)
    trial = args.minutes < FULL_MINUTES
    if trial:
        print(f"Obs: {args.minutes:g} min är en provkörning; rapportens siffror bygger på {FULL_MINUTES:g} min.")
    return in_stack(args, lambda database_url: report(run(args, database_url), args, trial))


def main_waves(args: argparse.Namespace) -> int:
    """`--waves`: kampanjen i grupper i en riktig webbläsare (bench/_live_waves.py); felkod om en kontroll fallerar."""
    from bench._live_waves import run_waves

    return in_stack(args, lambda database_url: run_waves(args, database_url))


def in_stack(args: argparse.Namespace, body: Callable[[str], bool]) -> int:
    """Kör `body` med en engångsdatabas när Redis svarar och portarna är lediga; 0 om den lyckades,
    1 om en kontroll fallerade, och `unavailable`s felkod när en tjänst saknas eller portalen inte startar."""
    if not redis_reachable(args.redis_url):
        return unavailable("Redis", f"svarar inte på {args.redis_url}")
    for port in (args.port, args.port + 1):
        if not port_free(port):
            return unavailable("port", f"{port} är upptagen (välj en annan med --port)")
    with throwaway_postgres(args.database_url) as database_url:
        if database_url is None:
            return unavailable("PostgreSQL", f"svarar inte på {args.database_url}")
        try:
            passed = body(database_url)
        except (RuntimeError, OSError, aiohttp.ClientError) as error:
            return unavailable("portalen", str(error) or type(error).__name__)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
