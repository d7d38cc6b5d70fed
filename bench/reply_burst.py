"""Mätning: många patienter som öppnar sin länk och svarar JA/NEJ samtidigt.

Startar daphne på 127.0.0.1 med en engångsdatabas och skapar kampanjer (standard 10 × 50
mottagare) direkt i databasen. Varje patient gör som i telefonen: GET /s/<kod> och sedan
POST med JA eller NEJ (var tredje svarar JA, så varje kampanj får flera JA) – alla på en
gång, med asyncio och aiohttp. Körs en gång mot SQLite (en tillfällig fil) och en gång mot
PostgreSQL (en engångsdatabas på postgres://postgres@127.0.0.1:5432/ som raderas efteråt;
svarar servern inte blir mätningen FEL, om den inte hoppas över med `--skip-postgres`).

Skriver genomströmning (svar per sekund), median och 99:e percentil för svarets POST och
antal fel (inte 302, eller undantag). Som jämförelse körs samma antal besök med samma
samtidighet mot en minimal vy i samma server (`/bench/minimal/`, se bench/_urls.py) och
kvoten portal/minimal skrivs ut: den går att jämföra mellan maskiner. Dessutom daphnes
CPU-tid per besök i båda skurarna (ur /proc) och kvoten mellan dem: svar/s påverkas mycket av
andra program på en delad maskin, CPU-tiden per besök mindre.

En enda skur per vy ger en kvot som på en delad maskin svänger mellan 0,43 och 0,55 från
körning till körning. Därför görs mätningen i `--rounds` varv (standard 3) i samma server:
varje varv har nya patienter och kör den minimala vyn och sedan patientsvaren. Kvoterna är
medianen av varvens kvoter (varje varvs kvot skrivs också ut); svar/s, median och p99 gäller
alla varv tillsammans.

Var tionde patient dubbelklickar: två POST samtidigt med samma svar (båda ska ge 302).
Efteråt kontrolleras i databasen att varje svar sparats exakt en gång (rätt svar,
svarstid satt; ett dubbelsparat JA skulle ta en ny JA-plats och lämna en lucka) och att
varje kampanj har exakt ett första JA: JA-platserna är 1..k utan luckor, k är antalet
patienter som svarade JA, och platserna följer svarstiderna (plats 1 = tidigaste JA). Skriptet avslutas med felkod om en kontroll ger FEL. Körs inte av `make test`.

    .venv/bin/python bench/reply_burst.py [--campaigns 10] [--per-campaign 50] [--concurrency 0] [--rounds 3]
    .venv/bin/python bench/reply_burst.py --recipients 60     # snabb provkörning
    .venv/bin/python bench/reply_burst.py --staff-pages 2       # med personalens sidor öppna
    .venv/bin/python bench/reply_burst.py --processes 2 [--redis-url redis://127.0.0.1:6379/0]

Patientsidornas gräns per IP-adress (60/min) gäller: varje patient får en egen påhittad
klientadress via X-Forwarded-For (TRUSTED_PROXY_COUNT=1), som patienter på olika telefoner.

Med `--staff-pages N` har varje kampanj N öppna kampanjsidor (personalens websocket) under
båda skurarna, som när personalen följer svaren: varje svar ger då en händelse som sidorna
bygger ett nytt läge av, i samma daphne-process som tar emot svaren. Antalet lägen som
sidorna fick skrivs ut. Sidornas session är inloggad utan andra faktor (STAFF_MFA_REQUIRED av
i den här mätningen): sessionskontrollen var 15:e sekund kostar lika mycket med den.

Med `--processes N` mäts i stället driftstacken som kliniken kör den (tests/deploy/stack.py):
nginx med den levererade siten (HTTPS, självsignerat certifikat) framför daphne-processer
startade som systemd-enheterna, DEBUG av, PostgreSQL och Redis (Redis-databasen i
`--redis-url` töms). I samma körning mäts först 1 och sedan N daphne-processer, var gång med
en ny engångsdatabas och samma antal patienter och samtidighet (standard högst 400 patienter
samtidigt: stackens nginx har 1 024 anslutningar och varje pågående begäran tar två);
samma kontroller görs efter varje mätning (ett varv per mätning). Utöver tabellerna ovan skrivs kvoten N processer ÷
1 process (svar/s, median, p99) och hur många kärnor som i genomsnitt var upptagna under
patientsvaren: klienten (det här skriptet, som delar maskinen med servern), daphne, nginx,
PostgreSQL (hela servern, även andras databaser), övrigt och hela maskinen. nginx lägger 127.0.0.1 sist i X-Forwarded-For, så stacken körs med
TRUSTED_PROXY_COUNT=2. Ingår inte i `make bench` (som kör utan argument).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402 – projektroten måste ligga i sys.path först
    BENCH_SETTINGS,
    ROOT,
    WITHOUT_SECOND_FACTOR,
    environment,
    free_port,
    percentile,
    print_table,
    redis_reachable,
    setup_django,
    start_daphne,
    stop,
    throwaway_postgres,
)

# Var tredje patient svarar JA (patient 0, 3, 6 … i varje kampanj), övriga NEJ.
YES_EVERY = 3
# Var tionde patient dubbelklickar (två POST samtidigt).
DOUBLE_CLICK_EVERY = 10
# Längsta tid för en enskild begäran.
REQUEST_TIMEOUT = 120.0
MINIMAL_PATH = "/bench/minimal/"
# Målet (ärende 17): patientsvaret minst hälften av den minimala vyns svar/s (gäller PostgreSQL).
GOAL_RATIO = 0.5
# Redis för --processes (databasen töms vid varje mätning).
REDIS_URL = "redis://127.0.0.1:6379/0"
# Samtidighet för --processes om inget annat anges: nginx i stacken har 1 arbetsprocess med
# 1 024 anslutningar, och varje pågående begäran tar två (klienten och daphne). Med 500 på en
# gång tar anslutningarna slut ("worker_connections are not enough") och begäranden avbryts.
STACK_CONCURRENCY = 400


@dataclass(frozen=True)
class Patient:
    """En mottagare i mätningen: kampanj, mottagare, svarskod och svaret den ska skicka."""

    campaign_id: int
    recipient_id: int
    code: str
    choice: str  # "ja" eller "nej", som formulärets fält `svar`


@dataclass
class Burst:
    """Utfallet av en skur: tid, POST-latenser (lyckade) och fel per slag."""

    visits: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    # daphne-processens CPU-sekunder under skuren (0 = inte mätt, som genom driftstacken).
    cpu_seconds: float = 0.0
    # Lägen som personalens öppna sidor fick under skuren (--staff-pages).
    snapshots: int = 0

    @property
    def throughput(self) -> float:
        """Lyckade svar per sekund över hela skuren."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_visit(self) -> float:
        """daphne-processens CPU-millisekunder per besök (GET + POST); 0 om den inte mättes."""
        return 1000 * self.cpu_seconds / self.visits if self.visits else 0.0

    @property
    def error_count(self) -> int:
        """Antal besök som inte gav väntat svar (eller gav undantag)."""
        return sum(self.errors.values())


def pooled(bursts: list[Burst]) -> Burst:
    """Flera varvs skurar som en: besök, tid, latenser, fel, CPU-tid och lägen summeras."""
    errors: dict[str, int] = {}
    for burst in bursts:
        for kind, count in burst.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return Burst(
        visits=sum(burst.visits for burst in bursts),
        seconds=sum(burst.seconds for burst in bursts),
        latencies=[latency for burst in bursts for latency in burst.latencies],
        errors=errors,
        cpu_seconds=sum(burst.cpu_seconds for burst in bursts),
        snapshots=sum(burst.snapshots for burst in bursts),
    )


def round_ratios(portal: list[Burst], minimal: list[Burst]) -> list[float]:
    """Varje varvs kvot svar/s patientsvar ÷ minimal vy (varv utan lyckade svar räknas inte)."""
    return [p.throughput / m.throughput for p, m in zip(portal, minimal, strict=True) if p.latencies and m.latencies]


def round_cpu_ratios(portal: list[Burst], minimal: list[Burst]) -> list[float]:
    """Varje varvs kvot CPU-tid per besök minimal vy ÷ patientsvar (varv utan mätt CPU-tid räknas inte)."""
    return [
        m.cpu_ms_per_visit / p.cpu_ms_per_visit
        for p, m in zip(portal, minimal, strict=True)
        if p.cpu_seconds and m.cpu_seconds
    ]


def address(index: int) -> str:
    """En påhittad klientadress per patient (10.x.y.z), så gränsen per IP inte slår till."""
    return f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"


def prepare(env: dict[str, str], campaigns: int, per_campaign: int) -> list[Patient]:
    """Migrerar engångsdatabasen och skapar kampanjerna med skickade mottagare (utan sändjobb)."""
    setup_django(env)
    return create_patients(campaigns, per_campaign)


def create_patients(campaigns: int, per_campaign: int) -> list[Patient]:
    """Skapar kampanjerna med skickade mottagare (utan sändjobb) i en redan uppsatt Django."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from campaigns.models import Campaign, Recipient

    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_user(
        username="bench", password=secrets.token_urlsafe(16)
    )
    patients: list[Patient] = []
    for number in range(campaigns):
        campaign = Campaign.objects.create(slot_at=timezone.now() + timedelta(days=1), created_by=user)
        Recipient.objects.bulk_create(
            Recipient(
                campaign=campaign,
                name=f"Patient {number}-{i}",
                phone_hash=f"bench-{number}-{i}",
                phone_masked="070-000 ****",
                send_status=Recipient.SendStatus.SENT,
            )
            for i in range(per_campaign)
        )
        rows = campaign.recipients.order_by("pk").values_list("pk", "code")
        patients += [
            Patient(campaign.pk, pk, code, "ja" if i % YES_EVERY == 0 else "nej") for i, (pk, code) in enumerate(rows)
        ]
    return patients


def shuffled_answers(patients: list[Patient]) -> list[tuple[str, str]]:
    """Besöken (sökväg, svar) i blandad ordning, som svar från många telefoner (samma ordning varje gång)."""
    order = list(range(len(patients)))
    random.Random(42).shuffle(order)
    return [(f"/s/{patients[i].code}", patients[i].choice) for i in order]


async def visit(
    http: aiohttp.ClientSession,
    base: str,
    path: str,
    choice: str,
    client_ip: str,
    post_status: int,
    burst: Burst,
    double: bool = False,
) -> None:
    """En patient: GET sidan (200) och POST svaret med CSRF-kakan från sidan (väntat `post_status`).

    POST:en har Origin-huvudet som en webbläsares formulär (över HTTPS kräver Djangos
    CSRF-skydd Origin eller Referer). `double`: två POST samtidigt (dubbelklick); latensen
    är den första POST:ens.
    """
    headers = {"X-Forwarded-For": client_ip}
    try:
        async with http.get(base + path, headers=headers, allow_redirects=False) as page:
            await page.read()
            if page.status != 200:
                burst.errors[f"GET {page.status}"] = burst.errors.get(f"GET {page.status}", 0) + 1
                return
            cookie = page.cookies.get("csrftoken")
        # Sidan sätter CSRF-kakan; den minimala vyn gör det inte, då duger en egen hemlighet.
        token = cookie.value if cookie else secrets.token_hex(16)
        started = time.perf_counter()
        post_headers = {**headers, "Origin": base}
        posts = [
            post_answer(http, base + path, choice, token, post_headers, started) for _ in range(2 if double else 1)
        ]
        outcomes = await asyncio.gather(*posts)
        for number, (status, elapsed) in enumerate(outcomes):
            if status != post_status:
                burst.errors[f"POST {status}"] = burst.errors.get(f"POST {status}", 0) + 1
            elif number == 0:
                burst.latencies.append(elapsed)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        burst.errors[type(error).__name__] = burst.errors.get(type(error).__name__, 0) + 1


async def post_answer(
    http: aiohttp.ClientSession, url: str, choice: str, token: str, headers: dict[str, str], started: float
) -> tuple[int, float]:
    """En POST med svaret; returnerar (status, sekunder sedan `started`)."""
    async with http.post(
        url,
        data={"svar": choice, "csrfmiddlewaretoken": token},
        headers={**headers, "Cookie": f"csrftoken={token}"},
        allow_redirects=False,
    ) as answer:
        await answer.read()
        return answer.status, time.perf_counter() - started


@dataclass(frozen=True)
class StaffPages:
    """Personalens öppna kampanjsidor under skuren: sessionen och sidornas kampanjer (en post per sida)."""

    session_key: str
    campaign_ids: list[int]


async def count_snapshots(socket: aiohttp.ClientWebSocketResponse, burst: Burst) -> None:
    """Räknar lägena som en öppen kampanjsida får tills den stängs."""
    async for message in socket:
        if message.type == aiohttp.WSMsgType.TEXT and json.loads(message.data).get("type") == "snapshot":
            burst.snapshots += 1


async def open_pages(
    http: aiohttp.ClientSession, base: str, pages: StaffPages
) -> list[aiohttp.ClientWebSocketResponse]:
    """Öppnar kampanjsidornas websockets och väntar in varje sidas första läge."""
    sockets = []
    for campaign_id in pages.campaign_ids:
        socket = await http.ws_connect(
            base.replace("http", "ws", 1) + f"/ws/campaigns/{campaign_id}/",
            origin=base,
            headers={"Cookie": f"sessionid={pages.session_key}"},
        )
        first = await socket.receive_json(timeout=REQUEST_TIMEOUT)
        if first.get("type") != "snapshot":
            raise RuntimeError(f"kampanjsidan fick {first.get('type')!r} i stället för ett läge")
        sockets.append(socket)
    return sockets


async def run_burst(
    base: str, visits: list[tuple[str, str]], post_status: int, concurrency: int, pages: StaffPages | None = None
) -> Burst:
    """Kör alla besök (sökväg, svar) samtidigt, högst `concurrency` åt gången (0 = alla på en gång).

    `pages`: personalens kampanjsidor är öppna under skuren och räknar lägena de får.
    """
    limit = concurrency or len(visits)
    gate = asyncio.Semaphore(limit)
    burst = Burst(visits=len(visits), seconds=0.0)

    async def gated(index: int, path: str, choice: str) -> None:
        """Ett besök när det finns plats under samtidighetsgränsen."""
        async with gate:
            double = index % DOUBLE_CLICK_EVERY == 0
            await visit(http, base, path, choice, address(index), post_status, burst, double)

    connector = aiohttp.TCPConnector(limit=limit, ssl=False)  # stackens certifikat är självsignerat
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()) as http:
        sockets = await open_pages(http, base, pages) if pages else []
        readers = [asyncio.create_task(count_snapshots(socket, burst)) for socket in sockets]
        started = time.perf_counter()
        await asyncio.gather(*(gated(i, path, choice) for i, (path, choice) in enumerate(visits)))
        burst.seconds = time.perf_counter() - started
        await asyncio.sleep(1.0 if sockets else 0.0)  # de sista lägena hinner fram
        for socket in sockets:
            await socket.close()
        await asyncio.gather(*readers)
    return burst


def burst_with_cpu(
    pid: int,
    base: str,
    visits: list[tuple[str, str]],
    post_status: int,
    concurrency: int,
    pages: StaffPages | None = None,
) -> Burst:
    """Som `run_burst`, och daphne-processens (`pid`) CPU-tid under skuren i `cpu_seconds`.

    CPU-tiden per besök störs mindre än svar/s av andra program på en delad maskin: den är
    daphnes eget arbete, inte väntan på en kärna.
    """
    before = tree_cpu_seconds([pid], processes_now())
    burst = asyncio.run(run_burst(base, visits, post_status, concurrency, pages))
    burst.cpu_seconds = tree_cpu_seconds([pid], processes_now()) - before
    return burst


async def warm_up(base: str, rounds: int = 1) -> None:
    """Ett par besök före mätningen, så att mallar och moduler redan är laddade.

    Den okända koden har en riktig kods form, så att besöket når databasen: anslutningspoolen
    öppnas före mätningen, som i en server som redan är igång. `rounds` varv: bakom nginx når
    varven var sin daphne-process (least_conn delar lika).
    """
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as http:
        for _ in range(rounds):
            for path in (MINIMAL_PATH, "/s/OkandKod12345678"):
                async with http.get(base + path, headers={"X-Forwarded-For": "10.255.255.254"}) as response:
                    await response.read()


def verify(patients: list[Patient]) -> tuple[bool, bool, list[str]]:
    """Kontrollerar i databasen: (varje svar sparat exakt en gång, ett första JA per kampanj, fel).

    JA-platserna kontrolleras för sig: de JA som finns sparade ska ha platserna 1..k utan
    luckor eller dubbletter (ett JA sparat två gånger tar en ny plats och lämnar en lucka),
    k ska vara antalet patienter som svarade JA, och platserna ska följa svarstiderna.
    """
    from campaigns.models import Recipient

    expected = {"ja": Recipient.Answer.YES, "nej": Recipient.Answer.NO}
    rows = {
        pk: (answer, answered_at, rank)
        for pk, answer, answered_at, rank in Recipient.objects.filter(
            pk__in=[p.recipient_id for p in patients]
        ).values_list("pk", "answer", "answered_at", "yes_rank")
    }
    problems: list[str] = []
    for patient in patients:
        answer, answered_at, rank = rows[patient.recipient_id]
        wanted = expected[patient.choice]
        if answer != wanted or answered_at is None or (rank is not None) != (wanted == Recipient.Answer.YES):
            problems.append(
                f"mottagare {patient.recipient_id}: svar {answer or 'inget'!r}, JA-plats {rank}, väntat {wanted.value!r}"
            )
    answers_ok = not problems
    ranks_ok = True
    for campaign_id in sorted({p.campaign_id for p in patients}):
        yes_rows = list(
            Recipient.objects.filter(campaign_id=campaign_id, yes_rank__isnull=False)
            .order_by("yes_rank")
            .values_list("yes_rank", "answered_at")
        )
        ranks = [rank for rank, _ in yes_rows]
        times = [answered_at for _, answered_at in yes_rows]
        yes_sent = sum(1 for p in patients if p.campaign_id == campaign_id and p.choice == "ja")
        if ranks != list(range(1, yes_sent + 1)):
            ranks_ok = False
            problems.append(f"kampanj {campaign_id}: JA-platser {ranks[:10]}, väntat 1..{yes_sent} utan luckor")
        elif times != sorted(times):
            ranks_ok = False
            problems.append(f"kampanj {campaign_id}: JA-platserna följer inte svarstiderna")
    return answers_ok, ranks_ok, problems


def measured(patients: list[Patient], portal: list[Burst], minimal: list[Burst]) -> dict[str, object]:
    """En mätnings resultat: båda vyernas skurar (en per varv) och kontrollen att varje svar sparats rätt."""
    answers_ok, ranks_ok, problems = verify(patients)
    return {
        "portal": [asdict(burst) for burst in portal],
        "minimal": [asdict(burst) for burst in minimal],
        "answers_ok": answers_ok,
        "ranks_ok": ranks_ok,
        "problems": problems[:10],
    }


def staff_pages(patients: list[Patient], per_campaign: int) -> StaffPages | None:
    """En inloggad session för mätningens personal och `per_campaign` sidor per kampanj (None om 0)."""
    if not per_campaign:
        return None
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    campaign_ids = sorted({patient.campaign_id for patient in patients})
    return StaffPages(client.cookies[settings.SESSION_COOKIE_NAME].value, campaign_ids * per_campaign)


def measure_database(
    database_url: str, campaigns: int, per_campaign: int, concurrency: int, pages_per_campaign: int = 0, rounds: int = 1
) -> dict[str, object]:
    """Hela mätningen mot en databas i `rounds` varv (körs i en egen process, eftersom Django sätts upp en gång).

    Varje varv har egna patienter (alla skapas före start) och kör den minimala vyn och sedan patientsvaren.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="reply-burst-static-") as static_root:
        pages_env = WITHOUT_SECOND_FACTOR if pages_per_campaign else {}
        env = environment(database_url, port, Path(static_root), BENCH_LIVE_POLL_SECONDS="600", **pages_env)
        by_round = [prepare(env, campaigns, per_campaign)]
        by_round += [create_patients(campaigns, per_campaign) for _ in range(rounds - 1)]
        base = f"http://127.0.0.1:{port}"
        daphne = start_daphne(env, port)
        minimal: list[Burst] = []
        portal: list[Burst] = []
        try:
            asyncio.run(warm_up(base))
            pid = daphne.process.pid
            for patients in by_round:
                pages = staff_pages(patients, pages_per_campaign)
                answers = shuffled_answers(patients)
                minimal.append(
                    burst_with_cpu(pid, base, [(MINIMAL_PATH, c) for _, c in answers], 200, concurrency, pages)
                )
                portal.append(burst_with_cpu(pid, base, answers, 302, concurrency, pages))
            if any(burst.errors for burst in minimal + portal):
                print("daphne skrev (sista raderna):\n" + daphne.output(2000))
        finally:
            stop(daphne)
    return measured([patient for patients in by_round for patient in patients], portal, minimal)


@dataclass(frozen=True)
class ProcessTicks:
    """En process i /proc: namn, förälder och CPU-tid i klocktick (egen och väntade barns)."""

    name: str
    parent: int
    own: int
    children: int


def processes_now() -> dict[int, ProcessTicks]:
    """Varje process i /proc just nu (pid → ProcessTicks), ur /proc/<pid>/stat (proc(5))."""
    found: dict[int, ProcessTicks] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except (OSError, ValueError):
            continue  # processen hann avslutas
        fields = tail.split()
        # Efter "(namn)": tillstånd, ppid, …; utime, stime, cutime, cstime är fält 14–17.
        found[int(entry.name)] = ProcessTicks(
            name=head.split("(", 1)[1],
            parent=int(fields[1]),
            own=int(fields[11]) + int(fields[12]),
            children=int(fields[13]) + int(fields[14]),
        )
    return found


def tree_cpu_seconds(roots: list[int], table: dict[int, ProcessTicks]) -> float:
    """CPU-sekunder för processerna `roots` och alla deras barn, även avslutade barn som väntats in.

    Så räknas nginx arbetsprocesser och PostgreSQL:s kortlivade serverprocesser (en per
    anslutning) med.
    """
    wanted = {pid for pid in roots if pid in table}
    grown = True
    while grown:
        children = {pid for pid, process in table.items() if process.parent in wanted} - wanted
        wanted |= children
        grown = bool(children)
    ticks = sum(table[pid].own for pid in wanted) + sum(table[pid].children for pid in roots if pid in table)
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_servers(table: dict[int, ProcessTicks]) -> list[int]:
    """PostgreSQL:s huvudprocesser på maskinen (postgres-processer vars förälder inte är postgres)."""
    return [
        pid
        for pid, process in table.items()
        if process.name == "postgres" and table.get(process.parent, ProcessTicks("", 0, 0, 0)).name != "postgres"
    ]


def machine_busy_seconds() -> float:
    """Hela maskinens upptagna CPU-sekunder sedan start (alla kärnor; /proc/stat utan idle och iowait)."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(web: list[int], nginx: list[int]) -> dict[str, float]:
    """CPU-sekunder hittills: klienten (den här processen), daphne, nginx, PostgreSQL och hela maskinen."""
    table = processes_now()
    return {
        "client": time.process_time(),
        "daphne": tree_cpu_seconds(web, table),
        "nginx": tree_cpu_seconds(nginx, table),
        "postgres": tree_cpu_seconds(postgres_servers(table), table),
        "machine": machine_busy_seconds(),
        "wall": time.perf_counter(),
    }


def nginx_problems(logs: Path) -> str:
    """nginx felloggar sammanfattade: antal rader per slag av fel (raderna själva har patientlänkar)."""
    kinds: dict[str, int] = {}
    for log in sorted(logs.glob("*error.log")):
        for line in log.read_text(errors="replace").splitlines():
            # "… [alert] 123#0: 1024 worker_connections are not enough while …, client: …"
            message = re.sub(r"^.*?\[(\w+)\] \d+#\d+: (\*\d+ )?", r"[\1] ", line).split(",")[0]
            kinds[message] = kinds.get(message, 0) + 1
    if not kinds:
        return "nginx skrev inga fel."
    return "nginx skrev:\n" + "\n".join(f"  {count} × {message}" for message, count in kinds.items())


def measure_stack(
    database_url: str, redis_url: str, processes: int, campaigns: int, per_campaign: int, concurrency: int
) -> dict[str, object]:
    """Mätningen genom driftstacken: nginx (HTTPS) framför `processes` daphne, PostgreSQL och Redis.

    Stacken startas ur deploy/ (tests/deploy/stack.py) med mätvyn och TRUSTED_PROXY_COUNT=2,
    så att varje patients egen X-Forwarded-For räknas (nginx lägger 127.0.0.1 sist). Körs i
    en egen process; testdata skapas direkt i stackens databas. Patientsvarens skur mäts
    också i CPU-tid per del (klient, daphne, nginx, PostgreSQL, hela maskinen).
    """
    import django

    from tests.deploy.stack import running_stack
    from tests.fakes.elks46_server import FakeElks46

    elks46 = FakeElks46().start()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="reply-burst-stack-") as tmp,
            running_stack(
                Path(tmp),
                database_url,
                redis_url,
                elks46.base_url,
                web_processes=processes,
                worker=False,
                TRUSTED_PROXY_COUNT="2",
                DJANGO_SETTINGS_MODULE=BENCH_SETTINGS,
                BENCH_STATIC_ROOT=str(Path(tmp) / "static"),
            ) as stack,
        ):
            os.environ.update({**stack.env, "LOG_LEVEL": "WARNING"})  # bara den här processens utskrifter
            django.setup()
            patients = create_patients(campaigns, per_campaign)
            answers = shuffled_answers(patients)
            web = [process.popen.pid for process in stack.web]
            nginx = [stack.nginx.popen.pid] if stack.nginx else []
            asyncio.run(warm_up(stack.base_url, rounds=2 * processes))
            minimal = asyncio.run(run_burst(stack.base_url, [(MINIMAL_PATH, c) for _, c in answers], 200, concurrency))
            before = cpu_snapshot(web, nginx)
            portal = asyncio.run(run_burst(stack.base_url, answers, 302, concurrency))
            after = cpu_snapshot(web, nginx)
            if minimal.errors or portal.errors:
                print("daphne skrev (sista raderna):\n" + stack.portal_logs()[-2000:])
                print(nginx_problems(Path(tmp) / "logs"))
    finally:
        elks46.stop()
    return {**measured(patients, [portal], [minimal]), "cpu": {part: after[part] - before[part] for part in after}}


def run_child(database_url: str, args: argparse.Namespace, processes: int = 0) -> dict[str, object]:
    """Kör mätningen mot en databas i en ny process och läser dess resultat (JSON i en fil).

    `processes` > 0: genom driftstacken med så många daphne-processer (measure_stack).
    """
    with tempfile.TemporaryDirectory(prefix="reply-burst-result-") as tmp:
        result_file = Path(tmp) / "resultat.json"
        stack = [f"--stack-processes={processes}", f"--redis-url={args.redis_url}"] if processes else []
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                f"--campaigns={args.campaigns}",
                f"--per-campaign={args.per_campaign}",
                f"--concurrency={args.concurrency}",
                f"--staff-pages={args.staff_pages}",
                f"--rounds={args.rounds}",
                f"--database-url={database_url}",
                f"--result-file={result_file}",
                *stack,
            ],
            cwd=ROOT,
            check=True,
        )
        return json.loads(result_file.read_text())


def postgres_max_connections(database_url: str) -> str:
    """PostgreSQL-serverns max_connections: varje samtidig begäran i daphne har en egen anslutning."""
    import psycopg

    with psycopg.connect(database_url, connect_timeout=2) as connection:
        row = connection.execute("SHOW max_connections").fetchone()
    return str(row[0]) if row else "?"


def burst_row(database: str, view: str, burst: Burst) -> list[str]:
    """En tabellrad för en skur."""
    if not burst.latencies:
        return [database, view, "0", "–", "–", str(burst.error_count)]
    return [
        database,
        view,
        f"{burst.throughput:.1f}",
        f"{statistics.median(burst.latencies) * 1000:.1f}",
        f"{percentile(burst.latencies, 0.99) * 1000:.1f}",
        str(burst.error_count),
    ]


def report(
    results: dict[str, dict[str, object] | None],
    visits: int,
    concurrency: int,
    column: str = "databas",
    rounds: int = 1,
) -> bool:
    """Skriver tabellerna (första kolumnen heter `column`, `visits` besök per varv); sant om alla kontroller gav OK."""
    headers = [column, "vy", "svar/s", "median (ms)", "p99 (ms)", "fel"]
    rows: list[list[str]] = []
    ratios: list[list[str]] = []
    cpu: list[list[str]] = []
    snapshots: list[list[str]] = []
    checks: list[list[str]] = []
    all_ok = True
    for database, result in results.items():
        if result is None:
            rows.append([database, "–", "–", "–", "–", "servern svarar inte"])
            checks.append([database, "FEL", "FEL"])
            all_ok = False
            continue
        portal_rounds = [Burst(**burst) for burst in result["portal"]]
        minimal_rounds = [Burst(**burst) for burst in result["minimal"]]
        portal, minimal = pooled(portal_rounds), pooled(minimal_rounds)
        rows += [burst_row(database, "patientsvar", portal), burst_row(database, "minimal vy", minimal)]
        for kind, count in portal.errors.items():
            print(f"  {database}: {count} × {kind}")
        if by_round := round_ratios(portal_rounds, minimal_rounds):
            ratio = statistics.median(by_round)
            ratios.append(
                [
                    database,
                    # Tre decimaler: 0,497 avrundat till 0,50 stod annars bredvid "inte nått".
                    f"{ratio:.3f}",
                    ", ".join(f"{value:.3f}" for value in by_round),
                    "nått" if ratio >= GOAL_RATIO else "inte nått",
                    f"{statistics.median(portal.latencies) / statistics.median(minimal.latencies):.1f}",
                    f"{percentile(portal.latencies, 0.99) / percentile(minimal.latencies, 0.99):.1f}",
                ]
            )
        if portal.snapshots:
            snapshots.append([database, str(portal.snapshots), str(len(portal.latencies))])
        if cpu_by_round := round_cpu_ratios(portal_rounds, minimal_rounds):
            cpu.append(
                [
                    database,
                    f"{portal.cpu_ms_per_visit:.1f}",
                    f"{minimal.cpu_ms_per_visit:.1f}",
                    f"{statistics.median(cpu_by_round):.2f}",
                    ", ".join(f"{value:.2f}" for value in cpu_by_round),
                ]
            )
        checks.append([database, "OK" if result["answers_ok"] else "FEL", "OK" if result["ranks_ok"] else "FEL"])
        all_ok = all_ok and bool(result["answers_ok"]) and bool(result["ranks_ok"])
        for problem in result["problems"]:
            print(f"  {database}: {problem}")
    together = "alla på en gång" if not concurrency else f"högst {concurrency} samtidigt"
    times = f" per varv, {rounds} varv (kvoterna: medianen av varvens)" if rounds > 1 else ""
    print(f"\n{visits} patienter (GET + POST){times}, {together}.")
    print_table(headers, rows, left=2)
    goal = f"mål ≥ {GOAL_RATIO:.1f}".replace(".", ",")
    print_table(
        [column, "svar/s portal ÷ minimal", "per varv", goal, "median portal ÷ minimal", "p99 portal ÷ minimal"], ratios
    )
    if cpu:
        print("\ndaphnes CPU-tid per besök (GET + POST), mindre störd av andra program än svar/s:")
        print_table([column, "CPU-ms portal", "CPU-ms minimal", "minimal ÷ portal", "per varv"], cpu)
    if snapshots:
        print("\nPersonalens öppna kampanjsidor under patientsvaren (--staff-pages):")
        print_table([column, "lägen till sidorna", "svar"], snapshots)
    print_table([column, "varje svar sparat en gång", "exakt ett första JA per kampanj"], checks)
    return all_ok


def report_processes(one: dict[str, object] | None, many: dict[str, object] | None, processes: int) -> None:
    """Skriver kvoten `processes` daphne ÷ 1 daphne per vy och CPU-användningen under patientsvaren."""
    measured = {label: result for label, result in ((1, one), (processes, many)) if result is not None}
    if one is not None and many is not None and processes > 1:
        rows = []
        for view, name in (("portal", "patientsvar"), ("minimal", "minimal vy")):
            single = pooled([Burst(**burst) for burst in one[view]])
            several = pooled([Burst(**burst) for burst in many[view]])
            if single.latencies and several.latencies:
                rows.append(
                    [
                        name,
                        f"{several.throughput / single.throughput:.2f}",
                        f"{statistics.median(several.latencies) / statistics.median(single.latencies):.2f}",
                        f"{percentile(several.latencies, 0.99) / percentile(single.latencies, 0.99):.2f}",
                    ]
                )
        print_table(["vy", f"svar/s {processes} ÷ 1 process", "median", "p99"], rows)
    cores = os.cpu_count() or 1
    cpu_rows = []
    for count, result in measured.items():
        cpu = result["cpu"]
        wall = cpu["wall"] or 1.0
        parts = [cpu["client"], cpu["daphne"], cpu["nginx"], cpu["postgres"]]
        other = cpu["machine"] - sum(parts)
        cpu_rows.append(
            [
                f"{count} daphne",
                f"{cpu['wall']:.1f}",
                *(f"{value / wall:.2f}" for value in (*parts, other, cpu["machine"])),
            ]
        )
    print(f"\nUpptagna kärnor i genomsnitt under patientsvaren (maskinen har {cores}):")
    print_table(
        ["server", "tid (s)", "klient", "daphne", "nginx", "PostgreSQL", "övrigt (Redis, annat)", "hela maskinen"],
        cpu_rows,
    )


def parse_arguments() -> argparse.Namespace:
    """Kommandoradens argument (antal kampanjer och mottagare, samtidighet)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10, help="antal kampanjer (standard 10)")
    parser.add_argument("--per-campaign", type=int, default=50, help="mottagare per kampanj (standard 50)")
    parser.add_argument(
        "--recipients",
        type=int,
        help="totalt antal mottagare, fördelade på --campaigns kampanjer (ersätter --per-campaign)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help=f"högst så många patienter samtidigt (0 = alla; standard alla, med --processes {STACK_CONCURRENCY})",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="varv per databas, vart och ett med nya patienter (standard 3; med --processes alltid 1)",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="mät bara mot SQLite")
    parser.add_argument(
        "--staff-pages", type=int, default=0, help="öppna kampanjsidor per kampanj under skurarna (standard 0)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="mät i stället genom nginx mot PostgreSQL och Redis, med 1 och med så många daphne-processer",
    )
    parser.add_argument(
        "--redis-url", default=REDIS_URL, help=f"Redis för --processes, databasen töms (standard {REDIS_URL})"
    )
    # Internt: en barnprocess mäter mot en databas och skriver resultatet till en fil.
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    parser.add_argument("--stack-processes", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.recipients:
        args.per_campaign = math.ceil(args.recipients / args.campaigns)
    if args.campaigns < 1 or args.per_campaign < 1:
        parser.error("minst en kampanj med minst en mottagare")
    if args.rounds < 1:
        parser.error("--rounds ska vara minst 1")
    if args.processes < 0:
        parser.error("--processes ska vara minst 1")
    if args.staff_pages < 0 or (args.staff_pages and args.processes):
        parser.error("--staff-pages: 0 eller fler, och inte med --processes")
    if args.concurrency is None:
        args.concurrency = STACK_CONCURRENCY if args.processes else 0
    return args


def compare_processes(args: argparse.Namespace) -> int:
    """Mäter genom nginx med 1 och med `--processes` daphne (var sin engångsdatabas) och skriver tabellerna."""
    counts = sorted({1, args.processes})
    by_count: dict[int, dict[str, object] | None] = dict.fromkeys(counts)
    if not redis_reachable(args.redis_url):
        print(f"Redis svarar inte på {args.redis_url} (starta den, eller ange --redis-url).")
        counts_to_measure = []
    else:
        counts_to_measure = counts
    for count in counts_to_measure:
        with throwaway_postgres() as database_url:
            if database_url is None:
                print("PostgreSQL svarar inte på 127.0.0.1:5432 (starta den).")
                break
            print(
                f"nginx + {count} daphne, PostgreSQL (max_connections {postgres_max_connections(database_url)}) "
                f"och Redis: {args.campaigns} kampanjer × {args.per_campaign} patienter ..."
            )
            by_count[count] = run_child(database_url, args, processes=count)
    results: dict[str, dict[str, object] | None] = {}
    for count in counts:
        results[f"nginx + {count} daphne"] = by_count.get(count)
    all_ok = report(results, args.campaigns * args.per_campaign, args.concurrency, column="server")
    report_processes(by_count.get(1), by_count.get(counts[-1]), counts[-1])
    return 0 if all_ok else 1


def main() -> int:
    """Mäter mot SQLite och PostgreSQL (var för sig i egna processer) och skriver tabellerna."""
    args = parse_arguments()
    if args.database_url and args.stack_processes:
        result = measure_stack(
            args.database_url, args.redis_url, args.stack_processes, args.campaigns, args.per_campaign, args.concurrency
        )
        Path(args.result_file).write_text(json.dumps(result))
        return 0
    if args.database_url:
        result = measure_database(
            args.database_url, args.campaigns, args.per_campaign, args.concurrency, args.staff_pages, args.rounds
        )
        Path(args.result_file).write_text(json.dumps(result))
        return 0
    if args.processes:
        return compare_processes(args)
    results: dict[str, dict[str, object] | None] = {}
    visits = args.campaigns * args.per_campaign
    with tempfile.TemporaryDirectory(prefix="reply-burst-") as tmp:
        print(f"SQLite: {args.rounds} varv × {args.campaigns} kampanjer × {args.per_campaign} patienter ...")
        results["SQLite"] = run_child(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args)
    if not args.skip_postgres:
        with throwaway_postgres() as database_url:
            if database_url is None:
                print("PostgreSQL svarar inte på 127.0.0.1:5432 (starta den, eller kör med --skip-postgres).")
                results["PostgreSQL"] = None
            else:
                print(
                    f"PostgreSQL (max_connections {postgres_max_connections(database_url)}): "
                    f"{args.rounds} varv × {args.campaigns} kampanjer × {args.per_campaign} patienter ..."
                )
                results["PostgreSQL"] = run_child(database_url, args)
    return 0 if report(results, visits, args.concurrency, rounds=args.rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
