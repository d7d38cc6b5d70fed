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
kvoten portal/minimal skrivs ut: den går att jämföra mellan maskiner.

Var tionde patient dubbelklickar: två POST samtidigt med samma svar (båda ska ge 302).
Efteråt kontrolleras i databasen att varje svar sparats exakt en gång (rätt svar,
svarstid satt; ett dubbelsparat JA skulle ta en ny JA-plats och lämna en lucka) och att
varje kampanj har exakt ett första JA: JA-platserna är 1..k utan luckor, k är antalet
patienter som svarade JA, och platserna följer svarstiderna (plats 1 = tidigaste JA). Skriptet avslutas med felkod om en kontroll ger FEL. Körs inte av `make test`.

    .venv/bin/python bench/reply_burst.py [--campaigns 10] [--per-campaign 50] [--concurrency 0]
    .venv/bin/python bench/reply_burst.py --recipients 60     # snabb provkörning

Patientsidornas gräns per IP-adress (60/min) gäller: varje patient får en egen påhittad
klientadress via X-Forwarded-For (TRUSTED_PROXY_COUNT=1), som patienter på olika telefoner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402 – projektroten måste ligga i sys.path först
    ROOT,
    environment,
    free_port,
    percentile,
    print_table,
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

    @property
    def throughput(self) -> float:
        """Lyckade svar per sekund över hela skuren."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        """Antal besök som inte gav väntat svar (eller gav undantag)."""
        return sum(self.errors.values())


def address(index: int) -> str:
    """En påhittad klientadress per patient (10.x.y.z), så gränsen per IP inte slår till."""
    return f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"


def prepare(env: dict[str, str], campaigns: int, per_campaign: int) -> list[Patient]:
    """Migrerar engångsdatabasen och skapar kampanjerna med skickade mottagare (utan sändjobb)."""
    setup_django(env)
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from campaigns.models import Campaign, Recipient

    user = get_user_model().objects.create_user(username="bench", password=secrets.token_urlsafe(16))
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

    `double`: två POST samtidigt (dubbelklick); latensen är den första POST:ens.
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
        posts = [post_answer(http, base + path, choice, token, headers, started) for _ in range(2 if double else 1)]
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


async def run_burst(base: str, visits: list[tuple[str, str]], post_status: int, concurrency: int) -> Burst:
    """Kör alla besök (sökväg, svar) samtidigt, högst `concurrency` åt gången (0 = alla på en gång)."""
    limit = concurrency or len(visits)
    gate = asyncio.Semaphore(limit)
    burst = Burst(visits=len(visits), seconds=0.0)

    async def gated(index: int, path: str, choice: str) -> None:
        """Ett besök när det finns plats under samtidighetsgränsen."""
        async with gate:
            double = index % DOUBLE_CLICK_EVERY == 0
            await visit(http, base, path, choice, address(index), post_status, burst, double)

    connector = aiohttp.TCPConnector(limit=limit)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()) as http:
        started = time.perf_counter()
        await asyncio.gather(*(gated(i, path, choice) for i, (path, choice) in enumerate(visits)))
        burst.seconds = time.perf_counter() - started
    return burst


async def warm_up(base: str) -> None:
    """Ett par besök före mätningen, så att mallar och moduler redan är laddade."""
    async with aiohttp.ClientSession() as http:
        for path in (MINIMAL_PATH, "/s/okand-kod"):
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
        for pk, answer, answered_at, rank in Recipient.objects.filter(pk__in=[p.recipient_id for p in patients])
        .values_list("pk", "answer", "answered_at", "yes_rank")
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


def measure_database(database_url: str, campaigns: int, per_campaign: int, concurrency: int) -> dict[str, object]:
    """Hela mätningen mot en databas (körs i en egen process, eftersom Django sätts upp en gång)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="reply-burst-static-") as static_root:
        env = environment(database_url, port, Path(static_root), LIVE_POLL_SECONDS="600")
        patients = prepare(env, campaigns, per_campaign)
        order = list(range(len(patients)))
        random.Random(42).shuffle(order)  # kampanjerna blandas, som svar från många telefoner
        answers = [(f"/s/{patients[i].code}", patients[i].choice) for i in order]
        base = f"http://127.0.0.1:{port}"
        daphne = start_daphne(env, port)
        try:
            asyncio.run(warm_up(base))
            minimal = asyncio.run(run_burst(base, [(MINIMAL_PATH, c) for _, c in answers], 200, concurrency))
            portal = asyncio.run(run_burst(base, answers, 302, concurrency))
            if minimal.errors or portal.errors:
                print("daphne skrev (sista raderna):\n" + daphne.output(2000))
        finally:
            stop(daphne)
    answers_ok, ranks_ok, problems = verify(patients)
    return {
        "portal": asdict(portal),
        "minimal": asdict(minimal),
        "answers_ok": answers_ok,
        "ranks_ok": ranks_ok,
        "problems": problems[:10],
    }


def run_child(database_url: str, args: argparse.Namespace) -> dict[str, object]:
    """Kör mätningen mot en databas i en ny process och läser dess resultat (JSON i en fil)."""
    with tempfile.TemporaryDirectory(prefix="reply-burst-result-") as tmp:
        result_file = Path(tmp) / "resultat.json"
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                f"--campaigns={args.campaigns}",
                f"--per-campaign={args.per_campaign}",
                f"--concurrency={args.concurrency}",
                f"--database-url={database_url}",
                f"--result-file={result_file}",
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


def report(results: dict[str, dict[str, object] | None], visits: int, concurrency: int) -> bool:
    """Skriver tabellerna; sant om alla kontroller gav OK."""
    headers = ["databas", "vy", "svar/s", "median (ms)", "p99 (ms)", "fel"]
    rows: list[list[str]] = []
    ratios: list[list[str]] = []
    checks: list[list[str]] = []
    all_ok = True
    for database, result in results.items():
        if result is None:
            rows.append([database, "–", "–", "–", "–", "servern svarar inte"])
            checks.append([database, "FEL", "FEL"])
            all_ok = False
            continue
        portal, minimal = Burst(**result["portal"]), Burst(**result["minimal"])
        rows += [burst_row(database, "patientsvar", portal), burst_row(database, "minimal vy", minimal)]
        for kind, count in portal.errors.items():
            print(f"  {database}: {count} × {kind}")
        if portal.latencies and minimal.latencies:
            ratios.append(
                [
                    database,
                    f"{portal.throughput / minimal.throughput:.2f}",
                    f"{statistics.median(portal.latencies) / statistics.median(minimal.latencies):.1f}",
                    f"{percentile(portal.latencies, 0.99) / percentile(minimal.latencies, 0.99):.1f}",
                ]
            )
        checks.append([database, "OK" if result["answers_ok"] else "FEL", "OK" if result["ranks_ok"] else "FEL"])
        all_ok = all_ok and bool(result["answers_ok"]) and bool(result["ranks_ok"])
        for problem in result["problems"]:
            print(f"  {database}: {problem}")
    together = "alla på en gång" if not concurrency else f"högst {concurrency} samtidigt"
    print(f"\n{visits} patienter (GET + POST), {together}.")
    print_table(headers, rows, left=2)
    print_table(["databas", "svar/s portal ÷ minimal", "median portal ÷ minimal", "p99 portal ÷ minimal"], ratios)
    print_table(["databas", "varje svar sparat en gång", "exakt ett första JA per kampanj"], checks)
    return all_ok


def parse_arguments() -> argparse.Namespace:
    """Kommandoradens argument (antal kampanjer och mottagare, samtidighet)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10, help="antal kampanjer (standard 10)")
    parser.add_argument("--per-campaign", type=int, default=50, help="mottagare per kampanj (standard 50)")
    parser.add_argument(
        "--recipients", type=int, help="totalt antal mottagare, fördelade på --campaigns kampanjer (ersätter --per-campaign)"
    )
    parser.add_argument("--concurrency", type=int, default=0, help="högst så många patienter samtidigt (0 = alla)")
    parser.add_argument("--skip-postgres", action="store_true", help="mät bara mot SQLite")
    # Internt: en barnprocess mäter mot en databas och skriver resultatet till en fil.
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.recipients:
        args.per_campaign = math.ceil(args.recipients / args.campaigns)
    if args.campaigns < 1 or args.per_campaign < 1:
        parser.error("minst en kampanj med minst en mottagare")
    return args


def main() -> int:
    """Mäter mot SQLite och PostgreSQL (var för sig i egna processer) och skriver tabellerna."""
    args = parse_arguments()
    if args.database_url:
        result = measure_database(args.database_url, args.campaigns, args.per_campaign, args.concurrency)
        Path(args.result_file).write_text(json.dumps(result))
        return 0
    results: dict[str, dict[str, object] | None] = {}
    visits = args.campaigns * args.per_campaign
    with tempfile.TemporaryDirectory(prefix="reply-burst-") as tmp:
        print(f"SQLite: {args.campaigns} kampanjer × {args.per_campaign} patienter ...")
        results["SQLite"] = run_child(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args)
    if not args.skip_postgres:
        with throwaway_postgres() as database_url:
            if database_url is None:
                print("PostgreSQL svarar inte på 127.0.0.1:5432 (starta den, eller kör med --skip-postgres).")
                results["PostgreSQL"] = None
            else:
                print(
                    f"PostgreSQL (max_connections {postgres_max_connections(database_url)}): "
                    f"{args.campaigns} kampanjer × {args.per_campaign} patienter ..."
                )
                results["PostgreSQL"] = run_child(database_url, args)
    return 0 if report(results, visits, args.concurrency) else 1


if __name__ == "__main__":
    sys.exit(main())
