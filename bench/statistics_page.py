"""Mätning: statistiksidan med 24 månader × 200 kampanjer i statistiken (ärende 15).

Fyller en engångsdatabas med 4 800 sparade kampanjrader (raderade kampanjer), de senaste sju
dagarnas kampanjer som fortfarande finns (50 kampanjer à 10 mottagare, med SMS i registret) och
envägs-SMS för 24 månader (standard 1 000 i månaden, fem i personalen, tio mallar). Hämtar
sedan /personal/statistik/ som administratör (alla avsnitt, även per person) och CSV:n, en i
taget genom testklienten (hela middleware-kedjan), och skriver median, 90:e percentil och
antalet databasfrågor per sidvisning. Mål för sidan: median under 200 ms, ett fåtal frågor
(CSV:n, samma uträkning utan diagram, skrivs ut för jämförelse).

SQLite alltid; PostgreSQL också när det svarar på 127.0.0.1:5432. Körs inte av `make test`.

    .venv/bin/python bench/statistics_page.py [--requests 30] [--sms-per-month 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    environment,
    free_port,
    percentile,
    print_table,
    setup_django,
    throwaway_postgres,
)

MONTHS = 24
CAMPAIGNS_PER_MONTH = 200
LIVE_CAMPAIGNS = 50
RECIPIENTS_PER_LIVE_CAMPAIGN = 10
GOAL_MS = 200
# Målet gäller sidan; CSV:n (samma uträkning utan diagram) skrivs ut för jämförelse.
PAGE = "/personal/statistik/"


def fill(sms_per_month: int) -> None:
    """Lägger in statistik, levande kampanjer och envägs-SMS (snabbt, i bulk)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from campaigns.models import Campaign, CampaignSummary, Recipient
    from smsportal.models import AttemptStatus, DeliveryStatus, Purpose, SendAttempt

    rng = random.Random(15)
    now = timezone.now()
    summaries = []
    for index in range(MONTHS * CAMPAIGNS_PER_MONTH):
        filled = rng.random() < 0.6
        yes = rng.randint(1 if filled else 0, 4)
        summaries.append(
            CampaignSummary(
                campaign_id=10_000_000 + index,
                started_at=now - timedelta(days=8 + rng.random() * (MONTHS * 30 - 8)),
                status="filled" if filled else "closed",
                recipients=10,
                sent=10,
                delivered=9,
                opened=7,
                answered=6,
                yes=yes,
                no=6 - yes,
                booked=filled,
                in_waves=index % 3 == 0,
                waves=3 if index % 3 == 0 else 1,
                segments=12,
                seconds_to_first_yes=rng.randint(60, 7200) if yes else None,
                seconds_to_filled=rng.randint(600, 10800) if filled else None,
            )
        )
    CampaignSummary.objects.bulk_create(summaries, batch_size=1000)

    staff = [get_user_model().objects.create_user(username=f"reception{n}") for n in range(5)]
    for index in range(LIVE_CAMPAIGNS):
        campaign = Campaign.objects.create(slot_at=now + timedelta(days=2), status="closed")
        Campaign.objects.filter(pk=campaign.pk).update(created_at=now - timedelta(days=rng.random() * 7))
        Recipient.objects.bulk_create(
            Recipient(
                campaign=campaign,
                name=f"Patient {index}-{n}",
                phone_hash=f"{index:04d}{n:04d}",
                phone_masked="070-123 ****",
                send_status="sent",
                provider="locmem",
                provider_message_id=f"live-{index}-{n}",
                answer=rng.choice(["", "yes", "no"]),
                answered_at=now,
            )
            for n in range(RECIPIENTS_PER_LIVE_CAMPAIGN)
        )
        SendAttempt.objects.bulk_create(
            SendAttempt(
                purpose=Purpose.CAMPAIGN,
                campaign_id=campaign.pk,
                status=AttemptStatus.SENT,
                provider="locmem",
                provider_message_id=f"live-{index}-{n}",
                segments=2,
                delivery_status=DeliveryStatus.DELIVERED,
                delivered_at=now,
            )
            for n in range(RECIPIENTS_PER_LIVE_CAMPAIGN)
        )
    attempts = []
    for month in range(MONTHS):
        for _ in range(sms_per_month):
            status = rng.choice([AttemptStatus.SENT] * 18 + [AttemptStatus.FAILED, AttemptStatus.UNCERTAIN])
            attempts.append(
                SendAttempt(
                    purpose=Purpose.ONE_WAY,
                    actor=rng.choice(staff),
                    actor_username=f"reception{rng.randint(0, 4)}",
                    category=f"Kategori {rng.randint(1, 4)}",
                    template_title=f"Mall {rng.randint(1, 10)}",
                    status=status,
                    reason="ogiltigt nummer" if status == AttemptStatus.FAILED else "",
                    provider="locmem",
                    segments=rng.choice([1, 2]),
                    delivery_status=DeliveryStatus.DELIVERED if status == AttemptStatus.SENT else "",
                )
            )
    SendAttempt.objects.bulk_create(attempts, batch_size=2000)
    # created_at sätts av auto_now_add: sprid raderna över månaderna efteråt, i en fråga per månad.
    ids = list(SendAttempt.objects.filter(purpose=Purpose.ONE_WAY).order_by("pk").values_list("pk", flat=True))
    for month in range(MONTHS):
        chunk = ids[month * sms_per_month : (month + 1) * sms_per_month]
        if chunk:
            SendAttempt.objects.filter(pk__gte=chunk[0], pk__lte=chunk[-1]).update(
                created_at=now - timedelta(days=month * 30 + 1)
            )


def measure(path: str, requests: int) -> tuple[list[float], int]:
    """Hämtar sidan `requests` gånger som administratör; returnerar (latenser, frågor per hämtning)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.filter(username="chef").first()
    user = user or get_user_model().objects.create_superuser(username="chef", password=None)
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    first = client.get(path)  # första hämtningen laddar mallar och moduler; den räknas inte
    if first.status_code != 200:
        raise RuntimeError(f"{path} svarade {first.status_code}")
    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Räknar frågan och kör den."""
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(path)
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200
    return latencies, len(queries)


def run(database_url: str, label: str, requests: int, sms_per_month: int, tmp: Path) -> list[list[str]]:
    """En databas: fyll, mät sidan och CSV:n; returnerar tabellens rader."""
    env = environment(database_url, free_port(), tmp / "static", SMS_PROVIDERS="locmem")
    setup_django(env)
    started = time.perf_counter()
    fill(sms_per_month)
    from django.db import connection

    if connection.vendor == "postgresql":
        # Planerarens statistik, som autovacuum tar fram i drift efter så många nya rader.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"{label}: data ilagd på {time.perf_counter() - started:.0f} s")
    rows = []
    for path in (PAGE, "/personal/statistik/manader.csv"):
        latencies, queries = measure(path, requests)
        median_ms = statistics.median(latencies) * 1000
        rows.append(
            [
                label,
                path,
                str(requests),
                f"{median_ms:.0f}",
                f"{percentile(latencies, 0.9) * 1000:.0f}",
                str(queries),
                f"< {GOAL_MS}" if path == PAGE else "–",
                ("nått" if median_ms < GOAL_MS else "inte nått") if path == PAGE else "–",
            ]
        )
    return rows


def main() -> int:
    """Mäter på SQLite och, om det finns, PostgreSQL (en process per databas: Django startas en gång
    per process) och skriver tabellen."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="hämtningar per sida (standard 30)")
    parser.add_argument("--sms-per-month", type=int, default=1000, help="envägs-SMS per månad (standard 1000)")
    parser.add_argument("--database", help=argparse.SUPPRESS)  # en enda databas (barnprocessen)
    parser.add_argument("--label", default="SQLite", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database:
        with tempfile.TemporaryDirectory(prefix="statistics-") as tmp:
            rows = run(args.database, args.label, args.requests, args.sms_per_month, Path(tmp))
        print("ROWS=" + json.dumps(rows))
        return 0
    print(
        f"Statistiksidan: {MONTHS} månader × {CAMPAIGNS_PER_MONTH} kampanjer, {LIVE_CAMPAIGNS} levande kampanjer, "
        f"{args.sms_per_month} envägs-SMS i månaden ..."
    )
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="statistics-") as tmp:
        rows += _child(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite", args)
    with throwaway_postgres() as postgres_url:
        if postgres_url:
            rows += _child(postgres_url, "PostgreSQL", args)
    print_table(["databas", "sida", "hämtningar", "median (ms)", "p90 (ms)", "frågor", "mål (ms)", "mål"], rows)
    return 0 if all(row[-1] != "inte nått" for row in rows) else 1


def _child(database_url: str, label: str, args: argparse.Namespace) -> list[list[str]]:
    """Kör mätningen för en databas i en egen process och läser dess rader."""
    command = [sys.executable, __file__, "--database", database_url, "--label", label]
    command += ["--requests", str(args.requests), "--sms-per-month", str(args.sms_per_month)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    for line in output.splitlines():
        if line.startswith("ROWS="):
            return json.loads(line[len("ROWS=") :])
        print(line)
    raise RuntimeError(f"{label}: mätningen gav inga rader")


if __name__ == "__main__":
    sys.exit(main())
